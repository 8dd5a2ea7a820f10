"""WARC file writing: names, warcinfo, `.open` files, rotation, and repair of a file cut mid-record."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

from warc_support import read_warcs
from warcio.warcwriter import WARCWriter

from archive.warc import (
    OPEN_SUFFIX,
    WARC_VERSION,
    WarcFileWriter,
    new_record_id,
    repair_open_files,
    request_record,
    response_record,
    warc_date,
)

WARCIO = str(Path(sys.executable).parent / "warcio")
NAME_RE = re.compile(r"^test-(\d{20})-(\d{5})-([^-]+)\.warc\.gz$")


def warcio_check(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([WARCIO, "check", "-v", *map(str, paths)], capture_output=True, text=True)


def exchange(url: str, body: bytes) -> list:
    date, resp_id = warc_date(), new_record_id()
    return [
        response_record(url, 200, "OK", [("Content-Type", "text/plain")], body, date, resp_id),
        request_record(url, "GET", [("Host", "example.test")], b"", date, new_record_id(), resp_id),
    ]


def test_writer_names_open_files_and_starts_with_warcinfo(tmp_path: Path) -> None:
    writer = WarcFileWriter(tmp_path, prefix="test", warcinfo={"operator": "tester", "software": "nianbao"})
    written = writer.write(exchange("http://example.test/a?x=1", b"hello"))
    assert [p.name for p in tmp_path.iterdir()] == [written[0].warc_file + OPEN_SUFFIX]
    name = writer.close()
    assert name and NAME_RE.match(name), name
    assert [p.name for p in tmp_path.iterdir()] == [name]
    records = read_warcs(tmp_path)
    assert [r.type for r in records] == ["warcinfo", "response", "request"]
    info = records[0]
    assert info.h("WARC-Filename") == name
    assert b"operator: tester" in info.payload
    assert records[1].offset == written[0].offset and records[2].offset == written[1].offset
    assert warcio_check(tmp_path / name).returncode == 0


def test_rotation_keeps_groups_together_and_numbers_files(tmp_path: Path) -> None:
    writer = WarcFileWriter(tmp_path, prefix="test", max_size=2000)
    for n in range(6):
        writer.write(exchange(f"http://example.test/{n}", bytes(range(256)) * 8))
    writer.close()
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) >= 3
    serials = [int(NAME_RE.match(f.name).group(2)) for f in files]
    assert serials == list(range(len(files)))
    for f in files:
        types = [r.type for r in read_warcs(tmp_path) if r.file == f.name]
        assert types[0] == "warcinfo" and types.count("warcinfo") == 1
        assert types[1:] == ["response", "request"] * ((len(types) - 1) // 2)
    assert warcio_check(*files).returncode == 0


def test_repair_cuts_a_killed_file_back_to_its_last_whole_exchange(tmp_path: Path, caplog) -> None:
    writer = WarcFileWriter(tmp_path, prefix="test")
    writer.write(exchange("http://example.test/kept", b"kept body"))
    open_name = writer.current_file + OPEN_SUFFIX
    writer._fh.flush()
    # What a kill leaves behind: a response whose request never came, then half a gzip member.
    partial = io.BytesIO()
    raw = WARCWriter(partial, gzip=True, warc_version=WARC_VERSION)
    lost = exchange("http://example.test/lost", b"x" * 5000)
    raw.write_record(lost[0])
    with open(tmp_path / open_name, "ab") as fh:
        fh.write(partial.getvalue())
        partial = io.BytesIO()
        WARCWriter(partial, gzip=True, warc_version=WARC_VERSION).write_record(exchange("http://example.test/cut", b"y" * 5000)[0])
        fh.write(partial.getvalue()[: len(partial.getvalue()) // 2])
    writer._fh.close()  # the process is gone: its lock goes with it
    writer._fh = None

    results = repair_open_files(tmp_path)
    assert len(results) == 1 and results[0].closed_as is not None
    assert results[0].lost_bytes > 0 and results[0].kept_records == 3
    assert "lost" in caplog.text and open_name in caplog.text
    assert not list(tmp_path.glob(f"*{OPEN_SUFFIX}"))
    records = read_warcs(tmp_path)
    assert [(r.type, r.h("WARC-Target-URI")) for r in records] == [
        ("warcinfo", None), ("response", "http://example.test/kept"), ("request", "http://example.test/kept")]
    assert warcio_check(results[0].closed_as).returncode == 0


def test_repair_leaves_a_file_a_live_writer_holds(tmp_path: Path) -> None:
    writer = WarcFileWriter(tmp_path, prefix="test")
    writer.write(exchange("http://example.test/live", b"live"))
    assert repair_open_files(tmp_path) == []
    assert (tmp_path / (writer.current_file + OPEN_SUFFIX)).exists()
    writer.close()


def test_repair_removes_a_file_with_nothing_complete(tmp_path: Path) -> None:
    broken = tmp_path / ("test-20260101000000000000-00000-host.warc.gz" + OPEN_SUFFIX)
    broken.write_bytes(b"\x1f\x8b\x08\x00garbage")
    results = repair_open_files(tmp_path)
    assert results[0].closed_as is None and results[0].lost_bytes == len(b"\x1f\x8b\x08\x00garbage")
    assert list(tmp_path.iterdir()) == []
