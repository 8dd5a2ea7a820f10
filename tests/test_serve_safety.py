"""`nianbao serve` is safe to share: bounded SQL memory, no dangerous functions, `--public` without SQL.

The server runs as the command does, in a process of its own; its memory is measured from outside.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psutil
import pytest

import catalog

# What the server may reach while answering hostile SQL (the ceiling is 256 MB of SQLite heap).
RSS_CEILING = 600 * 1024 * 1024
ZEROBLOB = "select length(hex(zeroblob(499999999)))"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, timeout: float = 60) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


class Server:
    """`nianbao serve` in a child process, with its peak RSS sampled while it runs."""

    def __init__(self, data: Path, *extra: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nianbao.cli", "serve", "--data", str(data), "--port", str(self.port), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.peak = 0
        self._stop = threading.Event()
        line = self.proc.stdout.readline().strip()
        assert line == f"{self.base}/catalog", line
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        process = psutil.Process(self.proc.pid)
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, process.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.02)

    def sql(self, query: str, timeout: float = 60) -> tuple[int, str]:
        return _get(f"{self.base}/catalog.json?" + urllib.parse.urlencode({"sql": query}), timeout)

    def stop(self) -> None:
        self._stop.set()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("serve-safety")
    db = catalog.open_catalog(data / "catalog.db")
    catalog.load_portals(db, [{"id": "p1", "agency": "某市某局", "url": "http://127.0.0.1:9/"}])
    db.close()
    return data


@pytest.fixture(scope="module")
def server(data_dir):
    running = Server(data_dir)
    try:
        yield running
    finally:
        running.stop()


def test_zeroblob_cannot_take_the_server_past_its_ceiling(server):
    assert server.sql("select 1 + 1 as two")[0] == 200
    status, body = server.sql(ZEROBLOB, timeout=120)
    assert status >= 400, body[:300]
    assert "too big" in body or "out of memory" in body or "memory" in body.lower(), body[:300]
    assert server.peak < RSS_CEILING, f"peak RSS {server.peak / 1048576:.0f} MB"


def test_three_zeroblobs_in_parallel_leave_it_serving(server):
    results: list[tuple[int, str]] = []
    threads = [threading.Thread(target=lambda: results.append(server.sql(ZEROBLOB, timeout=120))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(150)
    assert len(results) == 3 and all(status >= 400 for status, _ in results), [r[1][:200] for r in results]
    assert server.peak < RSS_CEILING, f"peak RSS {server.peak / 1048576:.0f} MB"
    assert server.proc.poll() is None
    status, body = server.sql("select count(*) as n from portals")
    assert status == 200 and json.loads(body)["rows"] == [[1]]


@pytest.mark.parametrize("query", [
    "select hex(fts3_tokenizer('simple'))",
    "select fts3_tokenizer('simple', x'0000000000000000')",
    "select load_extension('/lib/x86_64-linux-gnu/libc.so.6')",
])
def test_dangerous_functions_are_off(server, query):
    status, body = server.sql(query)
    assert status >= 400, body[:300]
    assert "disabled" in body or "not authorized" in body, body[:300]


def test_a_large_but_bounded_result_still_works(server):
    status, body = server.sql("select length(hex(zeroblob(1000000))) as n")
    assert status == 200 and json.loads(body)["rows"] == [[2000000]]


def test_public_mode_serves_tables_and_canned_queries_but_no_sql(data_dir):
    public = Server(data_dir, "--public")
    try:
        status, _ = public.sql("select 1")
        assert status == 403
        status, body = _get(f"{public.base}/catalog/portals.json?_shape=array")
        assert status == 200 and json.loads(body)[0]["agency"] == "某市某局"
        status, _ = _get(f"{public.base}/catalog/portals.json?_where=1=1")
        assert status in (400, 403)
        status, body = _get(f"{public.base}/catalog/search.json?q=%E6%8A%A5%E5%91%8A&_shape=array")
        assert status == 200, body[:300]
    finally:
        public.stop()
