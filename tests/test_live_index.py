"""The CDXJ index a crawl writes as it closes each WARC file equals cdxj-indexer's index of that file,
and the lean record encoder writes records every reader takes (stored members for incompressible bodies)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import zlib
from pathlib import Path

from warc_support import read_warcs

from archive.capture import Exchange, ExchangeArchive
from archive.cdxj import INDEX_SUFFIX, PART_SUFFIX, index_warc, update_indexes

WARCIO = str(Path(sys.executable).parent / "warcio")


def _exchange(url: str, body: bytes, status: int = 200, content_type: str = "text/html; charset=utf-8",
              method: str = "GET", request_body: bytes = b"") -> Exchange:
    return Exchange(url=url, method=method, request_headers=[("Host", "example.test")], request_body=request_body,
                    status=status, reason="OK", response_headers=[("Content-Type", content_type)], body=body,
                    portal_id="p")


def _crawl(archive: ExchangeArchive, with_post: bool = False) -> None:
    rng = random.Random(7)
    page = ("<html><body>" + "年报公开" * 3000 + "</body></html>").encode()
    noise = rng.randbytes(200_000)  # a compressed attachment's bytes
    archive.archive(_exchange("http://example.test/a.html", page))
    archive.archive(_exchange("http://example.test/b.html?x=1&y=2", page))  # identical payload: a revisit
    archive.archive(_exchange("http://example.test/doc.pdf", noise, content_type=" application/pdf"))
    archive.archive(_exchange("http://example.test/empty", b"", status=204, content_type=""))
    archive.archive(_exchange("http://example.test/a.html", b"", status=304))  # server-not-modified
    cut = _exchange("http://example.test/cut.pdf", noise + b"tail", content_type="application/pdf")
    cut.body, cut.truncated = memoryview(cut.body)[:150_000], "length"
    archive.archive(cut)
    main = archive.archive(_exchange("http://example.test/r.html", page + b"r"))
    archive.archive_document("conversion", "http://example.test/r.html", b"<html>dom</html>", "text/html",
                             refers_to=main, refers_to_uri="http://example.test/r.html", portal_id="p")
    archive.archive_document("resource", "http://example.test/res.txt", b"resource body", "text/plain; x=1",
                             refers_to=None, portal_id="p")
    archive.archive_metadata({"url": "http://example.test/a.html", "sha256": "0" * 64,
                              "warc_record_id": main.record_id, "portal_id": "p"})
    if with_post:
        archive.archive(_exchange("http://example.test/search", page + b"post", method="POST", request_body=b"q=%E5%B9%B4"))


def test_live_index_is_cdxj_indexers_index(tmp_path: Path) -> None:
    archive = ExchangeArchive(tmp_path, "test", 1 << 30, {"software": "test"})
    _crawl(archive)
    [name] = archive.close()
    live = (tmp_path / "indexes" / (name[: -len(".warc.gz")] + INDEX_SUFFIX)).read_text(encoding="utf-8")
    assert not list((tmp_path / "indexes").glob(f"*{PART_SUFFIX}"))
    reference = index_warc(tmp_path / "warc" / name, tmp_path / "reference.cdxj").read_text(encoding="utf-8")
    assert live == reference
    assert len(live.splitlines()) == 8  # 7 responses/revisits and the resource; not the conversion or metadata
    assert update_indexes(tmp_path) == []  # fresh: nothing re-read from the WARC
    check = subprocess.run([WARCIO, "check", "-v", str(tmp_path / "warc" / name)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_index_is_the_same_after_the_wacz_package_is_imported(tmp_path: Path) -> None:
    import wacz.waczindexer  # noqa: F401 - appends "warcinfo" to cdxj-indexer's default record types

    test_live_index_is_cdxj_indexers_index(tmp_path)


def test_a_file_with_a_post_request_is_indexed_by_cdxj_indexer(tmp_path: Path) -> None:
    archive = ExchangeArchive(tmp_path, "test", 1 << 30, {"software": "test"})
    _crawl(archive, with_post=True)
    [name] = archive.close()
    index = tmp_path / "indexes" / (name[: -len(".warc.gz")] + INDEX_SUFFIX)
    assert not index.exists()
    assert update_indexes(tmp_path) == [index]
    assert "__wb_method=post" in index.read_text(encoding="utf-8")


def test_incompressible_bodies_are_stored_and_read_back_whole(tmp_path: Path) -> None:
    archive = ExchangeArchive(tmp_path, "test", 1 << 30, {"software": "test"})
    noise = random.Random(3).randbytes(100_000)
    page = ("<p>" + "政府信息公开" * 5000 + "</p>").encode()
    written_noise = archive.archive(_exchange("http://example.test/n.pdf", noise, content_type="application/pdf"))
    written_page = archive.archive(_exchange("http://example.test/p.html", page))
    [name] = archive.close()
    data = (tmp_path / "warc" / name).read_bytes()
    noise_member = written_noise.written[0]
    page_member = written_page.written[0]
    # stored: the member is larger than the body; the page is deflated well below its size
    assert noise_member.length > len(noise)
    assert page_member.length < len(page) / 5
    assert zlib.decompress(data[noise_member.offset:noise_member.offset + noise_member.length], 31).endswith(
        noise + b"\r\n\r\n")
    bodies = {r.h("WARC-Target-URI"): r.payload for r in read_warcs(tmp_path / "warc") if r.type == "response"}
    assert bodies == {"http://example.test/n.pdf": noise, "http://example.test/p.html": page}


def test_a_killed_crawls_live_lines_are_removed(tmp_path: Path) -> None:
    archive = ExchangeArchive(tmp_path, "test", 1 << 30, {"software": "test"})
    _crawl(archive)
    parts = list((tmp_path / "indexes").glob(f"*{PART_SUFFIX}"))
    assert len(parts) == 1
    update_indexes(tmp_path)  # the file is still `.open`: its writer is alive
    assert parts[0].exists()
    archive.writer._fh.close()  # the process is gone; its file is repaired by the next start
    archive.writer._fh = None
    restarted = ExchangeArchive(tmp_path, "test", 1 << 30, {"software": "test"})
    restarted.close()
    update_indexes(tmp_path)
    assert not list((tmp_path / "indexes").glob(f"*{PART_SUFFIX}"))
    indexes = sorted(p.name for p in (tmp_path / "indexes").iterdir())
    warcs = sorted(p.name[: -len(".warc.gz")] + INDEX_SUFFIX for p in (tmp_path / "warc").iterdir())
    assert indexes == warcs and os.path.getsize(tmp_path / "indexes" / indexes[0]) > 0
