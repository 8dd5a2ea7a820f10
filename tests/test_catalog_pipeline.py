"""The catalog pipeline writes documents per batch: all of them by the time the spider closes, one bad
document never costs the others of its batch, and the batch is bounded by rows and by time."""

from __future__ import annotations

import time
from pathlib import Path

from scrapy.utils.test import get_crawler

from catalog import open_catalog
from crawler.items import DocumentItem
from crawler.pipelines import CatalogPipeline


def _item(n: int, **extra) -> DocumentItem:
    return DocumentItem(url=f"http://127.0.0.1:9/doc{n}.html", portal_id="p", kind="report_page",
                        title=f"2023年政府信息公开工作年度报告 {n}", year=2023, sha256=f"{n:064x}", **extra)


def _pipeline(tmp_path: Path, **settings) -> CatalogPipeline:
    crawler = get_crawler(settings_dict={"DATA_DIR": str(tmp_path), **settings})
    crawler.stats.open_spider()
    pipeline = CatalogPipeline.from_crawler(crawler)
    pipeline.open_spider()
    return pipeline


def _documents(tmp_path: Path) -> list[str]:
    return [r[0] for r in open_catalog(tmp_path / "catalog.db").execute("select url from documents order by id")]


def test_documents_wait_for_their_batch_and_all_are_written_at_close(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path, CATALOG_BATCH_ROWS=3, CATALOG_BATCH_SECONDS=3600)
    for n in range(4):
        pipeline.process_item(_item(n))
    assert len(_documents(tmp_path)) == 3  # the first batch of three, the fourth still queued
    pipeline.close_spider()
    assert _documents(tmp_path) == [f"http://127.0.0.1:9/doc{n}.html" for n in range(4)]
    assert pipeline.crawler.stats.get_value("catalog/documents/report_page") == 4


def test_a_batch_older_than_its_period_is_written_with_the_next_document(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path, CATALOG_BATCH_ROWS=1000, CATALOG_BATCH_SECONDS=0.2)
    pipeline.process_item(_item(1))
    assert _documents(tmp_path) == []
    time.sleep(0.25)
    pipeline.process_item(_item(2))
    assert len(_documents(tmp_path)) == 2
    pipeline.close_spider()


def test_a_document_that_cannot_be_recorded_loses_nothing_else_of_its_batch(tmp_path: Path, caplog) -> None:
    pipeline = _pipeline(tmp_path, CATALOG_BATCH_ROWS=3, CATALOG_BATCH_SECONDS=3600)
    bad = _item(2)
    bad["sha256"] = None  # the catalog refuses a document without its digest
    for item in (_item(1), bad, _item(3)):
        pipeline.process_item(item)
    pipeline.close_spider()
    assert _documents(tmp_path) == ["http://127.0.0.1:9/doc1.html", "http://127.0.0.1:9/doc3.html"]
    assert pipeline.crawler.stats.get_value("catalog/errors") == 1
    assert "doc2.html: cannot record document in the catalog" in caplog.text


def test_a_document_seen_again_in_one_batch_is_one_row_with_both_urls(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path, CATALOG_BATCH_ROWS=10, CATALOG_BATCH_SECONDS=3600)
    first, again = _item(7), _item(7)
    again["url"] = "http://127.0.0.1:9/mirror/doc7.html"
    pipeline.process_item(first)
    pipeline.process_item(again)
    pipeline.close_spider()
    db = open_catalog(tmp_path / "catalog.db")
    assert db.execute("select count(*) from documents").fetchone()[0] == 1
    assert sorted(r[0] for r in db.execute("select url from document_urls")) == [
        "http://127.0.0.1:9/doc7.html", "http://127.0.0.1:9/mirror/doc7.html"]
