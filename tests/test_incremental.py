"""Incremental refresh: a second `nianbao refresh` of unchanged sample portals revalidates documents.

Two refreshes into one DATA_DIR: the second asks for every report page, detail page and attachment
with the validators of the first capture, gets `304 Not Modified`, archives server-not-modified
revisits, reads the bodies back from the archive to follow attachments, and still records every
document as seen; list pages are fetched in full, and the parser stage has nothing new to do.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import Response
from warc_support import read_warcs

from archive.reader import ArchiveLookupError, read_document
from crawler.conditional import PREVIOUS_CAPTURE_META, archived_response
from nianbao.sample_portals.truth import load_truth

BIN = Path(sys.executable).parent
DOCUMENT_KINDS = ("report_page", "detail_page", "attachment")
NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"


def _refresh(registry: Path, data: Path, *extra: str) -> dict:
    cmd = [sys.executable, "-m", "nianbao.cli", "refresh", "--portals", str(registry), "--data", str(data),
           "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
           "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "-s", "LOG_LEVEL=WARNING", *extra]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=data.parent)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def refreshes(sample_portals, tmp_path_factory) -> dict:
    data = tmp_path_factory.mktemp("incremental") / "data"
    first = _refresh(sample_portals.registry, data)
    second = _refresh(sample_portals.registry, data)
    db = sqlite3.connect(data / "catalog.db")
    db.row_factory = sqlite3.Row
    crawls = db.execute("select id, started_at, stats from crawls order by id").fetchall()
    assert len(crawls) == 2
    records = read_warcs(data / "warc")
    yield {"data": data, "first": first, "second": second, "db": db, "crawls": crawls,
           "records": {r.h("WARC-Record-ID"): r for r in records}, "all_records": records}
    db.close()


def _document_urls(db: sqlite3.Connection, kinds: tuple[str, ...]) -> set[str]:
    marks = ",".join("?" * len(kinds))
    return {u for (u,) in db.execute(
        f"select u.url from document_urls u join documents d on d.id = u.document_id where d.kind in ({marks})",
        kinds)}


def _main_captures(db: sqlite3.Connection, crawl_id: int, url: str) -> list[sqlite3.Row]:
    return db.execute("select * from captures where crawl_id = ? and url = ? and warc_type in "
                      "('response', 'revisit') order by id", (crawl_id, url)).fetchall()


def test_unchanged_documents_become_server_not_modified_revisits(refreshes) -> None:
    db, records = refreshes["db"], refreshes["records"]
    urls = _document_urls(db, DOCUMENT_KINDS)
    assert len(urls) >= 50
    for url in urls:
        captures = [c for c in _main_captures(db, 2, url) if c["status"] != 503]  # the flaky page's first try
        assert [(c["warc_type"], c["status"]) for c in captures] == [("revisit", 304)], url
        revisit = captures[0]
        record = records[revisit["record_id"]]
        assert record.h("WARC-Profile") == NOT_MODIFIED and record.statusline.startswith("304")
        # it revisits the first crawl's full capture of the same URL, whose validators were sent
        [original] = [c for c in _main_captures(db, 1, url) if c["status"] == 200]
        target = original["revisit_of"] or original["record_id"]
        assert revisit["revisit_of"] == target == record.h("WARC-Refers-To")
        assert revisit["sha256"] == original["sha256"]
        request = next(r for r in refreshes["all_records"]
                       if r.type == "request" and r.h("WARC-Concurrent-To") == revisit["record_id"])
        sent = {k.lower(): v for k, v in request.http}
        assert sent.get("if-none-match") == original["etag"] is not None
        assert sent.get("if-modified-since") == original["last_modified"] is not None


def test_no_attachment_body_is_fetched_again(refreshes) -> None:
    db, records = refreshes["db"], refreshes["records"]
    attachments = _document_urls(db, ("attachment",))
    published = {(u["host"], u["path"]) for t in load_truth() if t["expected"] for u in t["urls"] if u["role"] == "attachment"}
    assert len(attachments) == len(published)  # every sample report's attachment, each once
    second = db.execute(f"select record_id, url, warc_type from captures where crawl_id = 2 and url in "
                        f"({','.join('?' * len(attachments))}) and warc_type != 'request'",
                        sorted(attachments)).fetchall()
    assert {row["url"] for row in second} == attachments
    assert {row["warc_type"] for row in second} == {"revisit"}
    assert all(records[row["record_id"]].payload == b"" for row in second)


def test_list_pages_are_always_fetched_in_full(refreshes) -> None:
    db, records = refreshes["db"], refreshes["records"]
    lists = _document_urls(db, ("list_page",))
    assert lists
    for url in lists:
        for capture in _main_captures(db, 2, url):
            assert capture["status"] == 200, url
            request = next(r for r in refreshes["all_records"]
                           if r.type == "request" and r.h("WARC-Concurrent-To") == capture["record_id"])
            assert not {k.lower() for k, _ in request.http} & {"if-none-match", "if-modified-since"}, url
            assert records[capture["record_id"]].h("WARC-Profile") != NOT_MODIFIED


def test_every_document_is_still_found_and_marked_seen(refreshes) -> None:
    db = refreshes["db"]
    second_started = refreshes["crawls"][1]["started_at"]
    rows = db.execute("select kind, url, last_seen from documents").fetchall()
    stale = [(r["kind"], r["url"]) for r in rows if r["last_seen"] < second_started]
    assert rows and stale == []
    assert refreshes["second"]["documents_new"] == 0
    assert db.execute("select count(*) from documents where kind in ('report_page', 'attachment')"
                      ).fetchone()[0] == refreshes["first"]["reports_total"]


def test_the_parser_stage_parses_nothing_new(refreshes) -> None:
    first, second = refreshes["first"]["parse"], refreshes["second"]["parse"]
    assert first["parsed"] > 40 and first["failed"] == 0
    assert (second["candidates"], second["parsed"], second["failed"]) == (0, 0, 0)
    assert refreshes["second"]["reports_total"] == refreshes["first"]["reports_total"]


def test_closing_stats_count_the_304s(refreshes) -> None:
    db = refreshes["db"]
    first, second = (json.loads(c["stats"]) for c in refreshes["crawls"])
    not_modified = db.execute("select count(*) from captures where crawl_id = 2 and status = 304 "
                              "and warc_type = 'revisit'").fetchone()[0]
    assert not_modified >= 50
    assert second["conditional/not_modified"] == second["conditional/requests"] == not_modified
    assert second["conditional/restored_from_archive"] == not_modified
    assert second["warc/revisits/server-not-modified"] == not_modified
    assert second["downloader/response_status_count/304"] == not_modified
    # the first crawl had nothing to revalidate
    assert "conditional/requests" not in first and "warc/revisits/server-not-modified" not in first


def test_warcio_check_passes_on_every_file(refreshes) -> None:
    files = sorted((refreshes["data"] / "warc").glob("*.warc.gz"))
    assert len(files) == 2 and not list((refreshes["data"] / "warc").glob("*.open"))
    result = subprocess.run([str(BIN / "warcio"), "check", *map(str, files)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def _not_modified_response(db: sqlite3.Connection, kind: str) -> tuple[Response, sqlite3.Row]:
    """A 304 as the spider receives it, with the validators' source capture in its request meta."""
    row = db.execute(
        "select c.* from captures c join document_urls u on u.url = c.url join documents d on d.id = u.document_id "
        "where d.kind = ? and c.crawl_id = 1 and c.status = 200 order by c.id limit 1", (kind,)).fetchone()
    previous = {k: row[k] for k in ("record_id", "timestamp", "warc_file", "offset", "sha256", "status")}
    request = Request(row["url"], meta={PREVIOUS_CAPTURE_META: previous})
    return Response(row["url"], status=304, request=request), row


def test_a_304_is_answered_with_the_archived_capture(refreshes) -> None:
    response, row = _not_modified_response(refreshes["db"], "attachment")
    restored = archived_response(response, refreshes["data"])
    assert restored.status == 200 and "not_modified" in restored.flags
    assert restored.body == read_document(refreshes["data"], sha256=row["sha256"]) and restored.body
    assert restored.headers.get("Content-Type") and restored.meta is response.meta
    page, _ = _not_modified_response(refreshes["db"], "report_page")
    html = archived_response(page, refreshes["data"])
    assert b"<html" in html.body.lower() and html.xpath("//title/text()").get()
    assert not html.headers.get("Content-Encoding")  # the body is given back decoded


def test_an_unreadable_archived_capture_is_a_clear_error(refreshes) -> None:
    response, row = _not_modified_response(refreshes["db"], "attachment")
    response.meta[PREVIOUS_CAPTURE_META]["warc_file"] = "gone.warc.gz"
    with pytest.raises(ArchiveLookupError, match="gone.warc.gz") as error:
        archived_response(response, refreshes["data"])
    assert row["url"] in str(error.value)


def _copy_of_archive(refreshes, tmp_path: Path) -> tuple[Path, sqlite3.Connection]:
    data = tmp_path / "data"
    shutil.copytree(refreshes["data"], data, ignore=shutil.ignore_patterns("catalog.lock", "jobs"))
    db = sqlite3.connect(data / "catalog.db")
    db.row_factory = sqlite3.Row
    return data, db


def _crawl_stats(db: sqlite3.Connection) -> tuple[int, dict]:
    crawl_id, stats = db.execute("select id, stats from crawls order by id desc limit 1").fetchone()
    return crawl_id, json.loads(stats)


def test_a_304_the_archive_cannot_answer_is_fetched_again(refreshes, sample_portals, tmp_path) -> None:
    data, db = _copy_of_archive(refreshes, tmp_path)
    documents = db.execute("select u.url, d.last_seen from document_urls u join documents d on d.id = u.document_id "
                           "where d.portal_id = 'sample-gbk' and d.kind != 'list_page' order by u.url").fetchall()
    assert len(documents) >= 10
    changed = documents[0]["url"]
    # the catalog points at WARC files that were moved away since, and one document's validators
    # are those of an older version, which the server answers in full
    db.execute("update captures set warc_file = 'moved-away.warc.gz' where portal_id = 'sample-gbk'")
    db.execute("update captures set etag = '\"older\"', last_modified = 'Mon, 01 Jan 2001 00:00:00 GMT' "
               "where url = ?", (changed,))
    db.commit()
    _refresh(sample_portals.registry, data, "--only", "sample-gbk")
    crawl_id, stats = _crawl_stats(db)
    assert stats["conditional/requests"] == len(documents)
    assert stats["conditional/modified"] == 1
    assert stats["conditional/not_modified"] == stats["conditional/refetched"] == len(documents) - 1
    assert "conditional/restored_from_archive" not in stats
    started = db.execute("select started_at from crawls where id = ?", (crawl_id,)).fetchone()[0]
    for url, _ in documents:
        statuses = [c["status"] for c in _main_captures(db, crawl_id, url)]
        assert statuses == ([200] if url == changed else [304, 200]), url
        (last_seen,) = db.execute("select last_seen from document_urls where url = ?", (url,)).fetchone()
        assert last_seen >= started, url
    db.close()


def test_conditional_requests_can_be_turned_off(refreshes, sample_portals, tmp_path) -> None:
    data, db = _copy_of_archive(refreshes, tmp_path)
    _refresh(sample_portals.registry, data, "--only", "sample-gbk", "-s", "CONDITIONAL_REQUESTS=False")
    crawl_id, stats = _crawl_stats(db)
    assert not [k for k in stats if k.startswith("conditional/")]
    statuses = {status for (status,) in db.execute(
        "select status from captures where crawl_id = ? and warc_type in ('response', 'revisit')", (crawl_id,))}
    assert 304 not in statuses and 200 in statuses
    db.close()
