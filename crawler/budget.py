"""Per-portal crawl budgets: pages, bytes and wall time.

No portal may hold the crawl for long, whatever it serves (a column of 100,000 report-titled
links, endless pagination, huge attachments). Each portal gets

    PORTAL_BUDGET_PAGES    requests sent for the portal (pages, list data, reports, attachments)
    PORTAL_BUDGET_BYTES    bytes of response bodies received (as decoded)
    PORTAL_BUDGET_SECONDS  wall time from the portal's first request

(0 switches a budget off). Once one is spent, the spider stops scheduling the portal's requests,
`PortalBudgetMiddleware` drops those still in the scheduler as they enter the downloader, and
`BudgetedDownloader` drops those already waiting in the downloader's per-host queue (up to
CONCURRENT_REQUESTS of them) when their turn to be sent comes: after the time or bytes budget runs out
only the requests already on the wire (CONCURRENT_REQUESTS_PER_DOMAIN per host) still complete. The
pages budget is counted as requests enter the downloader, so nothing past it is ever queued. What was
hit, and how much was left undone, goes into the portal's diagnosis.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from scrapy import Request
from scrapy.core.downloader import Slot
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from crawler.downloader import PoliteDownloader

logger = logging.getLogger(__name__)

# a real 年报 column: ≤ 20 years of reports of one body, or a city's column of every department
# (~1000 reports with their detail pages and attachments), fetched politely
DEFAULT_PAGES = 3000
DEFAULT_BYTES = 1024 * 1024 * 1024
DEFAULT_SECONDS = 1800


@dataclass
class PortalUsage:
    """What one portal has used so far, and the budget it hit (if any)."""

    requests: int = 0
    scheduled: int = 0
    bytes: int = 0
    started: float | None = None
    hit: str | None = None
    dropped: int = 0
    not_scheduled: int = 0
    extra: dict = field(default_factory=dict)


class PortalBudgets:
    """The budgets of every portal of a crawl, shared by the spider and the middleware."""

    def __init__(self, pages: int = DEFAULT_PAGES, bytes_: int = DEFAULT_BYTES, seconds: float = DEFAULT_SECONDS,
                 clock=time.monotonic):
        self.pages = pages
        self.bytes = bytes_
        self.seconds = seconds
        self.clock = clock
        self.usage: dict[str, PortalUsage] = {}

    @classmethod
    def from_settings(cls, settings) -> PortalBudgets:
        return cls(settings.getint("PORTAL_BUDGET_PAGES", DEFAULT_PAGES),
                   settings.getint("PORTAL_BUDGET_BYTES", DEFAULT_BYTES),
                   settings.getfloat("PORTAL_BUDGET_SECONDS", DEFAULT_SECONDS))

    def of(self, portal_id: str) -> PortalUsage:
        return self.usage.setdefault(portal_id, PortalUsage())

    def spent(self, portal_id: str) -> str | None:
        """Which budget of the portal is spent (a sentence), or None."""
        usage = self.of(portal_id)
        if usage.hit:
            return usage.hit
        if self.pages and usage.requests >= self.pages:
            usage.hit = f"pages budget of {self.pages} requests spent"
        elif self.bytes and usage.bytes >= self.bytes:
            usage.hit = f"bytes budget of {self.bytes} bytes spent"
        elif self.seconds and usage.started is not None and self.clock() - usage.started >= self.seconds:
            usage.hit = f"time budget of {self.seconds:g} s spent"
        if usage.hit:
            logger.warning("portal %s: %s; its further requests are dropped", portal_id, usage.hit)
        return usage.hit

    def spent_while_queued(self, portal_id: str) -> str | None:
        """The bytes or time budget, if spent: a request that waited in the downloader's queue is then
        not sent. (A queued request was counted against the pages budget when it entered: within it.)"""
        usage = self.of(portal_id)
        if self.bytes and usage.bytes >= self.bytes:
            hit = f"bytes budget of {self.bytes} bytes spent"
        elif self.seconds and usage.started is not None and self.clock() - usage.started >= self.seconds:
            hit = f"time budget of {self.seconds:g} s spent"
        else:
            return None
        if not usage.hit:
            usage.hit = hit
            logger.warning("portal %s: %s; its further requests are dropped", portal_id, hit)
        return hit

    def may_schedule(self, portal_id: str) -> bool:
        """Whether the spider should still schedule requests for the portal (counts the one it asks for)."""
        usage = self.of(portal_id)
        if self.spent(portal_id) or (self.pages and usage.scheduled >= self.pages):
            usage.not_scheduled += 1
            return False
        usage.scheduled += 1
        return True

    def exhausted(self, portal_id: str) -> bool:
        """True once the portal may schedule nothing more (a budget spent, or every page scheduled)."""
        usage = self.of(portal_id)
        return bool(self.spent(portal_id) or (self.pages and usage.scheduled >= self.pages))

    def report(self, portal_id: str) -> dict | None:
        """The budget part of a diagnosis: None when no budget was hit."""
        usage = self.usage.get(portal_id)
        if usage is None or not (usage.hit or usage.not_scheduled):
            return None
        return {
            "hit": usage.hit or f"pages budget of {self.pages} requests: no more requests scheduled",
            "requests": usage.requests, "bytes": usage.bytes,
            "seconds": round(self.clock() - usage.started, 1) if usage.started is not None else 0,
            "dropped_requests": usage.dropped, "links_not_followed": usage.not_scheduled,  # links or list items
            "limits": {"pages": self.pages, "bytes": self.bytes, "seconds": self.seconds},
        }


class PortalBudgetMiddleware:
    """Downloader middleware: count each portal's requests and bytes; drop requests past its budget."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _budgets(self) -> PortalBudgets | None:
        budgets = getattr(self.crawler.spider, "budgets", None)
        return budgets if isinstance(budgets, PortalBudgets) else None

    def process_request(self, request: Request):
        budgets = self._budgets()
        portal_id = request.meta.get("portal_id")
        # robots.txt is the host's, fetched once for every portal on it (crawler/robots.py): never dropped,
        # or Scrapy would read the host as allowing everything for the whole crawl
        if budgets is None or not portal_id or request.meta.get("robots_txt"):
            return None
        usage = budgets.of(portal_id)
        if usage.started is None:
            usage.started = budgets.clock()
        hit = budgets.spent(portal_id)
        if hit:
            usage.dropped += 1
            self.crawler.stats.inc_value(f"portal/{portal_id}/budget_dropped")
            raise IgnoreRequest(f"{request.url}: portal {portal_id} {hit}")
        usage.requests += 1
        return None

    def process_response(self, request: Request, response: Response):
        budgets = self._budgets()
        portal_id = request.meta.get("portal_id")
        if budgets is not None and portal_id and not request.meta.get("robots_txt"):
            budgets.of(portal_id).bytes += len(response.body)
        return response


class BudgetedDownloader(PoliteDownloader):
    """The downloader (DOWNLOADER), checking a request's portal budget once more when it leaves the per-host
    queue to be sent: a portal whose time or bytes ran out while the request waited sends it no more."""

    async def _download(self, slot: Slot, request: Request) -> Response:
        budgets = getattr(self.crawler.spider, "budgets", None)
        portal_id = None if request.meta.get("robots_txt") else request.meta.get("portal_id")
        hit = budgets.spent_while_queued(portal_id) if isinstance(budgets, PortalBudgets) and portal_id else None
        if hit:
            # it held a transfer place from its scheduling on (PoliteDownloader): give it back, wake the queue
            slot.transferring.discard(request)
            self._process_queue(slot)
            usage = budgets.of(portal_id)
            usage.requests -= 1  # counted as it entered, never sent
            usage.dropped += 1
            self.crawler.stats.inc_value(f"portal/{portal_id}/budget_dropped")
            raise IgnoreRequest(f"{request.url}: portal {portal_id} {hit}")
        return await super()._download(slot, request)
