"""Whole documents (HTML with real rowspan/colspan, DOCX with merged cells) whose table 3 columns or
table 4 groups are not in the template's order, read through the format readers: every value lands
under its printed header, a column the template lacks is ignored, a missing one stays blank."""

from __future__ import annotations

import copy

import pytest

from nianbao.parse import parse_bytes
from nianbao.sample_portals.documents.blocks import Cell, Paragraph, Table, report_blocks
from nianbao.sample_portals.documents.html_writer import _PARAGRAPH_STYLE, render_table
from nianbao.sample_portals.truth import load_truth

APPLICANTS = ["natural_person", "commercial_enterprise", "research_institution", "social_welfare_org",
              "legal_services_org", "other_org"]


@pytest.fixture(scope="module")
def truth() -> dict:
    """A 2021-template sample report whose applicant columns hold different figures."""
    for report in load_truth():
        if report["format_version"] == "2021" and len({report["cells"][f"t3.new_received.{c}"]
                                                      for c in APPLICANTS}) >= 3:
            return report
    pytest.fail("no 2021 sample report with varied applicant figures")


def _html(blocks: list) -> bytes:
    parts = ["<html><head><meta charset='utf-8'></head><body><div class='article-content'>"]
    for block in blocks:
        if isinstance(block, Paragraph):
            parts.append(_PARAGRAPH_STYLE[block.style].format(block.text))
        else:
            parts.append(render_table(block))
    parts.append("</div></body></html>")
    return "\n".join(parts).encode("utf-8")


def _with_table(report: dict, name: str, transform) -> list:
    blocks = report_blocks(report)
    return [transform(copy.deepcopy(b)) if isinstance(b, Table) and b.name == name else b for b in blocks]


def _reorder_children(table: Table, order: list[int], drop: int | None = None, extra: str | None = None) -> Table:
    """Table 3 with the five 法人或其他组织 columns printed in `order` (indices 1..5 of the applicants),
    one of them dropped, or a column the template lacks added before 其他."""
    header = table.rows[2]
    table.rows[2] = [header[i - 1] for i in order if i != drop]
    if extra:
        table.rows[2].insert(len(table.rows[2]) - 1, Cell(extra, header=True))
    width = len(table.rows[2])
    table.rows[0][1].colspan = width + 2
    table.rows[1][1].colspan = width
    for row in table.rows[3:]:
        values = row[-7:]
        children = [values[i] for i in order if i != drop]
        if extra:
            children.insert(len(children) - 1, Cell("0"))
        row[-7:] = [values[0], *children, values[6]]
    table.columns = 3 + width + 2
    table.column_widths = table.column_widths[:3] + [0.75] * (width + 2)
    return table


def _cells(report: dict, row: str) -> dict:
    return {c: report["cells"][f"t3.{row}.{c}"] for c in APPLICANTS}


def test_html_applicant_columns_swapped(truth: dict) -> None:
    order = [2, 1, 3, 5, 4]  # 科研机构 before 商业企业, 法律服务机构 before 社会公益组织
    data = _html(_with_table(truth, "t3", lambda t: _reorder_children(t, order)))
    parsed = parse_bytes(data, "swapped.html")
    assert {c: parsed.cells[f"t3.new_received.{c}"] for c in APPLICANTS} == _cells(truth, "new_received")
    assert {c: parsed.cells[f"t3.granted.{c}"] for c in APPLICANTS} == _cells(truth, "granted")
    assert any("按表头读取" in w for w in parsed.warnings)


def test_html_applicant_column_missing(truth: dict) -> None:
    data = _html(_with_table(truth, "t3", lambda t: _reorder_children(t, [1, 2, 3, 4, 5], drop=2)))
    parsed = parse_bytes(data, "missing.html")
    expected = _cells(truth, "new_received")
    expected["research_institution"] = None
    assert {c: parsed.cells[f"t3.new_received.{c}"] for c in APPLICANTS} == expected
    assert parsed.provenance["t3.new_received.research_institution"] == "blank"
    assert any("未印出科研机构列" in w for w in parsed.warnings)


def test_docx_extra_applicant_column(truth: dict) -> None:
    from nianbao.sample_portals.documents.docx_writer import render_table_docx

    table = next(b for b in report_blocks(truth) if isinstance(b, Table) and b.name == "t3")
    data = render_table_docx(_reorder_children(copy.deepcopy(table), [1, 2, 3, 4, 5], extra="个体工商户"))
    parsed = parse_bytes(data, "extra.docx")
    assert parsed.content_type.endswith("wordprocessingml.document")
    assert {c: parsed.cells[f"t3.new_received.{c}"] for c in APPLICANTS} == _cells(truth, "new_received")
    assert any("个体工商户" in w for w in parsed.warnings)


def _reorder_t4(table: Table) -> Table:
    """Table 4 printed 行政诉讼 first (复议后起诉 before 未经复议直接起诉), 行政复议 last."""
    labels = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    values = table.rows[3]
    review, direct, after = values[0:5], values[5:10], values[10:15]
    table.rows = [
        [Cell("行政诉讼", colspan=10, header=True), Cell("行政复议", colspan=5, header=True)],
        [Cell("复议后起诉", colspan=5, header=True), Cell("未经复议直接起诉", colspan=5, header=True)]
        + [Cell(h, rowspan=2, header=True) for h in labels],
        [Cell(h, header=True) for h in labels * 2],
        after + direct + review,
    ]
    return table


def test_html_table4_groups_reordered(truth: dict) -> None:
    parsed = parse_bytes(_html(_with_table(truth, "t4", _reorder_t4)), "t4.html")
    t4 = {k: v for k, v in truth["cells"].items() if k.startswith("t4.")}
    assert {k: parsed.cells[k] for k in t4} == t4
    assert any("表四各组或各列的印出顺序与模板不同" in w for w in parsed.warnings)
