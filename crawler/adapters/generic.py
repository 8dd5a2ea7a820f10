"""Generic and old sites: static HTML lists (often table layout, relative links, GBK), paged by
next-page links, numbered links or query strings (``?page=2``)."""

from __future__ import annotations

from scrapy.http import Response

from crawler.adapters import ListAdapter, register
from crawler.adapters.base import Entry, PageRequest, link_entries, next_links


@register
class GenericAdapter(ListAdapter):
    name = "generic"
    priority = 1000  # the fallback: matches any page

    def matches(self, response: Response) -> bool:
        return True

    def entries(self, response: Response) -> list[Entry]:
        return link_entries(response.selector, response.url)

    def next_pages(self, response: Response) -> list[PageRequest]:
        return [PageRequest(url) for url in next_links(response)]
