"""The capture middleware against a local site: bytes as sent, revisits, 304s, cut bodies, the browser.

Two crawls of the same site go into one DATA_DIR (warc_support.probe_crawls): the second must
write revisits for every unchanged payload, and also renders a JavaScript page in Chromium.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import sqlite3

import pytest
from warc_support import MAXSIZE, Rec, probe_crawls, read_warcs

from archive.capture import HTTP_CAPTURE_NOTES
from archive.reader import read_archived, read_document


@pytest.fixture(scope="module")
def probe(tmp_path_factory) -> dict:
    crawls = probe_crawls(tmp_path_factory)
    for run in ("first", "second"):
        assert crawls[run].returncode == 0, crawls[run].stderr[-3000:]
    records = read_warcs(crawls["data"] / "warc")
    files = sorted({r.file for r in records})
    assert len(files) == 2, files
    return {**crawls, "records": records, "first_file": files[0], "second_file": files[1]}


def main_records(records: list[Rec], path: str, file: str | None = None) -> list[Rec]:
    return [r for r in records if r.type in ("response", "revisit")
            and (r.h("WARC-Target-URI") or "").split("/", 3)[-1] == path.lstrip("/")
            and (file is None or r.file == file)]


def closing_stat(stderr: str, key: str) -> int:
    match = re.search(rf"'{re.escape(key)}': (\d+)", stderr)
    return int(match.group(1)) if match else 0


def test_gzip_body_is_archived_encoded_as_sent(probe) -> None:
    gz = main_records(probe["records"], "gz?lang=zh&page=2", probe["first_file"])
    # fetched twice (directly and through /redirect): the second is a revisit of the first
    assert [r.type for r in gz] == ["response", "revisit"]
    rec = gz[0]
    assert rec.http_all("Content-Encoding") == ["gzip"]
    assert rec.payload[:2] == b"\x1f\x8b"
    assert "新收政府信息公开申请数量" in gzip.decompress(rec.payload).decode()
    # the parser-facing read-back undoes the content-coding
    assert "上年结转" in read_archived(probe["data"], rec.h("WARC-Target-URI")).body.decode()


def test_chunked_body_is_stored_dechunked_and_the_change_is_recorded(probe) -> None:
    [rec] = main_records(probe["records"], "chunked", probe["first_file"])
    assert json.loads(rec.payload) == {"rows": [{"year": 2023, "n": 37}]}
    assert not rec.http_all("Transfer-Encoding")
    info = [r for r in probe["records"] if r.type == "warcinfo"][0]
    assert b"chunked transfer coding already removed" in info.payload
    assert HTTP_CAPTURE_NOTES.encode() in info.payload


def test_repeated_headers_query_strings_and_post_bodies(probe) -> None:
    [cookies] = main_records(probe["records"], "cookies", probe["first_file"])
    assert cookies.http_all("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/; HttpOnly"]
    posts = [r for r in probe["records"] if r.type == "request" and r.request_line.startswith("POST")]
    assert posts and posts[0].request_line == "POST /post?form=1 HTTP/1.1"
    assert posts[0].payload == b"year=2023&q=%E5%B9%B4%E6%8A%A5"
    missing = [r for r in probe["records"] if r.type == "request" and "/missing" in r.h("WARC-Target-URI")]
    assert missing[0].request_line == "GET /missing?x=1 HTTP/1.1"
    [teapot] = main_records(probe["records"], "teapot", probe["first_file"])
    assert teapot.protocol == "HTTP/1.1" and teapot.statusline.startswith("418 ")


def test_not_modified_is_a_revisit_of_the_earlier_capture(probe) -> None:
    etag = main_records(probe["records"], "etag", probe["first_file"])
    assert [r.type for r in etag] == ["response", "revisit"]
    original, not_modified = etag
    assert not_modified.statusline.startswith("304")
    assert not_modified.h("WARC-Profile").endswith("/revisit/server-not-modified")
    assert not_modified.h("WARC-Refers-To") == original.h("WARC-Record-ID")
    assert not_modified.h("WARC-Refers-To-Date") == original.h("WARC-Date")
    assert not_modified.h("WARC-Refers-To-Target-URI") == original.h("WARC-Target-URI")
    assert not [r for r in probe["records"] if r.type == "response" and r.statusline.startswith("304")]
    # read back by URL, the latest capture is the 304 revisit and it yields the earlier payload
    assert read_archived(probe["data"], original.h("WARC-Target-URI")).body == original.payload


def test_oversized_body_is_cut_at_download_maxsize_and_marked(probe) -> None:
    [big] = main_records(probe["records"], "big.pdf", probe["first_file"])
    assert big.h("WARC-Truncated") == "length"
    assert len(big.payload) == MAXSIZE
    item = next(i for i in probe["first"].items if i["url"].endswith("/big.pdf"))
    # the record is cut exactly; the spider's response holds what arrived (the cap plus the last read)
    assert item["truncated"] == "length" and MAXSIZE <= item["length"] < MAXSIZE + 1024 * 1024


def test_identical_payload_at_another_url_is_a_revisit(probe) -> None:
    same = main_records(probe["records"], "same-a", probe["first_file"]) + \
        main_records(probe["records"], "same-b", probe["first_file"])
    assert sorted(r.type for r in same) == ["response", "revisit"]
    response = next(r for r in same if r.type == "response")
    revisit = next(r for r in same if r.type == "revisit")
    assert revisit.h("WARC-Profile").endswith("/revisit/identical-payload-digest")
    assert revisit.h("WARC-Payload-Digest") == response.h("WARC-Payload-Digest")
    assert revisit.h("WARC-Refers-To-Target-URI") == response.h("WARC-Target-URI")


def test_second_crawl_writes_revisits_for_every_unchanged_payload(probe) -> None:
    first = [r for r in probe["records"] if r.file == probe["first_file"]]
    second = [r for r in probe["records"] if r.file == probe["second_file"]]
    archived = {r.h("WARC-Payload-Digest") for r in first if r.type == "response" and r.payload
                and not r.h("WARC-Truncated")}
    again = [r for r in second if r.type in ("response", "revisit")
             and r.h("WARC-Payload-Digest") in archived]
    assert len(again) >= 8
    assert all(r.type == "revisit" for r in again), [r.h("WARC-Target-URI") for r in again if r.type != "revisit"]
    revisits = [r for r in second if r.type == "revisit"]
    assert closing_stat(probe["second"].stderr, "warc/revisits") == len(revisits)
    assert closing_stat(probe["second"].stderr, "warc/revisits/identical-payload-digest") == \
        sum(r.h("WARC-Profile").endswith("identical-payload-digest") for r in revisits)


def test_meta_carries_record_id_and_payload_sha256(probe) -> None:
    by_id = {r.h("WARC-Record-ID"): r for r in probe["records"]}
    items = [i for i in probe["first"].items if i["status"] == 200 and not i["truncated"]]
    assert len(items) >= 6
    for item in items:
        record = by_id[item["record_id"]]
        assert record.h("WARC-Target-URI") == item["url"]
        if record.type == "response":
            assert hashlib.sha256(record.payload).hexdigest() == item["sha256"]
        assert read_document(probe["data"], sha256=item["sha256"])


def test_catalog_lists_every_record_with_its_offset(probe) -> None:
    conn = sqlite3.connect(probe["data"] / "catalog.db")
    rows = conn.execute("select record_id, warc_type, warc_file, offset, url, revisit_of from captures").fetchall()
    conn.close()
    by_id = {r.h("WARC-Record-ID"): r for r in probe["records"]}
    assert {row[0] for row in rows} == set(by_id)
    for record_id, warc_type, warc_file, offset, url, revisit_of in rows:
        record = by_id[record_id]
        assert (record.type, record.file, record.offset) == (warc_type, warc_file, offset)
        assert url == record.h("WARC-Target-URI")
        if warc_type == "revisit":
            assert revisit_of == record.h("WARC-Refers-To")


def test_browser_page_network_traffic_and_rendered_dom(probe) -> None:
    second = [r for r in probe["records"] if r.file == probe["second_file"]]
    [page] = main_records(second, "js")
    [data] = main_records(second, "data.json")
    assert page.type == "response" and page.statusline == "200 OK"
    assert json.loads(data.payload)["rows"][0] == ["新收政府信息公开申请数量", 37]
    requests = {r.h("WARC-Concurrent-To"): r for r in second if r.type == "request"}
    assert requests[data.h("WARC-Record-ID")].h("WARC-Date") == data.h("WARC-Date")
    [dom] = [r for r in second if r.type == "conversion"]
    assert dom.h("WARC-Refers-To") == page.h("WARC-Record-ID")
    assert dom.h("WARC-Target-URI") == page.h("WARC-Target-URI")
    assert b"<td>37</td>" in dom.payload and b"<td>37</td>" not in page.payload
    item = next(i for i in probe["second"].items if i["url"].endswith("/js"))
    assert item["record_id"] == dom.h("WARC-Record-ID")
    assert "<td>37</td>" in item["text"]


def test_responses_served_from_scrapys_cache_are_not_archived_again(probe) -> None:
    cached = [r for r in probe["records"] if (r.h("WARC-Target-URI") or "").endswith("/cached")]
    assert {r.file for r in cached} == {probe["first_file"]}
    assert [r.type for r in cached] == ["response", "request"]
    item = next(i for i in probe["second"].items if i["url"].endswith("/cached"))
    assert "cached" in item["flags"] and item["record_id"] is None
    assert closing_stat(probe["second"].stderr, "warc/skipped_cached") >= 1
    assert closing_stat(probe["first"].stderr, "warc/skipped_cached") == 0


def test_reader_finds_records_through_the_cdxj_index_without_a_catalog(probe, tmp_path) -> None:
    import shutil

    for sub in ("warc", "indexes"):
        shutil.copytree(probe["data"] / sub, tmp_path / sub)
    url = probe["base"] + "/chunked"
    from_index = read_archived(tmp_path, url)
    from_catalog = read_archived(probe["data"], url)
    assert from_index.body == from_catalog.body == b'{"rows": [{"year": 2023, "n": 37}]}'
    assert (from_index.warc_file, from_index.offset) == (from_catalog.warc_file, from_catalog.offset)
    # the first crawl's capture, by date
    first = read_archived(tmp_path, url, date="2000-01-01")
    assert first.warc_file < from_index.warc_file and first.warc_type == "response"
