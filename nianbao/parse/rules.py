"""The template's consistency rules over a report's cells; a failed rule is a finding, never an error.

The equations themselves (which cells on each side) are data in the template; this module expands
and evaluates them. Blank cells count as 0 when summing, and every finding says which were blank.
"""

from __future__ import annotations

from collections.abc import Iterable

from nianbao.parse.messages import cell_names, finding_clause, finding_detail, scope_name
from nianbao.template import Template, load_template

Cells = dict[str, int | float | None]
SUM_RULES = ("t3.balance", "t3.outcomes_sum", "t3.row_total", "t4.group_total")
PREVIOUS = "previous:"


def _t3_rows(template: Template, version: str, cells: Cells) -> list:
    """The version's table 3 rows, plus rows of the other version the report printed (mixed templates)."""
    rows = template.t3_rows(version)
    own = {r.key for r in rows}
    other = [r for v in ("2019", "2021") if v != version for r in template.t3_rows(v)
             if r.key not in own and any(cells.get(f"t3.{r.key}.{c}") is not None for c in template.t3_columns)]
    return rows + other


def _scopes(rule: dict, template: Template, version: str, cells: Cells) -> list[tuple[str, dict]]:
    """(scope label, placeholder values) for each instance of a rule."""
    over = rule["over"]
    if over == "t3.column":
        labels = {c["key"]: c["label"] for c in template.raw["table3"]["columns"]}
        return [(scope_name(over, labels.get(c, c)), {"column": c}) for c in template.t3_columns]
    if over == "t3.row":
        return [(scope_name(over, r.label), {"row": r.key}) for r in _t3_rows(template, version, cells)]
    if over == "t4.group":
        labels = {g["key"]: g["label"] for g in template.raw["table4"]["groups"]}
        return [(scope_name(over, labels.get(g, g)), {"group": g}) for g in template.t4_groups]
    raise ValueError(f"template rule {rule['id']}: unknown scope {over!r}")


def _expand(terms: list[str], values: dict, template: Template, version: str, cells: Cells) -> list[str]:
    out = []
    for term in terms:
        if "{outcome}" in term:
            out += [term.replace("{outcome}", r.key).format(**values)
                    for r in _t3_rows(template, version, cells) if r.outcome]
        elif "{applicant}" in term:
            out += [term.replace("{applicant}", a).format(**values) for a in template.t3_applicants]
        else:
            out.append(term.format(**values))
    return out


def _number(value: float) -> int | float:
    value = round(value, 6)
    return int(value) if value == int(value) else value


def _evaluate(rule: dict, template: Template, version: str, cells: Cells, previous: Cells | None,
              provenance: dict[str, str] | None = None) -> list[dict]:
    findings = []
    for scope, values in _scopes(rule, template, version, cells):
        left = _expand(rule["left"], values, template, version, cells)
        right = _expand(rule["right"], values, template, version, cells)

        def value_of(key: str) -> int | float | None:
            if key.startswith(PREVIOUS):
                return (previous or {}).get(key[len(PREVIOUS):])
            return cells.get(key)

        left_values = [value_of(k) for k in left]
        right_values = [value_of(k) for k in right]
        if all(v is None for v in left_values + right_values):
            continue  # nothing printed on either side: no evidence either way
        left_sum = sum(v or 0 for v in left_values)
        right_sum = sum(v or 0 for v in right_values)
        if abs(left_sum - right_sum) < 1e-6:
            continue
        keys = left + right
        blanks = [k for k, v in zip(keys, left_values + right_values, strict=True) if v is None]
        labels = template.cell_labels()
        detail = finding_detail(rule["id"], statement=rule["statement"], scope=scope, left=_number(left_sum),
                                right=_number(right_sum))
        if blanks:
            detail += finding_clause("blank_cells", cells=cell_names(blanks, labels, PREVIOUS))
        finding = {
            "rule": rule["id"], "detail": detail,
            "cells": [k[len(PREVIOUS):] if k.startswith(PREVIOUS) else k for k in keys],
            "delta": _number(left_sum - right_sum),
        }
        inferred = [k for k in keys if (provenance or {}).get(k, "printed").startswith("inferred")]
        if inferred:
            finding["inferred"] = inferred
            finding["detail"] += finding_clause("inferred_cells", cells=cell_names(inferred, labels, PREVIOUS))
        findings.append(finding)
    return findings


def check_cells(cells: Cells, version: str | None, rules: Iterable[str] = SUM_RULES,
                provenance: dict[str, str] | None = None) -> list[dict]:
    """Findings of the sum rules (`t3.balance`, `t3.outcomes_sum`, `t3.row_total`, `t4.group_total`).

    With `provenance`, a finding in which an inferred cell took part lists it under `inferred`.
    """
    if version not in ("2019", "2021"):
        return []
    template = load_template()
    findings = []
    for rule_id in rules:
        findings += _evaluate(template.rules[rule_id], template, version, cells, None, provenance)
    return findings


def check_format_year(version: str | None, year: int | None) -> list[dict]:
    """`format.year`: the template version must be the one in force for the statistical year."""
    template = load_template()
    expected = template.expected_version(year)
    if version not in ("2019", "2021") or expected is None or expected == version:
        return []
    delta = int(version) - int(expected) if expected.isdigit() else 0
    return [{
        "rule": "format.year",
        "detail": finding_detail("format.year", statement=template.rules["format.year"]["statement"], year=year,
                                 version=version, expected=expected),
        "cells": [], "delta": delta,
    }]


def check_carry_link(cells: Cells, previous_cells: Cells, version: str | None) -> list[dict]:
    """`t3.carry_link`: this year's 上年结转 against the same agency's previous-year 结转下年度."""
    if version not in ("2019", "2021"):
        return []
    template = load_template()
    return _evaluate(template.rules["t3.carry_link"], template, version, cells, previous_cells)


def check(cells: Cells, version: str | None, year: int | None,
          provenance: dict[str, str] | None = None) -> list[dict]:
    """Every single-report rule: the sum rules and `format.year`."""
    return check_cells(cells, version, provenance=provenance) + check_format_year(version, year)
