"""The browser download handler: started only when a request needs a browser, and held to the
address policy for every request the rendered page makes.

scrapy-playwright starts its Playwright driver (a Node.js process of ~120 MB) for every
scheme it handles as soon as the engine starts, even when no portal of the crawl needs
JavaScript. Most portals don't: this handler starts Playwright on the first request that
carries `meta["playwright"]`, and never otherwise.

A rendered page fetches on its own — frames, scripts, images, fetch/XHR, WebSockets — and none of
that passes through Scrapy's middlewares or resolver. So every request of the page goes through a
route handler that checks it against the portal's address policy (`crawler.addresses`: any spelling
of an address, every address a name resolves to) and aborts it before Chromium sends it. Chromium
follows redirects without consulting the routes, so the route walks each redirect chain itself
(`_CheckedRoute`). Service workers, which could fetch outside the page's routes, are blocked (settings.py).

A rendered page is one connection as far as politeness goes: the Scrapy request holds one of its
host's slots (CONCURRENT_REQUESTS_PER_DOMAIN, and the cluster's slot in distributed mode) for the whole
render, so the page's own requests are fetched one at a time under it, never side by side.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import time
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from crawler.addresses import AddressRefused
from crawler.resolver import policy_of

logger = logging.getLogger(__name__)

# the Scrapy request whose page is being set up (read when its route handler is made)
_SCRAPY_REQUEST: contextvars.ContextVar[Request | None] = contextvars.ContextVar("nianbao_scrapy_request",
                                                                                 default=None)
_REDIRECT_CODES = (301, 302, 303, 307, 308)
MAX_BROWSER_REDIRECTS = 20
_VERDICT_TTL = 60.0
_VERDICT_LIMIT = 4096


class _CheckedRoute:
    """A Playwright Route whose `continue_` walks the redirect chain itself, checking every hop.

    Chromium follows redirects without passing them to the route handler, so a page on an allowed
    host could redirect an image or a frame to a refused address. Here each hop is fetched with
    redirects off and its Location checked before the next; the page gets the final answer (the main
    document gets a redirect to the final, checked URL, so that its address is where it ended).
    """

    def __init__(self, route, check, timeout_ms: float):  # noqa: ANN001 - Playwright's Route, a coroutine
        self._route = route
        self._check = check
        self._timeout_ms = timeout_ms

    def __getattr__(self, name: str):  # noqa: ANN204 - everything else is the Route's own
        return getattr(self._route, name)

    async def continue_(self, **overrides) -> None:  # noqa: ANN003 - url, method, headers, post_data
        from playwright.async_api import Error as PlaywrightError

        request = self._route.request
        url = overrides.pop("url", None) or request.url
        method = overrides.get("method") or request.method
        try:
            response = await self._route.fetch(max_redirects=0, timeout=self._timeout_ms, **overrides)
            for _hop in range(MAX_BROWSER_REDIRECTS + 1):
                location = response.headers.get("location")
                if response.status not in _REDIRECT_CODES or not location:
                    break
                target = urljoin(url, location)
                refusal = await self._check(target)
                if refusal is not None:
                    await self._route.abort("blockedbyclient")
                    return
                if response.status in (301, 302, 303) and method != "HEAD":
                    method, overrides = "GET", {k: v for k, v in overrides.items() if k == "headers"}
                headers = {k: v for k, v in (overrides.get("headers") or request.headers).items()
                           if k.lower() not in ("host", "cookie", "content-length")}
                url = target
                response = await request.frame.page.context.request.fetch(
                    url, method=method, headers=headers, data=overrides.get("post_data"), max_redirects=0,
                    timeout=self._timeout_ms)
            else:
                await self._route.abort("failed")  # too many redirects
                return
        except PlaywrightError as exc:
            logger.debug("browser request %s failed: %s", request.url, exc)
            await self._route.abort("failed")
            return
        if url != request.url and request.is_navigation_request() and request.frame.parent_frame is None:
            await self._route.fulfill(status=302, headers={"Location": url})
            return
        await self._route.fulfill(response=response)


class LazyPlaywrightDownloadHandler(ScrapyPlaywrightDownloadHandler):
    """ScrapyPlaywrightDownloadHandler that launches Playwright on first use, not at engine start,
    and aborts every browser request the address policy refuses."""

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

    async def _download_request_with_retry(self, request, spider):  # noqa: ANN001, ANN202
        token = _SCRAPY_REQUEST.set(request)
        try:
            return await super()._download_request_with_retry(request, spider)
        finally:
            _SCRAPY_REQUEST.reset(token)

    def _make_request_handler(self, *args, **kwargs) -> Callable:  # noqa: ANN002, ANN003
        handler = super()._make_request_handler(*args, **kwargs)
        request = _SCRAPY_REQUEST.get()
        portal_id = request.meta.get("portal_id") if request is not None else None
        page_url = request.url if request is not None else None
        one_at_a_time = asyncio.Lock()

        async def check(url: str, resource_type: str) -> str | None:
            refusal = await self.address_refusal(url, portal_id)
            if refusal is not None:
                self.stats.inc_value("playwright/request_count/address_refused")
                self.stats.inc_value(f"portal/{portal_id}/private_refused")
                logger.warning("%s: browser request %s (%s) aborted: %s", page_url, url, resource_type, refusal)
            return refusal

        async def guarded(route, playwright_request) -> None:  # noqa: ANN001 - Playwright's Route/Request
            kind = playwright_request.resource_type
            if await check(playwright_request.url, kind) is None:
                redirect_check = functools.partial(check, resource_type=f"{kind}, redirected")
                async with one_at_a_time:
                    await handler(_CheckedRoute(route, redirect_check, self._fetch_timeout_ms()),
                                  playwright_request)
            else:
                await route.abort("blockedbyclient")

        return guarded

    def _fetch_timeout_ms(self) -> float:
        return float(self._crawler.settings.getfloat("DOWNLOAD_TIMEOUT", 60) * 1000)

    async def _create_page(self, request, spider):  # noqa: ANN001, ANN202
        page = await super()._create_page(request, spider)
        portal_id = request.meta.get("portal_id")

        async def websocket(ws) -> None:  # noqa: ANN001 - Playwright's WebSocketRoute
            refusal = await self.address_refusal(ws.url.replace("ws", "http", 1), portal_id)
            if refusal is None:
                ws.connect_to_server()
                return
            self.stats.inc_value(f"portal/{portal_id}/private_refused")
            logger.warning("%s: browser WebSocket %s refused: %s", request.url, ws.url, refusal)
            await ws.close(code=1008, reason="address refused")

        await page.route_web_socket("**", websocket)
        return page

    async def address_refusal(self, url: str, portal_id: str | None) -> str | None:
        """Why the browser may not fetch `url` for `portal_id`, or None when it may."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return f"scheme {parts.scheme or '(none)'!r} is not fetched"
        host = parts.hostname or ""
        key = (host, portal_id)
        verdicts = self.__dict__.setdefault("_address_verdicts", {})
        cached = verdicts.get(key)
        if cached is not None and time.monotonic() - cached[0] < _VERDICT_TTL:
            return cached[1]
        policy = policy_of(self._crawler)
        if policy is None:
            return None
        try:
            await asyncio.to_thread(policy.check, host, portal_id, parts.port)
            verdict = None
        except AddressRefused as exc:
            verdict = str(exc)
        except OSError:
            return None  # the name does not resolve: Chromium fails the request itself
        if len(verdicts) >= _VERDICT_LIMIT:
            verdicts.clear()
        verdicts[key] = (time.monotonic(), verdict)
        return verdict
