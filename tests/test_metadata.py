"""Title, agency, statistical year, published date and the six sections from document text."""

from __future__ import annotations

import pytest

from nianbao.parse.layout import Layout
from nianbao.parse.metadata import (
    agency_from_title,
    extract_metadata,
    find_sections,
    parse_year,
    statistical_year,
)


def layout(*lines: str) -> Layout:
    return Layout(lines=[[line] for line in lines], kind="txt")


@pytest.mark.parametrize(("title", "agency"), [
    ("南岗区卫生健康局 2022 年 政务信息公开工作年度报告", "南岗区卫生健康局"),
    ("硚口区卫健局2021年度政府信息公开", "硚口区卫健局"),
    ("2022年南岗区卫生健康局政府信息公开工作年度报告", "南岗区卫生健康局"),
    ("关于二〇二二年度某某市人民政府政务公开工作年度报告", "某某市人民政府"),
    ("某某县人民政府政府信息公开工作年度报告", "某某县人民政府"),
    ("2023 年政府信息公开工作年度报告", None),
])
def test_agency_as_named_in_the_title(title: str, agency: str | None) -> None:
    assert agency_from_title(title) == agency


def test_title_over_two_lines_gives_agency_and_year() -> None:
    meta = extract_metadata(layout("首页 > 政务公开 > 政府信息公开年报", "哈尔滨市卫生健康委员会",
                                   "2023 年政府信息公开工作年度报告", "根据《条例》规定，编制此报告。"))
    assert meta.title == "哈尔滨市卫生健康委员会2023 年政府信息公开工作年度报告"
    assert meta.agency == "哈尔滨市卫生健康委员会"
    assert meta.year == 2023


def test_chinese_numeral_year() -> None:
    meta = extract_metadata(layout("某某区司法局二〇二二年政府信息公开工作年度报告", "正文。"))
    assert (meta.agency, meta.year) == ("某某区司法局", 2022)
    assert parse_year("二〇一九") == 2019
    assert parse_year("1066") is None


def test_year_from_statistical_period_when_title_has_none() -> None:
    meta = extract_metadata(layout("政府信息公开工作年度报告",
                                   "本年度报告所列数据的统计期限为 2021 年 1 月 1 日至 12 月 31 日。"))
    assert meta.year == 2021
    assert any("统计期限" in w for w in meta.warnings)


def test_hints_fill_what_the_text_lacks() -> None:
    meta = extract_metadata(layout("一、总体情况", "正文。"),
                            {"title": "某某局2020年政府信息公开工作年度报告", "year": 2020, "published": "2021-01-15"})
    assert (meta.title, meta.agency, meta.year, meta.published) == (
        "某某局2020年政府信息公开工作年度报告", "某某局", 2020, "2021-01-15")
    assert any("取自抓取时的页面" in w for w in meta.warnings)


@pytest.mark.parametrize(("lines", "published"), [
    (("某某局2021年政府信息公开工作年度报告", "发布时间：2022-01-20 09:30", "正文。"), "2022-01-20"),
    (("某某局2021年政府信息公开工作年度报告", "正文。", "某某局", "2022年1月4日"), "2022-01-04"),
    (("某某局2021年政府信息公开工作年度报告", "正文。", "二〇二二年一月十四日"), "2022-01-14"),
    (("某某局2021年政府信息公开工作年度报告", "正文。"), None),
])
def test_published_date(lines: tuple, published: str | None) -> None:
    assert extract_metadata(layout(*lines)).published == published


def test_section_heading_variants() -> None:
    sections, warnings = find_sections(layout(
        "一、总体情况", "总体文字。",
        "（二）主动公开政府信息情况", "主动文字。",
        "收到和处理政府信息公开申请情况", "申请文字。",
        "4、因政府信息公开工作被申请行政复议、提起行政诉讼情况", "复议文字。",
        "五. 存在的主要问题及改进情况", "问题文字。",
        "六、其他需要报告的事项", "其他文字。",
    ))
    assert sections == {"overview": "总体文字。", "proactive": "主动文字。", "requests": "申请文字。",
                        "reviews": "复议文字。", "problems": "问题文字。", "other": "其他文字。"}
    assert warnings == []


def test_heading_fused_to_previous_paragraph() -> None:
    sections, _ = find_sections(layout(
        "一、总体情况", "我局认真做好政务公开工作，扎实做好完善政务服务体系工作。主动公开政府信息情况",
        "全年主动公开信息100条。", "三、收到和处理政府信息公开申请情况", "申请文字。",
    ))
    assert sections["overview"] == "我局认真做好政务公开工作，扎实做好完善政务服务体系工作。"
    assert sections["proactive"] == "全年主动公开信息100条。"
    assert sections["requests"] == "申请文字。"


def test_no_headings_keeps_the_text_as_overview() -> None:
    sections, warnings = find_sections(layout("2010年，我局做好信息公开。", "全年公开信息50条。"))
    assert "全年公开信息50条" in sections["overview"]
    assert warnings


def test_headings_run_into_one_paragraph_pre2019_style() -> None:
    sections, _ = find_sections(layout(
        "全文包括概述，主动公开政府信息情况等。一、概述2012年，我局完善工作机制。二、主动公开政府信息情况"
        "全年主动公开信息1187条。三、依申请公开政府信息情况共受理申请8件。四、政府信息公开的收费及减免情况"
        "未收取费用。五、因政府信息公开申请行政复议、提起行政诉讼的情况未发生。六、政府信息公开工作存在的主要问题"
        "及改进情况公开内容有待丰富。",
    ))
    assert sections["overview"] == "2012年，我局完善工作机制。"
    assert sections["proactive"] == "全年主动公开信息1187条。"
    assert sections["requests"].startswith("共受理申请8件。")
    assert sections["reviews"] == "未发生。"
    assert sections["problems"] == "公开内容有待丰富。"


def test_numbered_subheadings_are_not_sections() -> None:
    sections, _ = find_sections(layout(
        "一、总体情况", "（一）主动公开情况", "主动文字。", "（二）依申请公开情况", "申请文字。",
        "二、主动公开政府信息情况", "表二。", "三、收到和处理政府信息公开申请情况", "表三。",
    ))
    assert sections["overview"] == "（一）主动公开情况\n主动文字。\n（二）依申请公开情况\n申请文字。"
    assert sections["proactive"] == "表二。"
    assert sections["requests"] == "表三。"


def test_site_name_around_a_page_title_is_dropped() -> None:
    from nianbao.parse.metadata import strip_site_suffix

    assert strip_site_suffix("哈尔滨市卫生健康委员会2023年政府信息公开工作年度报告_哈尔滨市卫生健康委员会") \
        == "哈尔滨市卫生健康委员会2023年政府信息公开工作年度报告"
    assert strip_site_suffix("某市人民政府 | 某市2023年政府信息公开工作年度报告") == "某市2023年政府信息公开工作年度报告"
    assert strip_site_suffix("南岗区卫生健康局 2022 年 政务信息公开工作年度报告") == "南岗区卫生健康局 2022 年 政务信息公开工作年度报告"


def test_report_named_in_the_opening_sentence_when_no_title_line() -> None:
    meta = extract_metadata(layout(
        "根据《中华人民共和国政府信息公开条例》要求，特编制某市人民政府地方志办公室2023年政府信息公开工作年度报告。"
        "本报告所列数据统计期限自2023年1月1日起到2023年12月31日止。",
        "一、总体情况",
    ))
    assert meta.title == "某市人民政府地方志办公室2023年政府信息公开工作年度报告"
    assert (meta.agency, meta.year) == ("某市人民政府地方志办公室", 2023)


def test_opening_sentence_naming_the_body_as_we_gives_no_agency() -> None:
    meta = extract_metadata(layout(
        "根据《中华人民共和国政府信息公开条例》规定，现公布我局2022年政府信息公开工作年度报告。", "一、总体情况",
    ))
    assert (meta.title, meta.agency) == (None, None)


@pytest.mark.parametrize(("title", "agency", "year"), [
    ("2024年发布：某某县水利局2023年度政府信息公开工作年度报告", "某某县水利局", 2023),
    ("2024年1月发布某某县水利局2023年度政府信息公开工作年度报告", "某某县水利局", 2023),
    ("某某县水利局2023年政府信息公开工作年度报告（2024年1月印发）", "某某县水利局", 2023),
    ("政府信息公开工作年度报告（2021年）", None, 2021),
    ("政府信息公开工作年度报告（２０２１年度）", None, 2021),
])
def test_title_year_is_the_year_reported_on_and_boilerplate_is_no_agency(title, agency, year) -> None:
    assert agency_from_title(title) == agency
    assert statistical_year(title) == year


def test_boilerplate_title_takes_the_agency_from_the_signature() -> None:
    meta = extract_metadata(layout("政府信息公开工作年度报告（2021年）", "一、总体情况", "本年度工作稳步推进。",
                                   "六、其他需要报告的事项", "无。", "某某市某某区市场监督管理局", "2022年1月20日"))
    assert (meta.agency, meta.year) == ("某某市某某区市场监督管理局", 2021)
    assert any("落款" in w for w in meta.warnings)


def test_boilerplate_title_takes_the_agency_from_the_opening() -> None:
    meta = extract_metadata(layout("政府信息公开工作年度报告（2022年）",
                                   "本报告根据《中华人民共和国政府信息公开条例》要求，由某某镇人民政府编制。",
                                   "一、总体情况", "正文。"))
    assert meta.agency == "某某镇人民政府"


def test_disagreements_between_title_body_and_crawl_are_warnings() -> None:
    meta = extract_metadata(
        layout("某某县水利局2023年政府信息公开工作年度报告",
               "本报告所列数据的统计期限为2022年1月1日至2022年12月31日。", "一、总体情况", "正文。"),
        {"agency": "某某县农业农村局", "year": 2023})
    assert (meta.agency, meta.year) == ("某某县水利局", 2023)
    assert any(w.startswith("各来源的统计年度不一致") and "统计期限 2022" in w for w in meta.warnings)
    assert any(w.startswith("各来源的报告机关不一致") and "某某县农业农村局" in w for w in meta.warnings)


def test_agreeing_sources_give_no_warning() -> None:
    meta = extract_metadata(layout("某某县水利局2023年政府信息公开工作年度报告", "一、总体情况", "正文。",
                                   "某某县水利局", "2024年1月10日"),
                            {"agency": "某某县水利局", "year": 2023})
    assert not [w for w in meta.warnings if "不一致" in w]


def test_the_crawler_classifier_uses_this_resolver() -> None:
    import crawler.classify

    assert crawler.classify.statistical_year is statistical_year
    assert crawler.classify.classify_title("2024年发布：某某县水利局2023年度政府信息公开工作年度报告").year == 2023
