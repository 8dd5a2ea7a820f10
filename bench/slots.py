"""Per-port download slots, so portals served on different 127.0.0.1 ports are polite to each separately.

Scrapy keys its per-domain concurrency by hostname alone; every benchmark portal is on 127.0.0.1, so
without this all of them would share one slot. Real portals have their own host names and need nothing.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.utils.httpobj import urlparse_cached


class PortSlotMiddleware:
    """Downloader middleware: the slot of a request is its host:port unless one is already set."""

    def process_request(self, request: Request) -> None:
        parts = urlparse_cached(request)
        request.meta.setdefault("download_slot", f"{parts.hostname}:{parts.port or 80}")
        return None
