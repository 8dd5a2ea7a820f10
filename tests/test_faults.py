"""The fault suite: `nianbao refresh` against a hostile portal on loopback (tests/hostile_server.py).

Two refreshes run as cron runs them, in processes of their own, while a watchdog samples the memory
of the whole process tree (the refresh, its crawl, its parse workers). The second refresh finds the
gzip-bomb page unchanged (304) and must answer it from the archive without inflating it. Each case
asserts the recorded reason, and every case also relies on the ordinary reports of the same portal
being archived and parsed, and on the tree staying under 1 GB.

The parser stage's per-document memory limit is set to 512 MB here (NIANBAO_PARSE_MEMORY_MB), the
figure a machine that gives nianbao 1 GB would use; everything else runs with the project's settings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from hostile_server import NASTY_NAME, HostilePortal
from warcio.archiveiterator import ArchiveIterator

import catalog
from nianbao.demo import DEMO_SETTINGS

TREE_CEILING = 1024**3
# The watchdog ends a runaway tree well before it can hurt the machine (today's code reaches GBs).
KILL_AT = int(1.4 * 1024**3)
STAGE_MEMORY_MB = 512
CAUSES = ("memory limit", "time limit", "encrypted PDF", "truncated input", "decoded size limit", "not a report")


class TreeWatch:
    """Peak memory of a process and all its descendants, sampled every 50 ms (PSS where Linux has it)."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.peak = 0
        self.killed = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _tree(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.proc.pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    def _run(self) -> None:
        while self.proc.poll() is None:
            total = 0
            for process in self._tree():
                try:
                    total += process.memory_info().rss
                except psutil.Error:
                    continue
            if total > self.peak * 0.9:  # close to the peak: measure it exactly (shared pages once)
                exact = 0
                for process in self._tree():
                    try:
                        info = process.memory_full_info()
                        exact += getattr(info, "pss", info.rss)
                    except psutil.Error:
                        continue
                self.peak = max(self.peak, exact)
            if total > KILL_AT:
                self.killed = True
                for process in reversed(self._tree()):
                    try:
                        process.kill()
                    except psutil.Error:
                        pass
                return
            time.sleep(0.05)

    def join(self) -> None:
        self._thread.join(30)


def run_refresh(registry: Path, data: Path, timeout: float = 900) -> dict:
    cmd = [sys.executable, "-m", "nianbao.cli", "refresh", "--portals", str(registry), "--data", str(data)]
    for key, value in DEMO_SETTINGS.items():
        cmd += ["-s", f"{key}={value}"]
    env = {**os.environ, "NIANBAO_PARSE_MEMORY_MB": str(STAGE_MEMORY_MB), "NIANBAO_PARSE_TIMEOUT": "120"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=data.parent)
    watch = TreeWatch(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            out, err = proc.communicate()
        watch.join()
    summary = json.loads(out) if out.strip().startswith("{") else {}
    return {"exit": proc.returncode, "summary": summary, "stderr": err, "peak": watch.peak, "killed": watch.killed}


@pytest.fixture(scope="module")
def hostile():
    with HostilePortal() as portal:
        yield portal


@pytest.fixture(scope="module")
def runs(hostile, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("faults")
    data = root / "data"
    registry = hostile.write_registry(root / "hostile.csv")
    first = run_refresh(registry, data)
    second = run_refresh(registry, data)
    return {"data": data, "first": first, "second": second}


def _db(runs):
    return catalog.open_catalog(runs["data"] / "catalog.db")


def _failure(db, url: str) -> str | None:
    row = db.execute("select f.reason from parse_failures f join document_urls u on u.document_id = f.document_id "
                     "where u.url = ?", [url]).fetchone()
    return row[0] if row else None


def test_refreshes_complete_within_one_gigabyte(runs):
    for name in ("first", "second"):
        run = runs[name]
        assert not run["killed"], f"{name} refresh passed {KILL_AT / 1048576:.0f} MB and was killed"
        assert run["peak"] < TREE_CEILING, f"{name} refresh peaked at {run['peak'] / 1048576:.0f} MB"
        assert run["exit"] == 0, run["stderr"][-3000:]


def test_ordinary_reports_beside_the_faults_are_archived_and_parsed(runs, hostile):
    db = _db(runs)
    try:
        for truth, url in ((hostile.html_truth, "/nb/2019.html"), (hostile.pdf_truth, "/nb/files/2020.pdf"),
                           (hostile.named_truth, "/nb/files/download?id=2016")):
            report = db.execute("select r.id from reports r join document_urls u on u.document_id = r.document_id "
                                "where u.url = ?", [hostile.case_url(url)]).fetchone()
            assert report, f"{url}: no report"
            cells = catalog.report_cells(db, report[0])
            assert cells["t3.new_received.total"] == truth["cells"]["t3.new_received.total"], url
            captured = db.execute("select count(*) from captures where url = ? and warc_type = 'response'",
                                  [hostile.case_url(url)]).fetchone()[0]
            assert captured >= 1, url
    finally:
        db.close()


def test_gzip_bomb_page_is_recorded_and_never_inflated_past_the_cap(runs, hostile):
    url = hostile.case_url("/nb/2021.html")
    db = _db(runs)
    try:
        failures = db.execute("select reason, detail from fetch_failures where url = ?", [url]).fetchall()
        # once per refresh: the second one's 304 could not be answered from the archive within the cap
        assert len(failures) >= 2 and {reason for reason, _ in failures} == {"size_cap"}, failures
        assert "DOWNLOAD_MAXSIZE" in failures[0][1]
        assert not db.execute("select 1 from documents where url = ?", [url]).fetchone()
    finally:
        db.close()
    conditional = [r for r in hostile.requests if r[1] == "/nb/2021.html" and r[2]]
    assert conditional, "the second refresh sent no validators for the bomb page"
    assert runs["second"]["peak"] < TREE_CEILING


def test_zip_bombs_fail_with_their_cause(runs, hostile):
    db = _db(runs)
    try:
        docx = _failure(db, hostile.case_url("/nb/files/2022.docx"))
        assert docx and docx.startswith(("memory limit", "decoded size limit")), docx
        assert "not well-formed" not in docx.split("(")[0]
        plain = _failure(db, hostile.case_url("/nb/files/2015.zip"))
        assert plain and plain.startswith(CAUSES), plain
    finally:
        db.close()


def test_a_300_mb_body_is_cut_marked_and_never_parsed(runs, hostile):
    url = hostile.case_url("/nb/files/2023.pdf")
    db = _db(runs)
    try:
        captures = db.execute("select truncated from captures where url = ? and warc_type = 'response'",
                              [url]).fetchall()
        assert captures and all(t == "length" for (t,) in captures)
        failures = db.execute("select reason, detail from fetch_failures where url = ?", [url]).fetchall()
        assert failures and failures[0][0] == "size_cap" and "WARC-Truncated: length" in failures[0][1]
        assert not db.execute("select 1 from document_urls where url = ?", [url]).fetchone()
        assert not db.execute("select 1 from reports where source_url = ?", [url]).fetchone()
    finally:
        db.close()


@pytest.mark.parametrize(("path", "cause"), [("/nb/files/2018.pdf", "encrypted PDF"),
                                             ("/nb/files/2017.pdf", "truncated input")],
                         ids=["encrypted", "truncated"])
def test_a_pdf_failure_reason_names_its_cause(runs, hostile, path, cause):
    db = _db(runs)
    try:
        reason = _failure(db, hostile.case_url(path))
        assert reason and reason.startswith(cause), reason
    finally:
        db.close()


def test_content_disposition_name_is_stored_clean_and_archived_raw(runs, hostile):
    url = hostile.case_url("/nb/files/download?id=2016")
    db = _db(runs)
    try:
        (filename,) = db.execute("select d.filename from documents d join document_urls u on u.document_id = d.id "
                                 "where u.url = ?", [url]).fetchone()
        capture = db.execute("select warc_file, offset from captures where url = ? and warc_type = 'response' "
                             "order by id limit 1", [url]).fetchone()
    finally:
        db.close()
    assert filename == "2016年报告X-Injected: 1.pdf", repr(filename)
    assert not any(ch in filename for ch in "\x00\r\n")
    with open(runs["data"] / "warc" / capture[0], "rb") as fh:
        fh.seek(capture[1])
        record = next(iter(ArchiveIterator(fh)))
        raw = record.http_headers.get_header("Content-Disposition")
    assert "%00" in raw and "%0D%0A" in raw and NASTY_NAME not in raw


# --------------------------------------------------------------------------- the stage and the reader alone


def _archive_gzip_bomb(data: Path) -> str:
    """A response record holding the gzip bomb as sent (Content-Encoding: gzip) and its document row."""
    import hashlib
    import io

    from hostile_server import gzip_bomb
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    body = gzip_bomb()
    url = "http://127.0.0.1:9/bomb.html"
    (data / "warc").mkdir(parents=True, exist_ok=True)
    with open(data / "warc" / "bomb.warc.gz", "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html"), ("Content-Encoding", "gzip"),
                                              ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
        record = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers,
                                           warc_headers_dict={"WARC-Date": "2024-03-01T08:00:00Z"})
        writer.write_record(record)
    sha256 = hashlib.sha256(body).hexdigest()
    db = catalog.open_catalog(data / "catalog.db")
    catalog.record_capture(db, {
        "url": url, "timestamp": "2024-03-01T08:00:00Z", "warc_type": "response", "status": 200,
        "record_id": record.rec_headers.get_header("WARC-Record-ID"), "content_type": "text/html",
        "payload_digest": record.rec_headers.get_header("WARC-Payload-Digest"), "sha256": sha256,
        "warc_file": "bomb.warc.gz", "offset": 0, "length": 0, "portal_id": "p"})
    catalog.record_document(db, {"portal_id": "p", "url": url, "kind": "report_page", "sha256": sha256,
                                 "warc_record_id": record.rec_headers.get_header("WARC-Record-ID")})
    db.close()
    return url


def test_the_parse_stage_never_inflates_an_archived_gzip_bomb(tmp_path):
    data = tmp_path / "data"
    _archive_gzip_bomb(data)
    proc = subprocess.Popen([sys.executable, "-m", "nianbao.cli", "parse", "--data", str(data), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watch = TreeWatch(proc)
    out, err = proc.communicate(timeout=300)
    watch.join()
    assert not watch.killed and watch.peak < TREE_CEILING / 2, f"peak {watch.peak / 1048576:.0f} MB"
    summary = json.loads(out)
    assert summary["failed"] == 1, err
    assert summary["failures"][0]["reason"].startswith("decoded size limit"), summary["failures"][0]["reason"]


def test_archive_read_back_is_capped(tmp_path):
    from archive.reader import DecodedSizeError, read_archived

    data = tmp_path / "data"
    url = _archive_gzip_bomb(data)
    with pytest.raises(DecodedSizeError, match="decodes to more than 1048576 bytes"):
        read_archived(data, url, max_decoded=1024 * 1024)


def test_reasons_name_the_cause_for_each_hostile_document():
    from hostile_server import encrypted_pdf

    from archive.stage import DocumentFailure, StageLimits, parse_with_limits

    limits = StageLimits(timeout_s=120, memory_mb=1024)
    half_pdf = Path(__file__).resolve().parents[1] / "nianbao" / "sample_portals" / "site" / "files"
    pdf = next(half_pdf.rglob("*.pdf")).read_bytes()
    for data, cause in ((encrypted_pdf(), "encrypted PDF"), (pdf[: len(pdf) // 2], "truncated input"),
                        (b"\x00\x01\x02 binary", "not a report")):
        with pytest.raises(DocumentFailure) as failed:
            parse_with_limits(data, "hostile", {}, limits)
        assert str(failed.value).startswith(cause), str(failed.value)[:300]


def test_file_names_lose_control_characters_and_are_capped():
    from crawler.charset import MAX_FILENAME_CHARS, clean_filename, filename_from_disposition

    assert filename_from_disposition(b'attachment; filename="a\x00b.pdf"') == "ab.pdf"
    assert filename_from_disposition("attachment; filename*=UTF-8''%E5%B9%B4%0D%0Ab%E2%80%AEfdp.exe") == "年bfdp.exe"
    long = clean_filename("报" * 500 + ".pdf")
    assert len(long) == MAX_FILENAME_CHARS and long.endswith(".pdf")
    assert clean_filename("\r\n\x00") is None


def test_a_document_whose_only_capture_is_size_capped_is_not_parsed(tmp_path):
    from catalog_builders import write_warc

    from archive import stage

    data = tmp_path / "data"
    body = "某局2023年政府信息公开工作年度报告\n".encode() * 100
    capture = write_warc(data, [("http://127.0.0.1:9/cut.txt", body, "text/plain")])[0]
    db = catalog.open_catalog(data / "catalog.db")
    catalog.record_capture(db, {**capture, "truncated": "length"})
    catalog.record_document(db, {"portal_id": "p", "url": capture["url"], "kind": "attachment",
                                 "sha256": capture["sha256"], "warc_record_id": capture["record_id"]})
    db.close()
    summary = stage.run_stage(data)
    assert (summary["parsed"], summary["failed"]) == (0, 1)
    reason = summary["failures"][0]["reason"]
    assert reason.startswith("truncated input") and "WARC-Truncated: length" in reason, reason


def test_a_readers_own_size_cap_is_reported_as_such():
    from archive.stage import failure_reason

    class ZipReadError(ValueError):
        pass

    try:
        try:
            raise ValueError("member report.xml inflates past 100 MB: compression ratio 1000:1")
        except ValueError as inner:
            raise ZipReadError("x.zip: cannot read the archive") from inner
    except ZipReadError as exc:
        reason = failure_reason(exc, b"PK\x03\x04...PK\x05\x06", 512)
    assert reason.startswith("decoded size limit: x.zip"), reason
