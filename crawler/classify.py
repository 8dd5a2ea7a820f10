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
import unicodedata
from dataclasses import dataclass

FIRST_REPORT_YEAR = 2007  # the Regulations took effect on 2008-05-01; a few bodies reported on 2007
LAST_REPORT_YEAR = 2100

_CN_DIGITS = {"〇": "0", "○": "0", "零": "0", "Ｏ": "0", "O": "0", "o": "0", "一": "1", "二": "2", "三": "3",
              "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
_CN_DIGIT_CLASS = "〇○零Ｏ一二三四五六七八九"

# what makes an item the OGI annual report
_SUBJECT = re.compile(r"(政府|政务)?信息公开|政务公开")
_REPORT = re.compile(
    r"年度?工作报告|年度报告|年\s*报|工作报告|年度情况报告|年度工作情况报告|工作情况报告|年度总结报告"
)
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

_YEAR_ARABIC = re.compile(r"(?<!\d)(\d{4})\s*(?:年|年度|）|\))")
_YEAR_PAREN = re.compile(r"[（(]\s*(\d{4})\s*年?度?\s*[）)]")
_YEAR_CN = re.compile(rf"([{_CN_DIGIT_CLASS}]{{4}})\s*年")
_TRUNCATED = re.compile(r"(\.{2,}|…+|\.\.\.)$")


@dataclass(frozen=True)
class Classification:
    """The verdict on one title."""

    is_report: bool
    year: int | None
    reason: str


def normalise_title(title: str) -> str:
    """NFKC (full-width digits and brackets to ASCII) and no whitespace: titles are often spaced out."""
    text = unicodedata.normalize("NFKC", title or "")
    return re.sub(r"\s+", "", text)


def statistical_year(title: str) -> int | None:
    """The statistical year a report title names (Arabic or Chinese numerals), or None.

    When a title names several years (``2024年发布2023年度报告``) the one followed by 年度 wins,
    then the last one before the word 报告/年报, since the publication year usually comes first.
    """
    text = normalise_title(title)
    candidates: list[tuple[int, int, bool]] = []  # (position, year, followed by 年度)
    for match in _YEAR_ARABIC.finditer(text):
        candidates.append((match.start(), int(match.group(1)), text[match.end(1):].startswith("年度")))
    for match in _YEAR_PAREN.finditer(text):
        candidates.append((match.start(), int(match.group(1)), False))
    for match in _YEAR_CN.finditer(text):
        digits = "".join(_CN_DIGITS.get(ch, ch) for ch in match.group(1))
        candidates.append((match.start(), int(digits), text[match.end(1):].startswith("年度")))
    candidates = [c for c in candidates if FIRST_REPORT_YEAR <= c[1] <= LAST_REPORT_YEAR]
    if not candidates:
        return None
    annual = [c for c in candidates if c[2]]
    if annual:
        return annual[0][1]
    report_at = _REPORT.search(text)
    before = [c for c in candidates if report_at is None or c[0] < report_at.start()]
    chosen = max(before or candidates, key=lambda c: c[0])
    return chosen[1]


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
_ANY_YEAR = re.compile(rf"\d{{4}}|[{_CN_DIGIT_CLASS}]{{4}}年")
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
