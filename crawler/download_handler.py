"""The http/https download handler: Scrapy's HTTP/1.1 client, and a browser only for requests that need one.

Most portals need no JavaScript. scrapy-playwright's handler is the http/https handler for every
request, so importing it (Playwright, its generated API, greenlet; about a quarter of a second of CPU
and some 30 MB) was paid by every crawl. Here the browser handler (`crawler.browser`) is imported and
built on the first request that carries `meta["playwright"]`, and everything else goes straight to
the HTTP/1.1 handler this class is.
"""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.http import Response


class HttpOrBrowserDownloadHandler(HTTP11DownloadHandler):
    """HTTP/1.1 for ordinary requests; `crawler.browser.LazyPlaywrightDownloadHandler` for rendered ones."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self._browser: Any = None
        self._browser_lock = asyncio.Lock()

    @property
    def browser(self) -> Any:
        """The browser handler, or None while no request of this crawl has needed one."""
        return self._browser

    async def download_request(self, request: Request) -> Response:
        if not request.meta.get("playwright"):
            return await super().download_request(request)
        if self._browser is None:
            async with self._browser_lock:
                if self._browser is None:
                    from crawler.browser import LazyPlaywrightDownloadHandler

                    self._browser = LazyPlaywrightDownloadHandler.from_crawler(self.crawler)
        return await self._browser.download_request(request)

    async def close(self) -> None:
        await super().close()
        if self._browser is not None:
            await self._browser.close()
