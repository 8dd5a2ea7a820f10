"""Title classification: which items of a 年报 column are annual OGI reports, and of which year."""

import pytest

from crawler.classify import (
    classify_title,
    is_column_link,
    is_disclosure_section_link,
    is_year_tab,
    may_be_truncated_report,
    statistical_year,
)

REPORTS = [
    # titles as real portals and the seed reports print them
    ("杭州市卫生健康委员会2023年度政府信息公开工作年度报告", 2023),
    ("来宾市卫生健康委员会2023年政府信息公开工作年度报告", 2023),
    ("南岗区卫生健康局 2022 年 政务信息公开工作年度报告", 2022),
    ("硚口区卫健局2021年度政府信息公开", 2021),
    ("鹤岗市卫健委2020年\n政府信息公开工作年度报告", 2020),
    ("海阳市卫生健康局 2023 年政府信息公开工作 年度报告", 2023),
    ("二〇二二年度政府信息公开工作年度报告", 2022),
    ("二○一九年政府信息公开年报", 2019),
    ("政府信息公开工作年度报告（２０２１年）", 2021),
    ("湖里区卫生健康局2022年政府信息公开工作年度报告（更正版）", 2022),
    ("XX县2008年度政府信息公开年报", 2008),
    ("2024年发布：XX局2023年度政府信息公开工作报告", 2023),
    ("平度市卫生健康局2023年政务公开工作年度报告", 2023),
]

NOT_REPORTS = [
    "关于做好2022年政府信息公开工作年度报告编制发布工作的通知",
    "哈尔滨市卫生健康委员会政府信息公开指南",
    "哈尔滨市卫生健康委员会政府信息公开目录",
    "关于开展2021年度企业年报公示工作的通知",
    "2022年卫生健康统计年报填报说明",
    "关于个体工商户2023年度年报公示的提醒",
    "哈尔滨市卫生健康委员会2024年政务公开工作要点",
    "哈尔滨市卫生健康委员会2022年部门决算公开",
    "哈尔滨市卫生健康委员会2024年政府信息公开工作年度报告（征求意见稿）",
    "图解：2023年度政府信息公开工作年度报告解读",
    "一图读懂XX区2023年政府信息公开工作年度报告",
    "关于2021年政府信息公开工作年度报告的更正说明",
    "2022年度政府信息公开工作年度报告第三方评估结果通报",
    "2023年度法治政府建设情况报告",
    "政府信息公开年报",
    "全市卫生健康工作会议召开",
    "",
]


@pytest.mark.parametrize(("title", "year"), REPORTS)
def test_reports_are_recognised_with_their_statistical_year(title, year):
    verdict = classify_title(title)
    assert verdict.is_report, verdict.reason
    assert verdict.year == year


@pytest.mark.parametrize("title", NOT_REPORTS)
def test_other_items_of_the_column_are_rejected(title):
    assert not classify_title(title).is_report


def test_the_statistical_year_is_not_the_publication_year():
    assert statistical_year("2024年1月发布 2023年度政府信息公开工作年度报告") == 2023
    assert statistical_year("关于公布2021年政府信息公开年报的公告（2022年3月）") == 2021
    assert statistical_year("政府信息公开工作年度报告") is None
    assert statistical_year("1999年政府信息公开工作年度报告") is None  # before the Regulations


def test_truncated_list_titles_are_worth_opening():
    assert may_be_truncated_report("哈尔滨市卫生健康委员会2023年政府信息公开工...")
    assert may_be_truncated_report("哈尔滨市卫生健康委员会2023年政府信…")
    assert not may_be_truncated_report("关于开展2021年度企业年报公示工作的通…")
    assert not may_be_truncated_report("哈尔滨市卫生健康委员会2023年政府信息公开工作年度报告")


def test_navigation_link_texts():
    assert is_column_link("政府信息公开年报")
    assert is_column_link("政府信息公开工作年度报告")
    assert is_column_link(" 年度报告 ")
    assert is_column_link("部门政府信息公开年报")
    assert is_column_link("政府信息公开年报（区级部门）")
    assert is_column_link("政务公开年报")
    assert not is_column_link("年报公示")
    assert not is_column_link("社会组织年报")
    assert not is_column_link("统计年报")
    assert not is_column_link("企业年报公示")
    assert not is_column_link("2022年政府信息公开工作年度报告")
    assert is_disclosure_section_link("政府信息公开")
    assert is_disclosure_section_link("政务公开")
    assert is_disclosure_section_link("法定主动公开内容")
    assert is_disclosure_section_link("部门信息公开")
    assert not is_disclosure_section_link("政府信息公开指南")
    assert not is_disclosure_section_link("政府信息公开制度")
    assert is_year_tab("2022年度") and is_year_tab("2019")
    assert not is_year_tab("2022年工作动态")


def test_a_body_whose_name_holds_a_negative_word_still_reports():
    verdict = classify_title("哈尔滨市审计局2008年政府信息公开工作年度报告")
    assert (verdict.is_report, verdict.year) == (True, 2008)
    assert classify_title("某省统计局2023年政府信息公开工作年度报告").is_report
    assert not classify_title("某市审计局关于2023年度预算执行审计工作的通知").is_report
    assert not classify_title("2023年度统计年报").is_report
