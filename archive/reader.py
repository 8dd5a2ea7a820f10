"""Read archived records back from DATA_DIR: URL (and optional date) → the bytes the crawl received.

The record is found through the catalog's `captures` rows (file and offset) or, without a catalog,
through the CDXJ indexes, then read by seeking straight to it. Revisits are followed to the record
that holds the payload. Bodies come back with transfer and content codings undone (what a parser
wants); `raw_body` keeps the payload exactly as stored.

Undoing a content coding is streamed and capped (`max_decoded`, default `MAX_DECODED_BYTES`): a gzip
bomb that is 2 MB in the archive is never inflated past the cap, in the crawl (a 304 answered from the
archive) or in the parser stage; `DecodedSizeError` says so.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from archive.cdxj import iter_index

PAYLOAD_TYPES = ("response", "revisit", "resource", "conversion")
# The most bytes an archived payload may decode to: the crawl's own decoded-size cap (DOWNLOAD_MAXSIZE).
MAX_DECODED_BYTES = 200 * 1024 * 1024
_DECODE_CHUNK = 1024 * 1024


class ArchiveLookupError(LookupError):
    """Nothing archived matches; the message names the URL, digest or WARC file."""


class DecodedSizeError(ValueError):
    """An archived payload decodes to more than the cap; the message names the record and the cap."""

    def __init__(self, where: str, limit: int) -> None:
        self.limit = limit
        super().__init__(f"{where}: the payload decodes to more than {limit} bytes "
                         f"({limit / 1048576:g} MB cap); not inflated further")


@dataclass
class ArchivedRecord:
    """One record read back, with its payload (from the revisited record for a revisit)."""

    url: str
    date: str
    record_id: str
    warc_type: str
    warc_file: str
    offset: int
    status: int | None
    headers: list[tuple[str, str]]
    content_type: str | None
    body: bytes
    raw_body: bytes
    truncated: str | None = None
    warc_headers: dict[str, str] = field(default_factory=dict)


def _timestamp14(value: str) -> str:
    """A WARC-Date, ISO date or 14-digit timestamp as `YYYYmmddHHMMSS` (padded)."""
    digits = "".join(ch for ch in value if ch.isdigit())[:14]
    return digits.ljust(14, "0")


def _distance(ts14: str, target14: str) -> float:
    fmt = "%Y%m%d%H%M%S"
    try:
        a = datetime.strptime(ts14, fmt).replace(tzinfo=UTC)
        b = datetime.strptime(target14, fmt).replace(tzinfo=UTC)
    except ValueError:
        return float("inf")
    return abs((a - b).total_seconds())


def _catalog_rows(data_dir: Path, where: str, args: list) -> list[dict]:
    path = data_dir / "catalog.db"
    if not path.exists():
        return []
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error:
        return []
    try:
        conn.row_factory = sqlite3.Row
        cursor = conn.execute(
            "select url, timestamp, warc_type, record_id, warc_file, offset, truncated, sha256, "
            f"payload_digest from captures where {where} order by timestamp", args)
        return [dict(row) for row in cursor]
    except sqlite3.Error:
        return []  # a catalog without captures yet: fall back to the indexes
    finally:
        conn.close()


def _index_rows(data_dir: Path, url: str) -> list[dict]:
    rows = []
    for entry in iter_index(data_dir):
        if entry.get("url") == url:
            rows.append({"url": url, "timestamp": entry["timestamp"], "warc_type": None,
                         "record_id": None, "warc_file": entry["filename"], "offset": int(entry["offset"]),
                         "truncated": None, "sha256": None, "payload_digest": entry.get("digest")})
    return rows


def find_captures(data_dir: str | Path, url: str) -> list[dict]:
    """Every capture of url holding (or revisiting) a payload, oldest first: catalog rows, else CDXJ."""
    data_dir = Path(data_dir)
    placeholders = ", ".join("?" for _ in PAYLOAD_TYPES)
    rows = _catalog_rows(data_dir, f"url = ? and warc_type in ({placeholders})", [url, *PAYLOAD_TYPES])
    return rows or _index_rows(data_dir, url)


def _pick(rows: list[dict], date: str | None) -> dict:
    # Network responses before derived records (a rendered DOM), unless only those exist.
    primary = [r for r in rows if r["warc_type"] != "conversion"] or rows
    if date is None:
        return primary[-1]
    target = _timestamp14(date)
    return min(primary, key=lambda r: (_distance(_timestamp14(r["timestamp"]), target), -rows.index(r)))


def read_record_at(data_dir: str | Path, warc_file: str, offset: int, follow_revisit: bool = True,
                   max_decoded: int = MAX_DECODED_BYTES) -> ArchivedRecord:
    """Read the record at warc_file (relative to DATA_DIR/warc) and offset; a revisit is followed.

    Raises DecodedSizeError when the payload decodes to more than max_decoded bytes (0: no cap).
    """
    data_dir = Path(data_dir)
    path = data_dir / "warc" / warc_file
    if not path.exists():
        raise ArchiveLookupError(f"{path}: WARC file not found")
    with open(path, "rb") as fh:
        fh.seek(offset)
        try:
            record = next(iter(ArchiveIterator(fh)))
        except StopIteration:
            raise ArchiveLookupError(f"{path}@{offset}: no WARC record there") from None
        warc_headers = dict(record.rec_headers.headers)
        http = record.http_headers
        headers = list(http.headers) if http else []
        status = int(http.get_statuscode()) if http and record.rec_type in ("response", "revisit") else None
        raw = record.raw_stream.read()
    body = _decoded(path, offset, max_decoded) if record.rec_type == "response" else raw
    result = ArchivedRecord(
        url=warc_headers.get("WARC-Target-URI", ""), date=warc_headers.get("WARC-Date", ""),
        record_id=warc_headers.get("WARC-Record-ID", ""), warc_type=record.rec_type, warc_file=warc_file,
        offset=offset, status=status, headers=headers,
        content_type=(http.get_header("Content-Type") if http else warc_headers.get("Content-Type")),
        body=body, raw_body=raw, truncated=warc_headers.get("WARC-Truncated"), warc_headers=warc_headers,
    )
    if record.rec_type == "revisit" and follow_revisit:
        original = _revisited(data_dir, warc_headers, max_decoded)
        result.body, result.raw_body = original.body, original.raw_body
        result.truncated = original.truncated
    return result


def _decoded(path: Path, offset: int, max_decoded: int = MAX_DECODED_BYTES) -> bytes:
    """The payload with chunking and content-coding undone, read in chunks and capped at max_decoded.

    The raw payload comes back when it does not decode; DecodedSizeError when it decodes past the cap.
    """
    with open(path, "rb") as fh:
        fh.seek(offset)
        record = next(iter(ArchiveIterator(fh)))
        try:
            stream = record.content_stream()
            parts, size = [], 0
            while chunk := stream.read(_DECODE_CHUNK):
                size += len(chunk)
                if max_decoded and size > max_decoded:
                    raise DecodedSizeError(f"{path.name}@{offset}", max_decoded)
                parts.append(chunk)
            return b"".join(parts)
        except DecodedSizeError:
            raise
        except Exception:
            pass
    with open(path, "rb") as fh:
        fh.seek(offset)
        return next(iter(ArchiveIterator(fh))).raw_stream.read()


def _revisited(data_dir: Path, warc_headers: dict[str, str], max_decoded: int = MAX_DECODED_BYTES) -> ArchivedRecord:
    refers_to = warc_headers.get("WARC-Refers-To")
    if refers_to:
        rows = _catalog_rows(data_dir, "record_id = ?", [refers_to])
        if rows:
            return read_record_at(data_dir, rows[0]["warc_file"], rows[0]["offset"], follow_revisit=False,
                                  max_decoded=max_decoded)
    uri = warc_headers.get("WARC-Refers-To-Target-URI")
    date = warc_headers.get("WARC-Refers-To-Date")
    if uri and date:
        digest = warc_headers.get("WARC-Payload-Digest")
        for row in find_captures(data_dir, uri):
            same_time = _timestamp14(row["timestamp"]) == _timestamp14(date)
            if same_time and row["warc_type"] in (None, "response", "resource") and (
                    not digest or not row["payload_digest"] or row["payload_digest"] == digest):
                return read_record_at(data_dir, row["warc_file"], row["offset"], follow_revisit=False,
                                      max_decoded=max_decoded)
    raise ArchiveLookupError(
        f"revisit {warc_headers.get('WARC-Record-ID')} of {warc_headers.get('WARC-Target-URI')}: "
        f"the revisited record ({refers_to or uri} {date or ''}) is not in the archive")


def read_archived(data_dir: str | Path, url: str, date: str | None = None,
                  max_decoded: int = MAX_DECODED_BYTES) -> ArchivedRecord:
    """The capture of url nearest to date (the latest without one), read by seeking to its record."""
    rows = find_captures(data_dir, url)
    if not rows:
        raise ArchiveLookupError(f"{url}: not in the archive at {data_dir}")
    row = _pick(rows, date)
    return read_record_at(data_dir, row["warc_file"], row["offset"], max_decoded=max_decoded)


def read_document(data_dir: str | Path, url: str | None = None, sha256: str | None = None,
                  date: str | None = None, max_decoded: int = MAX_DECODED_BYTES) -> bytes:
    """The decoded bytes of an archived document, by URL (+date) or by its payload sha256.

    Raises DecodedSizeError when they would be more than max_decoded bytes.
    """
    data_dir = Path(data_dir)
    if sha256:
        where = "sha256 = ? and warc_type in ('response', 'resource', 'conversion') and truncated is null"
        rows = _catalog_rows(data_dir, where, [sha256])
        if url:
            rows = [r for r in rows if r["url"] == url] or rows
        if rows:
            return read_record_at(data_dir, rows[-1]["warc_file"], rows[-1]["offset"],
                                  max_decoded=max_decoded).body
    if not url:
        raise ArchiveLookupError(f"sha256 {sha256}: no archived payload with this digest in {data_dir}")
    return read_archived(data_dir, url, date, max_decoded).body
