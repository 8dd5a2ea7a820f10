"""TRS (拓尔思) WCM sites: static lists published as index.html, index_1.html … whose pager is
written by a `createPageHTML(countPage, currentPage, "index", "html")` script (some sites name it
`createPage`, with the same arguments)."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from scrapy.http import Response

from crawler.adapters import ListAdapter, register
from crawler.adapters.base import Entry, PageRequest, iso_date, link_entries, next_links

_CALL = re.compile(r"createPage(?:HTML)?\s*\(([^)]*)\)")
# TRS names each document by its date: ./201709/t20170929_396862.html
_URL_DATE = re.compile(r"/t((?:19|20)\d{2})(\d{2})(\d{2})_\d+\.s?html?$")
_MAX_PAGES = 500


def pager_args(text: str) -> tuple[int, str, str] | None:
    """(page count, file prefix, suffix) from the page's createPageHTML call.

    Both argument orders seen in the wild are accepted: (count, current, "index", "html") and
    ("pageDiv", count, current, "index", "html", perPage).
    """
    for match in _CALL.finditer(text):
        args = [_resolve(a.strip(), text) for a in match.group(1).split(",")]
        numbers = [int(a) for a in args if a.isdigit()]
        words = [a for a in args if a and not a.isdigit()]
        suffixes = [i for i, w in enumerate(words) if w.lower() in ("html", "htm", "shtml", "jsp")]
        if not numbers or not suffixes or suffixes[-1] == 0:
            continue
        position = suffixes[-1]
        return min(numbers[0], _MAX_PAGES), words[position - 1], words[position]
    return None


def _resolve(arg: str, text: str) -> str:
    """An argument's value: a literal as is, a variable (``countPage``) by its assignment in the page."""
    if arg[:1] in "'\"":
        return arg.strip("'\"")
    if re.fullmatch(r"[A-Za-z_$][\w$]*", arg):
        assigned = re.search(rf"\b{re.escape(arg)}\s*=\s*['\"]?(\d+)", text)
        if assigned:
            return assigned.group(1)
    return arg


@register
class TrsAdapter(ListAdapter):
    name = "trs"
    priority = 20

    def matches(self, response: Response) -> bool:
        text = response.text
        # `createPage(` alone is too common a name to trust without a TRS-shaped call
        return "createPageHTML" in text or ("createPage(" in text and pager_args(text) is not None)

    def entries(self, response: Response) -> list[Entry]:
        entries = link_entries(response.selector, response.url)
        for entry in entries:
            # a list row printing only 09-29: the year is in the document's own name
            if entry.published is None and (match := _URL_DATE.search(entry.url)):
                entry.published = iso_date("-".join(match.groups()))
        return entries

    def next_pages(self, response: Response) -> list[PageRequest]:
        args = pager_args(response.text)
        if args is None:
            return [PageRequest(url) for url in next_links(response)]
        count, prefix, suffix = args
        pages = [f"{prefix}.{suffix}"] + [f"{prefix}_{n}.{suffix}" for n in range(1, count)]
        return [PageRequest(urljoin(response.url, page)) for page in pages]
