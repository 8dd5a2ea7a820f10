"""The Chinese texts of the parser's findings, keyed by the finding's code (its rule id) — one table.

A finding keeps its machine-readable code (`rule`), its cells (keys) and its delta; `detail` is the
sentence a reader sees on the catalog's pages, made here from the rule's statement (template.json) and
the template's Chinese cell labels, so every finding reads alike whichever check made it.
"""

from __future__ import annotations

from collections.abc import Iterable

# code → the sentence; {statement} is the rule's statement in template.json.
FINDING_MESSAGES = {
    # the sum rules: one sentence per failing scope (a column, a row or a group of table 4)
    "t3.balance": "{statement}——{scope}：左边合计 {left}，右边合计 {right}",
    "t3.outcomes_sum": "{statement}——{scope}：左边合计 {left}，右边合计 {right}",
    "t3.row_total": "{statement}——{scope}：左边合计 {left}，右边合计 {right}",
    "t4.group_total": "{statement}——{scope}：左边合计 {left}，右边合计 {right}",
    "t3.carry_link": "{statement}——{scope}：本年 {left}，上一年度 {right}",
    "format.year": "{statement}——{year}年度的报告使用{version}版模板，应为{expected}版",
}
# Clauses added to a finding's sentence, by what they say.
FINDING_CLAUSES = {
    "blank_cells": "（空白单元格按0计：{cells}）",
    "inferred_cells": "（报告未印出、按勾稽关系推算：{cells}）",
    "previous_report": "（上一年度：报告 {report}）",
}
# How a rule's scope is named: over a column of table 3, a row of table 3, a group of table 4.
SCOPE_NAMES = {"t3.column": "{label}列", "t3.row": "“{label}”行", "t4.group": "{label}"}
PREVIOUS_YEAR = "上一年度"


def finding_detail(code: str, **values) -> str:
    """The sentence of a finding with this code (a rule id)."""
    return FINDING_MESSAGES[code].format(**values)


def finding_clause(kind: str, **values) -> str:
    """A clause added to a finding's sentence (blank cells, inferred cells, the previous year's report)."""
    return FINDING_CLAUSES[kind].format(**values)


def scope_name(over: str, label: str) -> str:
    """'t3.column', '自然人' → '自然人列'."""
    return SCOPE_NAMES[over].format(label=label)


def cell_names(keys: Iterable[str], labels: dict[str, str], previous_prefix: str = "previous:") -> str:
    """Cell keys by their template labels ('（一）予以公开 · 自然人'), the key itself when it has none."""
    names = []
    for key in keys:
        earlier = key.startswith(previous_prefix)
        bare = key[len(previous_prefix):] if earlier else key
        name = labels.get(bare, bare)
        names.append(f"{PREVIOUS_YEAR}{name}" if earlier else name)
    return "、".join(names)
