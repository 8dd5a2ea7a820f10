"""Table headers as printed: which template column sits where, and the unit a money header states.

Readers flatten a table's header rows in many ways (merged cells padded with empty cells or not, one
header cell per line), so printed positions do not line up across header rows. What survives every
flattening is the reading order within each header row and the nesting of the template's headers:
法人或其他组织 stands over five applicant columns, 行政诉讼 over its two groups. The printed order is
rebuilt from those; the template order only breaks ties (a label on another header row is put where
the template has it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nianbao.parse.labels import LabelIndex, label_core
from nianbao.parse.numbers import is_value
from nianbao.template import Template, normalize

# Longer header cells are captions or the 勾稽关系 note, not column labels.
MAX_HEADER_CELL = 20
_T3_GROUP_LEGAL = "group:legal"
_T3_GROUP_APPLICANT = "group:applicant"
_T4_PARENT = "group:litigation"
_MONEY_UNIT = re.compile(r"单位[:：]?(万元|亿元|千元|元)|\((万元|亿元|千元|元)\)")


def money_unit(text: str) -> str | None:
    """The money unit a header cell or caption states ("本年收费金额（单位：元）", "单位：万元"), or None."""
    match = _MONEY_UNIT.search(normalize(text))
    return (match.group(1) or match.group(2)) if match else None


def _tokens(lines: list[list[str]]) -> list[tuple[int, list[str]]]:
    """(header row number, its label cells in reading order) for rows that hold no values."""
    rows = []
    for number, cells in enumerate(lines):
        texts = [c.strip() for c in cells if c.strip()]
        if not texts or any(is_value(t) for t in texts):
            continue
        rows.append((number, [t for t in texts if len(normalize(t)) <= MAX_HEADER_CELL and "勾稽" not in t]))
    return rows


def _classify(text: str, index: LabelIndex, exact: dict[str, str]) -> str | None:
    core = label_core(text)
    if core in exact:
        return exact[core]
    found = index.match(text)
    return found.key if found else None


@dataclass
class Table3Columns:
    """Table 3's applicant columns in printed order: a template column key, or None for a column the
    template does not have (its printed label in `labels`)."""

    columns: list[str | None]
    labels: list[str]
    fuzzy: list[str] = field(default_factory=list)  # warnings: header labels not matched exactly

    @property
    def known(self) -> list[str]:
        """The printed order without the columns the template does not have."""
        return [c for c in self.columns if c is not None]


def table3_columns(lines: list[list[str]], template: Template) -> Table3Columns | None:
    """The applicant columns as table 3's header rows print them, or None when no header is printed."""
    labels = {c["key"]: c["label"] for c in template.raw["table3"]["columns"]}
    entries = list(labels.items()) + [(_T3_GROUP_LEGAL, "法人或其他组织"), (_T3_GROUP_APPLICANT, "申请人情况")]
    index = LabelIndex(entries)
    exact = {label_core(label): key for key, label in entries}
    children = set(template.t3_applicants[1:])
    rows: list[list[tuple[str | None, str]]] = []
    fuzzy = []
    for _, texts in _tokens(lines):
        classified = [(_classify(t, index, exact), t) for t in texts]
        fuzzy += [f"table 3 header {t!r} read as {labels[key]!r} (fuzzy match)" for key, t in classified
                  if key in labels and label_core(t) not in exact]
        known = [k for k, _ in classified if k and not k.startswith("group:")]
        # An unrecognised cell is a column only on a row of column labels, not beside a lone caption.
        rows.append([(k, t) for k, t in classified if k or len(known) >= 2])
    if not any(k in labels for row in rows for k, _ in row):
        return None
    upper = next((r for r in rows if any(k == "natural_person" or k == _T3_GROUP_LEGAL for k, _ in r)), None)
    lower = max(rows, key=lambda r: sum(k in children for k, _ in r))
    if not any(k in children for k, _ in lower):
        lower = []
    sequence: list[tuple[str | None, str]] = []
    if upper is None:
        sequence = [item for item in lower]
    elif upper is lower:
        sequence = [item for item in upper if item[0] != _T3_GROUP_APPLICANT]
    else:
        for key, text in upper:
            if key == _T3_GROUP_LEGAL:
                sequence += [item for item in lower if item[0] != _T3_GROUP_LEGAL]
            elif key != _T3_GROUP_APPLICANT:
                sequence.append((key, text))
        if not any(k == _T3_GROUP_LEGAL for k, _ in upper):
            at = next((i + 1 for i, (k, _) in enumerate(sequence) if k == "natural_person"), len(sequence))
            sequence[at:at] = [item for item in lower if item[0] != _T3_GROUP_LEGAL]
    sequence = [(k, t) for k, t in sequence if k is None or not k.startswith("group:")]
    # Labels printed on yet another header row (总计 beside 申请人情况): where the template puts them.
    order = template.t3_columns
    placed = {k for k, _ in sequence if k}
    for row in rows:
        for key, text in row:
            if key in labels and key not in placed:
                rank = order.index(key)
                at = max((i + 1 for i, (k, _) in enumerate(sequence) if k and order.index(k) < rank), default=0)
                sequence.insert(at, (key, text))
                placed.add(key)
    seen: set[str] = set()
    columns = []
    for key, _ in sequence:
        columns.append(key if key not in seen else None)
        if key:
            seen.add(key)
    labels_printed = [t for _, t in sequence]
    # A label misread beyond fuzzy reach (OCR: "机构" for 科研机构) standing exactly where the one
    # unnamed template column belongs is that column; anywhere else it stays unknown.
    missing = [c for c in order if c not in columns]
    unknown = [i for i, c in enumerate(columns) if c is None]
    if missing and len(missing) == len(unknown):
        trial = list(columns)
        for i, key in zip(unknown, missing, strict=True):
            trial[i] = key
        if trial == order:
            fuzzy += [f"table 3 header {labels_printed[i]!r} read as {labels[key]!r}: the template column "
                      f"the header does not otherwise name, in its place" for i, key in zip(unknown, missing, strict=True)]
            columns = trial
    return Table3Columns(columns, labels_printed, fuzzy)


@dataclass
class Table4Order:
    """Table 4's groups and columns in printed order (None: a group the template cannot place)."""

    groups: list[str | None]
    columns: list[str]
    warnings: list[str] = field(default_factory=list)


def _t4_group(text: str) -> str | None:
    norm = label_core(text)
    if "直接起诉" in norm or ("未经复议" in norm and "起诉" in norm):
        return "litigation_direct"
    if "复议后" in norm and "起诉" in norm:
        return "litigation_after_review"
    if "行政诉讼" in norm and len(norm) <= 8:
        return _T4_PARENT
    if "行政复议" in norm and len(norm) <= 8:
        return "review"
    return None


def table4_order(lines: list[list[str]], template: Template) -> Table4Order | None:
    """Groups and columns as table 4's header rows print them, or None when they cannot be read."""
    column_labels = [(c["key"], c["label"]) for c in template.raw["table4"]["columns"]]
    index = LabelIndex(column_labels)
    exact = {label_core(label): key for key, label in column_labels}
    order: list[str | None] = []
    children: list[str] = []
    columns: list[str] = []
    warnings: list[str] = []
    for _, texts in _tokens(lines):
        for text in texts:
            group = _t4_group(text)
            if group == _T4_PARENT:
                if _T4_PARENT not in order:
                    order.append(_T4_PARENT)
            elif group in ("litigation_direct", "litigation_after_review"):
                target = children if _T4_PARENT in order else order
                if group not in target:
                    target.append(group)
            elif group == "review":
                if group not in order:
                    order.append(group)
            else:
                column = _classify(text, index, exact)
                if column:
                    if label_core(text) not in exact:
                        warnings.append(f"table 4 header {text!r} read as {dict(column_labels)[column]!r} "
                                        f"(fuzzy match)")
                    columns.append(column)
    if not order:
        return None
    groups: list[str | None] = []
    for item in order:
        if item == _T4_PARENT:
            if children:
                groups += children
            else:
                groups.append(None)
                warnings.append("table 4 header: 行政诉讼 is not split into 未经复议直接起诉 and 复议后起诉; "
                                "its cells left blank")
        else:
            groups.append(item)
    run: list[str] = []
    for column in columns:
        if column in run:
            break
        run.append(column)
    if sorted(run) != sorted(template.t4_columns):
        run = list(template.t4_columns)  # the template order breaks the tie
    return Table4Order(groups, run, warnings)
