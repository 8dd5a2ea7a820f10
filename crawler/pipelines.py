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

        try:
            record_document(self.db, dict(item))
            self.crawler.stats.inc_value(f"catalog/documents/{item.get('kind')}")
        except Exception as exc:  # one bad document never stops the crawl
            self.crawler.stats.inc_value("catalog/errors")
            logger.error("%s: cannot record document in the catalog: %s", item.get("url"), exc)
        return item
