"""Per-port download slots, so portals served on different 127.0.0.1 ports are polite to each separately.

Scrapy keys its per-domain concurrency by hostname alone; every benchmark portal is on 127.0.0.1, so
without this all of them would share one slot. Real portals have their own host names and need nothing.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.utils.httpobj import urlparse_cached


def set_port_slot(request: Request) -> None:
    """The slot of a request is its host:port, unless one is already set."""
    parts = urlparse_cached(request)
    request.meta.setdefault("download_slot", f"{parts.hostname}:{parts.port or 80}")


class PortSlotMiddleware:
    """Downloader middleware: requests made outside the spider (robots.txt) get their port slot too."""

    def process_request(self, request: Request) -> None:
        set_port_slot(request)
        return None


class PortSlotSpiderMiddleware:
    """Spider middleware: the same slot on every request as the spider makes it, so that the scheduler's
    DownloaderAwarePriorityQueue (which picks the slot with the fewest downloads under way) tells the
    portals apart before the downloader middleware runs."""

    async def process_start(self, start):  # noqa: ANN001, ANN201 - Scrapy's start-requests iterator
        async for item_or_request in start:
            yield _with_port_slot(item_or_request)

    def process_spider_output(self, response, result):  # noqa: ANN001, ANN201 - Scrapy's interface
        for item_or_request in result:
            yield _with_port_slot(item_or_request)

    async def process_spider_output_async(self, response, result):  # noqa: ANN001, ANN201
        async for item_or_request in result:
            yield _with_port_slot(item_or_request)


def _with_port_slot(item_or_request):  # noqa: ANN001, ANN202 - an item or a Request
    if isinstance(item_or_request, Request):
        set_port_slot(item_or_request)
    return item_or_request
