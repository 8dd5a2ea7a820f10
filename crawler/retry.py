"""Retries that respect the server and the clock.

`RetryAfterMiddleware` replaces Scrapy's RetryMiddleware: a 429 or 503 with a ``Retry-After`` header
(seconds or an HTTP date) is retried no sooner than asked, capped at ``RETRY_AFTER_MAX`` seconds;
a timed-out request is retried at most ``TIMEOUT_RETRY_TIMES`` times, so a URL that never answers
costs at most (1 + TIMEOUT_RETRY_TIMES) × DOWNLOAD_TIMEOUT, not (1 + RETRY_TIMES) × DOWNLOAD_TIMEOUT.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import CannotResolveHostError, DownloadTimeoutError
from scrapy.http import Request, Response
from twisted.internet import defer, error

from crawler.resolver import REFUSED

logger = logging.getLogger(__name__)

RETRY_AFTER_CODES = (429, 503)
TIMEOUT_EXCEPTIONS = (DownloadTimeoutError, defer.TimeoutError, error.TimeoutError, error.TCPTimedOutError)


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """The wait a ``Retry-After`` value asks for, in seconds (≥ 0), or None when it is absent or unreadable."""
    if value is None:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware(RetryMiddleware):
    """Scrapy's retries, waiting as long as Retry-After asks (capped) and retrying timeouts less."""

    def __init__(self, settings):  # noqa: ANN001 - Scrapy settings
        super().__init__(settings)
        self.retry_after_max = settings.getfloat("RETRY_AFTER_MAX", 120.0)
        self.timeout_retry_times = settings.getint("TIMEOUT_RETRY_TIMES", 1)

    async def process_response(self, request: Request, response: Response, spider=None):  # noqa: ANN001
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        wait = None
        if response.status in RETRY_AFTER_CODES:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
        retry = self._retry(request, f"HTTP {response.status}")
        if retry is None:
            return response
        if wait:
            wait = min(wait, self.retry_after_max)
            self.crawler.stats.inc_value("retry/retry_after_waits")
            logger.info("%s: HTTP %s with Retry-After: retrying in %.0f s", request.url, response.status, wait)
            self._hold_host(request, wait)
            await asyncio.sleep(wait)
        return retry

    def _hold_host(self, request: Request, wait: float) -> None:
        """Keep the host's other requests back too: Retry-After speaks for the server, not the URL.

        Scrapy has no public call for this; its download slot waits until `lastseen + delay`, so
        moving `lastseen` on holds the slot (only where a download delay is set, as by default).
        """
        downloader = getattr(getattr(self.crawler, "engine", None), "downloader", None)
        try:
            slot = downloader.slots.get(downloader.get_slot_key(request))
            if slot is not None and slot.download_delay():
                slot.lastseen = max(slot.lastseen, time.monotonic() + wait - slot.download_delay())
        except AttributeError:
            return  # another Scrapy's downloader: the retried request still waits

    def process_exception(self, request: Request, exception: Exception, spider=None):  # noqa: ANN001
        if isinstance(exception, CannotResolveHostError) and urlsplit(request.url).hostname in REFUSED:
            return None  # refused by the address policy: asking again gets the same answer
        if isinstance(exception, TIMEOUT_EXCEPTIONS):
            limit = min(request.meta.get("max_retry_times", self.max_retry_times), self.timeout_retry_times)
            request.meta["max_retry_times"] = limit
        return super().process_exception(request, exception)
