"""A deadline for slow bodies: a response that trickles is cut, not waited for.

Scrapy's ``DOWNLOAD_TIMEOUT`` bounds a whole exchange (connection, headers and body), so a server
that stalls costs at most that long. A server that keeps sending a few bytes a second would still
hold a request for the full timeout, on every retry. `SlowBodyGuard` stops a body that, after
``SLOW_BODY_GRACE`` seconds, has arrived at less than ``SLOW_BODY_MIN_RATE`` bytes a second; the
request fails (not retried) and is recorded as a timeout fetch failure (crawler.fetch_failures).
"""

from __future__ import annotations

import time

from scrapy import signals
from scrapy.exceptions import NotConfigured, StopDownload

_STARTED = "_nianbao_body_started"
_RECEIVED = "_nianbao_body_received"
SLOW_BODY_META = "slow_body"


class SlowBodyGuard:
    """Stop downloads whose body arrives slower than SLOW_BODY_MIN_RATE after SLOW_BODY_GRACE seconds."""

    def __init__(self, grace: float, min_rate: float):
        self.grace = grace
        self.min_rate = min_rate

    @classmethod
    def from_crawler(cls, crawler):  # noqa: ANN001, ANN206 - Scrapy's extension protocol
        min_rate = crawler.settings.getfloat("SLOW_BODY_MIN_RATE", 0)
        if min_rate <= 0:
            raise NotConfigured
        guard = cls(crawler.settings.getfloat("SLOW_BODY_GRACE", 15.0), min_rate)
        crawler.signals.connect(guard.headers_received, signal=signals.headers_received)
        crawler.signals.connect(guard.bytes_received, signal=signals.bytes_received)
        return guard

    def headers_received(self, headers, body_length, request, spider) -> None:  # noqa: ANN001
        request.meta[_STARTED] = time.monotonic()
        request.meta[_RECEIVED] = 0

    def bytes_received(self, data: bytes, request, spider) -> None:  # noqa: ANN001
        started = request.meta.get(_STARTED)
        if started is None:
            return
        received = request.meta[_RECEIVED] = request.meta.get(_RECEIVED, 0) + len(data)
        elapsed = time.monotonic() - started
        if elapsed > self.grace and received / elapsed < self.min_rate:
            request.meta[SLOW_BODY_META] = (f"body arrived at {received / elapsed:.0f} B/s over {elapsed:.0f} s "
                                            f"(SLOW_BODY_MIN_RATE {self.min_rate:.0f} B/s)")
            raise StopDownload(fail=True)
