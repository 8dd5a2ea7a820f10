"""Whole documents whose table 2 sub-tables print their columns otherwise than the template (one
dropped, reordered, one added) or whose table 4 prints one group per row, read through the HTML, DOCX
and PDF readers: every value lands under its printed header or row label, a column or group the
document does not print stays blank with a warning, and a printed column the template lacks is ignored,
never shifted into its neighbour."""

from __future__ import annotations

import copy
import io

import pytest
from documents_support import needs_soffice

from nianbao.parse import parse_bytes
from nianbao.parse.layout import Layout
from nianbao.parse.mapper import map_layout
from nianbao.sample_portals.documents.blocks import Cell, Paragraph, Table, report_blocks
from nianbao.sample_portals.documents.docx_writer import (
    USABLE_WIDTH_CM,
    _add_paragraph,
    _add_table,
    _new_document,
)
from nianbao.sample_portals.documents.html_writer import _PARAGRAPH_STYLE, render_table
from nianbao.sample_portals.truth import load_truth

T4_LABELS = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
T4_COLUMNS = ["upheld", "corrected", "other", "pending", "total"]


def _report(version: str) -> dict:
    """A sample report of `version` with figures that differ from column to column (a shifted value
    shows), in table 2 and table 4."""
    report = copy.deepcopy(next(r for r in load_truth() if r["format_version"] == version))
    cells = report["cells"]
    figures = iter(range(11, 99))
    for key in cells:
        if key.startswith("t2.") and not key.endswith(".amount"):
            cells[key] = next(figures)
    t4 = {"review": [1, 0, 2, 1, 4], "litigation_direct": [0, 3, 0, 0, 3], "litigation_after_review": [2, 0, 1, 5, 8]}
    for group, values in t4.items():
        for column, value in zip(T4_COLUMNS, values, strict=True):
            cells[f"t4.{group}.{column}"] = value
    return report


@pytest.fixture(scope="module")
def report2021() -> dict:
    return _report("2021")


@pytest.fixture(scope="module")
def report2019() -> dict:
    return _report("2019")


def _blocks(report: dict, name: str, transform) -> list:
    return [transform(copy.deepcopy(b)) if isinstance(b, Table) and b.name == name else b
            for b in report_blocks(report)]


def _html(blocks: list) -> bytes:
    parts = ["<html><head><meta charset='utf-8'></head><body><div class='article-content'>"]
    for block in blocks:
        parts.append(_PARAGRAPH_STYLE[block.style].format(block.text) if isinstance(block, Paragraph)
                     else render_table(block))
    parts.append("</div></body></html>")
    return "\n".join(parts).encode("utf-8")


def _docx(blocks: list) -> bytes:
    doc = _new_document()
    for block in blocks:
        if isinstance(block, Paragraph):
            _add_paragraph(doc, block)
        else:
            _add_table(doc, block, USABLE_WIDTH_CM)
            doc.add_paragraph()
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _pdf(blocks: list) -> bytes:
    from nianbao.sample_portals.documents.office import convert

    return convert(_docx(blocks), "docx", "pdf")


def _sub_table(table: Table, first_label: str) -> list[int]:
    """Row indices of the table 2 sub-table whose first row is `first_label`: header, then its rows."""
    at = next(i for i, row in enumerate(table.rows) if row[0].text == first_label)
    end = next((i for i in range(at, len(table.rows)) if table.rows[i][0].text.startswith("第二十条")),
               len(table.rows))
    return [at - 1, *range(at, end)]


def _restretch(table: Table) -> None:
    for row in table.rows:
        row[-1].colspan += table.columns - sum(c.colspan for c in row)


def _reorder(first_label: str, order: list[int]):
    """Columns 1.. of one sub-table printed in `order` (positions of the template's columns)."""
    def transform(table: Table) -> Table:
        for r in _sub_table(table, first_label):
            row = table.rows[r]
            for cell in row:
                cell.colspan = 1
            table.rows[r] = [row[0], *(row[i] for i in order)]
        _restretch(table)
        return table
    return transform


def _drop(first_label: str, position: int):
    def transform(table: Table) -> Table:
        for r in _sub_table(table, first_label):
            del table.rows[r][position]
        _restretch(table)
        return table
    return transform


def _add(first_label: str, position: int, label: str, value: str):
    """A column the template's sub-table lacks, inserted before `position`, holding `value` in every row."""
    def transform(table: Table) -> Table:
        rows = _sub_table(table, first_label)
        for r in rows:
            table.rows[r].insert(position, Cell(label if r == rows[0] else value, header=r == rows[0]))
        table.columns = max(table.columns, max(sum(c.colspan for c in table.rows[r]) for r in rows))
        table.column_widths = [*table.column_widths, 1.2][:table.columns]
        _restretch(table)
        return table
    return transform


def _t2(report: dict, parsed) -> tuple[dict, dict]:
    keys = [k for k in report["cells"] if k.startswith("t2.")]
    return {k: parsed.cells.get(k) for k in keys}, {k: report["cells"][k] for k in keys}


def test_html_table2_columns_reordered(report2021: dict) -> None:
    # 现行有效件数, 本年制发件数, 本年废止件数
    parsed = parse_bytes(_html(_blocks(report2021, "t2", _reorder("规章", [3, 1, 2]))), "reordered.html")
    got, expected = _t2(report2021, parsed)
    assert got == expected
    assert any("各列按现行有效件数、本年制发件数、本年废止件数的顺序印出" in w for w in parsed.warnings)


def test_docx_table2_column_dropped(report2021: dict) -> None:
    parsed = parse_bytes(_docx(_blocks(report2021, "t2", _drop("规章", 2))), "dropped.docx")
    got, expected = _t2(report2021, parsed)
    expected["t2.regulations.repealed"] = expected["t2.normative_documents.repealed"] = None
    assert got == expected
    assert parsed.provenance["t2.regulations.repealed"] == "blank"
    assert parsed.provenance["t2.regulations.in_force"] == "printed"
    assert any("未印出本年废止件数列" in w for w in parsed.warnings)


def test_html_table2_columns_added(report2021: dict) -> None:
    """A 2019 column inside a 2021 sub-table, and a label no template has: their values are ignored."""
    def transform(table: Table) -> Table:
        table = _add("规章", 2, "本年新公开数量", "7")(table)
        return _add("行政处罚", 1, "备案件数", "8")(table)

    data = _html(_blocks(report2021, "t2", transform))
    parsed = parse_bytes(data, "added.html")
    got, expected = _t2(report2021, parsed)
    assert got == expected
    assert 7 not in got.values() and 8 not in got.values()
    assert any("“本年新公开数量”不是2021版模板的列" in w for w in parsed.warnings)
    assert any("“备案件数”不对应2021版模板的任何列" in w for w in parsed.warnings)


def test_docx_2019_decisions_column_first(report2019: dict) -> None:
    # 处理决定数量, 上一年项目数量, 本年增/减 for 行政许可 and 其他对外管理服务事项
    parsed = parse_bytes(_docx(_blocks(report2019, "t2", _reorder("行政许可", [3, 1, 2]))), "2019.docx")
    got, expected = _t2(report2019, parsed)
    assert got == expected
    assert any("按表头读取" in w for w in parsed.warnings)


def _t4_rows(order: list[str], columns: list[int] | None = None):
    """Table 4 printed one group per row, groups in `order`, result columns in `columns` order."""
    labels = {"review": [Cell("行政复议", colspan=2)],
              "litigation_direct": [Cell("行政诉讼"), Cell("未经复议直接起诉")],
              "litigation_after_review": [Cell("行政诉讼"), Cell("复议后起诉")]}
    positions = columns or list(range(5))

    def transform(table: Table) -> Table:
        values = table.rows[-1]
        grouped = {g: values[i * 5:(i + 1) * 5] for i, g in enumerate(labels)}
        rows = [[Cell("类别", colspan=2, header=True)] + [Cell(T4_LABELS[i], header=True) for i in positions]]
        litigation = [g for g in order if g != "review"]
        for group in order:
            label = list(labels[group])
            if group != "review" and len(litigation) == 2:
                if group == litigation[0]:
                    label[0] = Cell("行政诉讼", rowspan=2)
                else:
                    label = label[1:]
            rows.append(label + [grouped[group][i] for i in positions])
        return Table("t4", 7, rows, header_rows=1, column_widths=[1.0, 2.0] + [1.0] * 5)
    return transform


def _t4(report: dict, parsed) -> tuple[dict, dict]:
    keys = [k for k in report["cells"] if k.startswith("t4.")]
    return {k: parsed.cells.get(k) for k in keys}, {k: report["cells"][k] for k in keys}


def test_html_table4_groups_as_rows(report2021: dict) -> None:
    order = ["litigation_after_review", "litigation_direct", "review"]
    parsed = parse_bytes(_html(_blocks(report2021, "t4", _t4_rows(order))), "rows.html")
    got, expected = _t4(report2021, parsed)
    assert got == expected
    assert any("表四每行印出一组" in w for w in parsed.warnings)
    assert not [f for f in parsed.findings if f["rule"] == "t4.group_total"]


def test_docx_table4_rows_with_a_group_missing_and_columns_reordered(report2021: dict) -> None:
    blocks = _blocks(report2021, "t4", _t4_rows(["review", "litigation_direct"], columns=[4, 0, 1, 2, 3]))
    parsed = parse_bytes(_docx(blocks), "rows.docx")
    got, expected = _t4(report2021, parsed)
    for column in T4_COLUMNS:
        expected[f"t4.litigation_after_review.{column}"] = None
    assert got == expected
    assert parsed.provenance["t4.litigation_after_review.total"] == "blank"
    assert any("未印出行政诉讼·复议后起诉行" in w for w in parsed.warnings)


@needs_soffice
def test_pdf_table2_dropped_and_table4_rows(report2021: dict) -> None:
    blocks = _blocks(report2021, "t2", _drop("规章", 3))
    blocks = [_t4_rows(["review", "litigation_direct", "litigation_after_review"], columns=[1, 0, 2, 3, 4])(
        copy.deepcopy(b)) if isinstance(b, Table) and b.name == "t4" else b for b in blocks]
    parsed = parse_bytes(_pdf(blocks), "printed.pdf")
    assert parsed.content_type == "application/pdf"
    got, expected = _t2(report2021, parsed)
    expected["t2.regulations.in_force"] = expected["t2.normative_documents.in_force"] = None
    assert got == expected
    got4, expected4 = _t4(report2021, parsed)
    assert got4 == expected4


def _table2_layout(header_lines: list[list[str]], rows: list[list[str]]) -> Layout:
    """A 2019 table 2 (第二十条第（一）项) with the given header lines, then a 2019 table 3 marker row."""
    return Layout(lines=[["二、主动公开政府信息情况"], ["第二十条第（一）项", "", "", ""], *header_lines, *rows,
                         ["第二十条第（五）项"], ["信息内容", "上一年项目数量", "本年增/减", "处理决定数量"],
                         ["行政许可", "1", "2", "3"],
                         ["三、收到和处理政府信息公开申请情况"], ["（六）其他处理", "0", "0", "0", "0", "0", "0", "0"]],
                  warnings=[], kind="txt")


def test_header_label_split_over_two_lines_is_joined() -> None:
    header = [["信息内容"], ["对外公开总数量"], ["本年新"], ["制作数量"], ["本年新公开数量"]]
    mapped = map_layout(_table2_layout(header, [["规章", "30", "10", "20"]]))
    assert mapped.version == "2019"
    assert [mapped.cells[f"t2.regulations.{c}"] for c in ("made", "published", "total_public")] == [10, 20, 30]
    assert mapped.cells["t2.licensing.decisions"] == 3


def test_header_labels_cut_short_take_the_template_order_as_tie_break() -> None:
    header = [["信息内容", "对外公开总数量", "本年新", "本年新"]]
    mapped = map_layout(_table2_layout(header, [["规章", "30", "10", "20"]]))
    assert [mapped.cells[f"t2.regulations.{c}"] for c in ("made", "published", "total_public")] == [10, 20, 30]
    assert sum("（不完整）" in w for w in mapped.warnings) == 2


def test_values_that_do_not_fit_the_printed_header_fall_back_to_the_template_order() -> None:
    """A header line lost in extraction (two labels printed, three values): the template order, warned."""
    header = [["信息内容", "本年新制作数量", "对外公开总数量"]]
    mapped = map_layout(_table2_layout(header, [["规章", "1", "2", "3"]]))
    assert [mapped.cells[f"t2.regulations.{c}"] for c in ("made", "published", "total_public")] == [1, 2, 3]
    assert any("按模板的列顺序读取" in w for w in mapped.warnings)


def test_table4_rows_one_value_per_line() -> None:
    """Table 4 as rows, extracted one cell per line (the 行政诉讼 cell spanning its two rows printed once)."""
    lines = [["三、收到和处理政府信息公开申请情况"], ["（六）其他处理", "0", "0", "0", "0", "0", "0", "0"],
             ["四、结转下年度继续办理", "0", "0", "0", "0", "0", "0", "0"],
             ["四、政府信息公开行政复议、行政诉讼情况"], ["类别"], *([label] for label in T4_LABELS),
             ["行政诉讼"], ["复议后起诉"], ["2"], ["0"], ["1"], ["5"], ["8"],
             ["未经复议直接起诉"], ["0"], ["3"], ["0"], ["0"], ["3"],
             ["行政复议"], ["1"], ["0"], ["2"], ["1"], ["4"],
             ["五、存在的主要问题及改进情况"], ["本年度无。"]]
    mapped = map_layout(Layout(lines=lines, warnings=[], kind="txt"), version="2019")
    expected = {"review": [1, 0, 2, 1, 4], "litigation_direct": [0, 3, 0, 0, 3],
                "litigation_after_review": [2, 0, 1, 5, 8]}
    for group, values in expected.items():
        assert [mapped.cells[f"t4.{group}.{c}"] for c in T4_COLUMNS] == values, group
    assert "t4" in mapped.tables_found


def test_misread_header_label_in_its_template_place() -> None:
    """A label OCR garbled beyond fuzzy reach, where the one unnamed column belongs: that column."""
    header = [["信息内容", "本年新制作数量", "木年靳公幵", "对外公开总数量"]]
    mapped = map_layout(_table2_layout(header, [["规章", "1", "2", "3"]]))
    assert [mapped.cells[f"t2.regulations.{c}"] for c in ("made", "published", "total_public")] == [1, 2, 3]
    assert any("“木年靳公幵”不对应" in w for w in mapped.warnings)
    assert any("按其所在位置读作模板的对应列" in w for w in mapped.warnings)
