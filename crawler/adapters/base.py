"""What every list adapter returns, and the link/date helpers they share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from parsel import Selector
from scrapy.http import Response

_DATE = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_NEXT_TEXT = re.compile(r"^(下一页|下页|后页|下一頁|next|›|»|>|>>|＞)$", re.I)
_SKIP_HREF = re.compile(r"^(javascript:|mailto:|tel:|#)", re.I)


@dataclass
class Entry:
    """One item of a list: where it links and what the list calls it."""

    url: str
    title: str
    published: str | None = None


@dataclass
class PageRequest:
    """A further page of the same list (GET link, or a data endpoint by GET/POST)."""

    url: str
    method: str = "GET"
    formdata: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    browser: bool = False
    meta: dict = field(default_factory=dict)  # kept with the request, seen again on its response


def iso_date(text: str | None) -> str | None:
    """The first date in `text` as YYYY-MM-DD, or None."""
    match = _DATE.search(text or "")
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def clean_text(text: str | None) -> str:
    """`text` with every run of whitespace (Unicode's, 　 included) made one space, and trimmed."""
    # str.split() splits on exactly the characters `\s` matches in a str pattern, and is several times
    # faster than re.sub: this runs on every text node of every detail page
    return " ".join(text.split()) if text else ""


def link_title(anchor: Selector) -> str:
    """A link's title: its title attribute when it is fuller than the (often truncated) text.

    An attachment link may carry the file's name only in ``alt`` (gkmlpt's ``nfw-cms-attachment``
    links read 点击下载), so ``alt`` counts as a title too.
    """
    text = clean_text(" ".join(anchor.xpath(".//text()").getall()))
    title = max(clean_text(anchor.attrib.get("title")), clean_text(anchor.attrib.get("alt")), key=len)
    return title if len(title) >= len(text) else text


def absolute(base_url: str, href: str | None) -> str | None:
    """`href` resolved against `base_url`; None for javascript:, mailto: and fragment links."""
    href = (href or "").strip()
    if not href or _SKIP_HREF.match(href):
        return None
    url = urljoin(base_url, href)
    return url if urlsplit(url).scheme in ("http", "https") else None


def link_entries(selector: Selector, base_url: str) -> list[Entry]:
    """Every link in `selector` as an Entry, dated by the nearest date in its list row (li/tr/dd/p)."""
    entries = []
    for anchor in selector.xpath(".//a[@href]"):
        url = absolute(base_url, anchor.attrib.get("href"))
        title = link_title(anchor)
        if not url or not title:
            continue
        row = anchor.xpath("ancestor::*[self::li or self::tr or self::dd or self::p or self::div][1]")
        row_text = " ".join(row[0].xpath(".//text()").getall()) if row else ""
        # the date printed after the title, not a year inside the title
        published = iso_date(row_text.replace(title, " ", 1)) if row_text else None
        entries.append(Entry(url=url, title=title, published=published))
    return entries


def next_links(response: Response) -> list[str]:
    """Links labelled as the next page, and numbered page links (1 2 3 …) of the same path family."""
    urls = []
    for anchor in response.xpath("//a[@href]"):
        text = clean_text(" ".join(anchor.xpath(".//text()").getall()))
        url = absolute(response.url, anchor.attrib.get("href"))
        if not url or url == response.url:
            continue
        if _NEXT_TEXT.match(text) or (text.isdigit() and len(text) <= 4 and _same_list(url, response.url)):
            urls.append(url)
    return urls


def _same_list(url: str, current: str) -> bool:
    """A numbered link is a page of this list when it stays in the same directory."""
    a, b = urlsplit(url), urlsplit(current)
    return a.netloc == b.netloc and a.path.rsplit("/", 1)[0] == b.path.rsplit("/", 1)[0]
