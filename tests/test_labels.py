"""Tolerant label matching: normalisation, bounded fuzzy matching with an ambiguity check, and whole
reports whose labels are misprinted, nested or printed in traditional characters."""

from __future__ import annotations

import pytest
from test_mapper import (
    NATURAL,
    T2_2021,
    T3_LABELS_2021,
    T4_HEADER,
    T4_VALUES,
    assert_t3_consistent,
    report,
    t3_lines,
)

from nianbao.parse import parse_layout
from nianbao.parse.labels import LabelIndex, edit_distance, label_core, max_distance
from nianbao.parse.layout import Layout
from nianbao.parse.mapper import map_layout
from nianbao.template import normalize, split_numbering, strip_brackets, to_simplified


@pytest.mark.parametrize(("printed", "number", "rest"), [
    ("1. 属于国家秘密", "1", "属于国家秘密"),
    ("1、属于国家秘密", "1", "属于国家秘密"),
    ("（1）属于国家秘密", "1", "属于国家秘密"),
    ("①属于国家秘密", "1", "属于国家秘密"),
    ("一、本年新收政府信息公开申请数量", "一", "本年新收政府信息公开申请数量"),
    ("(三) 不予公开", "三", "不予公开"),
])
def test_numbering_styles(printed: str, number: str, rest: str) -> None:
    assert split_numbering(printed) == (number, rest)


def test_nested_brackets_are_stripped_whole() -> None:
    assert strip_brackets(normalize("行政许可（第二十条第（五）项）")) == "行政许可"
    assert strip_brackets(normalize("行政处罚〔第二十条第（六）项〕")) == "行政处罚"
    assert label_core("（二）部分公开（区分处理的，只计这一情形，不计其他情形）") == "部分公开"


def test_traditional_characters_fold_to_simplified() -> None:
    assert to_simplified("本年新收政府信息公開申請數量") == "本年新收政府信息公开申请数量"
    assert normalize("（五）不予處理") == "(五)不予处理"


def test_edit_distance_is_bounded() -> None:
    assert edit_distance("行政规范文件", "行政规范性文件", 2) == 1
    assert edit_distance("行政处法", "行政处罚", 1) == 1
    assert edit_distance("abcdef", "uvwxyz", 2) == 3  # gives up past the limit
    assert max_distance(2) == 0  # 规章, 总计: exact only


def test_equally_close_labels_are_not_guessed() -> None:
    index = LabelIndex([("penalty", "行政处罚"), ("coercion", "行政强制")])
    found = index.match("行政处制")
    assert found is not None and found.key is None
    assert set(found.ambiguous) == {"penalty", "coercion"}
    assert "未作猜测" in found.warning("表二")
    assert index.match("行政处法").key == "penalty"
    assert index.match("信息内容") is None


def _fuzzy_warnings(warnings: list[str]) -> list[str]:
    return [w for w in warnings if "模糊匹配" in w]


def test_misprinted_table2_labels() -> None:
    t2 = [list(line) for line in T2_2021]
    t2[4] = ["行政规范文件", "3", "4", "5"]  # a dropped character
    t2[7] = ["行政许 可", "5,137"]  # a stray space
    t2[10] = ["行政处法", "13"]  # a homophone (法 for 罚)
    mapped = map_layout(report(t2=t2))
    cells = mapped.cells
    assert cells["t2.normative_documents.in_force"] == 5
    assert cells["t2.licensing.decisions"] == 5137
    assert cells["t2.penalty.decisions"] == 13
    fuzzy = _fuzzy_warnings(mapped.warnings)
    assert any("“行政规范文件”" in w for w in fuzzy) and any("“行政处法”" in w for w in fuzzy)


def test_ambiguous_table2_label_leaves_its_row_blank() -> None:
    t2 = [list(line) for line in T2_2021]
    t2[10] = ["行政处制", "13"]  # one edit from 行政处罚 and from 行政强制
    mapped = map_layout(report(t2=t2))
    assert mapped.cells["t2.penalty.decisions"] is None
    assert any("“行政处制”与" in w and "同样接近" in w for w in mapped.warnings)


def test_nested_parenthesis_table2_labels() -> None:
    t2 = [["二、主动公开政府信息情况"], ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
          ["规章", "0", "1", "2"], ["行政规范性文件", "3", "4", "5"],
          ["信息内容", "本年处理决定数量"], ["行政许可（第二十条第（五）项）", "88"],
          ["行政处罚（第二十条第（六）项）", "13"], ["行政强制（第二十条第（六）项）", "2"],
          ["信息内容", "本年收费金额（单位：万元）"], ["行政事业性收费（第二十条第（八）项）", "1.5"]]
    mapped = map_layout(report(t2=t2))
    cells = mapped.cells
    assert (cells["t2.licensing.decisions"], cells["t2.penalty.decisions"], cells["t2.coercion.decisions"],
            cells["t2.fees.amount"]) == (88, 13, 2, 1.5)
    assert not _fuzzy_warnings(mapped.warnings)


def test_misprinted_table3_labels() -> None:
    labels = dict(T3_LABELS_2021)
    labels["carried_over"] = ["二、上年节转政府信息公开申请数量"]  # homophone 节 for 结 (fragment 上年结转 broken)
    labels["carried_forward"] = ["四、结转下 年度继续办理"]  # a stray space
    labels["unable.not_held"] = ["", "（四）无法提供", "1.本机关不掌相关政府信息"]  # dropped 握
    labels["withheld.internal_affairs"] = ["", "", "5.属于三类内部事物信息"]  # homophone 物 for 务
    mapped = map_layout(report(t3=t3_lines(list(labels.items()))))
    assert_t3_consistent(mapped.cells)
    fuzzy = _fuzzy_warnings(mapped.warnings)
    assert any("上年节转" in w for w in fuzzy)
    assert any("本机关不掌相关政府信息" in w for w in fuzzy)
    assert any("内部事物" in w for w in fuzzy)
    assert not [w for w in mapped.warnings if "无法识别" in w]


def test_misprinted_table4_headers() -> None:
    t4 = [list(line) for line in T4_HEADER] + [T4_VALUES]
    t4[1] = ["结果维持", "结果纠证", "其他结果", "尚未审节", "总计", "未经复议直接起诉", "", "", "", "", "复议后起诉"]
    t4[2] = ["", "", "", "", "", "结果维 持", "结果纠正", "其他结果", "尚未审结", "总计",
             "结果维持", "结果纠正", "其它结果", "尚未审结", "总计"]
    mapped = map_layout(report(t4=t4))
    assert mapped.cells["t4.review.upheld"] == 1
    assert mapped.cells["t4.litigation_direct.total"] == 2
    assert any("“结果纠证”" in w and "模糊匹配" in w for w in mapped.warnings)


TRADITIONAL = str.maketrans({
    "开": "開", "报": "報", "告": "告", "请": "請", "数": "數", "结": "結", "转": "轉", "处": "處", "规": "規",
    "复": "復", "议": "議", "讼": "訟", "诉": "訴", "执": "執", "务": "務", "实": "實", "国": "國", "为": "為",
    "问": "問", "题": "題", "权": "權", "护": "護", "县": "縣", "卫": "衛", "健": "健", "区": "區", "费": "費",
    "项": "項", "无": "無", "没": "沒", "现": "現", "补": "補", "续": "續", "计": "計", "类": "類", "读": "讀",
})


def test_a_traditional_character_report_parses_to_the_same_cells() -> None:
    simplified = report()
    traditional = Layout(lines=[[c.translate(TRADITIONAL) for c in line] for line in simplified.lines], kind="html")
    assert traditional.text != simplified.text
    a, b = parse_layout(simplified, "s.html"), parse_layout(traditional, "t.html")
    assert b.cells == a.cells
    assert (b.year, b.format_version, b.agency) == (a.year, a.format_version, a.agency)
    assert b.sections["problems"] and set(b.sections) == set(a.sections)
    assert NATURAL["new_received"] == b.cells["t3.new_received.natural_person"]
