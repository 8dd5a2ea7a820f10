"""Content decoding with a trace: Scrapy's HttpCompressionMiddleware, recording what it refuses.

Scrapy (≥ 2.11) already caps decompression at DOWNLOAD_MAXSIZE of *decoded* bytes (`download_maxsize`
in the request's meta), streamed in chunks, so a gzip bomb of 2 MB on the wire never inflates past
the cap; but it drops such a response with an IgnoreRequest and a log line only. This subclass keeps
the cap and records the URL in the catalog's `fetch_failures` (reason `size_cap`, or `decode_error`
for a body whose coding is broken) and counts it among its portal's errors, so a bomb-encoded report
does not vanish without a trace.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

logger = logging.getLogger(__name__)


class RecordedHttpCompressionMiddleware(HttpCompressionMiddleware):
    """HttpCompressionMiddleware (order 590) that records each response it refuses in fetch_failures."""

    def __init__(self, stats: Any = None, *, crawler: Any = None) -> None:
        super().__init__(stats=stats, crawler=crawler)
        self.crawler = crawler
        self.db: Any = None

    def _catalog(self) -> Any:
        if self.db is None and self.crawler is not None:
            from catalog import open_catalog

            self.db = open_catalog(Path(self.crawler.settings.get("DATA_DIR", "data")) / "catalog.db")
        return self.db

    def process_response(self, request: Request, response: Response) -> Response:
        try:
            return super().process_response(request, response)
        except IgnoreRequest as exc:
            self._record(request, "size_cap", str(exc))
            exc.fetch_failure_recorded = True  # the errback's recorder must not write a second row
            raise
        except Exception as exc:  # a broken coding: the response cannot be used either
            self._record(request, "decode_error", f"{type(exc).__name__}: {exc}")
            refused = IgnoreRequest(f"{request.url}: cannot decode the body: {exc}")
            refused.fetch_failure_recorded = True
            raise refused from exc

    def _record(self, request: Request, reason: str, detail: str) -> None:
        portal_id = request.meta.get("portal_id")
        if self.crawler is not None:
            self.crawler.stats.inc_value(f"fetch_failures/{reason}")
            if portal_id:
                self.crawler.stats.inc_value(f"portal/{portal_id}/errors")
        try:
            from catalog import record_fetch_failure

            record_fetch_failure(self._catalog(), {
                "crawl_id": self.crawler.stats.get_value("nianbao/crawl_id") if self.crawler else None,
                "portal_id": portal_id, "url": request.url, "referer": request.meta.get("referer_url"),
                "kind": request.meta.get("kind") or request.meta.get("document_kind"), "reason": reason,
                "detail": detail[:2000],
            })
        except Exception as exc:  # the log line below still names the URL
            logger.error("%s: cannot record the fetch failure in the catalog: %s", request.url, exc)
        logger.warning("%s: %s, not kept as a document (portal %s): %s", request.url, reason, portal_id, detail)
