"""Item pipelines: every DocumentItem goes into the catalog (catalog.record_documents)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from crawler.items import DocumentItem

logger = logging.getLogger(__name__)


def catalog_path(settings) -> Path:
    """DATA_DIR/catalog.db, the directory created if needed."""
    from nianbao.config import ensure_layout

    return ensure_layout(Path(settings.get("DATA_DIR", "data"))) / "catalog.db"


class CatalogPipeline:
    """Record each document in the catalog; a document that cannot be recorded is logged and skipped.

    Documents are written per batch (CATALOG_BATCH_ROWS documents or CATALOG_BATCH_SECONDS, whichever
    comes first, and when the spider closes), one transaction each: a transaction per document cost a
    crawl more than parsing the page. A SIGKILL loses at most the batch, and never what the WARC holds:
    each document's `metadata` record is written as it is scraped, and the restart lists the documents
    of the files it repairs (archive.capture.ExchangeArchive.reconcile).
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.db = None
        settings = crawler.settings
        self.batch_rows = max(1, settings.getint("CATALOG_BATCH_ROWS", 200))
        self.batch_seconds = settings.getfloat("CATALOG_BATCH_SECONDS", 1.0)
        self._pending: list[dict] = []
        self._flushed_at = time.monotonic()
        self._timer = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self, spider=None) -> None:
        from catalog import open_catalog

        self.db = open_catalog(catalog_path(self.crawler.settings))
        if self.batch_seconds > 0:
            from twisted.internet import task

            # documents queued while the crawl waits on slow portals still reach the catalog in time
            self._timer = task.LoopingCall(self.flush)
            self._timer.start(self.batch_seconds, now=False)

    def close_spider(self, spider=None) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        if self.db is not None:
            self.flush()
            self.db.close()
            self.db = None

    def process_item(self, item: DocumentItem, spider=None) -> DocumentItem:
        if self._truncated(item):
            return item
        self._pending.append(dict(item))
        if len(self._pending) >= self.batch_rows or time.monotonic() - self._flushed_at >= self.batch_seconds:
            self.flush()
        return item

    def flush(self) -> None:
        """Write the queued documents now, in one transaction (one by one if that fails)."""
        from catalog import record_documents

        self._flushed_at = time.monotonic()
        if not self._pending or self.db is None:
            return
        pending, self._pending = self._pending, []
        try:
            record_documents(self.db, pending)
            recorded = pending
        except Exception:  # one bad document never stops the crawl, nor loses the others of its batch
            recorded = [item for item in pending if self._record_alone(item)]
        for item in recorded:
            self.crawler.stats.inc_value(f"catalog/documents/{item.get('kind')}")

    def _record_alone(self, item: dict) -> bool:
        from catalog import record_documents

        try:
            record_documents(self.db, [item])
            return True
        except Exception as exc:
            self.crawler.stats.inc_value("catalog/errors")
            logger.error("%s: cannot record document in the catalog: %s", item.get("url"), exc)
            return False

    def _truncated(self, item: DocumentItem) -> bool:
        """A document whose body the size cap cut: a fetch failure (`size_cap`), never a document.

        Its prefix is no document: parsed, it would give a wrong report, and two different files
        with the same first DOWNLOAD_MAXSIZE bytes would pass for one. (A body that ended with the
        connection, without a Content-Length, is WARC-Truncated `disconnect` but usually whole: it
        stays a document, and the parser stage names a failure to read it as truncated input.)
        """
        # the capture middleware says so on the item: its catalog rows may still wait in a batch
        if item.get("truncated") != "length":
            return False
        record_id = item.get("warc_record_id")
        crawl_id = self.crawler.stats.get_value("nianbao/crawl_id")
        from catalog import record_fetch_failure

        portal_id = item.get("portal_id")
        self.crawler.stats.inc_value("catalog/truncated_documents")
        if portal_id:
            self.crawler.stats.inc_value(f"portal/{portal_id}/errors")
        detail = (f"the body was cut at the size cap DOWNLOAD_MAXSIZE (WARC-Truncated: length, record "
                  f"{record_id}); not kept as a document")
        try:
            record_fetch_failure(self.db, {"crawl_id": crawl_id, "portal_id": portal_id, "url": item.get("url"),
                                           "referer": item.get("referer"), "kind": item.get("kind"),
                                           "reason": "size_cap", "detail": detail})
        except Exception as exc:
            logger.error("%s: cannot record the fetch failure in the catalog: %s", item.get("url"), exc)
        logger.warning("%s: %s (portal %s)", item.get("url"), detail, portal_id)
        return True
