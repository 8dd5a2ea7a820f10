"""A crawl killed with SIGKILL while writing: the next start repairs and closes its `.open` file, and
every WARC file then passes `warcio check`."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from warc_support import ROOT, crawl_portals, read_warcs

from archive.warc import complete_members
from nianbao.sample_portals.server import SamplePortals

WARCIO = str(Path(sys.executable).parent / "warcio")


def test_sigkill_mid_crawl_then_restart_leaves_valid_warcs(tmp_path: Path) -> None:
    data = tmp_path / "data"
    warc_dir = data / "warc"
    with SamplePortals(registry_path=tmp_path / "portals.csv") as portals:
        cmd = [sys.executable, "-m", "scrapy", "crawl", "portals", "-a", f"portals={portals.registry}",
               "-s", f"DATA_DIR={data}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0",
               "-s", "TELNETCONSOLE_ENABLED=0"]
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        killed_file, killed_mid_record, samples, boundary = None, False, 0, 0
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None:
                open_files = list(warc_dir.glob("*.warc.gz.open")) if warc_dir.is_dir() else []
                if not open_files or open_files[0].stat().st_size <= max(boundary, 20_000):
                    time.sleep(0.001)
                    continue
                # Freeze the crawl and look: kill it once it is caught half-way through writing a record
                # (the sample portals' larger PDFs take a while); failing that, wherever it is.
                os.kill(proc.pid, signal.SIGSTOP)
                time.sleep(0.002)
                size = open_files[0].stat().st_size
                with open(open_files[0], "rb") as fh:
                    members = complete_members(fh, boundary)
                boundary = members[-1][1] if members else boundary
                samples += 1
                killed_mid_record = boundary < size
                # records are appended as whole gzip members, so a cut record is rare: kill anyway soon
                if killed_mid_record or samples >= 20:
                    os.kill(proc.pid, signal.SIGKILL)
                    killed_file, killed_size = open_files[0], size
                    break
                os.kill(proc.pid, signal.SIGCONT)
        finally:
            if proc.poll() is None and killed_file is None:
                proc.kill()
            proc.wait(timeout=30)
        assert killed_file is not None, "the crawl finished before it could be killed"
        assert proc.returncode == -signal.SIGKILL
        assert killed_file.exists()  # left behind, still .open

        restart = crawl_portals(portals.registry, data, "-a", "only=sample-gbk")
    assert restart.returncode == 0, restart.stderr[-3000:]
    repaired = re.search(rf"{re.escape(killed_file.name)}: repaired leftover WARC file: kept (\d+) records "
                         rf"\((\d+) bytes\), lost (\d+) bytes", restart.stderr)
    assert repaired, restart.stderr[-3000:]
    kept_records, kept_bytes, lost_bytes = map(int, repaired.groups())
    print(f"samples {samples}, mid-record {killed_mid_record}: killed at {killed_size} bytes: kept {kept_records} records, {kept_bytes} bytes; lost {lost_bytes}")
    assert kept_records >= 3 and kept_bytes + lost_bytes >= killed_size
    if killed_mid_record:
        assert lost_bytes > 0
    assert not list(warc_dir.glob("*.open"))
    closed = warc_dir / killed_file.name.removesuffix(".open")
    assert closed.exists()
    files = sorted(warc_dir.glob("*.warc.gz"))
    assert len(files) == 2
    check = subprocess.run([WARCIO, "check", *map(str, files)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout[-2000:]
    # the repaired file holds whole exchanges only, and is indexed like any other
    records = [r for r in read_warcs(warc_dir) if r.file == closed.name]
    assert records[0].type == "warcinfo"
    mains = {r.h("WARC-Record-ID") for r in records if r.type in ("response", "revisit")}
    assert mains and mains == {r.h("WARC-Concurrent-To") for r in records if r.type == "request"}
    assert (data / "indexes" / (closed.name.removesuffix(".warc.gz") + ".cdxj")).exists()
