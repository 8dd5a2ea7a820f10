"""Report metadata: title, agency, statistical year, template version, published date, section texts.

This module is the one resolver of a report's year and agency, for the parser and for the crawler's
title classifier alike (`statistical_year`). The statistical year is the year the report is *about*
(`2024年发布：某局2023年度…` → 2023); the agency comes from the report's own title, opening sentence or
signature, never from the title's boilerplate; where the title, the body and the crawl's page
metadata (hints) disagree, the report says so in its warnings.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from nianbao.parse.layout import Layout
from nianbao.parse.messages import SECTION_NAMES, SOURCE_NAMES, names
from nianbao.parse.messages import warning as message
from nianbao.parse.numbers import is_value
from nianbao.template import load_template, normalize, split_numbering, to_simplified

FIRST_REPORT_YEAR = 2007  # the Regulations took effect on 2008-05-01; a few bodies reported on 2007
LAST_REPORT_YEAR = 2100
CN_DIGIT_CLASS = "〇○零Ｏ一二三四五六七八九"
_CN_TITLE_DIGITS = {"〇": "0", "○": "0", "零": "0", "Ｏ": "0", "O": "0", "一": "1", "二": "2", "三": "3",
                    "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
# The words that name a report in a title (what the statistical year stands before).
REPORT_WORDS = re.compile(
    r"年度?工作报告|年度报告|年\s*报|工作报告|年度情况报告|年度工作情况报告|工作情况报告|年度总结报告"
)
_YEAR_ARABIC = re.compile(r"(?<!\d)(\d{4})\s*(?:年|年度|）|\))")
_YEAR_PAREN = re.compile(r"[（(]\s*(\d{4})\s*年?度?\s*[）)]")
_YEAR_CN = re.compile(rf"([{CN_DIGIT_CLASS}]{{4}})\s*年")
# Where a title's lead-in ends and the body's name begins: "2024年发布：某局…", "转发：某局…".
_LEAD_IN = re.compile(r"^.*[：:|]")
_AGENCY_SUFFIX = (r"(?:人民政府|政府|委员会|管委会|办公室|办事处|街道|局|厅|委|办|中心|院|署|所|站|队|部|处|科|"
                  r"镇|乡|公司|会|庭|馆)")
# Another (publication) date before the statistical year: "2024年1月发布某局2023年度…".
_EARLIER_DATE = re.compile(rf"^.*(?:\d{{4}}|[{CN_DIGIT_CLASS}]{{4}})年度?(?:\d{{1,2}}月(?:\d{{1,2}}日)?)?"
                           rf"(?:发布|印发|公布|编制)?")
_BOILERPLATE = re.compile(r"信息公开|政务公开|报告|年报|年度|工作要点")

SECTION_KEYS = ("overview", "proactive", "requests", "reviews", "problems", "other")
TITLE_SCAN_LINES = 60
_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "O": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_CN_YEAR = "[〇○零一二三四五六七八九]"
_YEAR = rf"((?:19|20)\d{{2}}|{_CN_YEAR}{{4}})"
_TITLE_WORDS = re.compile(r"(政府信息公开|政务信息公开|政务公开|信息公开)")
_TITLE_KIND = re.compile(r"(报告|年度|年报)")
_NAVIGATION = re.compile(r"(>|»|当前位置|首页|您现在的位置|来源[:：]|浏览次数|字号)")
_SENTENCE = re.compile(r"[。；;，,：:！？]")
_PERIOD = re.compile(rf"(?:统计期限|统计时限|统计期间|数据统计)[^。]{{0,12}}?{_YEAR}\s*年\s*1\s*月\s*1\s*日")
_YEAR_OF_REPORT = re.compile(rf"{_YEAR}\s*年度")
_CN_NUMBER = "[〇○零一二三四五六七八九十]"
_DATE = re.compile(
    rf"((?:19|20)\d{{2}}|{_CN_YEAR}{{4}})\s*[年\-/.]\s*(\d{{1,2}}|{_CN_NUMBER}{{1,3}})\s*[月\-/.]\s*"
    rf"(\d{{1,2}}|{_CN_NUMBER}{{1,3}})\s*日?"
)
# The opening sentence names the report when a page prints no title: "现公布区统计局2023年政府信息公开工作年度报告".
_NAMED_REPORT = re.compile(
    rf"(?:现公布|现将|特编制|编制|公布|发布)(?P<title>[^。，,；;：:、《》“”\"()（）\s\d]{{2,40}}?{_YEAR}\s*年度?"
    rf"(?:政府信息公开|政务信息公开|政务公开|信息公开)(?:工作)?(?:年度报告|年报|工作报告))"
)
OPENING_LINES = 8
_PUBLISHED_LABEL = re.compile(r"(?:发布时间|发布日期|发文日期|成文日期|印发日期)\s*[:：]?\s*")


@dataclass
class Metadata:
    """What the text says about the report; `warnings` name what came from hints or guesses."""

    title: str | None = None
    agency: str | None = None
    year: int | None = None
    published: str | None = None
    sections: dict[str, str] = field(default_factory=lambda: dict.fromkeys(SECTION_KEYS, ""))
    warnings: list[str] = field(default_factory=list)


def _cn_int(text: str) -> int | None:
    """A year or date part written in Arabic digits, 〇-style digits, or 十-style numerals."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, units = text.partition("十")
        return (_CN_DIGITS.get(tens, 0) if tens else 1) * 10 + (_CN_DIGITS.get(units, 0) if units else 0)
    digits = [_CN_DIGITS.get(c) for c in text]
    if None in digits:
        return None
    return int("".join(str(d) for d in digits))


def parse_year(text: str) -> int | None:
    """A four-digit year as printed (`2022`, `二〇二二`), or None."""
    year = _cn_int(text.strip())
    return year if year and 1990 <= year <= 2100 else None


def _paragraphs(layout: Layout) -> list[tuple[int, str]]:
    """(line index, text) of every one-cell line."""
    out = []
    for index, cells in enumerate(layout.lines):
        texts = [c for c in cells if c.strip()]
        if len(texts) == 1 and not is_value(texts[0]):
            out.append((index, texts[0].strip()))
    return out


def normalise_title(title: str) -> str:
    """NFKC (full-width digits and brackets to ASCII) and no whitespace: titles are often spaced out."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", title or ""))


def _fold(text: str) -> str:
    """NFKC character by character, so that positions in the result are positions in `text`."""
    out = []
    for ch in text:
        folded = unicodedata.normalize("NFKC", ch)
        out.append(folded if len(folded) == 1 else ch)
    return "".join(out)


@dataclass(frozen=True)
class TitleYear:
    """The statistical year a title names and where (start, end) in the title without whitespace."""

    year: int
    start: int
    end: int


def title_year(title: str) -> TitleYear | None:
    """The statistical year a report title names (Arabic or Chinese numerals), or None.

    When a title names several years (``2024年发布2023年度报告``) the one followed by 年度 wins, then
    the last one before the word 报告/年报, since the publication year usually comes first.
    """
    text = _fold(re.sub(r"\s+", "", title or ""))
    candidates: list[tuple[int, int, int, bool]] = []  # (start, end, year, followed by 年度)
    for match in _YEAR_ARABIC.finditer(text):
        candidates.append((match.start(1), match.end(1), int(match.group(1)),
                           text[match.end(1):].startswith("年度")))
    for match in _YEAR_PAREN.finditer(text):
        candidates.append((match.start(1), match.end(1), int(match.group(1)), False))
    for match in _YEAR_CN.finditer(text):
        digits = "".join(_CN_TITLE_DIGITS.get(ch, ch) for ch in match.group(1))
        candidates.append((match.start(1), match.end(1), int(digits), text[match.end(1):].startswith("年度")))
    candidates = [c for c in candidates if FIRST_REPORT_YEAR <= c[2] <= LAST_REPORT_YEAR]
    if not candidates:
        return None
    annual = [c for c in candidates if c[3]]
    if annual:
        chosen = min(annual)
    else:
        report_at = REPORT_WORDS.search(text)
        before = [c for c in candidates if report_at is None or c[0] < report_at.start()]
        chosen = max(before or candidates)
    return TitleYear(chosen[2], chosen[0], chosen[1])


def statistical_year(title: str) -> int | None:
    """The statistical year a report title names, or None (the crawler's classifier uses this too)."""
    found = title_year(title)
    return found.year if found else None


def valid_agency(candidate: str) -> str | None:
    """`candidate` as an agency name, or None when it is no name: too short or long, a sentence, or a
    fragment of the title's boilerplate ("政府信息公开工作年度报告（")."""
    candidate = re.sub(r"(关于|的)$", "", re.sub(r"^关于", "", candidate.strip()))
    if not 2 <= len(candidate) <= 40 or re.search(r"\d", candidate) or _SENTENCE.search(candidate):
        return None
    if _BOILERPLATE.search(candidate) or candidate.count("(") + candidate.count("（") \
            != candidate.count(")") + candidate.count("）"):
        return None
    if candidate.startswith(("我", "本")):  # 我局, 本机关: the body speaking of itself, no name
        return None
    return candidate


def agency_from_title(title: str) -> str | None:
    """The reporting body as the title names it: the words before the statistical year (after any
    lead-in such as "2024年发布："), or before 政府信息公开."""
    compact = re.sub(r"\s+", "", title)
    year = title_year(compact)
    if year:
        before = _LEAD_IN.sub("", compact[:year.start])
        before = _EARLIER_DATE.sub("", before)
        if valid_agency(before):
            return valid_agency(before)
    rest = re.sub(r"^度", "", compact[year.end:]) if year else compact
    rest = re.sub(r"^年度?", "", rest)
    words = _TITLE_WORDS.search(rest)
    return valid_agency(rest[:words.start()]) if words else None


_AGENCY_LINE = re.compile(rf"^(?P<agency>[^\s，。；：:、\d]{{2,30}}?{_AGENCY_SUFFIX})$")
_AGENCY_BEFORE_DATE = re.compile(rf"^(?P<agency>[^\s，。；：:、\d]{{2,30}}?{_AGENCY_SUFFIX})\s*(?=(?:19|20)\d{{2}}\s*年|"
                                 rf"[{CN_DIGIT_CLASS}]{{4}}年)")
_OPENING_AGENCY = (
    re.compile(rf"由(?P<agency>[^，。；、由]{{2,30}}?{_AGENCY_SUFFIX})(?:负责)?(?:编制|制作|起草|编写|根据|依据|按照)"),
    re.compile(rf"^(?P<agency>[^，。；、\d]{{2,30}}?{_AGENCY_SUFFIX})(?:根据|依据|按照|严格按照|认真贯彻)"),
)


def agency_from_body(layout: Layout) -> tuple[str | None, str]:
    """The body as the report names itself in its opening sentence or its signature: (agency, where)."""
    paragraphs = _paragraphs(layout)
    for _, text in paragraphs[:OPENING_LINES]:
        compact = re.sub(r"\s+", "", text)
        for pattern in _OPENING_AGENCY:
            match = pattern.search(compact)
            if match and valid_agency(match["agency"]):
                return valid_agency(match["agency"]), "opening"
    tail = paragraphs[-12:]
    for position in range(len(tail) - 1, -1, -1):
        compact = re.sub(r"\s+", "", tail[position][1])
        match = _AGENCY_BEFORE_DATE.match(compact)
        if match is None and _AGENCY_LINE.match(compact):
            after = re.sub(r"\s+", "", tail[position + 1][1]) if position + 1 < len(tail) else ""
            match = _AGENCY_LINE.match(compact) if _DATE.fullmatch(after) else None
        if match and valid_agency(match["agency"]):
            return valid_agency(match["agency"]), "signature"
    return None, ""


def _looks_like_title(text: str) -> bool:
    compact = re.sub(r"\s+", "", text)
    return len(compact) <= 60 and "。" not in compact and bool(_TITLE_WORDS.search(compact)) \
        and bool(_TITLE_KIND.search(compact))


_SITE_SEPARATOR = re.compile(r"\s*[_|｜]\s*|\s+[-—–]\s+")


def strip_site_suffix(title: str) -> str:
    """Drop what a page's <title> appends or prepends: `报告标题_某某市人民政府`, `站名 | 报告标题`."""
    parts = [p for p in _SITE_SEPARATOR.split(title) if p]
    if len(parts) < 2:
        return title
    titled = [p for p in parts if _looks_like_title(p)]
    return titled[0] if titled else title


def find_title(layout: Layout) -> tuple[str | None, int | None]:
    """The report title and its line index: a short heading line about 信息公开 + 报告/年度 near the top.

    A title printed over two lines (agency on one, year and 年度报告 on the next) is joined.
    """
    paragraphs = _paragraphs(layout)[:TITLE_SCAN_LINES]
    for position, (index, text) in enumerate(paragraphs):
        if _NAVIGATION.search(text) or not _looks_like_title(text):
            continue
        title = strip_site_suffix(re.sub(r"\s+", " ", text))
        if agency_from_title(title) is None and position > 0:
            prev_index, prev = paragraphs[position - 1]
            if prev_index >= index - 2 and len(prev) <= 30 and not _SENTENCE.search(prev) \
                    and not _NAVIGATION.search(prev):
                return re.sub(r"\s+", " ", prev) + title, prev_index
        return title, index
    return None, None


def title_from_opening(layout: Layout) -> str | None:
    """The report as the opening sentences name it, for pages whose title is not in the text."""
    for _, text in _paragraphs(layout)[:OPENING_LINES]:
        match = _NAMED_REPORT.search(re.sub(r"\s+", "", text))
        agency = agency_from_title(match["title"]) if match else None
        # "现公布我局2022年…": the sentence names the body only as 我局/本机关, which is no agency.
        if agency and not agency.startswith(("我", "本")):
            return match["title"]
    return None


def _iso_date(match: re.Match) -> str | None:
    year, month, day = (_cn_int(g) for g in match.groups())
    try:
        return date(year, month, day).isoformat() if year and month and day else None
    except ValueError:
        return None


def find_published(layout: Layout) -> str | None:
    """A 发布时间 on the page, else the signature date standing alone near the end of the text."""
    for cells in layout.lines:
        for cell in cells:
            label = _PUBLISHED_LABEL.search(cell)
            if label:
                match = _DATE.search(cell, label.end())
                if match and match.start() - label.end() <= 2:
                    found = _iso_date(match)
                    if found:
                        return found
    for _, text in reversed(_paragraphs(layout)[-12:]):
        compact = re.sub(r"\s+", "", text)
        match = _DATE.fullmatch(compact)
        if match:
            return _iso_date(match)
    return None


def find_year(title: str | None, layout: Layout) -> tuple[int | None, str]:
    """The statistical year: from the title, else from the stated statistical period. Returns (year, where)."""
    if title and statistical_year(title):
        return statistical_year(title), "title"
    period = _period_year(layout)
    if period:
        return period, "statistical period"
    return None, ""


def _period_year(layout: Layout) -> int | None:
    """The year of the statistical period the text states (统计期限为2021年1月1日至…)."""
    head = "\n".join(text for _, text in _paragraphs(layout)[:40])
    match = _PERIOD.search(head)
    return parse_year(match.group(1)) if match else None


def _number_allows(text: str, number: int) -> bool:
    """A heading's own numbering must agree with its section, except top-level 一、 style.

    Pre-2019 reports number their sections differently; sub-headings such as （一）主动公开情况
    inside 总体情况 must not be taken for sections.
    """
    norm = normalize(text)
    printed, _ = split_numbering(norm)
    if printed is None:
        return True
    if not norm.startswith("(") and not printed.isdigit():
        return True
    return _cn_int(printed) == number


def _heading_section(text: str, wanted: list) -> str | None:
    """The section key `text` is a heading of (or None): numbering optional, wording varies."""
    norm = normalize(text)
    if len(norm) > 40 or "。" in norm:
        return None
    _, rest = split_numbering(norm)
    for section in wanted:
        for phrase in section.phrases:
            if phrase in rest and len(rest) <= len(phrase) + 12 and _number_allows(norm, section.number):
                return section.key
    return None


@functools.cache
def _inline_heading() -> re.Pattern:
    """A numbered section heading run into the text around it (…止。一、概述2012年，我局…)."""
    phrases = sorted({p for s in load_template().raw["sections"] for p in s["phrases"]}, key=len, reverse=True)
    alternatives = "|".join(re.escape(p) for p in phrases)
    return re.compile(rf"(?:^|(?<=[。；;]))\s*(?:[一二三四五六七八九十]{{1,2}}、|[（(][一二三四五六七八九十]{{1,2}}[）)])"
                      rf"[^。；;，,\d]{{0,14}}?(?:{alternatives})(?:的情况|情况)?")


def _split_inline_headings(text: str) -> list[str]:
    """`text` cut before and after every section heading run into it."""
    template = load_template()
    pieces, last = [], 0
    for match in _inline_heading().finditer(text):
        heading = match.group().strip()
        if match.start() == 0 and match.end() >= len(text.rstrip()):
            break  # a heading on a line of its own
        if not _heading_section(heading, template.sections):
            continue
        pieces += [text[last:match.start()], heading]
        last = match.end()
    if not pieces:
        return [text]
    pieces.append(text[last:])
    return [p.strip().lstrip("。：:") for p in pieces if p.strip().lstrip("。：:")]


def find_sections(layout: Layout, start: int = 0) -> tuple[dict[str, str], list[str]]:
    """The six sections' texts (paragraph lines only; tables are cells, not text)."""
    template = load_template()
    sections = template.sections
    paragraphs = [(i, piece) for i, t in _paragraphs(layout) if i >= start for piece in _split_inline_headings(t)]
    found: list[tuple[int, str, str]] = []  # (position in paragraphs, key, text before the heading)
    position = 0
    for order, section in enumerate(sections):
        hit = None
        for p in range(position, len(paragraphs)):
            key = _heading_section(paragraphs[p][1], sections[order:order + 1])
            if key:
                hit = (p, key, "")
                break
        if hit is None:
            hit = _fused_heading(paragraphs, position, section)
        if hit is not None:
            found.append(hit)
            position = hit[0] + 1
    texts = dict.fromkeys(SECTION_KEYS, "")
    warnings = []
    if not found:
        texts["overview"] = "\n".join(t for _, t in paragraphs)
        return texts, ["no section headings found; the whole text is kept as the overview"]
    for n, (p, key, _) in enumerate(found):
        end = found[n + 1][0] if n + 1 < len(found) else len(paragraphs)
        body = [t for _, t in paragraphs[p + 1:end]]
        if n + 1 < len(found) and found[n + 1][2]:
            body.append(found[n + 1][2])  # the paragraph that the next heading was fused to
        if n + 1 == len(found):
            # A second report in the file starts with its own 一、总体情况: stop there.
            for offset, (_, text) in enumerate(paragraphs[p + 1:end]):
                if _heading_section(text, sections[:1]):
                    body = body[:offset]
                    if body and _looks_like_title(body[-1]):
                        body.pop()
                    break
        texts[key] = "\n".join(body)
    missing = [k for k in SECTION_KEYS if k not in {key for _, key, _ in found}]
    if missing:
        warnings.append(message("meta.sections_missing", sections=names(SECTION_NAMES.get(k, k) for k in missing)))
    return texts, warnings


def _fused_heading(paragraphs, position: int, section) -> tuple[int, str, str] | None:
    """A heading printed at the end of the previous paragraph ("…工作。主动公开政府信息情况")."""
    for p in range(position, len(paragraphs)):
        text = paragraphs[p][1]
        for phrase in section.phrases:
            norm = normalize(text)
            if norm.endswith(phrase) and len(norm) > len(phrase) + 12:
                cut = text.rstrip()
                # the original text up to the sentence end before the heading
                split = max(cut.rfind("。"), cut.rfind("；"))
                return (p, section.key, cut[:split + 1] if split >= 0 else "")
    return None


def _simplified(layout: Layout) -> Layout:
    """`layout` in simplified characters (the same object when it has no traditional characters)."""
    import zhconv

    text = layout.text
    if zhconv.convert(text, "zh-hans") == text:
        return layout
    return Layout(lines=[[to_simplified(c) for c in line] for line in layout.lines], kind=layout.kind,
                  warnings=list(layout.warnings))


def _disagreements(what: str, values: dict[str, object]) -> list[str]:
    """A warning when the sources that state `what` (title, body, crawl) do not all agree."""
    stated = {k: v for k, v in values.items() if v not in (None, "")}
    distinct = set(stated.values())
    if len(distinct) < 2:
        return []
    if what == "agency" and all(str(a) in str(b) or str(b) in str(a) for a in distinct for b in distinct):
        return []  # one source gives the longer form of the same name
    return [message("meta.disagree", what=SOURCE_NAMES.get(what, what),
                    values="；".join(f"{SOURCE_NAMES.get(k, k)} {v}" for k, v in stated.items()))]


def extract_metadata(layout: Layout, hints: dict | None = None) -> Metadata:
    """Title, agency, statistical year, published date and section texts; hints (the crawl's page
    metadata) fill what the text lacks, and disagreements between the sources are warnings."""
    hints = hints or {}
    meta = Metadata()
    simplified = _simplified(layout)
    if simplified is not layout:
        meta.warnings.append(message("meta.traditional"))
        layout = simplified
    meta.title, title_line = find_title(layout)
    if meta.title is None:
        meta.title = title_from_opening(layout)
        if meta.title:
            meta.warnings.append(message("meta.title_from_opening"))
    if meta.title is None and hints.get("title"):
        meta.title = hints["title"]
        meta.warnings.append(message("meta.title_from_crawl"))
    # The agency: the title, else the report's own opening or signature, else the crawl.
    title_agency = agency_from_title(meta.title) if meta.title else None
    body_agency, body_where = agency_from_body(layout)
    hint_agency = hints.get("agency") or (agency_from_title(hints["title"]) if hints.get("title") else None)
    meta.agency = title_agency
    if meta.agency is None and body_agency:
        meta.agency = body_agency
        meta.warnings.append(message("meta.agency_from_body", where=SOURCE_NAMES.get(body_where, body_where)))
    if meta.agency is None and hint_agency:
        meta.agency = hint_agency
        meta.warnings.append(message("meta.agency_from_crawl"))
    if meta.agency and to_simplified(meta.agency) != meta.agency:
        meta.warnings.append(message("meta.agency_traditional", agency=meta.agency))
        meta.agency = to_simplified(meta.agency)
    meta.warnings += _disagreements("agency", {
        "title": to_simplified(title_agency) if title_agency else None,
        body_where or "body": to_simplified(body_agency) if body_agency else None,
        "crawl": to_simplified(hint_agency) if hint_agency else None,
    })
    # The statistical year: the title, else the stated statistical period, else the crawl.
    title_year_value = statistical_year(meta.title) if meta.title else None
    period = _period_year(layout)
    hint_year = hints.get("year") or (statistical_year(hints["title"]) if hints.get("title") else None)
    meta.year, where = find_year(meta.title, layout)
    if meta.year is None and hint_year:
        meta.year = int(hint_year)
        meta.warnings.append(message("meta.year_from_crawl"))
    if meta.year is None:
        head = "\n".join(text for _, text in _paragraphs(layout)[:40])
        match = _YEAR_OF_REPORT.search(head)
        if match and parse_year(match.group(1)):
            meta.year = parse_year(match.group(1))
            meta.warnings.append(message("meta.year_guessed", year=meta.year))
    elif where == "statistical period":
        meta.warnings.append(message("meta.year_from_period"))
    meta.warnings += _disagreements("statistical year", {
        "title": title_year_value, "statistical period": period,
        "crawl": int(hint_year) if hint_year else None,
    })
    meta.published = find_published(layout) or hints.get("published")
    meta.sections, warnings = find_sections(layout, title_line or 0)
    meta.warnings += warnings
    return meta


def resolve_format_version(detected: str | None, year: int | None) -> tuple[str | None, list[str]]:
    """The template version: as the table headers show it; "pre2019" for a report without template
    tables on a year before the template existed. Returns (version, warnings)."""
    if detected is not None:
        return detected, []
    if year is not None and year < 2019:
        return "pre2019", []
    return None, [message("meta.no_template_table")]
