"""robots.txt: one downloader middleware that fetches each host's robots.txt once, for the portal that needed it.

`PortalRobotsTxtMiddleware` replaces Scrapy's RobotsTxtMiddleware (same place, 100). It obeys
robots.txt as Scrapy does (same parser, user agent, stats and `robots_parsed` signal), and adds:

- **the portal**: the robots.txt request carries the id of the portal whose request first needed the
  host (``portal_id``, and ``robots_txt`` to mark it; a blocked portal does not lend its id). When that
  fetch fails — a timeout, a refused connection, a 5xx — the crawl goes on as if robots.txt allowed
  everything, as Scrapy does, but the failure is a `fetch_failures` row of the portal (kind
  ``robots_txt``) and every portal that used the host has it noted in its diagnosis
  (`PortalDiscovery.robots_txt`). The fetch stays the host's: budgets neither count nor drop it, and a
  challenge page answering it does not block the portal (crawler/budget.py, crawler/middlewares.py);
- **the cluster** (distributed mode): a `SharedRobotsTxt` strategy is asked for a host's robots.txt
  before this worker fetches it and told what the fetch got (crawler.distributed.ClusterRobotsTxt:
  one fetch per host for all workers).

Scrapy internals relied on: only `RobotsTxtMiddleware.__init__` (NotConfigured unless ROBOTSTXT_OBEY,
the user agents), `process_request_2(parser, request)` (the allow check: stats, log, IgnoreRequest)
and `DOWNLOAD_PRIORITY`; none of them is documented API. The per-host cache, the fetch and the parsing
are this class's own (with Scrapy's public engine.download_async, ROBOTSTXT_PARSER and
`robots_parsed` signal), so Scrapy's private `_parsers` Deferred protocol is not used at all.
tests/test_robots_middleware.py fails if Scrapy changes what this rests on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from scrapy import Request, signals
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler, load_object
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

ROBOTS_META = "robots_txt"
# a robots.txt answer that says nothing about the rules: Scrapy reads its body as if it were the rules
FAILED_STATUS = range(500, 600)


@dataclass(frozen=True)
class RobotsTxtCopy:
    """A host's robots.txt as another fetcher got it: its body, or None when that fetch failed."""

    body: bytes | None


class SharedRobotsTxt(Protocol):
    """Where robots.txt fetched elsewhere comes from (crawler.distributed.ClusterRobotsTxt)."""

    async def before_fetch(self, netloc: str) -> RobotsTxtCopy | None:
        """The host's robots.txt fetched elsewhere, or None: this middleware fetches it."""

    def after_fetch(self, netloc: str, body: bytes | None) -> None:
        """What this middleware's fetch got: the body, or None when it failed."""


class _Fetching:
    """A host's robots.txt fetch under way: each request that needs it meanwhile waits on a Deferred of its own.

    One Deferred shared by all of them would not do: turned into an asyncio future it hands its result to
    the first waiter and None (allow everything) to the others.
    """

    def __init__(self) -> None:
        self.waiting: list[Deferred] = []

    def wait(self) -> Deferred:
        waiter: Deferred = Deferred()
        self.waiting.append(waiter)
        return waiter

    def done(self, parser: Any) -> None:
        for waiter in self.waiting:
            waiter.callback(parser)

    def failed(self) -> None:
        """Pass the exception being handled on to every waiter."""
        for waiter in self.waiting:
            waiter.errback()


class PortalRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, with each fetch the portal's and, when distributed, the cluster's."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)  # NotConfigured unless ROBOTSTXT_OBEY
        settings = crawler.settings
        self.parser_class = load_object(settings.get("ROBOTSTXT_PARSER"))
        # netloc -> its parser (None: allow everything), or the fetch under way
        self.hosts: dict[str, Any] = {}
        self.portals: dict[str, dict[str, None]] = {}  # netloc -> the portals whose requests used it, first first
        self.failed: dict[str, str] = {}               # netloc -> why its robots.txt could not be read
        from crawler.distributed import cluster_robots_txt  # crawler.distributed imports this module

        self.shared: SharedRobotsTxt | None = cluster_robots_txt(settings)

    async def process_request(self, request: Request) -> None:
        if not request.meta.get(ROBOTS_META):
            self._used_by(request)
        if request.meta.get("dont_obey_robotstxt") or request.url.startswith(("data:", "file:")):
            return
        self.process_request_2(await self.robot_parser(request), request)

    async def robot_parser(self, request: Request) -> Any:
        """The robots.txt parser of request's host (None: allow everything), fetched on its first request."""
        netloc = urlparse_cached(request).netloc
        if netloc in self.hosts:
            found = self.hosts[netloc]
            return await maybe_deferred_to_future(found.wait()) if isinstance(found, _Fetching) else found
        # Marked before anything is awaited: every later request of this worker waits for this one
        # fetch, and nothing (a copy from the cluster included) takes its place meanwhile.
        fetching = self.hosts[netloc] = _Fetching()
        try:
            parser = await self._obtain(request, netloc)
        except BaseException:
            del self.hosts[netloc]  # the next request asks again
            fetching.failed()
            raise
        self.hosts[netloc] = parser
        fetching.done(parser)
        return parser

    async def _obtain(self, request: Request, netloc: str) -> Any:
        if self.shared is not None:
            copy = await self.shared.before_fetch(netloc)
            if copy is not None:
                self.crawler.stats.inc_value("robotstxt/from_cluster")
                return None if copy.body is None else await self._parse(copy.body, request)
        parser, body = await self._fetch(request, netloc)
        if self.shared is not None:
            self.shared.after_fetch(netloc, body)
        return parser

    async def _fetch(self, request: Request, netloc: str) -> tuple[Any, bytes | None]:
        """Fetch netloc's robots.txt: its parser and the body it was built from (None, None: it failed)."""
        stats = self.crawler.stats
        url = urlparse_cached(request)
        meta: dict[str, Any] = {"dont_obey_robotstxt": True}
        portal_id = self._portal_for(netloc)
        if portal_id:
            meta |= {"portal_id": portal_id, ROBOTS_META: True}
        robots = Request(f"{url.scheme}://{netloc}/robots.txt", priority=self.DOWNLOAD_PRIORITY, meta=meta,
                         callback=NO_CALLBACK)
        parser = body = None
        try:
            response = await self.crawler.engine.download_async(robots)
            stats.inc_value("robotstxt/response_count")
            stats.inc_value(f"robotstxt/response_status_count/{response.status}")
            parser = await self._parse(response.body, request)
            body = response.body
        except Exception as exc:
            # the crawl goes on as if robots.txt allowed everything; a failure to read it was recorded
            # for its portal by process_response/process_exception
            if not isinstance(exc, IgnoreRequest):
                logger.error("Error downloading %s: %s", robots, exc, exc_info=True,
                             extra={"spider": self.crawler.spider})
                stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
        stats.inc_value("robotstxt/request_count")
        return parser, body

    async def _parse(self, body: bytes, request: Request) -> Any:
        parser = build_from_crawler(self.parser_class, self.crawler, body)
        await self.crawler.signals.send_catch_log_async(signal=signals.robots_parsed, robotparser=parser,
                                                        request=request)
        return parser

    # -- the portal of each robots.txt fetch

    def _used_by(self, request: Request) -> None:
        portal_id = request.meta.get("portal_id")
        if portal_id:
            netloc = urlparse_cached(request).netloc
            self.portals.setdefault(netloc, {})[portal_id] = None
            if netloc in self.failed:
                self._note(portal_id, self.failed[netloc])

    def _portal_for(self, netloc: str) -> str | None:
        # a blocked portal's requests are dropped (crawler/middlewares.py): the host's robots.txt is
        # fetched for the others
        blocked = getattr(self.crawler.spider, "blocked_portals", None) or ()
        return next((p for p in self.portals.get(netloc, ()) if p not in blocked), None)

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get(ROBOTS_META) and response.status in FAILED_STATUS:
            self._failed(request, "http_status", f"HTTP {response.status}")
        return response

    def process_exception(self, request: Request, exception: BaseException) -> None:
        if request.meta.get(ROBOTS_META):
            from crawler.fetch_failures import classify

            verdict = classify(Failure(exception), request)
            if verdict is not None:
                self._failed(request, *verdict)

    def _failed(self, request: Request, reason: str, detail: str) -> None:
        netloc = urlparse_cached(request).netloc
        why = f"{request.url} could not be read ({reason}: {detail}); crawled as if it allowed everything"
        self.failed[netloc] = why
        portal_id = request.meta["portal_id"]
        logger.warning("portal %s: %s", portal_id, why)
        self.crawler.stats.inc_value("robotstxt/failed")
        recorder = getattr(self.crawler, "fetch_failures", None)
        if recorder is not None:
            recorder.record(request, reason, f"robots.txt: {detail}", count=True)
        # every portal whose requests waited for this robots.txt (a city and its bureaux share a host)
        for portal in {portal_id, *self.portals.get(netloc, ())}:
            self._note(portal, why)

    def _note(self, portal_id: str, why: str) -> None:
        discovery = (getattr(self.crawler.spider, "discoveries", None) or {}).get(portal_id)
        if discovery is not None and why not in discovery.robots_txt:
            discovery.robots_txt.append(why)
