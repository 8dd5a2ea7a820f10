"""Lists that exist only after JavaScript runs: the served HTML holds an empty container and a
script that fetches and inserts the items. Such pages are rendered in a browser (scrapy-playwright);
the rendered DOM is then read like a static list."""

from __future__ import annotations

import re

from scrapy.http import Response

from crawler.adapters import ListAdapter, register
from crawler.adapters.base import Entry, PageRequest, link_entries, next_links

# script that builds a list: fetches data and writes DOM
_FETCHES = re.compile(r"\bfetch\s*\(|XMLHttpRequest|\$\.(ajax|get|getJSON|post)\s*\(|axios\.|new\s+Vue|createApp\s*\(")
_WRITES = re.compile(r"innerHTML|appendChild|insertAdjacentHTML|\.append\s*\(|createElement\s*\(|v-for=|\.html\s*\(")
# "load more" buttons clicked in the browser until they disappear
LOAD_MORE_TEXTS = ("加载更多", "查看更多", "点击加载更多", "更多", "load more")


def builds_list_by_script(text: str) -> bool:
    """True when inline or linked script looks like it fetches and inserts list items."""
    scripts = " ".join(re.findall(r"<script\b[^>]*>(.*?)</script>", text, flags=re.S | re.I))
    return bool(_FETCHES.search(scripts) and _WRITES.search(scripts))


@register
class JsRenderedAdapter(ListAdapter):
    name = "js"
    priority = 50

    def matches(self, response: Response) -> bool:
        rendered = bool(response.meta.get("playwright"))
        return rendered or builds_list_by_script(response.text)

    def entries(self, response: Response) -> list[Entry]:
        return link_entries(response.selector, response.url)

    def next_pages(self, response: Response) -> list[PageRequest]:
        browser = bool(response.meta.get("playwright"))
        return [PageRequest(url, browser=browser) for url in next_links(response)]

    def needs_browser(self, response: Response, entries: list[Entry]) -> bool:
        return not response.meta.get("playwright") and builds_list_by_script(response.text)


def script_builds_list(script: str) -> bool:
    """True when the text of one script (a linked .js file) fetches data and inserts list items."""
    return bool(_FETCHES.search(script) and _WRITES.search(script))
