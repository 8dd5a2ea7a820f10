"""A bare `scrapy crawl portals` holds the data directory's lock: a second crawl (or any other writer) on
the same DATA_DIR is refused before it fetches anything, while `refresh`'s own crawl runs under its lock."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

from loopback_server import ROOT, LoopbackServer, crawl_command, crawl_env, html, report_list, write_registry
from test_locks import hold

import catalog
from nianbao.lock import LOCK_FILE, data_dir_lock


def _held_page(release: threading.Event):
    """A report page answered only once `release` is set (at most 150 s): the crawl asking for it runs till then."""
    def answer(handler) -> None:  # noqa: ANN001 - http.server's handler
        release.wait(150)
        _page(handler)
    return answer


def _page(handler) -> None:  # noqa: ANN001 - http.server's handler
    body = "<html><body><h1>某局2023年政府信息公开工作年度报告</h1><p>一、总体情况</p></body></html>".encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _site(server: LoopbackServer, release: threading.Event) -> None:
    server.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow:\n")
    server.routes["/nb/index.html"] = report_list({"/nb/r1.html": "某局"})
    server.routes["/nb/r1.html"] = _held_page(release)


def test_a_second_bare_crawl_on_the_same_data_dir_is_refused(tmp_path):
    data = tmp_path / "data"
    release = threading.Event()
    with LoopbackServer() as server:
        _site(server, release)
        registry = write_registry(tmp_path / "portals.csv", [
            {"id": "lk", "agency": "某局", "url": server.url("/nb/index.html"), "allow_private": "true"}])
        first = subprocess.Popen(crawl_command(registry, data) + ["-s", "DOWNLOAD_TIMEOUT=200"], cwd=ROOT,
                                 env=crawl_env(tmp_path),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 150
            while not server.hits("/nb/r1.html") and time.monotonic() < deadline:
                time.sleep(0.1)  # the first crawl is under way (its slow report page is being answered)
            assert server.hits("/nb/r1.html"), "the first crawl never reached the report"
            assert (data / LOCK_FILE).read_text(encoding="utf-8").split() == [str(first.pid), "scrapy", "crawl",
                                                                               "portals"]
            hits_before = len(server.log)
            second = subprocess.run(crawl_command(registry, data), cwd=ROOT, env=crawl_env(tmp_path), capture_output=True,
                                    text=True, timeout=120)
            hits_after = len(server.log)
        finally:
            release.set()  # the first crawl's report page is answered now, and it ends
            out, err = first.communicate(timeout=180)
    assert second.returncode == 1
    assert f"{LOCK_FILE}: the data directory is being written by {first.pid} scrapy crawl portals; this crawl " \
           "does not start" in second.stderr
    assert "DATA_DIR_LOCK_WAIT" in second.stderr
    assert hits_after == hits_before  # the refused crawl fetched nothing, not even robots.txt
    assert first.returncode == 0, err[-3000:]
    db = catalog.open_catalog(data / "catalog.db")
    try:
        assert db.execute("select count(*) from crawls").fetchone()[0] == 1  # the refused one left no row
    finally:
        db.close()
    # the finished crawl let go of the lock
    with data_dir_lock(data, "after the crawl") as path:
        assert path.exists()


def test_a_crawl_is_refused_while_another_writer_holds_the_lock_and_may_wait_for_it(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    with LoopbackServer() as server:
        server.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, b"")
        server.routes["/nb/index.html"] = html("<p>暂无</p>")
        registry = write_registry(tmp_path / "portals.csv", [
            {"id": "lk", "agency": "某局", "url": server.url("/nb/index.html"), "allow_private": "true"}])
        holder = hold(data, 120)
        try:
            refused = subprocess.run(crawl_command(registry, data), cwd=ROOT, env=crawl_env(tmp_path), capture_output=True,
                                     text=True, timeout=120)
            assert refused.returncode == 1 and f"{holder.pid} test holder" in refused.stderr
            assert server.log == []
            waiting = subprocess.Popen(crawl_command(registry, data) + ["-s", "DATA_DIR_LOCK_WAIT=120"], cwd=ROOT,
                                       env=crawl_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(5)
            assert waiting.poll() is None and server.log == []  # still waiting for the holder
        finally:
            holder.kill()
            holder.wait()
        _, err = waiting.communicate(timeout=180)
        waited = subprocess.CompletedProcess(waiting.args, waiting.returncode, "", err)
    assert waited.returncode == 0, waited.stderr[-3000:]
    assert server.hits("/nb/index.html")


def test_refresh_crawls_under_its_own_lock(tmp_path):
    data = tmp_path / "data"
    with LoopbackServer() as server:
        _site(server, threading.Event())
        server.routes["/nb/r1.html"] = html("<h1>某局2023年政府信息公开工作年度报告</h1><p>一、总体情况</p>")
        registry = write_registry(tmp_path / "portals.csv", [
            {"id": "lk", "agency": "某局", "url": server.url("/nb/index.html"), "allow_private": "true"}])
        result = subprocess.run([sys.executable, "-m", "nianbao.cli", "refresh", "--portals", str(registry),
                                 "--data", str(data), "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"],
                                cwd=tmp_path, env=crawl_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert summary["crawl_exit"] == 0 and summary["diagnoses"]["lk"]["status"] == "ok"
    assert server.hits("/nb/r1.html")
