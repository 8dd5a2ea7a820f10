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
from nianbao.parse.messages import warning
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
        fuzzy += [warning("t3.header_fuzzy", text=t, label=labels[key]) for key, t in classified
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
            fuzzy += [warning("t3.header_stand_in", text=labels_printed[i], label=labels[key])
                      for i, key in zip(unknown, missing, strict=True)]
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
                        warnings.append(warning("t4.header_fuzzy", text=text, label=dict(column_labels)[column]))
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
                warnings.append(warning("t4.not_split", "表四表头"))
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


# Table 2 ---------------------------------------------------------------------------------------------
# Its sub-tables (第二十条第（一）项, （五）, （六）, （八）, （九）) each print a header row: 信息内容, then
# the column labels. Captions and the row-label header are not columns.
_T2_ROW_HEADER = "信息内容"
_T2_CAPTION = re.compile(r"^第[一二三四五六七八九十0-9]+条")


@dataclass
class PrintedColumns:
    """A header row as printed (a table 2 sub-table's, or table 4's when its groups are rows): a template
    column key per printed column (None: a label the template does not have or that could not be
    placed), the labels as printed, and warnings."""

    columns: list[str | None]
    labels: list[str]
    warnings: list[str] = field(default_factory=list)


def _t2_labels(template: Template, version: str) -> dict[str, str]:
    own = dict(template.raw["table2"][version]["columns"])
    other = next(v for v in template.raw["table2"] if v not in ("money_columns", "signed_columns", version))
    # A column of the other template version printed here (a report mixing the templates).
    foreign = {f"foreign:{k}": label for k, label in template.raw["table2"][other]["columns"].items()}
    return {**own, **foreign}


def _t2_candidates(text: str, labels: dict[str, str], index: LabelIndex) -> tuple[list[str], str]:
    """The column keys a header cell may name, and how it was matched ("exact", "fuzzy", "prefix", "")."""
    core = label_core(text)
    exact = [k for k, label in labels.items() if label_core(label) == core]
    if exact:
        return exact[:1], "exact"
    found = index.match(text)
    if found is not None and found.key is not None:
        return [found.key], "fuzzy"
    # a label cut short by a narrow cell ("本年新" for 本年新制作数量 and 本年新公开数量)
    if len(core) >= 3:
        prefixed = [k for k, label in labels.items() if label_core(label).startswith(core)
                    and not k.startswith("foreign:")]
        if prefixed:
            return prefixed, "prefix"
    return [], ""


def table2_columns(texts: list[str], template: Template, version: str) -> PrintedColumns | None:
    """The columns one table 2 header prints, from its cells in reading order (header lines flattened),
    or None when no cell names a table 2 column.

    A label split over two cells ("本年新" + "制作数量") is joined; a label cut short to a prefix of
    several columns takes the first of them not otherwise printed, in the template's order.
    """
    labels = _t2_labels(template, version)
    index = LabelIndex(labels.items())
    tokens = [t.strip() for t in texts if t.strip() and len(normalize(t)) <= MAX_HEADER_CELL]
    tokens = [t for t in tokens if not _T2_CAPTION.match(normalize(t))]
    heads = [i for i, t in enumerate(tokens) if label_core(t) == _T2_ROW_HEADER]
    if heads:
        tokens = tokens[heads[-1] + 1:]
    merged: list[tuple[str, list[str], str]] = []
    i = 0
    while i < len(tokens):
        keys, how = _t2_candidates(tokens[i], labels, index)
        if how != "exact" and i + 1 < len(tokens):
            joined_keys, joined_how = _t2_candidates(tokens[i] + tokens[i + 1], labels, index)
            if joined_how == "exact":
                merged.append((tokens[i] + tokens[i + 1], joined_keys, joined_how))
                i += 2
                continue
        merged.append((tokens[i], keys, how))
        i += 1
    if not heads:  # no 信息内容: what precedes the first column label is a caption or heading
        first = next((n for n, (_, keys, _) in enumerate(merged) if keys), None)
        if first is None:
            return None
        merged = merged[first:]
    if not any(keys for _, keys, _ in merged):
        return None
    own = template.raw["table2"][version]["columns"]
    taken = {keys[0] for _, keys, how in merged if len(keys) == 1}
    columns: list[str | None] = []
    warnings: list[str] = []
    for text, keys, how in merged:
        key: str | None = None
        if len(keys) == 1:
            key = keys[0]
        elif keys:
            free = [k for k in keys if k not in taken]
            key = free[0] if free else None
            if key:
                taken.add(key)
                warnings.append(warning("t2.header_cut_short", text=text, label=own[key]))
        if key is not None and key.startswith("foreign:") and key.removeprefix("foreign:") in own:
            key = key.removeprefix("foreign:")  # the other version's wording of the same column
        if key is not None and key.startswith("foreign:"):
            warnings.append(warning("t2.header_other_template", text=text, version=version))
            key = None
        elif key is None:
            warnings.append(warning("t2.header_unknown", text=text, version=version))
        elif how == "fuzzy":
            warnings.append(warning("t2.header_fuzzy", text=text, label=own[key]))
        columns.append(key)
    return PrintedColumns(columns, [t for t, _, _ in merged], warnings)


def table4_group_of_label(text: str) -> str | None:
    """The table 4 group a row label names when the groups are printed as rows ("行政复议",
    "行政诉讼 未经复议直接起诉", "复议后起诉"), "group:litigation" for a bare 行政诉讼, else None."""
    norm = normalize(text)
    if "直接起诉" in norm or ("未经复议" in norm and "诉" in norm):
        return "litigation_direct"
    if "复议后" in norm and "诉" in norm:
        return "litigation_after_review"
    if "行政复议" in norm and "诉讼" not in norm:
        return "review"
    if "行政诉讼" in norm:
        return _T4_PARENT
    return None


def table4_row_columns(lines: list[list[str]], template: Template) -> PrintedColumns | None:
    """Table 4's columns when each group is printed as a row: the column labels of its header line in
    reading order (a corner cell before the first label skipped; a label the template lacks is None),
    or None when the header names groups (the template's layout) or no column."""
    column_labels = [(c["key"], c["label"]) for c in template.raw["table4"]["columns"]]
    index = LabelIndex(column_labels)
    exact = {label_core(label): key for key, label in column_labels}
    columns: list[str | None] = []
    labels: list[str] = []
    warnings: list[str] = []
    for _, texts in _tokens(lines):
        if any(_t4_group(t) for t in texts):
            return None
        for text in texts:
            key = _classify(text, index, exact)
            if key is None and not columns:
                continue  # the corner cell over the row labels
            if key is not None and key in columns:
                warnings.append(warning("t4.header_twice", text=text))
                key = None
            elif key is not None and label_core(text) not in exact:
                warnings.append(warning("t4.header_fuzzy", text=text, label=dict(column_labels)[key]))
            elif key is None:
                warnings.append(warning("t4.header_unknown", text=text))
            columns.append(key)
            labels.append(text)
    if not any(columns):
        return None
    return PrintedColumns(columns, labels, warnings)
