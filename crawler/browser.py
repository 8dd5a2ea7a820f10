"""The browser download handler, started only when a request needs a browser.

scrapy-playwright starts its Playwright driver (a Node.js process of ~120 MB) for every
scheme it handles as soon as the engine starts, even when no portal of the crawl needs
JavaScript. Most portals don't: this handler starts Playwright on the first request that
carries `meta["playwright"]`, and never otherwise.
"""

from __future__ import annotations

import asyncio

from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler


class LazyPlaywrightDownloadHandler(ScrapyPlaywrightDownloadHandler):
    """ScrapyPlaywrightDownloadHandler that launches Playwright on first use, not at engine start."""

    _launched = False

    def _engine_started(self):  # noqa: ANN202 - a Scrapy signal handler
        return None

    async def _maybe_launch_in_thread(self) -> None:
        return None

    async def _download_request(self, request, spider=None):  # noqa: ANN001, ANN202
        if not self._launched:
            lock = self.__dict__.setdefault("_lazy_launch_lock", asyncio.Lock())
            async with lock:
                if not self._launched:
                    await self._launch()  # already on the handler's loop
                    self._launched = True
        return await super()._download_request(request, spider)
