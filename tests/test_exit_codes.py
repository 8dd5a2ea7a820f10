"""The exit-code contract (README): 0 the run completed, 1 the run failed, 2 bad usage or bad input.

Bad registry files stop `refresh` before anything is crawled, with one line naming the file and line.
The runs that complete with failed portals (exit 0) are in test_faults.py; lock refusals (exit 1) in
test_locks.py.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from loopback_server import wait_for_port

import catalog

NIANBAO = [sys.executable, "-m", "nianbao.cli"]


def run(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(NIANBAO + args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize(("content", "expected"), [
    (b"", "header lacks required column"),
    (b"id,agency,url\n", "no portal rows (header only)"),
    (b"id,agency\nx,\xe6\x9f\x90\xe5\xb1\x80\n", ":1: header lacks required column(s) url"),
    (b"id,agency,url\nx,\xe6\x9f\x90\xe5\xb1\x80,http://a.gov.cn/\ny,\xc4\xb3\xbe\xd6,http://b.gov.cn/\n", ":3: not UTF-8"),
    (b"id,agency,url\nx,,http://a.gov.cn/\ny,\xe6\x9f\x90,ftp://b.gov.cn/\n", "every portal row is bad"),
])
def test_bad_registry_exits_2_naming_file_and_line_before_crawling(tmp_path, content, expected):
    registry = tmp_path / "portals.csv"
    registry.write_bytes(content)
    data = tmp_path / "data"
    result = run(["refresh", "--portals", str(registry), "--data", str(data)], tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(registry) in lines[0] and expected in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (data / "catalog.db").exists()  # stopped before the crawl (and the parse)


def test_unreadable_registry_exits_2(tmp_path):
    registry = tmp_path / "portals.csv"
    registry.mkdir()  # a path that exists but cannot be read as a file
    (registry / "x").write_text("")
    result = run(["refresh", "--portals", str(registry), "--data", str(tmp_path / "data")], tmp_path)
    assert result.returncode == 2 and str(registry) in result.stderr and "Traceback" not in result.stderr


def test_only_naming_no_portal_exits_2(tmp_path):
    registry = tmp_path / "portals.csv"
    registry.write_text("id,agency,url\nx,某局,http://a.gov.cn/\n", encoding="utf-8")
    result = run(["refresh", "--portals", str(registry), "--only", "nope", "--data", str(tmp_path / "d")], tmp_path)
    assert result.returncode == 2 and "nope" in result.stderr


def test_bad_rows_are_named_and_the_run_goes_on(tmp_path):
    registry = tmp_path / "portals.csv"
    # one usable row whose host refuses connections, one bad row
    registry.write_text("id,agency,url,allow_private\nx,某局,http://127.0.0.1:9/,true\ny,某局,ftp://b.gov.cn/,\n",
                        encoding="utf-8")
    result = run(["refresh", "--portals", str(registry), "--data", str(tmp_path / "d"), "-s", "RETRY_TIMES=0"],
                 tmp_path, timeout=300)
    assert f"{registry}:3:" in result.stderr
    assert result.returncode in (0, 1)  # the crawl ran; whether an unreachable portal fails it is not this test's
    assert (tmp_path / "d" / "catalog.db").exists()


def test_parse_exit_codes(tmp_path):
    assert run(["parse", "--data", str(tmp_path / "none")], tmp_path).returncode == 2  # no catalog
    assert run(["parse", "x.pdf", "--data", str(tmp_path)], tmp_path).returncode == 2  # both forms
    assert run(["parse", "--data", str(tmp_path), "--wait", "-1"], tmp_path).returncode == 2
    data = tmp_path / "data"
    catalog.open_catalog(data / "catalog.db").close()
    done = run(["parse", "--data", str(data), "--json"], tmp_path)
    assert done.returncode == 0 and '"candidates": 0' in done.stdout


def test_parse_exits_1_when_the_catalog_cannot_be_read(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "catalog.db").write_bytes(b"this is not a database" * 100)
    result = run(["parse", "--data", str(data)], tmp_path)
    assert result.returncode == 1 and "catalog.db" in result.stderr and "Traceback" not in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_exit_codes(tmp_path):
    data = tmp_path / "data"
    catalog.open_catalog(data / "catalog.db").close()
    assert run(["serve", "--data", str(data), "--port", "many"], tmp_path).returncode == 2
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = run(["serve", "--data", str(data), "--port", str(taken.getsockname()[1])], tmp_path)
    assert busy.returncode == 1, busy.stderr
    port = _free_port()
    proc = subprocess.Popen(NIANBAO + ["serve", "--data", str(data), "--port", str(port)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == f"http://127.0.0.1:{port}/catalog"
        wait_for_port(port)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0  # stopped by its operator: the run completed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
