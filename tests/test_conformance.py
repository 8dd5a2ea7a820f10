"""The WARC files of two sample-portal crawls read back and checked against the WARC 1.1 rules that
`warcio check` does not look at; then warcio check, cdxj-indexer and the WACZ export over them."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from warc_support import Rec, read_warcs, sample_crawls

from archive.cdxj import iter_index
from archive.wacz import ExportError, export_wacz

BIN = Path(sys.executable).parent
TARGET_TYPES = {"request", "response", "resource", "revisit", "conversion"}
PROFILES = {"http://netpreserve.org/warc/1.1/revisit/identical-payload-digest",
            "http://netpreserve.org/warc/1.1/revisit/server-not-modified"}
DIGEST_RE = re.compile(r"^sha1:[A-Z2-7]{32}$")


@pytest.fixture(scope="module")
def crawl(tmp_path_factory) -> dict:
    crawls = sample_crawls(tmp_path_factory)
    for run in ("first", "second"):
        assert crawls[run].returncode == 0, crawls[run].stderr[-3000:]
    files = sorted((crawls["data"] / "warc").glob("*.warc.gz"))
    assert files and not list((crawls["data"] / "warc").glob("*.open"))
    return {**crawls, "files": files, "records": read_warcs(crawls["data"] / "warc")}


def by_file(records: list[Rec]) -> dict[str, list[Rec]]:
    grouped: dict[str, list[Rec]] = {}
    for record in records:
        grouped.setdefault(record.file, []).append(record)
    return grouped


def test_warcio_check_passes_on_every_file(crawl) -> None:
    result = subprocess.run([str(BIN / "warcio"), "check", *map(str, crawl["files"])],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def test_mandatory_headers_target_uri_and_filename(crawl) -> None:
    for name, records in by_file(crawl["records"]).items():
        assert records[0].type == "warcinfo" and records[0].h("WARC-Filename") == name
        assert sum(r.type == "warcinfo" for r in records) == 1
        for r in records:
            for header in ("WARC-Record-ID", "WARC-Date", "WARC-Type", "Content-Length"):
                assert r.h(header), (name, r.offset, header)
            assert re.match(r"^<urn:uuid:[0-9a-f-]{36}>$", r.h("WARC-Record-ID"))
            assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", r.h("WARC-Date"))
            if r.type in TARGET_TYPES:
                assert r.h("WARC-Target-URI"), (name, r.offset)
            else:
                assert r.h("WARC-Target-URI") is None
            if r.type != "warcinfo":
                assert r.h("WARC-Filename") is None, (name, r.offset)
            assert DIGEST_RE.match(r.h("WARC-Block-Digest") or ""), (name, r.offset)
            if r.type in ("response", "revisit", "resource", "conversion"):
                assert DIGEST_RE.match(r.h("WARC-Payload-Digest") or ""), (name, r.offset)
    info = crawl["records"][0].payload.decode()
    for field in ("software: nianbao/", "hostname: ", "operator: ", "robots: obey", "format: WARC File Format 1.1"):
        assert field in info


def test_requests_pair_with_responses_and_carry_the_full_request_target(crawl) -> None:
    records = crawl["records"]
    mains = {r.h("WARC-Record-ID"): r for r in records if r.type in ("response", "revisit")}
    requests = [r for r in records if r.type == "request"]
    partners = [r.h("WARC-Concurrent-To") for r in requests]
    assert sorted(partners) == sorted(mains), "every response/revisit has exactly one request"
    with_query = 0
    for request in requests:
        main = mains[request.h("WARC-Concurrent-To")]
        assert main.file == request.file
        assert main.h("WARC-Date") == request.h("WARC-Date")
        assert main.h("WARC-Target-URI") == request.h("WARC-Target-URI")
        url = urlsplit(request.h("WARC-Target-URI"))
        target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        method, line_target, version = request.request_line.split(" ")
        assert (line_target, version) == (target, "HTTP/1.1") and method in ("GET", "POST", "HEAD")
        with_query += bool(url.query)
        assert dict((k.lower(), v) for k, v in request.http)["host"] == url.netloc
    assert with_query >= 1, "the sample portals have query-string URLs (data endpoints, pagination)"


def test_responses_keep_status_lines_repeated_headers_and_encoded_bodies(crawl) -> None:
    responses = [r for r in crawl["records"] if r.type in ("response", "revisit")]
    for r in responses:
        assert r.protocol in ("HTTP/1.0", "HTTP/1.1")
        assert re.match(r"^[1-5]\d\d [A-Za-z].*$", r.statusline), r.statusline
    assert any(len(r.http_all("Set-Cookie")) == 2 for r in responses)
    gzipped = [r for r in responses if r.type == "response" and r.http_all("Content-Encoding") == ["gzip"]]
    assert gzipped and all(gzip.decompress(r.payload) for r in gzipped)
    statuses = {r.statusline.split(" ")[0] for r in responses}
    assert {"200", "404"} <= statuses and statuses & {"301", "302", "503", "412"}
    assert not [r for r in responses if r.http_all("Transfer-Encoding")]


def test_revisits_refer_to_archived_records(crawl) -> None:
    records = crawl["records"]
    by_id = {r.h("WARC-Record-ID"): r for r in records}
    revisits = [r for r in records if r.type == "revisit"]
    assert revisits
    for r in revisits:
        assert r.h("WARC-Profile") in PROFILES
        assert r.h("WARC-Refers-To-Target-URI") and r.h("WARC-Refers-To-Date")
        original = by_id[r.h("WARC-Refers-To")]
        assert original.type == "response"
        assert original.h("WARC-Target-URI") == r.h("WARC-Refers-To-Target-URI")
        assert original.h("WARC-Date") == r.h("WARC-Refers-To-Date")
        assert original.h("WARC-Payload-Digest") == r.h("WARC-Payload-Digest")
        assert r.payload == b""  # a revisit holds the HTTP headers only
        sha1 = hashlib.sha1(original.payload).digest()
        assert r.h("WARC-Payload-Digest") == "sha1:" + base64.b32encode(sha1).decode()


def test_second_crawl_writes_revisits_not_copies(crawl) -> None:
    first = [r for r in crawl["records"] if r.file in crawl["first_files"]]
    second = [r for r in crawl["records"] if r.file not in crawl["first_files"]]
    assert second, "the second crawl wrote its own file"
    known = {r.h("WARC-Payload-Digest") for r in first if r.type == "response" and r.payload
             and not r.h("WARC-Truncated")}
    again = [r for r in second if r.type in ("response", "revisit") and r.h("WARC-Payload-Digest") in known]
    assert len(again) >= 20
    copies = [r.h("WARC-Target-URI") for r in again if r.type == "response"]
    assert copies == []
    stats = re.search(r"'warc/revisits': (\d+)", crawl["second"].stderr)
    assert stats and int(stats.group(1)) == sum(r.type == "revisit" for r in second)


def test_cdxj_indexes_are_current_and_cdxj_indexer_reads_every_file(crawl) -> None:
    indexes = sorted((crawl["data"] / "indexes").glob("*.cdxj"))
    assert [p.stem for p in indexes] == [f.name.removesuffix(".warc.gz") for f in crawl["files"]]
    entries = list(iter_index(crawl["data"]))
    indexed_types = [r for r in crawl["records"] if r.type in ("response", "revisit", "resource")]
    assert len(entries) == len(indexed_types)
    offsets = {(r.file, r.offset) for r in indexed_types}
    assert {(e["filename"], int(e["offset"])) for e in entries} == offsets
    result = subprocess.run([str(BIN / "cdxj-indexer"), *map(str, crawl["files"])], capture_output=True, text=True)
    assert result.returncode == 0 and len(result.stdout.splitlines()) == len(entries)


def test_wacz_export_holds_pages_and_datapackage_digest(crawl, tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "nianbao.cli", "export", "wacz", str(tmp_path / "archive.wacz"),
                             "--data", str(crawl["data"])], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    out = Path(result.stdout.strip())
    assert out == tmp_path / "archive.wacz"
    with zipfile.ZipFile(out) as wacz:
        names = set(wacz.namelist())
        assert {"pages/pages.jsonl", "datapackage.json", "datapackage-digest.json",
                "indexes/index.cdx.gz"} <= names
        assert {f"archive/{f.name}" for f in crawl["files"]} <= names
        pages = [json.loads(line) for line in wacz.read("pages/pages.jsonl").decode().splitlines()]
        assert pages[0]["format"] == "json-pages-1.0"
        assert len(pages) > 5 and all(p["url"].startswith("http://127.0.0.1:") and p["ts"] for p in pages[1:])
        package = wacz.read("datapackage.json")
        digest = json.loads(wacz.read("datapackage-digest.json"))
        assert digest["hash"] == "sha256:" + hashlib.sha256(package).hexdigest()
        assert json.loads(package)["wacz_version"] == "1.1.1"
    result = subprocess.run([str(BIN / "wacz"), "validate", "-f", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-1000:]


def test_wacz_export_of_an_empty_archive_names_the_directory(tmp_path: Path) -> None:
    (tmp_path / "warc").mkdir()
    with pytest.raises(ExportError, match=re.escape(str(tmp_path / "warc"))):
        export_wacz(tmp_path, tmp_path / "out.wacz")


def test_rendered_dom_is_a_conversion_of_the_browsers_own_response(crawl) -> None:
    records = crawl["records"]
    by_id = {r.h("WARC-Record-ID"): r for r in records}
    conversions = [r for r in records if r.type == "conversion"]
    assert conversions, "the JavaScript-rendered portal is fetched through the browser"
    for dom in conversions:
        source = by_id[dom.h("WARC-Refers-To")]
        assert source.type in ("response", "revisit")
        assert source.h("WARC-Target-URI") == dom.h("WARC-Target-URI") == dom.h("WARC-Refers-To-Target-URI")
        assert source.h("WARC-Date") == dom.h("WARC-Refers-To-Date") <= dom.h("WARC-Date")
        assert dom.h("Content-Type").startswith("text/html") and b"<html" in dom.payload.lower()
