"""The catalog rebuilt from WARC files alone: `nianbao catalog rebuild --from-warc`.

The WARC files are the archive's source of truth. Every record but `metadata` becomes a `captures` row (where it is,
what it holds, the portal from the `Nianbao-Portal-Id` extension field); every `metadata` record the
crawl wrote for a catalogued document (its DocumentItem as JSON) becomes a `documents` row again, in the
order the crawl recorded them. Reports are the parser stage's output over those documents, so a rebuilt
catalog gets them by running the stage (`--parse`), exactly as the crawl-time catalog did.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlite_utils
from warcio.archiveiterator import ArchiveIterator

from catalog.records import record_captures, record_crawl_end, record_crawl_start, record_document
from catalog.schema import CatalogError

logger = logging.getLogger(__name__)

PORTAL_HEADER = "Nianbao-Portal-Id"  # archive.warc.PORTAL_HEADER (the catalog does not import archive/)
METADATA_CONTENT_TYPE = "application/warc-fields"
METADATA_FIELD = b"nianbao-document:"  # archive.capture.METADATA_FIELD
_READ_LIMIT = 1 << 20


def _sha256_of(stream: Any) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(_READ_LIMIT):
        digest.update(chunk)
    return digest.hexdigest()


def _document_field(body: bytes, path: Path, record_id: str | None) -> dict | None:
    for line in body.split(b"\r\n"):
        if line.startswith(METADATA_FIELD):
            try:
                return json.loads(line[len(METADATA_FIELD):].decode("ascii"))
            except ValueError as exc:
                logger.error("%s: metadata record %s holds no document JSON: %s", path, record_id, exc)
    return None


def warc_records(path: str | Path) -> Iterator[tuple[dict, dict | None]]:
    """(capture row without crawl_id, document item or None) for each record of one WARC file.

    The capture row has the keys of `catalog.record_captures`; the document item is the JSON body of a
    `metadata` record written for a catalogued document.
    """
    path = Path(path)
    with open(path, "rb") as fh:
        iterator = ArchiveIterator(fh, no_record_parse=False, arc2warc=False)
        for record in iterator:
            headers = record.rec_headers
            warc_type = record.rec_type
            http = record.http_headers
            row: dict[str, Any] = {
                "url": headers.get_header("WARC-Target-URI"),
                "timestamp": headers.get_header("WARC-Date"),
                "warc_type": warc_type,
                "record_id": headers.get_header("WARC-Record-ID"),
                "warc_file": path.name,
                "portal_id": headers.get_header(PORTAL_HEADER),
                "truncated": headers.get_header("WARC-Truncated"),
            }
            item = None
            if warc_type in ("response", "revisit"):
                row["status"] = int(http.get_statuscode()) if http and http.get_statuscode() else None
                row["content_type"] = http.get_header("Content-Type") if http else None
                row["etag"] = http.get_header("ETag") if http else None
                row["last_modified"] = http.get_header("Last-Modified") if http else None
                row["payload_digest"] = headers.get_header("WARC-Payload-Digest")
                if warc_type == "response":
                    row["sha256"] = _sha256_of(record.raw_stream)
                else:
                    row["revisit_of"] = headers.get_header("WARC-Refers-To")
                    row["refers_to_uri"] = headers.get_header("WARC-Refers-To-Target-URI")
                    row["refers_to_date"] = headers.get_header("WARC-Refers-To-Date")
            elif warc_type in ("resource", "conversion"):
                row["content_type"] = headers.get_header("Content-Type")
                row["payload_digest"] = headers.get_header("WARC-Payload-Digest")
                row["sha256"] = _sha256_of(record.raw_stream)
                if headers.get_header("WARC-Refers-To"):
                    row["refers_to_uri"] = headers.get_header("WARC-Refers-To-Target-URI")
                    row["refers_to_date"] = headers.get_header("WARC-Refers-To-Date")
            elif warc_type == "metadata":
                row["content_type"] = headers.get_header("Content-Type")
                row["revisit_of"] = headers.get_header("WARC-Refers-To")
                if row["content_type"] == METADATA_CONTENT_TYPE:
                    item = _document_field(record.raw_stream.read(_READ_LIMIT), path, row["record_id"])
            if warc_type == "warcinfo":
                row["url"] = None
            # offset and length are known once the iterator has read past the record
            iterator.read_to_end(record)
            row["offset"] = iterator.get_record_offset()
            row["length"] = iterator.get_record_length()
            yield row, item


def _revisit_sha256(db: sqlite_utils.Database, rows: list[dict], known: dict[str, str]) -> None:
    # A revisit's sha256 is its original's, which may sit in an earlier file or in the catalog.
    for row in rows:
        if row["warc_type"] == "revisit" and row.get("revisit_of") and not row.get("sha256"):
            sha = known.get(row["revisit_of"])
            if sha is None:
                found = db.execute("select sha256 from captures where record_id = ?",
                                   [row["revisit_of"]]).fetchone()
                sha = found[0] if found else None
            row["sha256"] = sha
        if row.get("sha256") and row["warc_type"] in ("response", "resource", "conversion"):
            known[row["record_id"]] = row["sha256"]


def _crawl_at(crawls: list[tuple[int, str]], timestamp: str | None) -> int | None:
    # the latest crawl started at or before the record (started_at has whole seconds)
    second = (timestamp or "")[:19] + "Z"
    return next((crawl_id for crawl_id, started in crawls if started and started <= second), None)


def index_warc_file(db: sqlite_utils.Database, path: str | Path, crawl_id: Any = None,
                    documents: bool = False, known: dict[str, str] | None = None) -> int:
    """List one WARC file's records in the catalog (records it already has are left as they are).

    Without `crawl_id` each record goes to the crawl that was running when it was written. With
    `documents`, each metadata record's document is recorded too. Returns the captures added.
    """
    rows, items = [], []
    crawls = db.execute("select id, started_at from crawls order by started_at desc, id desc").fetchall()
    for row, item in warc_records(path):
        if item is not None:
            items.append(item)
        if row["warc_type"] == "metadata":
            continue  # its catalog form is the documents row
        row["crawl_id"] = crawl_id if crawl_id is not None else _crawl_at(crawls, row["timestamp"])
        rows.append(row)
    known = {} if known is None else known
    _revisit_sha256(db, rows, known)
    added = record_captures(db, rows)
    if documents:
        for item in items:
            try:
                record_document(db, item)
            except CatalogError as exc:
                logger.error("%s: document %s not recorded: %s", path, item.get("url"), exc)
    return added


def _warc_date_order(path: Path) -> str:
    # Files are named PREFIX-TIMESTAMP-SERIAL-HOST; the timestamp orders workers' files together.
    parts = path.name.split("-")
    return (parts[-3] if len(parts) >= 4 else "") + path.name


def rebuild_catalog(db: sqlite_utils.Database, warc_dir: str | Path) -> dict[str, int]:
    """Fill an empty catalog from the closed WARC files of warc_dir; returns counts.

    One `crawls` row stands for everything rebuilt (the files do not say which run wrote them).
    """
    warc_dir = Path(warc_dir)
    if db.execute("select count(*) from captures").fetchone()[0]:
        raise CatalogError(f"{db.conn}: the catalog to rebuild into must be empty")
    files = sorted(warc_dir.glob("*.warc.gz"), key=_warc_date_order)
    if not files:
        raise CatalogError(f"{warc_dir}: no closed WARC files to rebuild from")
    crawl_id = record_crawl_start(db, f"rebuilt from {warc_dir}", {"source": "warc"})
    known: dict[str, str] = {}
    # Captures of every file first (revisits across files need their originals), documents after.
    items: list[tuple[str, dict]] = []
    for path in files:
        rows = []
        for row, item in warc_records(path):
            if item is not None:
                items.append((row["timestamp"] or "", item))
            if row["warc_type"] == "metadata":
                continue
            row["crawl_id"] = crawl_id
            rows.append(row)
        _revisit_sha256(db, rows, known)
        record_captures(db, rows)
    # in the order the crawl recorded them (the first crawl to see a field wins in record_document)
    items.sort(key=lambda pair: pair[0])
    for _, item in items:
        try:
            record_document(db, item)
        except CatalogError as exc:
            logger.error("document %s not recorded: %s", item.get("url"), exc)
    counts = {
        "files": len(files),
        "captures": db.execute("select count(*) from captures").fetchone()[0],
        "documents": db.execute("select count(*) from documents").fetchone()[0],
    }
    record_crawl_end(db, crawl_id, counts, "rebuilt")
    return counts
