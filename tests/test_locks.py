"""One writer at a time: every command that writes the catalog holds the data directory's lock.

A second writer exits 1 naming the holder's PID, or waits with `--wait SECONDS`; a crawl left
`running` by a killed refresh is marked `killed` by the next one; the lock dies with its holder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from catalog_builders import CAPTURED_AT, PORTAL, write_warc

import catalog
from nianbao.lock import LOCK_FILE, DataDirLocked, data_dir_lock

NIANBAO = [sys.executable, "-m", "nianbao.cli"]
# Holds DATA_DIR's lock as a separate process would, for SECONDS, then lets go.
HOLDER = """
import sys, time
from nianbao.lock import data_dir_lock
with data_dir_lock(sys.argv[1], "test holder"):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def run(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(NIANBAO + args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def hold(data: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(data), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def one_document(data: Path) -> int:
    """A catalog with one archived text document for the parser stage."""
    capture = write_warc(data, [("http://127.0.0.1:9/r.txt", "某局2023年政府信息公开工作年度报告".encode(), "text/plain")])[0]
    db = catalog.open_catalog(data / "catalog.db")
    catalog.record_capture(db, capture)
    doc = catalog.record_document(db, {"portal_id": PORTAL["id"], "url": capture["url"], "kind": "attachment",
                                       "sha256": capture["sha256"], "fetched_at": CAPTURED_AT})
    db.close()
    return doc


def outcome_rows(data: Path) -> tuple[int, int]:
    db = catalog.open_catalog(data / "catalog.db")
    try:
        return (db.execute("select count(*) from reports").fetchone()[0],
                db.execute("select count(*) from parse_failures").fetchone()[0])
    finally:
        db.close()


def test_parse_refuses_while_another_writer_holds_the_lock(tmp_path):
    data = tmp_path / "data"
    one_document(data)
    holder = hold(data, 30)
    try:
        result = run(["parse", "--data", str(data)], tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1, result.stderr
    assert f"pid {holder.pid}" in result.stderr or str(holder.pid) in result.stderr
    assert LOCK_FILE in result.stderr and "--wait" in result.stderr
    assert outcome_rows(data) == (0, 0)  # nothing written by the refused run


def test_parse_waits_for_the_lock_with_wait(tmp_path):
    data = tmp_path / "data"
    one_document(data)
    holder = hold(data, 3)
    started = time.monotonic()
    result = run(["parse", "--data", str(data), "--wait", "60", "--json"], tmp_path)
    waited = time.monotonic() - started
    holder.wait(30)
    assert result.returncode == 0, result.stderr
    assert waited >= 2
    assert sum(outcome_rows(data)) == 1


def test_parse_gives_up_after_wait_seconds(tmp_path):
    data = tmp_path / "data"
    one_document(data)
    holder = hold(data, 60)
    try:
        started = time.monotonic()
        result = run(["parse", "--data", str(data), "--wait", "1.5"], tmp_path)
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1 and str(holder.pid) in result.stderr and "1.5 s" in result.stderr
    assert waited >= 1.5


def test_two_parses_at_once_write_each_document_once(tmp_path):
    data = tmp_path / "data"
    for n in range(6):
        capture = write_warc(data, [(f"http://127.0.0.1:9/{n}.txt", f"某局{2015 + n}年政府信息公开工作年度报告 {n}".encode(),
                                     "text/plain")], name=f"d{n}.warc.gz")[0]
        db = catalog.open_catalog(data / "catalog.db")
        catalog.record_capture(db, capture)
        catalog.record_document(db, {"portal_id": PORTAL["id"], "url": capture["url"], "kind": "attachment",
                                     "sha256": capture["sha256"], "fetched_at": CAPTURED_AT})
        db.close()
    procs = [subprocess.Popen(NIANBAO + ["parse", "--data", str(data), "--wait", "120", "--json"], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], [err for _, err in results]
    db = catalog.open_catalog(data / "catalog.db")
    try:
        both = db.execute("select count(*) from reports r join parse_failures f on f.document_id = r.document_id")
        assert both.fetchone()[0] == 0
        assert sum(outcome_rows(data)) == 6
        assert not [r for r in db["parse_failures"].rows if "locked" in r["reason"]]
    finally:
        db.close()


def test_refresh_refuses_while_parse_holds_the_lock(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    registry = tmp_path / "portals.csv"
    registry.write_text("id,agency,url,allow_private\nx,某局,http://127.0.0.1:9/,true\n", encoding="utf-8")
    holder = hold(data, 30)
    try:
        result = run(["refresh", "--portals", str(registry), "--data", str(data)], tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1 and str(holder.pid) in result.stderr


def test_the_lock_dies_with_its_holder(tmp_path):
    holder = hold(tmp_path, 60)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with data_dir_lock(tmp_path, "after a kill", wait=0) as path:
        assert path.read_text(encoding="utf-8").startswith(f"{os.getpid()} after a kill")


def test_a_held_lock_names_its_holder_in_process(tmp_path):
    holder = hold(tmp_path, 30)
    try:
        with pytest.raises(DataDirLocked) as raised, data_dir_lock(tmp_path, "second"):
            pass
    finally:
        holder.kill()
        holder.wait()
    assert raised.value.pid == holder.pid and "test holder" in str(raised.value)


def test_a_crawl_left_running_by_a_killed_refresh_is_marked_killed(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    db = catalog.open_catalog(data / "catalog.db")
    stale = catalog.record_crawl_start(db, "portals.csv", {})
    done = catalog.record_crawl_start(db, "portals.csv", {})
    catalog.record_crawl_end(db, done, {}, "finished")
    db.close()
    registry = tmp_path / "portals.csv"
    # a portal that refuses connections: the crawl itself ends at once
    registry.write_text("id,agency,url,allow_private\nx,某局,http://127.0.0.1:9/,true\n", encoding="utf-8")
    result = run(["refresh", "--portals", str(registry), "--data", str(data), "-s", "RETRY_TIMES=0"], tmp_path,
                 timeout=300)
    assert f"crawl(s) {stale} were left running" in result.stderr, result.stderr[-2000:]
    db = catalog.open_catalog(data / "catalog.db")
    try:
        statuses = dict(db.execute("select id, status from crawls").fetchall())
    finally:
        db.close()
    assert statuses[stale] == "killed" and statuses[done] == "finished"
    assert all(status != "running" for status in statuses.values())


@pytest.mark.parametrize("args", [["catalog", "merge", "WORKER"], ["catalog", "rebuild", "--from-warc"]])
def test_catalog_maintenance_refuses_while_another_writer_holds_the_data_directory(tmp_path, args):
    data = tmp_path / "data"
    worker = tmp_path / "worker"
    one_document(data)
    one_document(worker)
    holder = hold(data, 30)
    try:
        command = [str(worker) if a == "WORKER" else a for a in args]
        result = run([*command[:2], "--data", str(data), *command[2:]], cwd=tmp_path)
    finally:
        holder.terminate()
        holder.wait()
    assert result.returncode == 1, result.stderr
    assert str(holder.pid) in result.stderr and "test holder" in result.stderr
    assert not (data / "catalog.rebuilt.db").exists()
