"""WARC file writing with warcio: records, files, rotation and repair.

Files are `PREFIX-TIMESTAMP-SERIAL-HOST.warc.gz`, one gzip member per record, each starting with a
`warcinfo` record. A file being written carries an extra `.open` suffix and an exclusive `flock`; it is
renamed when closed. A file left `.open` by a killed process is repaired at the next start: cut back to
its last complete record (a gzip member that decompresses to its end and passes its CRC) and closed.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import http.client
import io
import logging
import os
import re
import socket
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from warcio.recordbuilder import RecordBuilder
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

logger = logging.getLogger(__name__)

WARC_VERSION = "WARC/1.1"
OPEN_SUFFIX = ".open"
WARC_SUFFIX = ".warc.gz"
PROFILE_IDENTICAL_PAYLOAD = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
PROFILE_SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
# Headers that describe the transfer rather than the entity: when the body is stored decoded
# they are kept under this prefix (pywb's convention) so the record stays self-consistent.
ORIGINAL_HEADER_PREFIX = "X-Archive-Orig-"
# A WARC extension field: the registry id of the portal an exchange belongs to.
PORTAL_HEADER = "Nianbao-Portal-Id"

_builder = RecordBuilder(warc_version=WARC_VERSION)


def warc_date(when: datetime | None = None) -> str:
    """A WARC-Date (UTC, microseconds, as WARC 1.1 allows)."""
    when = (when or datetime.now(UTC)).astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_record_id() -> str:
    """A fresh `<urn:uuid:...>` record id."""
    return _builder._make_warc_id()


def reason_phrase(status: int) -> str:
    """The standard reason phrase for a status (the HTTP client does not keep the server's own)."""
    return http.client.responses.get(status, "Unknown")


def request_target(url: str) -> str:
    """The request-target of the request line: path with params and the full query string."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


# --------------------------------------------------------------------------- records


def request_record(
    url: str, method: str, headers: list[tuple[str, str]], body: bytes, date: str, record_id: str,
    concurrent_to: str, http_version: str = "HTTP/1.1", portal_id: str | None = None,
) -> ArcWarcRecord:
    """A `request` record: the request line with the full query string, headers as sent, the body."""
    http_headers = StatusAndHeaders(
        f"{method} {request_target(url)} {http_version}", headers, is_http_request=True
    )
    warc_headers = {"WARC-Record-ID": record_id, "WARC-Date": date, "WARC-Concurrent-To": concurrent_to,
                    **_portal_header(portal_id)}
    return _with_digests(url, "request", body, http_headers, warc_headers)


def _portal_header(portal_id: str | None) -> dict[str, str]:
    # The registry id travels in the WARC so a catalog can be rebuilt from the files alone.
    return {PORTAL_HEADER: portal_id} if portal_id else {}


def _with_digests(url: str, warc_type: str, body: bytes | memoryview, http_headers: StatusAndHeaders | None,
                  warc_headers: dict[str, str], payload_digest: str | None = None,
                  warc_content_type: str = "") -> ArcWarcRecord:
    """A record with both digests already set, so warcio never hashes the body again.

    The payload digest is the caller's when it has one (the capture computes it once for dedup and the
    catalog); the block digest is one pass over the serialised HTTP headers and the body.
    """
    payload_digest = payload_digest or sha1_digest(body)
    if http_headers is None:
        block_digest = payload_digest  # the block is the payload
    else:
        http_headers.compute_headers_buffer(None)
        block = hashlib.sha1(http_headers.headers_buff)
        block.update(body)
        block_digest = "sha1:" + base64.b32encode(block.digest()).decode("ascii")
    fields = [*warc_headers.items(), ("WARC-Payload-Digest", payload_digest),
              ("WARC-Block-Digest", block_digest), ("WARC-Type", warc_type)]
    if url:
        fields.append(("WARC-Target-URI", url))
    # what warcio's RecordBuilder.create_warc_record makes of these, with the headers in its order,
    # built directly: its header rewrites and digest checks cost more than the record itself
    record = ArcWarcRecord("warc", warc_type, StatusAndHeaders("", fields, protocol=WARC_VERSION),
                           _payload_stream(body), http_headers,
                           warc_content_type or warc_headers.get("Content-Type")
                           or _builder.WARC_RECORDS.get(warc_type, "application/warc-record"), len(body))
    record.payload_length = len(body)
    return record


class _ViewReader(io.RawIOBase):
    """A seekable reader over a memoryview: a cut body is archived without copying it."""

    def __init__(self, view: memoryview) -> None:
        self.view, self.pos = view.cast("B"), 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # noqa: ANN001 - any writable buffer
        n = max(0, min(len(buffer), len(self.view) - self.pos))
        buffer[:n] = self.view[self.pos:self.pos + n]
        self.pos += n
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: len(self.view)}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def tell(self) -> int:
        return self.pos


def _payload_stream(body: bytes | memoryview) -> io.RawIOBase | io.BytesIO:
    # BytesIO shares a bytes object's buffer but would copy a memoryview
    return _ViewReader(body) if isinstance(body, memoryview) else io.BytesIO(body)


def response_record(
    url: str, status: int, reason: str, headers: list[tuple[str, str]], body: bytes | memoryview, date: str,
    record_id: str, http_version: str = "HTTP/1.1", extra: dict[str, str] | None = None,
    payload_digest: str | None = None, portal_id: str | None = None,
) -> ArcWarcRecord:
    """A `response` record: status line, headers and body bytes as received."""
    http_headers = StatusAndHeaders(f"{status} {reason}".strip(), headers, protocol=http_version)
    warc_headers = {"WARC-Record-ID": record_id, "WARC-Date": date, **(extra or {}),
                    **_portal_header(portal_id)}
    return _with_digests(url, "response", body, http_headers, warc_headers, payload_digest)


def revisit_record(
    url: str, profile: str, payload_digest: str | None, status: int, reason: str,
    headers: list[tuple[str, str]], date: str, record_id: str, refers_to: str | None,
    refers_to_uri: str | None, refers_to_date: str | None, http_version: str = "HTTP/1.1",
    portal_id: str | None = None,
) -> ArcWarcRecord:
    """A `revisit` record (HTTP headers only) of an earlier capture, with its WARC-Refers-To* fields."""
    http_headers = StatusAndHeaders(f"{status} {reason}".strip(), headers, protocol=http_version)
    warc_headers = {"WARC-Record-ID": record_id, "WARC-Date": date, **_portal_header(portal_id)}
    record = _builder.create_warc_record(url, "revisit", http_headers=http_headers,
                                         warc_headers_dict=warc_headers)
    record.rec_headers.add_header("WARC-Profile", profile)
    if refers_to:
        record.rec_headers.add_header("WARC-Refers-To", refers_to)
    if refers_to_uri:
        record.rec_headers.add_header("WARC-Refers-To-Target-URI", refers_to_uri)
    if refers_to_date:
        record.rec_headers.add_header("WARC-Refers-To-Date", refers_to_date)
    if payload_digest:
        record.rec_headers.add_header("WARC-Payload-Digest", payload_digest)
    return record


def document_record(
    warc_type: str, url: str, body: bytes, content_type: str, date: str, record_id: str,
    refers_to: str | None = None, refers_to_uri: str | None = None, refers_to_date: str | None = None,
    payload_digest: str | None = None, portal_id: str | None = None,
) -> ArcWarcRecord:
    """A `resource`, `conversion` or `metadata` record (no HTTP headers), optionally tied by WARC-Refers-To."""
    warc_headers = {"WARC-Record-ID": record_id, "WARC-Date": date, "Content-Type": content_type,
                    **_portal_header(portal_id)}
    if refers_to:
        warc_headers["WARC-Refers-To"] = refers_to
    if refers_to_uri:
        warc_headers["WARC-Refers-To-Target-URI"] = refers_to_uri
    if refers_to_date:
        warc_headers["WARC-Refers-To-Date"] = refers_to_date
    return _with_digests(url, warc_type, body, None, warc_headers, payload_digest,
                         warc_content_type=content_type)


_EMPTY_SHA1 = "sha1:" + base64.b32encode(hashlib.sha1(b"").digest()).decode("ascii")


def sha1_digest(body: bytes) -> str:
    """`sha1:BASE32`, the form of WARC-Payload-Digest and WARC-Block-Digest."""
    if not body:
        return _EMPTY_SHA1  # every GET request's payload
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def payload_digests(body: bytes) -> tuple[str, str]:
    """(`sha1:BASE32` as WARC-Payload-Digest, sha256 hex) of a payload."""
    return sha1_digest(body), hashlib.sha256(body).hexdigest()


def encode_record(record: ArcWarcRecord) -> bytes:
    """A record serialised as one gzip member: pure, so it may run on a worker thread."""
    return _encode(record)[0]


def _encode(record: ArcWarcRecord) -> tuple[bytes, tuple | None]:
    """(gzip member, CDXJ fields) of a record; see `index_fields` for the second."""
    parts = _record_parts(record)
    if parts is None:
        # what the fast path does not cover (warcinfo, records without digests): warcio writes it
        sink = io.BytesIO()
        WARCWriter(GzipMembers(sink), gzip=False, warc_version=WARC_VERSION).write_record(record)
        return sink.getvalue(), index_fields(record)
    head, http_block, body = parts
    return gzip_member(head, http_block, body), index_fields(record)


def _record_parts(record: ArcWarcRecord) -> tuple[bytes, bytes, bytes | memoryview] | None:
    """The WARC head, HTTP head and body of a record whose digests and length are set, or None.

    The bytes warcio's writer would produce, without its per-16 KB copies and stream reads: the body
    is taken as a view of the buffer it is already in.
    """
    headers = record.rec_headers
    if record.length is None or not headers.get_header("WARC-Block-Digest"):
        return None
    if record.rec_type not in _builder.NO_PAYLOAD_DIGEST_TYPES and not headers.get_header("WARC-Payload-Digest"):
        return None
    http_block = b""
    if record.http_headers:
        record.http_headers.compute_headers_buffer(None)
        http_block = record.http_headers.headers_buff
    if record.rec_type == "revisit":
        body: bytes | memoryview = b""
    else:
        body = _stream_view(record.raw_stream, record.length)
        if body is None:
            return None
    if record.content_type is not None:
        headers.replace_header("Content-Type", record.content_type)
    headers.replace_header("Content-Length", str(len(http_block) + len(body)))
    return headers.to_bytes(encoding="utf-8"), http_block, body


def _stream_view(stream, length: int | None) -> memoryview | None:  # noqa: ANN001 - a payload stream
    """The unread part of an in-memory payload stream, without copying it (None for other streams)."""
    if isinstance(stream, io.BytesIO):
        view = stream.getbuffer()[stream.tell():]
    elif isinstance(stream, _ViewReader):
        view = stream.view[stream.pos:]
    else:
        return None
    return view if length is None else view[:length]


# Bodies at least this large are tested for compressibility before they are gzipped (see gzip_member).
INCOMPRESSIBLE_MIN_BYTES = 32 * 1024
_SAMPLE_BYTES = 8 * 1024


def _incompressible(body: bytes | memoryview) -> bool:
    """Whether deflate would save under 10 % of body, judged from a sample of its middle.

    PDFs, DOCX/ZIP/OFD and images are compressed already: deflating them at level 6 costs ~2 ms per
    140 KB PDF to save 2-3 %. A sample of 8 KB at level 1 decides in a few microseconds.
    """
    middle = len(body) // 2
    sample = body[middle:middle + _SAMPLE_BYTES]
    squeezer = zlib.compressobj(1)
    return len(squeezer.compress(sample)) + len(squeezer.flush()) > 0.9 * len(sample)


def _window(size: int) -> tuple[int, int]:
    """(wbits for a gzip member, memLevel) for deflating `size` bytes: a window no larger than the data.

    zlib sizes its state by these (about 2**(wbits+2) + 2**(memLevel+9) bytes, 256 KB at the defaults),
    and setting that up cost more than compressing a request record or a metadata record. A window that
    holds the whole input finds every match the full one would; memLevel follows wbits as zlib's own
    defaults pair them (15 and 8).
    """
    wbits = min(zlib.MAX_WBITS, max(9, (size - 1).bit_length()))
    return 16 + wbits, max(1, wbits - 7)


def gzip_member(*parts: bytes | memoryview) -> bytes:
    """One gzip member holding parts in order; the last part (the body) decides the level.

    An incompressible body is stored (deflate level 0: still a gzip member every reader takes, with
    its CRC) instead of spending the CPU of level 6 on it.
    """
    body = parts[-1]
    level = 0 if len(body) >= INCOMPRESSIBLE_MIN_BYTES and _incompressible(body) else GzipMembers.LEVEL
    compressor = zlib.compressobj(level, zlib.DEFLATED, *_window(sum(len(part) for part in parts) + 4))
    out = [compressor.compress(part) for part in parts]
    out.append(compressor.compress(b"\r\n\r\n"))
    out.append(compressor.flush())
    return b"".join(out)


# cdxj-indexer's defaults (archive/cdxj.py indexes with them): records indexed, the mime's cut
CDXJ_RECORDS = ("response", "revisit", "resource", "metadata")
_MIME_CUT = re.compile(r"[;\s]")


def index_fields(record: ArcWarcRecord) -> tuple | None:
    """What cdxj-indexer (default fields, POST bodies appended) would index of a record, taken from the
    record as written: (url, WARC-Date, fields) with fields url, mime, status and digest as it has
    them; None when it indexes nothing; `UNINDEXED` when only cdxj-indexer itself can index the file
    (a POST or PUT request, whose body it folds into the URL key, or a record without a URL).
    """
    headers = record.rec_headers
    kind = record.rec_type
    if kind == "request":
        method = record.http_headers.protocol.upper() if record.http_headers else ""
        return UNINDEXED if method in ("POST", "PUT") else None
    if kind not in CDXJ_RECORDS:
        return None
    content_type = headers.get_header("Content-Type")
    if kind in ("resource", "metadata") and content_type == "application/warc-fields":
        return None
    url = headers.get_header("WARC-Target-URI")
    date = headers.get_header("WARC-Date")
    if not url or not date:
        return UNINDEXED
    fields: dict[str, str] = {"url": url}
    if kind == "revisit":
        mime = "warc/revisit"
    elif kind == "response":
        mime = record.http_headers.get_header("Content-Type") if record.http_headers else None
    else:
        mime = content_type
    if mime is not None:
        mime = mime.strip()  # as a reader parses the header back
        fields["mime"] = _MIME_CUT.split(mime, 1)[0].strip() if mime else mime
    if kind in ("response", "revisit") and record.http_headers:
        fields["status"] = record.http_headers.get_statuscode()
    digest = headers.get_header("WARC-Payload-Digest")
    if digest:
        fields["digest"] = digest
    return (url, date, fields)


UNINDEXED = ("unindexed",)


@dataclass
class EncodedRecord:
    """A record ready to append: its id, type, WARC headers and gzip member bytes."""

    record_id: str
    warc_type: str
    headers: dict[str, str]
    data: bytes
    index: tuple | None = None  # what the CDXJ index lists of it (index_fields)


def encode_records(records: list[ArcWarcRecord]) -> list[EncodedRecord]:
    """Serialise and compress a record group (the costly part of writing; safe off the reactor thread)."""
    encoded = []
    for record in records:
        data, index = _encode(record)
        headers = dict(record.rec_headers.headers)
        encoded.append(EncodedRecord(headers.get("WARC-Record-ID", ""), record.rec_type, headers, data, index))
    return encoded


# --------------------------------------------------------------------------- files


@dataclass
class WrittenRecord:
    """Where a record landed: the closed file name (relative to the WARC directory), offset, length."""

    record_id: str
    warc_type: str
    warc_file: str
    offset: int
    length: int
    headers: dict[str, str] = field(default_factory=dict)


def warc_file_name(prefix: str, serial: int, host: str | None = None, when: datetime | None = None) -> str:
    """`PREFIX-YYYYmmddHHMMSSffffff-SERIAL-HOST.warc.gz` (the closed name)."""
    when = (when or datetime.now(UTC)).astimezone(UTC)
    host = (host or socket.gethostname()).replace("-", "_").replace("/", "_") or "localhost"
    return f"{prefix}-{when.strftime('%Y%m%d%H%M%S%f')}-{serial:05d}-{host}{WARC_SUFFIX}"



class GzipMembers:
    """A file wrapper that writes each record (up to warcio's flush) as its own gzip member.

    warcio compresses at level 9, which costs about twice the CPU of level 6 for a few per cent
    smaller files; an archive written during the crawl is better served by the default level.
    """

    LEVEL = 6

    def __init__(self, fh: io.BufferedWriter) -> None:
        self.fh = fh
        self._compressor = zlib.compressobj(self.LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)

    def write(self, data: bytes) -> None:
        self.fh.write(self._compressor.compress(data))

    def flush(self) -> None:
        """End the gzip member (one record) and start the next."""
        self.fh.write(self._compressor.flush())
        self._compressor = zlib.compressobj(self.LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)


class WarcFileWriter:
    """Writes record groups to rotating `.warc.gz` files in one directory.

    A group (a response and its request) always lands in one file; a new file is started before a
    group once the current one has reached `max_size` bytes.
    """

    def __init__(self, directory: str | Path, prefix: str = "nianbao", max_size: int = 1024**3,
                 warcinfo: dict[str, str] | None = None,
                 on_warcinfo: Callable[[WrittenRecord], None] | None = None,
                 before_rotate: Callable[[], None] | None = None, host: str | None = None,
                 index: Any = None) -> None:
        self.on_warcinfo = on_warcinfo  # told of each new file's warcinfo record
        # told of each record written and each file closed (archive.cdxj.LiveIndex), or None
        self.index = index
        self.before_rotate = before_rotate  # called before a full file is closed (flush pending rows)
        self.host = host  # the name's last part: the machine, or a worker id
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        self.max_size = max_size
        self.warcinfo = dict(warcinfo or {})
        self.serial = 0
        self.closed_files: list[str] = []
        self._fh: io.BufferedWriter | None = None
        self._name: str | None = None
        self._offset = 0

    @property
    def current_file(self) -> str | None:
        """The closed name of the file being written, if one is open."""
        return self._name

    def _open(self) -> None:
        self._name = warc_file_name(self.prefix, self.serial, self.host)
        self.serial += 1
        path = self.directory / (self._name + OPEN_SUFFIX)
        self._fh = open(path, "xb")  # noqa: SIM115 - held open across many writes
        self._offset = 0  # kept here: tell() on a flushed writer is a system call per record
        fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        info = self._append(encode_records([_builder.create_warcinfo_record(self._name, self.warcinfo)]))[0]
        if self.on_warcinfo is not None:
            self.on_warcinfo(info)

    def _append(self, group: list[EncodedRecord]) -> list[WrittenRecord]:
        assert self._fh is not None and self._name is not None
        written = []
        for record in group:
            offset = self._offset
            self._fh.write(record.data)
            self._offset += len(record.data)
            written.append(WrittenRecord(record.record_id, record.warc_type, self._name, offset,
                                         len(record.data), record.headers))
            if self.index is not None and record.index is not None:
                self.index.add(self._name, record.index, offset, len(record.data))
        # in the kernel's hands once flushed: a SIGKILL of the crawler loses nothing written
        self._fh.flush()
        return written

    def write(self, records: list[ArcWarcRecord]) -> list[WrittenRecord]:
        """Write a group of records to one file (rotating first if the file is full); flushed."""
        return self.append(encode_records(records))

    def append(self, group: list[EncodedRecord]) -> list[WrittenRecord]:
        """Append an encoded group to one file (rotating first if the file is full); flushed."""
        if self._fh is not None and self._offset >= self.max_size:
            if self.before_rotate is not None:
                self.before_rotate()
            self.close()
        if self._fh is None:
            self._open()
        return self._append(group)

    def close(self) -> str | None:
        """Close the current file and drop its `.open` suffix; returns the closed name."""
        if self._fh is None:
            return None
        name = self._name
        assert name is not None
        self._fh.flush()
        os.fsync(self._fh.fileno())
        os.replace(self.directory / (name + OPEN_SUFFIX), self.directory / name)
        self._fh.close()  # releases the lock, after the rename so no repair can race it
        self._fh = self._name = None
        self.closed_files.append(name)
        if self.index is not None:
            self.index.file_closed(self.directory / name)
        return name


# --------------------------------------------------------------------------- repair


@dataclass
class RepairResult:
    """What repairing one `.open` file did."""

    path: Path
    closed_as: Path | None
    kept_records: int
    kept_bytes: int
    lost_bytes: int


def complete_members(fh: io.BufferedReader, start: int = 0) -> list[tuple[int, int, str]]:
    """(offset, end, WARC-Type) of each complete gzip member from start (a member's offset), up to the
    first broken one."""
    members: list[tuple[int, int, str]] = []
    offset = start
    buf = b""  # compressed bytes read but not yet consumed
    fh.seek(start)
    while True:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        head = b""
        consumed = 0
        while True:
            if not buf:
                buf = fh.read(1 << 20)
                if not buf:
                    return members  # the file ends here, inside or before a member
            try:
                # bounded output: a small compressed chunk may inflate to a great deal
                out = inflater.decompress(buf, 1 << 16)
            except zlib.error:
                return members
            if len(head) < 4096:
                head += out[: 4096 - len(head)]
            if inflater.eof:
                rest = inflater.unused_data
                consumed += len(buf) - len(rest)
                buf = rest
                break
            rest = inflater.unconsumed_tail
            consumed += len(buf) - len(rest)
            buf = rest
        if not head.startswith(b"WARC/"):
            return members
        warc_type = ""
        for line in head.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
            if line.lower().startswith(b"warc-type:"):
                warc_type = line.split(b":", 1)[1].strip().decode("ascii", "replace")
        members.append((offset, offset + consumed, warc_type))
        offset += consumed


def repair_open_file(path: str | Path) -> RepairResult:
    """Cut an `.open` WARC back to its last complete record group and close it under its final name.

    A response whose request never made it is dropped too, so every kept exchange is whole. A file with
    no complete record is removed.
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as fh:
        members = complete_members(fh)
    # Responses are written before their request; a trailing response lost its pair.
    while members and members[-1][2] in ("response", "revisit") and len(members) > 1:
        members.pop()
    if members and members[-1][2] == "warcinfo" and len(members) == 1:
        members = []
    keep = members[-1][1] if members else 0
    closed = path.with_name(path.name[: -len(OPEN_SUFFIX)])
    if keep == 0:
        path.unlink()
        closed_as = None
    else:
        with open(path, "r+b") as fh:
            fh.truncate(keep)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(path, closed)
        closed_as = closed
    return RepairResult(path=path, closed_as=closed_as, kept_records=len(members), kept_bytes=keep,
                        lost_bytes=size - keep)


def repair_open_files(directory: str | Path) -> list[RepairResult]:
    """Repair every `.open` file in directory that no live writer holds; logs what was lost."""
    results = []
    for path in sorted(Path(directory).glob(f"*{WARC_SUFFIX}{OPEN_SUFFIX}")):
        try:
            with open(path, "rb") as probe:
                try:
                    fcntl.flock(probe.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    logger.info("%s: being written by a running crawl, left alone", path)
                    continue
                result = repair_open_file(path)
        except OSError as exc:
            logger.error("%s: cannot repair leftover WARC file: %s", path, exc)
            continue
        logger.warning(
            "%s: repaired leftover WARC file: kept %d records (%d bytes), lost %d bytes%s", path,
            result.kept_records, result.kept_bytes, result.lost_bytes,
            f"; closed as {result.closed_as.name}" if result.closed_as else "; nothing complete, removed",
        )
        results.append(result)
    return results


def closed_warc_files(directory: str | Path) -> list[Path]:
    """The closed `.warc.gz` files of a directory, oldest name first."""
    return sorted(Path(directory).glob(f"*{WARC_SUFFIX}"))
