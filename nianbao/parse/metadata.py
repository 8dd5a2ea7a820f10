"""Report metadata from the document text: title, agency, statistical year, published date, section texts."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import date

from nianbao.parse.layout import Layout
from nianbao.parse.numbers import is_value
from nianbao.template import load_template, normalize, split_numbering

SECTION_KEYS = ("overview", "proactive", "requests", "reviews", "problems", "other")
TITLE_SCAN_LINES = 60
_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "O": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_CN_YEAR = "[〇○零一二三四五六七八九]"
_YEAR = rf"((?:19|20)\d{{2}}|{_CN_YEAR}{{4}})"
_TITLE_YEAR = re.compile(rf"{_YEAR}\s*年")
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


def _valid_agency(candidate: str) -> str | None:
    candidate = re.sub(r"(关于|的)$", "", re.sub(r"^关于", "", candidate))
    if 2 <= len(candidate) <= 40 and not re.search(r"\d", candidate) and not _SENTENCE.search(candidate):
        return candidate
    return None


def agency_from_title(title: str) -> str | None:
    """The reporting body as the title names it: the words before the year, or before 政府信息公开."""
    compact = re.sub(r"\s+", "", title)
    year = _TITLE_YEAR.search(compact)
    if year and _valid_agency(compact[:year.start()]):
        return _valid_agency(compact[:year.start()])
    rest = re.sub(r"^度", "", compact[year.end():]) if year else compact
    words = _TITLE_WORDS.search(rest)
    return _valid_agency(rest[:words.start()]) if words else None


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
    if title:
        match = _TITLE_YEAR.search(re.sub(r"\s+", "", title))
        if match and parse_year(match.group(1)):
            return parse_year(match.group(1)), "title"
    head = "\n".join(text for _, text in _paragraphs(layout)[:40])
    match = _PERIOD.search(head)
    if match and parse_year(match.group(1)):
        return parse_year(match.group(1)), "statistical period"
    return None, ""


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
        warnings.append(f"section headings not found: {', '.join(missing)}")
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


def extract_metadata(layout: Layout, hints: dict | None = None) -> Metadata:
    """Title, agency, statistical year, published date and section texts; hints fill what the text lacks."""
    hints = hints or {}
    meta = Metadata()
    meta.title, title_line = find_title(layout)
    if meta.title is None:
        meta.title = title_from_opening(layout)
        if meta.title:
            meta.warnings.append("title read from the opening sentence (no title line in the text)")
    if meta.title is None and hints.get("title"):
        meta.title = hints["title"]
        meta.warnings.append("title taken from the crawl (not found in the text)")
    if meta.title:
        meta.agency = agency_from_title(meta.title)
    if meta.agency is None and hints.get("agency"):
        meta.agency = hints["agency"]
        meta.warnings.append("agency taken from the crawl (not in the title)")
    meta.year, where = find_year(meta.title, layout)
    if meta.year is None and hints.get("year"):
        meta.year = int(hints["year"])
        meta.warnings.append("statistical year taken from the crawl")
    if meta.year is None:
        head = "\n".join(text for _, text in _paragraphs(layout)[:40])
        match = _YEAR_OF_REPORT.search(head)
        if match and parse_year(match.group(1)):
            meta.year = parse_year(match.group(1))
            meta.warnings.append(f"statistical year {meta.year} guessed from the first 'YYYY年度' in the text")
    elif where == "statistical period":
        meta.warnings.append("statistical year read from the statistical period")
    meta.published = find_published(layout) or hints.get("published")
    meta.sections, warnings = find_sections(layout, title_line or 0)
    meta.warnings += warnings
    return meta
