"""robots.txt fetches belong to a portal: a robots.txt that cannot be read is the portal's failure.

Scrapy's RobotsTxtMiddleware asks for a host's robots.txt on its own (no callback, no meta of the
request that needed it), and when that fetch fails — a timeout, a refused connection, a 5xx — it
goes on as if robots.txt allowed everything, without a word to the portal. `RobotsTxtPortal`, a
downloader middleware placed just before the robots middleware, remembers which portal's request
first needed each host and gives the robots.txt request that portal's id (``portal_id``, and
``robots_txt`` to mark it). When that fetch fails, the failure is a `fetch_failures` row of the portal
(kind ``robots_txt``), and every portal that used that host has it noted in its diagnosis
(`PortalDiscovery.robots_txt`).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.http import Response
from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

ROBOTS_META = "robots_txt"
# a robots.txt answer that says nothing about the rules: Scrapy reads its body as if it were the rules
FAILED_STATUS = range(500, 600)


def is_robots_request(request: Request) -> bool:
    """A robots.txt request made by the robots middleware (not a page that happens to be robots.txt)."""
    return bool(request.meta.get("dont_obey_robotstxt")) and urlsplit(request.url).path == "/robots.txt"


class RobotsTxtPortal:
    """Give each robots.txt request the portal whose request needed it; record its failure for that portal.

    The robots.txt request is not the portal's page: budgets never drop it (crawler/budget.py), and a
    blocked portal does not lend it its id."""

    def __init__(self, crawler) -> None:  # noqa: ANN001 - a Scrapy Crawler
        self.crawler = crawler
        self.portals: dict[str, dict[str, None]] = {}  # netloc -> the portals whose requests used it, first first
        self.failed: dict[str, str] = {}          # netloc -> why its robots.txt could not be read

    @classmethod
    def from_crawler(cls, crawler):  # noqa: ANN001, ANN206 - Scrapy's middleware protocol
        return cls(crawler)

    def process_request(self, request: Request, spider=None):  # noqa: ANN001
        netloc = urlsplit(request.url).netloc
        if is_robots_request(request):
            blocked = getattr(self.crawler.spider, "blocked_portals", None) or ()
            users = [p for p in self.portals.get(netloc, ()) if p not in blocked]
            # a blocked portal's requests are dropped: the host's robots.txt is fetched for the others
            portal_id = request.meta.get("portal_id") or next(iter(users), None)
            if portal_id:
                request.meta["portal_id"] = portal_id
                request.meta[ROBOTS_META] = True
            return None
        portal_id = request.meta.get("portal_id")
        if portal_id:
            self.portals.setdefault(netloc, {})[portal_id] = None
            if netloc in self.failed:
                self._note(portal_id, self.failed[netloc])
        return None

    def process_response(self, request: Request, response: Response, spider=None):  # noqa: ANN001
        if request.meta.get(ROBOTS_META) and response.status in FAILED_STATUS:
            self._failed(request, "http_status", f"HTTP {response.status}")
        return response

    def process_exception(self, request: Request, exception: BaseException, spider=None):  # noqa: ANN001
        if request.meta.get(ROBOTS_META):
            from crawler.fetch_failures import classify

            verdict = classify(Failure(exception), request)
            if verdict is not None:
                self._failed(request, *verdict)
        return None

    def _failed(self, request: Request, reason: str, detail: str) -> None:
        netloc = urlsplit(request.url).netloc
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
