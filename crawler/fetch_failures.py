"""Nothing lost without a trace: every request of a portal that ends without a response to hand on is
a row of the catalog's `fetch_failures`, with a reason code (catalog.FETCH_FAILURE_REASONS) and a
detail, counted in the portal's errors and listed in `nianbao refresh`'s summary.

`FetchFailureRecorder` (an extension) writes the rows. It hears of a failure two ways: the spider's
errback hands it every failure that reached it (`note_failure`), and Scrapy's ``request_dropped``
signal tells it of a redirect that led back to an address of its own chain (a loop the duplicate
filter would otherwise end without a word).
"""

from __future__ import annotations

import logging
import zlib
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
    StopDownload,
)
from scrapy.http import Request
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import defer, error
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from crawler import resolver
from crawler.addresses import normalise_host
from crawler.deadlines import SLOW_BODY_META
from crawler.middlewares import PrivateAddressRefused
from crawler.pipelines import catalog_path
from crawler.retry import TIMEOUT_EXCEPTIONS

logger = logging.getLogger(__name__)

# what the request was for, by the spider callback that would have read it
KINDS = {"parse_report": "report", "parse_attachment": "attachment", "parse_list": "list_page",
         "parse_entry": "entry"}
# reasons that are a portal's own choice rather than an error of the fetch
NOT_ERRORS = ("robots",)
_BROWSER_ERRORS = (
    ("ERR_BLOCKED_BY_CLIENT", "address_refused"), ("ERR_NAME_NOT_RESOLVED", "dns"),
    ("ERR_NAME_RESOLUTION_FAILED", "dns"), ("ERR_TOO_MANY_REDIRECTS", "too_many_redirects"),
    ("ERR_CERT", "tls"), ("ERR_SSL", "tls"), ("ERR_TIMED_OUT", "timeout"), ("Timeout", "timeout"),
    ("ERR_CONNECTION", "connection"), ("ERR_EMPTY_RESPONSE", "connection"), ("ERR_ADDRESS", "connection"),
)
SUMMARY_URLS = 50


def _tls(reasons: list[Failure]) -> bool:
    return any("SSL" in type(r.value).__module__ + type(r.value).__name__ or "tls" in repr(r.value).lower()
               for r in reasons)


def _causes(exc: BaseException) -> list[BaseException]:
    """`exc` and the exceptions it was raised from (Scrapy wraps Twisted's), nearest first."""
    chain = [exc]
    while chain[-1].__cause__ is not None and len(chain) < 5:
        chain.append(chain[-1].__cause__)
    return chain


def classify(failure: Failure, request: Request, max_redirects: int = 20) -> tuple[str, str] | None:
    """The reason code and detail of a request's failure, or None for a drop that is not a loss
    (a portal marked blocked: its diagnosis says so)."""
    value = failure.value
    message = str(value) or type(value).__name__
    redirects = request.meta.get("redirect_urls") or []
    if isinstance(value, PrivateAddressRefused):
        return "address_refused", message
    if isinstance(value, HttpError):
        return "http_status", f"HTTP {value.response.status}"
    if isinstance(value, StopDownload):
        return ("timeout", request.meta[SLOW_BODY_META]) if request.meta.get(SLOW_BODY_META) else ("other", message)
    if isinstance(value, IgnoreRequest):
        if "robots.txt" in message:
            return "robots", message
        if "is blocked" in message:
            return None
        if "max redirections" in message or request.meta.get("redirect_times", 0) >= max_redirects:
            if request.url in redirects:
                return "redirect_loop", f"{request.url} redirects back to itself after {len(redirects)} hops"
            return "too_many_redirects", f"more than {max_redirects} redirects: {' -> '.join(redirects[:3])} …"
        if "larger than" in message or "max size" in message.lower():
            return "size_cap", message
        if "decod" in message.lower():
            return "decode_error", message
        return "other", message
    chain = _causes(value)
    if any(isinstance(e, (CannotResolveHostError, error.DNSLookupError)) for e in chain):
        host = urlsplit(request.url).hostname or ""
        refused = resolver.REFUSED.get(host) or resolver.REFUSED.get(normalise_host(host))
        return ("address_refused", refused) if refused else ("dns", message)
    if any(isinstance(e, (DownloadTimeoutError, *TIMEOUT_EXCEPTIONS)) for e in chain):
        return "timeout", message
    if any(isinstance(e, (DownloadCancelledError, defer.CancelledError)) for e in chain):
        return ("size_cap" if "larger than" in message or "maxsize" in message else "other"), message
    if isinstance(value, ResponseDataLossError):
        return "truncated", message
    for e in chain:
        if isinstance(e, (ResponseFailed, ResponseNeverReceived)):
            reasons = getattr(e, "reasons", [])
            detail = "; ".join(str(r.value) or type(r.value).__name__ for r in reasons) or message
            return ("tls" if _tls(reasons) else "connection"), detail
    if any(isinstance(e, (DownloadConnectionRefusedError, DownloadFailedError, error.ConnectError,
                          error.ConnectionLost, error.ConnectionDone)) for e in chain):
        return "connection", message
    if any("SSL" in type(e).__module__ + type(e).__name__ for e in chain):
        return "tls", message
    if isinstance(value, zlib.error) or any(w in message.lower() for w in ("decompress", "not a gzipped", "brotli")):
        return "decode_error", f"{type(value).__name__}: {message}"[:500]
    if type(value).__module__.startswith("playwright"):
        for marker, reason in _BROWSER_ERRORS:
            if marker in message:
                return reason, message.splitlines()[0][:500]
    return "other", f"{type(value).__name__}: {message}"[:500]


def kind_of(request: Request) -> str:
    """What the failed request was for (report, attachment, list_page, entry), from its callback."""
    if request.meta.get("robots_txt"):  # crawler/robots.py
        return "robots_txt"
    return KINDS.get(getattr(request.callback, "__name__", ""), "page")


def note_failure(crawler, failure: Failure) -> None:  # noqa: ANN001 - a Scrapy Crawler
    """Record `failure` (from a spider errback) if the crawl records fetch failures."""
    recorder = getattr(crawler, "fetch_failures", None)
    if recorder is not None:
        recorder.failed(failure.request, failure)


class FetchFailureRecorder:
    """Write each failed request of a portal to `fetch_failures` and count it in the portal's errors."""

    def __init__(self, crawler):  # noqa: ANN001
        self.crawler = crawler
        self.max_redirects = crawler.settings.getint("REDIRECT_MAX_TIMES", 20)
        self.db = None

    @classmethod
    def from_crawler(cls, crawler):  # noqa: ANN001, ANN206 - Scrapy's extension protocol
        recorder = cls(crawler)
        crawler.fetch_failures = recorder
        crawler.signals.connect(recorder.request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    def failed(self, request: Request, failure: Failure) -> None:
        """A request of a portal ended in `failure`: record why (and count it unless the errback did)."""
        blocked = getattr(self.crawler.spider, "blocked_portals", None) or ()
        if failure.check(IgnoreRequest) and not failure.check(HttpError) and request.meta.get("portal_id") in blocked:
            return  # an anti-bot answer, or a request dropped after one: the portal's diagnosis says so
        if getattr(failure.value, "fetch_failure_recorded", False):
            return  # the component that refused the response wrote its row and counted it
        verdict = classify(failure, request, self.max_redirects)
        if verdict is None:
            return
        # the errback counts every other failure in the portal's errors; IgnoreRequest it leaves to us
        counted_elsewhere = not failure.check(IgnoreRequest) or failure.check(HttpError)
        self.record(request, *verdict, count=not counted_elsewhere)

    def request_dropped(self, request: Request, spider) -> None:  # noqa: ANN001
        """A redirect the duplicate filter dropped because its chain had already been at that address."""
        chain = request.meta.get("redirect_urls") or []
        if request.url in chain:
            self.record(request, "redirect_loop", f"{request.url} redirects back into its own chain "
                        f"({' -> '.join(chain[:5])})", count=True)

    def record(self, request: Request, reason: str, detail: str, count: bool) -> None:
        """One fetch_failures row for `request`, its log line and its counters."""
        portal_id = request.meta.get("portal_id")
        if not portal_id:
            return
        stats = self.crawler.stats
        stats.inc_value(f"fetch_failures/{reason}")
        stats.inc_value(f"portal/{portal_id}/fetch_failures")
        if count and reason not in NOT_ERRORS:
            stats.inc_value(f"portal/{portal_id}/errors")
        url = (request.meta.get("redirect_urls") or [request.url])[0]
        logger.info("fetch failure (%s) of %s %s, portal %s: %s", reason, kind_of(request), url, portal_id, detail)
        try:
            if self.db is None:
                from catalog import open_catalog

                self.db = open_catalog(catalog_path(self.crawler.settings))
            from catalog import record_fetch_failure

            record_fetch_failure(self.db, {
                "crawl_id": getattr(self.crawler.spider, "crawl_id", None), "portal_id": portal_id, "url": url,
                "referer": request.meta.get("referer_url"), "kind": kind_of(request), "reason": reason,
                "detail": detail if url == request.url else f"{detail} (at {request.url})",
            })
        except Exception as exc:  # the crawl goes on; the log line above is the trace
            logger.error("%s: cannot record the fetch failure of %s: %s", catalog_path(self.crawler.settings),
                         url, exc)

    def spider_closed(self, spider, reason: str) -> None:  # noqa: ANN001
        if self.db is not None:
            self.db.close()
            self.db = None


def fetch_failure_summary(db, since: str) -> dict:  # noqa: ANN001 - a sqlite_utils Database
    """Fetch failures recorded since `since` (ISO): total, per reason, and the first SUMMARY_URLS of them."""
    rows = db.execute("select reason, count(*) from fetch_failures where at >= ? group by reason order by reason",
                      [since]).fetchall()
    urls = [{"portal_id": p, "url": u, "kind": k, "reason": r, "detail": d} for p, u, k, r, d in db.execute(
        "select portal_id, url, kind, reason, detail from fetch_failures where at >= ? order by id limit ?",
        [since, SUMMARY_URLS])]
    return {"total": sum(n for _, n in rows), "by_reason": dict(rows), "failures": urls}
