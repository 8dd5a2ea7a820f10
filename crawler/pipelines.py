"""Item pipelines: every DocumentItem goes into the catalog (catalog.record_document)."""

from __future__ import annotations

import logging
from pathlib import Path

from crawler.items import DocumentItem

logger = logging.getLogger(__name__)


def catalog_path(settings) -> Path:
    """DATA_DIR/catalog.db, the directory created if needed."""
    from nianbao.config import ensure_layout

    return ensure_layout(Path(settings.get("DATA_DIR", "data"))) / "catalog.db"


class CatalogPipeline:
    """Record each document in the catalog; a document that cannot be recorded is logged and skipped."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.db = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self, spider=None) -> None:
        from catalog import open_catalog

        self.db = open_catalog(catalog_path(self.crawler.settings))

    def close_spider(self, spider=None) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None

    def process_item(self, item: DocumentItem, spider=None) -> DocumentItem:
        from catalog import record_document

        if self._truncated(item):
            return item
        try:
            record_document(self.db, dict(item))
            self.crawler.stats.inc_value(f"catalog/documents/{item.get('kind')}")
        except Exception as exc:  # one bad document never stops the crawl
            self.crawler.stats.inc_value("catalog/errors")
            logger.error("%s: cannot record document in the catalog: %s", item.get("url"), exc)
        return item

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
