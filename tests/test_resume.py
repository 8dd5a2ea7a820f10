"""Resuming a killed crawl: SIGKILL midway, restart with the same JOBDIR, same documents, no refetch."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from test_spider import ROOT, crawl_command, documents

from crawler.journal import JOURNAL_FILE
from nianbao.sample_portals.truth import expected_documents

# static families only: the point is the journal, not the browser
PORTALS = ("sample-trs", "sample-hanweb", "sample-gbk")
KILL_AFTER_PAGES = 12  # of about 60: midway


def _journal_pages(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute("select count(*) from pages").fetchone()[0]
        finally:
            db.close()
    except sqlite3.OperationalError:
        return 0  # the table is being created


def _fetched_by_crawl(data_dir: Path, crawl_id: int) -> set[str]:
    db = sqlite3.connect(data_dir / "catalog.db")
    rows = db.execute("select url from captures where crawl_id = ? and warc_type in ('response', 'revisit')",
                      [crawl_id]).fetchall()
    db.close()
    return {r[0] for r in rows if not r[0].endswith("/robots.txt")}


def test_a_killed_crawl_resumes_without_refetching(sample_portals, tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    jobdir = data_dir / "jobs" / "sample"
    journal = jobdir / JOURNAL_FILE
    only = ("-a", "only=" + ",".join(PORTALS))
    # slow enough (one request at a time, a small delay) that the kill lands midway
    slow = {"JOBDIR": str(jobdir), "CONCURRENT_REQUESTS_PER_DOMAIN": "1", "DOWNLOAD_DELAY": "0.05"}
    stderr = (tmp_path / "first.stderr").open("wb")
    first = subprocess.Popen(crawl_command(sample_portals.registry, data_dir, *only, settings=slow), cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
    deadline = time.monotonic() + 120
    try:
        while _journal_pages(journal) < KILL_AFTER_PAGES:
            assert first.poll() is None, "the crawl ended before it could be killed: " + (
                data_dir / "crawl.log").read_text(encoding="utf-8")[-2000:]
            assert time.monotonic() < deadline, "the crawl made no progress"
            time.sleep(0.05)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        stderr.close()
    assert first.returncode == -signal.SIGKILL

    db = sqlite3.connect(journal)
    done_before = {r[0] for r in db.execute("select url from pages")}
    assert db.execute("select value from state where name = 'status'").fetchone()[0] == "running"
    db.close()
    assert len(done_before) >= KILL_AFTER_PAGES

    second = subprocess.run(crawl_command(sample_portals.registry, data_dir, *only, settings={"JOBDIR": str(jobdir)}),
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    log = (data_dir / "crawl.log").read_text(encoding="utf-8")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "journal/replayed_pages" in log
    assert f"resuming the job in {jobdir}" in log

    catalog = sqlite3.connect(data_dir / "catalog.db")
    crawl_ids = [r[0] for r in catalog.execute("select id from crawls order by id")]
    status = catalog.execute("select status from crawls where id = ?", [crawl_ids[-1]]).fetchone()[0]
    catalog.close()
    assert len(crawl_ids) == 2 and status == "finished"

    # no page completed before the kill was fetched again
    refetched = done_before & _fetched_by_crawl(data_dir, crawl_ids[-1])
    assert refetched == set()

    # and the resumed crawl ends with exactly the documents of an uninterrupted one
    expected = expected_documents(sample_portals.base_urls)
    found: dict[str, dict[str, int]] = {}
    for doc in documents(data_dir):
        if doc["kind"] in ("report_page", "attachment"):
            found.setdefault(doc["portal_id"], {})[doc["seen_url"]] = doc["year"]
    for portal_id in PORTALS:
        want = {d["url"]: d["year"] for d in expected[portal_id]["report_pages"] + expected[portal_id]["attachments"]}
        assert found.get(portal_id) == want, portal_id
    assert set(found) == set(PORTALS)

    db = sqlite3.connect(journal)
    assert db.execute("select value from state where name = 'status'").fetchone()[0] == "finished"
    db.close()
