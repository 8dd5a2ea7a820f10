"""Is a title an annual government-information-disclosure (OGI) report, and of which statistical year?

Titles come from list pages, detail pages and attachment file names. They vary a lot in the wild:
``2023年政府信息公开工作年度报告``, ``政务信息公开工作年度报告``, ``2022年度政府信息公开年报``,
``二〇二二年…``, ``政府信息公开工作年度报告（2021年）``. The same columns also hold items that
mention 年报 or 年度报告 but are not the report: enterprise annual reports (企业年报, 年报公示),
statistical reports (统计年报), notices about compiling the report (…的通知), guides and catalogues
(指南, 目录), evaluations of other bodies' reports, drafts put out for comment (征求意见稿).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Year parsing is the parser's metadata resolver's: one copy for the crawl and the parse.
from nianbao.parse.metadata import (
    CN_DIGIT_CLASS,
    FIRST_REPORT_YEAR,
    LAST_REPORT_YEAR,
    normalise_title,
    statistical_year,
)
from nianbao.parse.metadata import REPORT_WORDS as _REPORT

__all__ = ["FIRST_REPORT_YEAR", "LAST_REPORT_YEAR", "Classification", "classify_title", "is_annual_report",
           "is_column_link", "is_disclosure_section_link", "is_year_tab", "may_be_truncated_report",
           "normalise_title", "statistical_year"]

# what makes an item the OGI annual report
_SUBJECT = re.compile(r"(政府|政务)?信息公开|政务公开")
# "2021年度政府信息公开" with nothing after: a list title that dropped 工作年度报告
_BARE_ANNUAL = re.compile(r"\d{4}年度?(政府|政务)信息公开(工作)?$")

# items in the same columns that are not the report
_NEGATIVE = re.compile(
    r"企业年报|企业年度报告|年报公示|统计年报|统计年鉴|统计公报|年报公告|工商年报|社会组织年报|社团年报|"
    r"指南|目录|通知|通告|公告|办法|规定|意见|方案|要点|格式|模板|范本|说明会|培训|"
    r"评估|考核|测评|抽查|检查|督查|排名|通报|征集|解读|决算|预算|财务报告|审计|"
    r"工作计划|汇总表|报送|编制工作|填报|征求意见稿|征求意见|草案|送审稿|讨论稿|"
    r"图解|一图读懂|一图看懂|图说|的说明|更正说明|勘误"
)
# a negative word that is part of the reporting body's name (审计局, 统计局, 督查室): not a verdict on the item
_BODY_NAME = re.compile(
    r"(审计|统计|督查|考核|评估|检查|预算|通报|培训)(局|厅|署|委员会|委|办公室|办|室|中心|处|科|队|站|所|院)"
)
# a heading that names the whole column rather than one report
_COLUMN_NAME = re.compile(r"^(政府|政务)?信息公开(工作)?年(度报告|报)$|^年度报告$|^年报$")

_TRUNCATED = re.compile(r"(\.{2,}|…+|\.\.\.)$")


@dataclass(frozen=True)
class Classification:
    """The verdict on one title."""

    is_report: bool
    year: int | None
    reason: str


def classify_title(title: str) -> Classification:
    """Decide whether `title` is an annual OGI report title and return its statistical year."""
    text = normalise_title(title)
    if not text:
        return Classification(False, None, "empty title")
    negative = _NEGATIVE.search(_BODY_NAME.sub("", text))
    if negative:
        return Classification(False, statistical_year(text), f"not a report: {negative.group(0)}")
    if _COLUMN_NAME.match(text):
        return Classification(False, None, "column name")
    subject = _SUBJECT.search(text)
    report = _REPORT.search(text)
    year = statistical_year(text)
    if not subject:
        return Classification(False, year, "no 信息公开/政务公开 in title")
    if not report and not _BARE_ANNUAL.search(text):
        return Classification(False, year, "no 年度报告/年报 in title")
    if year is None:
        return Classification(False, None, "no statistical year in title")
    return Classification(True, year, "annual OGI report")


def is_annual_report(title: str) -> bool:
    """True when `title` is an annual OGI report title (with a year)."""
    return classify_title(title).is_report


def may_be_truncated_report(title: str) -> bool:
    """A list title cut short (``…政府信息公开工…``) that could be a report: worth opening the page."""
    text = normalise_title(title)
    if not _TRUNCATED.search(text) or _NEGATIVE.search(_BODY_NAME.sub("", text)):
        return False
    return bool(_SUBJECT.search(text) or re.search(r"政府信|政务信|信息公", text)) and statistical_year(text) is not None


_COLUMN_WORD = re.compile(r"年报|年度报告|年度工作报告")
_BARE_COLUMN_NAMES = {"年报", "年度报告", "年度工作报告", "工作年报"}
_ANY_YEAR = re.compile(rf"\d{{4}}|[{CN_DIGIT_CLASS}]{{4}}年")
_PORTAL_SECTION_LINK = re.compile(
    r"^(部门|本级|市级|区级|县级)?(政府|政务)?(信息)?公开(专栏|平台|目录|网|内容)?$|^法定主动公开(内容)?$"
)


def is_column_link(text: str) -> bool:
    """Link text naming the 年报 column (政府信息公开年报, 年度报告, 部门政府信息公开年报 …), not one
    report (no year) and not another kind of annual report (企业年报, 统计年报 …)."""
    norm = normalise_title(text)
    if not norm or len(norm) > 20 or _ANY_YEAR.search(norm) or _NEGATIVE.search(norm):
        return False
    if norm in _BARE_COLUMN_NAMES:
        return True
    return bool(_SUBJECT.search(norm) and _COLUMN_WORD.search(norm))


def is_disclosure_section_link(text: str) -> bool:
    """Link text naming the portal's 政府信息公开 section, where the 年报 column usually hangs."""
    norm = normalise_title(text)
    return bool(_PORTAL_SECTION_LINK.match(norm))


def is_year_tab(text: str) -> bool:
    """Link text that is just a year (``2022年``, ``2022年度``): a per-year sub-column of the 年报 column."""
    norm = normalise_title(text)
    match = re.fullmatch(r"(\d{4})(年度?)?(年报|报告)?", norm)
    return bool(match) and FIRST_REPORT_YEAR <= int(match.group(1)) <= LAST_REPORT_YEAR
