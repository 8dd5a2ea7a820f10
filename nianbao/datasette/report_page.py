"""One report as printed: what the `/report/<id>` page shows, read from the catalog.

Tables two to four are laid out as in the national template (国办公开办函〔2019〕60号 / 〔2021〕30号):
the template's row order for the report's version, Chinese row and column labels, blank cells blank.
Cells a consistency rule fails on carry the rule's Chinese name and its delta.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from nianbao.datasette.labels import (
    FORMAT_NAMES,
    T3_COLUMN_NAMES,
    T4_COLUMN_NAMES,
    T4_GROUP_NAMES,
    region_label,
    rule_label,
)

T3_APPLICANTS = ("natural_person", "commercial_enterprise", "research_institution", "social_welfare_org",
                 "legal_services_org", "other_org", "total")
T4_GROUPS = ("review", "litigation_direct", "litigation_after_review")
T4_COLUMNS = ("upheld", "corrected", "other", "pending", "total")


@dataclass
class Cell:
    """One printed cell: its key, value (None is blank) and the rules failing on it."""

    key: str
    value: float | int | None
    failing: list[dict] = field(default_factory=list)  # {"rule", "name", "delta", "primary"}
    provenance: str = "printed"  # or inferred:<rule>: not printed, computed from a total

    @property
    def text(self) -> str:
        """The value as printed: blank for None, integers without a decimal point."""
        if self.value is None:
            return ""
        if isinstance(self.value, float) and self.value.is_integer():
            return str(int(self.value))
        return str(self.value)


def _rows(conn: sqlite3.Connection, sql: str, params: list) -> list[dict]:
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _printed_order(version: str | None) -> dict[str, int]:
    from nianbao.template import cell_keys

    try:
        keys = cell_keys(version if version in ("2019", "2021") else "2021")
    except Exception:  # a template without that version: catalog order stands
        return {}
    return {k: i for i, k in enumerate(keys)}


def _warnings(stored: str | None) -> list[str]:
    """The parser's warnings on a report (reports.warnings, a JSON list of sentences)."""
    try:
        warnings = json.loads(stored or "[]")
    except ValueError:  # not JSON: one sentence
        return [str(stored)]
    return [str(w) for w in warnings] if isinstance(warnings, list) else [str(warnings)]


def report_context(conn: sqlite3.Connection, report_id: int) -> dict | None:
    """Everything the report page shows, or None when there is no such report."""
    found = _rows(conn, """
select r.*, a.name as agency_name, a.region as agency_region, a.level as agency_level, a.id as body_id,
  d.first_seen, d.kind as document_kind
from reports r left join agencies a on a.id = r.agency_id left join documents d on d.id = r.document_id
where r.id = ?""", [report_id])
    if not found:
        return None
    report = found[0]
    findings = _rows(conn, "select id, rule, detail, delta, cells from findings where report_id = ? order by id",
                     [report_id])
    failing: dict[str, list[dict]] = {}
    for finding in findings:
        finding["name"] = rule_label(finding["rule"])
        keys = json.loads(finding["cells"] or "[]")
        finding["keys"] = keys
        for position, key in enumerate(keys):
            failing.setdefault(key, []).append({
                "rule": finding["rule"], "name": finding["name"], "delta": finding["delta"], "primary": position == 0,
            })
    cells_rows = _rows(conn, """
select c.key, c.value, c.provenance, k.table_no, k.row_key, k.column_key, k.row_label, k.column_label, k.position
from cells c left join cell_keys k on k.key = c.key where c.report_id = ?""", [report_id])
    order = _printed_order(report["format_version"])
    cells_rows.sort(key=lambda r: (order.get(r["key"], 10_000 + (r["position"] or 0)), r["key"]))
    cells = {r["key"]: Cell(r["key"], r["value"], failing.get(r["key"], []), r["provenance"] or "printed")
             for r in cells_rows}

    def cell(key: str) -> Cell:
        return cells.get(key) or Cell(key, None, failing.get(key, []))

    t2_groups: list[dict] = []
    for r in (r for r in cells_rows if r["table_no"] == "t2"):
        row = next((g for g in t2_groups if g["row_key"] == r["row_key"]), None)
        if row is None:
            row = {"row_key": r["row_key"], "label": r["row_label"] or r["row_key"], "cells": []}
            t2_groups.append(row)
        row["cells"].append({"label": r["column_label"] or r["column_key"], "cell": cells[r["key"]]})
    # Rows with the same columns share one header, as the template prints them in blocks.
    t2_blocks: list[dict] = []
    for row in t2_groups:
        header = [c["label"] for c in row["cells"]]
        if t2_blocks and t2_blocks[-1]["header"] == header:
            t2_blocks[-1]["rows"].append(row)
        else:
            t2_blocks.append({"header": header, "rows": [row]})

    t3_rows = []
    for r in cells_rows:
        if r["table_no"] == "t3" and r["row_key"] not in {x["row_key"] for x in t3_rows}:
            t3_rows.append({"row_key": r["row_key"], "label": r["row_label"] or r["row_key"],
                            "cells": [cell(f"t3.{r['row_key']}.{c}") for c in T3_APPLICANTS]})
    t4 = [{"group": g, "label": T4_GROUP_NAMES[g], "cells": [cell(f"t4.{g}.{c}") for c in T4_COLUMNS]}
          for g in T4_GROUPS if any(f"t4.{g}.{c}" in cells for c in T4_COLUMNS)]

    def neighbour(step: int) -> dict | None:
        if not report["agency_id"] or not report["year"]:
            return None
        rows = _rows(conn, "select id, year, title from reports where agency_id = ? and year = ? and is_current = 1 "
                           "order by id desc limit 1", [report["agency_id"], report["year"] + step])
        return rows[0] if rows else None

    attachments = _rows(conn, """
select distinct d.id, d.url, d.filename, d.content_type, d.title from document_urls u join documents d on d.id = u.document_id
where u.referer = ? and d.id != ? order by d.id""", [report["source_url"], report["document_id"]])
    introduced_by = _rows(conn, "select referer from document_urls where document_id = ? and referer is not null "
                                "limit 1", [report["document_id"]])
    versions = _rows(conn, "select id, title, published, is_current from reports where agency_id = ? and year = ? "
                           "and id != ? order by id", [report["agency_id"], report["year"], report_id]) \
        if report["agency_id"] and report["year"] else []
    return {
        "report": report,
        "region_label": region_label(report["agency_region"] or report["region"]),
        "format_label": FORMAT_NAMES.get(report["format_version"] or "", report["format_version"] or ""),
        "findings": findings,
        "warnings": _warnings(report.get("warnings")),
        "t2_blocks": t2_blocks,
        "t3_header": [T3_COLUMN_NAMES[c] for c in T3_APPLICANTS],
        "t3_rows": t3_rows,
        "t4_header": [T4_COLUMN_NAMES[c] for c in T4_COLUMNS],
        "t4_groups": t4,
        "previous": neighbour(-1),
        "next": neighbour(1),
        "attachments": attachments,
        "introduced_by": introduced_by[0]["referer"] if introduced_by else None,
        "versions": versions,
        "sections": [(name, report.get(f"section_{key}")) for key, name in (
            ("overview", "一、总体情况"), ("proactive", "二、主动公开政府信息情况"),
            ("requests", "三、收到和处理政府信息公开申请情况"), ("reviews", "四、政府信息公开行政复议、行政诉讼情况"),
            ("problems", "五、存在的主要问题及改进情况"), ("other", "六、其他需要报告的事项")) if report.get(f"section_{key}")],
    }
