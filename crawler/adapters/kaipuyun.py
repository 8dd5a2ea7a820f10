"""开普云 (and other Sohu-CMS-derived) static columns: ``/c{id}/list.shtml`` whose pager is written by
``createPageHTML('page_div', 11, 1, 'list', 'shtml', 154)`` — container id, page count, *1-based* current
page, file prefix, suffix, record count — and whose further pages are ``list_2.shtml`` … ``list_11.shtml``
(the first page has no number; there is no ``list_1``). Details are ``/c{id}/{yyyymm}/{32 hex}.shtml`` (or
``/c{id}/c{n}/content.shtml``).

The TRS pager (``createPageHTML(count, current, "index", "html")``, 0-based, ``index_1.html`` second) is
`crawler.adapters.trs`; this module claims only the six-argument, container-first call. Observations and
their sources: docs/portal-families.md.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from scrapy.http import Response

from crawler.adapters import ListAdapter, register
from crawler.adapters.base import Entry, PageRequest, link_entries

_CALL = re.compile(
    r"""createPageHTML\s*\(\s*['"][\w-]+['"]\s*,\s*(?P<count>\d+)\s*,\s*(?P<current>\d+)\s*,\s*"""
    r"""['"](?P<prefix>[\w-]+)['"]\s*,\s*['"](?P<suffix>s?html?|jsp)['"]\s*,\s*(?P<total>\d+)\s*\)"""
)
_MAX_PAGES = 1000


def pager(text: str) -> dict | None:
    """{count, current, prefix, suffix, total} of the page's container-first createPageHTML call."""
    match = _CALL.search(text)
    if not match:
        return None
    return {"count": min(int(match.group("count")), _MAX_PAGES), "current": int(match.group("current")),
            "prefix": match.group("prefix"), "suffix": match.group("suffix"), "total": int(match.group("total"))}


def page_urls(page_url: str, config: dict) -> list[str]:
    """Every page of the list: ``prefix.suffix``, then ``prefix_2.suffix`` … ``prefix_{count}.suffix``.

    A first page that calls itself page 0 numbers the others from 1 instead (``prefix_1`` second).
    """
    prefix, suffix = config["prefix"], config["suffix"]
    first_page = page_url.rsplit("/", 1)[-1] in (f"{prefix}.{suffix}", "")
    numbers = range(1, config["count"]) if first_page and config["current"] == 0 else range(2, config["count"] + 1)
    names = [f"{prefix}.{suffix}"] + [f"{prefix}_{n}.{suffix}" for n in numbers]
    return [urljoin(page_url, name) for name in names]


@register
class KaipuyunAdapter(ListAdapter):
    name = "kaipuyun"
    priority = 18  # before the TRS adapter, which would read this call as 0-based

    def matches(self, response: Response) -> bool:
        return pager(getattr(response, "text", "")) is not None

    def entries(self, response: Response) -> list[Entry]:
        return link_entries(response.selector, response.url)

    def next_pages(self, response: Response) -> list[PageRequest]:
        config = pager(response.text)
        if config is None:
            return []
        return [PageRequest(url) for url in page_urls(response.url, config) if url != response.url]
