"""`nianbao replay` (pywb over DATA_DIR) in headless Chromium, with the sample portals stopped: a report
page's tables come back from the archive alone."""

from __future__ import annotations

import gzip
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from warc_support import ROOT, read_warcs, sample_crawls

CHROMIUM = "/usr/bin/chromium"
REPORT_ROW = "新收政府信息公开申请数量"


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    crawls = sample_crawls(tmp_path_factory)  # the portals are stopped when this returns
    assert crawls["first"].returncode == 0, crawls["first"].stderr[-3000:]
    proc = subprocess.Popen(
        [sys.executable, "-m", "nianbao.cli", "replay", "--data", str(crawls["data"]), "--port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/nianbao/", line)
        assert match, line + proc.stderr.read() if proc.poll() is not None else line
        yield {**crawls, "prefix": match.group(0)}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def report_pages(data) -> list[tuple[str, str]]:
    """(URL, decoded HTML) of archived HTML report pages that print the template's table 3."""
    pages = []
    for r in read_warcs(data / "warc"):
        if r.type != "response" or not r.statusline.startswith("200"):
            continue
        if not any("text/html" in v for v in r.http_all("Content-Type")):
            continue
        body = gzip.decompress(r.payload) if r.http_all("Content-Encoding") == ["gzip"] else r.payload
        text = body.decode("utf-8", "replace")
        if "<table" in text and REPORT_ROW in text:
            pages.append((r.h("WARC-Target-URI"), text))
    return pages


def test_report_page_tables_render_from_the_archive(replay) -> None:
    from playwright.sync_api import sync_playwright

    pages = report_pages(replay["data"])
    assert pages, "the crawl archived at least one HTML report page"
    url, html = pages[0]
    archived_cells = len(re.findall(r"<td", html, flags=re.I))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page()
            started = time.monotonic()
            response = page.goto(replay["prefix"] + url, wait_until="load", timeout=30_000)
            assert response is not None and response.status == 200
            page.wait_for_selector("table td", timeout=10_000)
            cells = page.locator("td").count()
            text = page.inner_text("body")
            served_by = page.evaluate("() => typeof window.wbinfo === 'object' ? wbinfo.coll : null")
        finally:
            browser.close()
    assert served_by == "nianbao"  # pywb's replay, not the (stopped) portal
    assert cells == archived_cells and cells >= 20
    assert REPORT_ROW in text
    assert time.monotonic() - started < 30
