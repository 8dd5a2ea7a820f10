"""Archive every HTTP exchange of a crawl as WARC records, as the server sent it.

`WarcCaptureMiddleware` sits at order 950, next to the download handler: it sees each response before
HttpCompressionMiddleware (590) decodes it and before RedirectMiddleware (600) or RetryMiddleware (550)
act on it, so redirects, errors, robots.txt and retried answers are all archived with their body and
`Content-Encoding` as received. What Scrapy's HTTP/1.1 client changes is written into every file's
warcinfo (`http-capture-notes`): chunked transfer coding is already removed (Twisted de-chunks and
keeps `Transfer-Encoding`/`Connection` to itself, so they are absent), header names are canonicalised,
and the reason phrase, which Scrapy drops, is the standard one for the status.

Browser-rendered pages (`playwright` requests) are archived from the browser's own network events:
each response the page loads becomes a request/response pair (with the browser's real status text;
the browser hands over bodies decoded, so transfer headers are kept as `X-Archive-Orig-*`), and the
rendered DOM Scrapy receives becomes a `conversion` record that refers to the page's main response.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured, StopDownload
from scrapy.http import Response

from archive.cdxj import LiveIndex, update_indexes
from archive.warc import (
    ORIGINAL_HEADER_PREFIX,
    PROFILE_IDENTICAL_PAYLOAD,
    PROFILE_SERVER_NOT_MODIFIED,
    WARC_VERSION,
    EncodedRecord,
    WarcFileWriter,
    WrittenRecord,
    document_record,
    encode_records,
    new_record_id,
    payload_digests,
    reason_phrase,
    repair_open_files,
    request_record,
    response_record,
    revisit_record,
    warc_date,
)
from catalog import DOCUMENT_KEYS, open_catalog, record_captures

logger = logging.getLogger(__name__)

HTTP_CAPTURE_NOTES = (
    "responses fetched by Scrapy's HTTP/1.1 client are stored with the body as received (content-coding "
    "kept, chunked transfer coding already removed by the client); Transfer-Encoding, Connection and "
    "Keep-Alive are not visible to the client and so are absent; header names are canonicalised and "
    "repeated headers kept in order; the reason phrase is the standard phrase for the status code "
    "because the client does not keep the server's. Responses captured from the browser carry the "
    "browser's status text and decoded bodies, with Content-Encoding, Content-Length and "
    "Transfer-Encoding kept as X-Archive-Orig-* headers."
)
METADATA_CONTENT_TYPE = "application/warc-fields"
METADATA_FIELD = "nianbao-document"  # the metadata record's field that holds a DocumentItem as JSON
# Headers that no longer describe a body the browser has already decoded.
_TRANSFER_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}


@dataclass
class Exchange:
    """One HTTP request and its response, as they went over the wire."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    body: bytes
    http_version: str = "HTTP/1.1"
    truncated: str | None = None
    portal_id: str | None = None


@dataclass
class Archived:
    """What archiving one exchange produced."""

    record_id: str
    warc_type: str
    date: str
    sha256: str | None
    payload_digest: str | None
    written: list[WrittenRecord] = field(default_factory=list)


@dataclass
class _Original:
    record_id: str
    url: str
    date: str
    payload_digest: str | None
    sha256: str | None


@dataclass
class _Plan:
    """An exchange's records, built and deduplicated, not yet written."""

    date: str
    main_id: str
    request_id: str
    kind: str
    profile: str | None
    digest: str | None
    sha256: str | None
    revisit_of: _Original | None
    records: list


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    name = name.lower()
    return next((v for k, v in headers if k.lower() == name), None)


class ExchangeArchive:
    """Writes exchanges as WARC records, deduplicates payloads and lists every record in the catalog."""

    def __init__(self, data_dir: str | Path, prefix: str, max_size: int, warcinfo: dict[str, str],
                 stats: Any = None, crawl_id: Any = None, batch_rows: int = 1,
                 batch_seconds: float = 0.0, thread_min_bytes: int = 1 << 62,
                 worker_id: str | None = None, digest_index: Any = None) -> None:
        self.data_dir = Path(data_dir)
        self.warc_dir = self.data_dir / "warc"
        self.stats = stats
        self.crawl_id = crawl_id  # a value or a callable returning the current crawl's id
        self.repaired = repair_open_files(self.warc_dir) if self.warc_dir.is_dir() else []
        # each file's CDXJ index is written as the file closes, from the records written to it
        self.index = LiveIndex(self.data_dir / "indexes")
        self.writer = WarcFileWriter(self.warc_dir, prefix=prefix, max_size=max_size, warcinfo=warcinfo,
                                     on_warcinfo=self._warcinfo_written, before_rotate=self.flush,
                                     host=worker_id, index=self.index)
        self._by_digest: dict[str, _Original] = {}
        self._by_url: dict[str, _Original] = {}
        self.batch_rows = batch_rows
        self.batch_seconds = batch_seconds
        self.thread_min_bytes = thread_min_bytes
        self.digest_index = digest_index  # shared across workers (crawler/distributed.py), or None
        self._pending: list[dict] = []
        self._flushed_at = time.monotonic()
        self.db = self._open_catalog()

    # -- catalog

    def _open_catalog(self) -> Any:
        try:
            return open_catalog(self.data_dir / "catalog.db")
        except Exception as exc:  # the archive is still written without a catalog
            logger.error("%s: catalog unavailable, WARC captures are not listed: %s",
                         self.data_dir / "catalog.db", exc)
            return None

    def _current_crawl_id(self) -> Any:
        return self.crawl_id() if callable(self.crawl_id) else self.crawl_id

    def _record(self, *captures: dict) -> None:
        """Queue written records for the catalog; listed per batch (rows or seconds), in one transaction.

        A row still queued when the process is killed is not lost: its record is in the `.open` WARC
        file, and the restart lists every record of a repaired file (`reconcile`).
        """
        if self.db is None:
            return
        crawl_id = self._current_crawl_id()
        for capture in captures:
            capture.setdefault("crawl_id", crawl_id)
        self._pending.extend(captures)
        if len(self._pending) >= self.batch_rows or time.monotonic() - self._flushed_at >= self.batch_seconds:
            self.flush()

    def flush(self) -> None:
        """List every queued record in the catalog now, in one transaction."""
        self._flushed_at = time.monotonic()
        if not self._pending or self.db is None:
            return
        pending, self._pending = self._pending, []
        try:
            record_captures(self.db, pending)
        except Exception as exc:
            logger.error("%s: cannot list %d WARC records (%s ...) in the catalog: %s", pending[0].get("url"),
                         len(pending), pending[0].get("record_id"), exc)
        self.count("warc/catalog_batches")

    def reconcile(self) -> int:
        """List in the catalog every record of the files repaired at start that it lacks; returns how many.

        The documents their `metadata` records describe are recorded too: the pipeline writes documents
        per batch, so a killed crawl may have left some only in the WARC.
        """
        if self.db is None:
            return 0
        from catalog.rebuild import index_warc_file

        added = 0
        for result in self.repaired:
            if result.closed_as is not None:
                added += index_warc_file(self.db, result.closed_as, documents=True)
        if added:
            logger.warning("listed %d WARC records the catalog lacked after an interrupted crawl", added)
            self.count("warc/reconciled_records", added)
        return added

    def _warcinfo_written(self, info: WrittenRecord) -> None:
        self.count("warc/files")
        self.count("warc/records")
        self._record({
            "url": None, "timestamp": info.headers.get("WARC-Date"), "warc_type": "warcinfo",
            "record_id": info.record_id, "warc_file": info.warc_file, "offset": info.offset,
            "length": info.length,
        })

    def _claim_digest(self, original: _Original) -> None:
        self._by_digest.setdefault(original.payload_digest, original)

    def _share_digest(self, original: _Original) -> None:
        # told to the cluster only once written: a worker killed before writing never leaves others
        # revisits of a record that does not exist
        if self.digest_index is not None:
            self.digest_index.claim(original)

    def _lookup_digest(self, digest: str, sha256: str) -> _Original | None:
        if digest in self._by_digest:
            return self._by_digest[digest]
        if self.digest_index is not None:
            found = self.digest_index.lookup(digest, sha256)
            if found is not None:
                original = _Original(*found)
                self._by_digest[digest] = original
                return original
        if self.db is None:
            return None
        # by sha256, which the catalog indexes; the payload digest must agree as well
        row = self.db.execute(
            "select record_id, url, timestamp, payload_digest, sha256 from captures "
            "where sha256 = ? and payload_digest = ? and warc_type in ('response', 'resource') "
            "and truncated is null order by timestamp limit 1", [sha256, digest]).fetchone()
        if row is None:
            return None
        original = _Original(*row)
        self._by_digest[digest] = original
        return original

    def _lookup_url(self, url: str) -> _Original | None:
        """The latest complete 2xx capture of url, resolved to the response that holds its payload."""
        if url in self._by_url:
            return self._by_url[url]
        if self.digest_index is not None and (shared := self.digest_index.lookup_url(url)) is not None:
            return _Original(*shared)  # what any worker of the cluster archived last
        if self.db is None:
            return None
        row = self.db.execute(
            "select record_id, url, timestamp, payload_digest, sha256, warc_type, revisit_of, "
            "refers_to_uri, refers_to_date from captures where url = ? and status between 200 and 299 "
            "and warc_type in ('response', 'revisit') and truncated is null "
            "order by timestamp desc limit 1", [url]).fetchone()
        if row is None:
            return None
        if row[5] == "revisit" and row[6]:
            return _Original(row[6], row[7] or url, row[8], row[3], row[4])
        return _Original(*row[:5])

    def count(self, key: str, by: int = 1) -> None:
        """Add to a crawl stat (the `warc/*` counters of the closing stats)."""
        if self.stats is not None:
            self.stats.inc_value(key, by)

    # -- writing

    def archive(self, ex: Exchange) -> Archived:
        """Write one exchange: response (or revisit) then its request, both with the same WARC-Date."""
        plan = self._plan(ex, payload_digests(ex.body))
        return self._commit(ex, plan, encode_records(plan.records))

    async def archive_async(self, ex: Exchange) -> Archived:
        """`archive`, with digests and gzip of a large body done on a worker thread.

        hashlib and zlib release the GIL, so a big attachment no longer stalls the reactor; small
        pages are written inline, where a thread hop would cost more than it saves.
        """
        if len(ex.body) < self.thread_min_bytes:
            return self.archive(ex)
        plan = self._plan(ex, await asyncio.to_thread(payload_digests, ex.body))
        return self._commit(ex, plan, await asyncio.to_thread(encode_records, plan.records))

    def _plan(self, ex: Exchange, digests: tuple[str, str]) -> _Plan:
        date = warc_date()
        main_id, request_id = new_record_id(), new_record_id()
        digest, sha256 = digests
        revisit_of: _Original | None = None
        if ex.status == 304:
            revisit_of = self._lookup_url(ex.url)
            main = revisit_record(
                ex.url, PROFILE_SERVER_NOT_MODIFIED, revisit_of.payload_digest if revisit_of else None,
                ex.status, ex.reason, ex.response_headers, date, main_id,
                *((revisit_of.record_id, revisit_of.url, revisit_of.date) if revisit_of else (None,) * 3),
                http_version=ex.http_version, portal_id=ex.portal_id,
            )
            kind, profile = "revisit", "server-not-modified"
            digest = revisit_of.payload_digest if revisit_of else None
            sha256 = revisit_of.sha256 if revisit_of else None
        elif ex.body and not ex.truncated and (revisit_of := self._lookup_digest(digest, sha256)):
            main = revisit_record(
                ex.url, PROFILE_IDENTICAL_PAYLOAD, digest, ex.status, ex.reason, ex.response_headers,
                date, main_id, revisit_of.record_id, revisit_of.url, revisit_of.date,
                http_version=ex.http_version, portal_id=ex.portal_id,
            )
            kind, profile = "revisit", "identical-payload-digest"
        else:
            extra = {"WARC-Truncated": ex.truncated} if ex.truncated else None
            main = response_record(ex.url, ex.status, ex.reason, ex.response_headers, ex.body, date,
                                   main_id, http_version=ex.http_version, extra=extra,
                                   payload_digest=digest, portal_id=ex.portal_id)
            kind, profile = "response", None
            if ex.body and not ex.truncated:
                # claimed before any thread hop, so a concurrent copy becomes a revisit of this one
                self._claim_digest(_Original(main_id, ex.url, date, digest, sha256))
        request = request_record(ex.url, ex.method, ex.request_headers, ex.request_body, date,
                                 request_id, concurrent_to=main_id, http_version=ex.http_version,
                                 portal_id=ex.portal_id)
        return _Plan(date, main_id, request_id, kind, profile, digest, sha256, revisit_of, [main, request])

    def _commit(self, ex: Exchange, plan: _Plan, encoded: list[EncodedRecord]) -> Archived:
        written = self.writer.append(encoded)
        revisit_of = plan.revisit_of
        self._record({
            "url": ex.url, "timestamp": plan.date, "warc_type": plan.kind, "record_id": plan.main_id,
            "status": ex.status, "content_type": _header(ex.response_headers, "Content-Type"),
            "payload_digest": plan.digest, "sha256": plan.sha256,
            "warc_file": written[0].warc_file, "offset": written[0].offset, "length": written[0].length,
            "revisit_of": revisit_of.record_id if revisit_of else None,
            "refers_to_uri": revisit_of.url if revisit_of else None,
            "refers_to_date": revisit_of.date if revisit_of else None,
            "truncated": ex.truncated, "portal_id": ex.portal_id,
            # the validators a later conditional request sends (crawler/conditional.py)
            "etag": _header(ex.response_headers, "ETag"),
            "last_modified": _header(ex.response_headers, "Last-Modified"),
        }, {
            "url": ex.url, "timestamp": plan.date, "warc_type": "request", "record_id": plan.request_id,
            "warc_file": written[1].warc_file, "offset": written[1].offset, "length": written[1].length,
            "portal_id": ex.portal_id,
        })
        if plan.kind == "response" and ex.body and not ex.truncated:
            self._share_digest(_Original(plan.main_id, ex.url, plan.date, plan.digest, plan.sha256))
        if 200 <= ex.status < 300 and not ex.truncated:
            self._by_url[ex.url] = revisit_of or _Original(plan.main_id, ex.url, plan.date, plan.digest,
                                                           plan.sha256)
        if self.digest_index is not None:  # the validators, for every worker's conditional requests
            self.digest_index.remember_url(ex.url, ex.status, ex.response_headers, plan.kind,
                                           (plan.main_id, plan.date, plan.digest, plan.sha256), revisit_of,
                                           written[0].warc_file, written[0].offset, ex.truncated)
        self.count("warc/records", 2)
        self.count("warc/requests")
        self.count(f"warc/{plan.kind}s")
        if plan.profile:
            self.count(f"warc/revisits/{plan.profile}")
        if ex.truncated:
            self.count("warc/truncated")
        return Archived(plan.main_id, plan.kind, plan.date, plan.sha256, plan.digest, written)

    def archive_metadata(self, item: dict) -> Archived:
        """A `metadata` record describing a catalogued document (kind, title, year, portal, ...).

        It refers to the record that holds the document's bytes, so the catalog's documents can be
        rebuilt from the WARC files alone (catalog/rebuild.py). It is not listed in `captures`.
        """
        # application/warc-fields, one field holding the item as ASCII JSON: replay indexes (pywb,
        # cdxj-indexer) skip such records, and without a WARC-Target-URI no lookup by URL finds them
        document = json.dumps({k: item.get(k) for k in DOCUMENT_KEYS}, ensure_ascii=True, sort_keys=True)
        body = f"{METADATA_FIELD}: {document}\r\n".encode("ascii")
        date, record_id = warc_date(), new_record_id()
        record = document_record(
            "metadata", "", body, METADATA_CONTENT_TYPE, date, record_id,
            refers_to=item.get("warc_record_id"), portal_id=item.get("portal_id"),
        )
        # not a capture: the documents row the pipeline writes is this record's catalog form
        written = self.writer.write([record])
        self.count("warc/records")
        self.count("warc/metadata")
        return Archived(record_id, "metadata", date, None, None, written)

    def archive_document(self, warc_type: str, url: str, body: bytes, content_type: str,
                         refers_to: Archived | None, refers_to_uri: str | None = None,
                         portal_id: str | None = None) -> Archived:
        """Write a `conversion` or `resource` record (e.g. a rendered DOM) tied to its source record."""
        date, record_id = warc_date(), new_record_id()
        digest, sha256 = payload_digests(body)
        record = document_record(
            warc_type, url, body, content_type, date, record_id,
            refers_to=refers_to.record_id if refers_to else None,
            refers_to_uri=refers_to_uri if refers_to else None,
            refers_to_date=refers_to.date if refers_to else None,
            payload_digest=digest, portal_id=portal_id,
        )
        written = self.writer.write([record])
        self._record({
            "url": url, "timestamp": date, "warc_type": warc_type, "record_id": record_id, "status": None,
            "content_type": content_type, "payload_digest": digest, "sha256": sha256,
            "warc_file": written[0].warc_file, "offset": written[0].offset, "length": written[0].length,
            "revisit_of": None, "refers_to_uri": refers_to_uri if refers_to else None,
            "refers_to_date": refers_to.date if refers_to else None, "portal_id": portal_id,
        })
        self.count("warc/records")
        self.count(f"warc/{warc_type}s")
        return Archived(record_id, warc_type, date, sha256, digest, written)

    def close(self) -> list[str]:
        """List pending rows, close the open WARC file; returns every file this archive closed."""
        self.flush()
        self.writer.close()
        self.index.close()
        if self.db is not None:
            self.db.conn.close()
            self.db = None
        return list(self.writer.closed_files)


# --------------------------------------------------------------------------- Scrapy side


def scrapy_request_headers(request: Request) -> list[tuple[str, str]]:
    """The request's headers as the HTTP client sends them (Host first, repeated headers kept)."""
    headers: list[tuple[str, str]] = []
    if b"Host" not in request.headers:
        headers.append(("Host", urlsplit(request.url).netloc))
    headers += _scrapy_headers(request.headers)
    if request.body and b"Content-Length" not in request.headers:
        headers.append(("Content-Length", str(len(request.body))))
    return headers


def _scrapy_headers(headers: Any) -> list[tuple[str, str]]:
    pairs = []
    for name in headers:
        for value in headers.getlist(name):
            pairs.append((name.decode("latin-1"), value.decode("latin-1")))
    return pairs


def exchange_from_scrapy(request: Request, response: Response, body: bytes,
                         truncated: str | None = None) -> Exchange:
    """An Exchange from a Scrapy request and the raw (not yet decompressed) response."""
    return Exchange(
        url=request.url, method=request.method, request_headers=scrapy_request_headers(request),
        request_body=request.body or b"", status=response.status, reason=reason_phrase(response.status),
        response_headers=_scrapy_headers(response.headers), body=body,
        http_version=response.protocol if (response.protocol or "").startswith("HTTP/") else "HTTP/1.1",
        truncated=truncated, portal_id=request.meta.get("portal_id"),
    )


class BrowserCapture:
    """Collects a browser page's network exchanges (Playwright `response` events) for one request."""

    def __init__(self, archive: ExchangeArchive, portal_id: str | None) -> None:
        self.archive = archive
        self.portal_id = portal_id
        self.tasks: list[asyncio.Future] = []
        self.archived: dict[str, Archived] = {}

    def on_response(self, response: Any) -> None:
        """Playwright `response` event handler: archive the exchange in the background."""
        self.tasks.append(asyncio.ensure_future(self._capture(response)))

    async def _capture(self, response: Any) -> None:
        try:
            request = response.request
            try:
                body = await response.body()
            except Exception:  # redirects and aborted loads have no body to fetch
                body = b""
            headers = []
            for item in await response.headers_array():
                name = item["name"]
                if name.lower() in _TRANSFER_HEADERS:
                    name = ORIGINAL_HEADER_PREFIX + name
                headers.append((name, item["value"]))
            request_headers = [(h["name"], h["value"]) for h in await request.headers_array()]
            if not _header(request_headers, "Host"):
                # HTTP/1.1 requires it and the browser sends it, but Playwright does not report it
                request_headers.insert(0, ("Host", urlsplit(response.url).netloc))
            exchange = Exchange(
                url=response.url, method=request.method, request_headers=request_headers,
                request_body=request.post_data_buffer or b"", status=response.status,
                reason=response.status_text or reason_phrase(response.status),
                response_headers=headers, body=body, portal_id=self.portal_id,
            )
            self.archived[response.url] = self.archive.archive(exchange)
            self.archive.count("warc/browser_exchanges")
        except Exception as exc:
            logger.error("%s: cannot archive browser exchange: %s", getattr(response, "url", "?"), exc)

    async def finish(self) -> None:
        """Wait for every pending capture."""
        while self.tasks:
            pending, self.tasks = self.tasks, []
            await asyncio.gather(*pending, return_exceptions=True)


class WarcCaptureMiddleware:
    """Downloader middleware (order 950): archive every exchange before anything decodes or follows it.

    Puts the archived record's id and the payload's sha256 in `response.meta` (`warc_record_id`,
    `sha256`), and `warc_truncated` when DOWNLOAD_MAXSIZE cut the body.
    """

    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.data_dir = Path(settings.get("DATA_DIR", "data"))
        self.maxsize = settings.getint("DOWNLOAD_MAXSIZE")
        self.prefix = settings.get("WARC_PREFIX", "nianbao")
        self.max_file_size = settings.getint("WARC_MAX_SIZE", 1024**3)
        self.warcinfo = warcinfo_fields(settings)
        # catalog rows are listed per batch: this many rows, or this many seconds, whichever comes first
        self.batch_rows = settings.getint("WARC_CATALOG_BATCH_ROWS", 500)
        self.batch_seconds = settings.getfloat("WARC_CATALOG_BATCH_SECONDS", 1.0)
        # bodies at least this large are hashed and compressed on a worker thread
        self.thread_min_bytes = settings.getint("WARC_THREAD_MIN_BYTES", 256 * 1024)
        self.worker_id = settings.get("WORKER_ID") or None
        self.archive: ExchangeArchive | None = None
        self._flusher: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> WarcCaptureMiddleware:
        if not crawler.settings.getbool("WARC_ENABLED", True):
            raise NotConfigured("WARC_ENABLED is off")
        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(middleware.bytes_received, signal=signals.bytes_received)
        crawler.signals.connect(middleware.item_scraped, signal=signals.item_scraped)
        return middleware

    def _crawl_id(self) -> Any:
        spider = getattr(self.crawler, "spider", None)
        return getattr(spider, "crawl_id", None) or self.crawler.stats.get_value("nianbao/crawl_id")

    def _archive(self) -> ExchangeArchive:
        if self.archive is None:
            from crawler.distributed import shared_digest_index

            self.archive = ExchangeArchive(
                self.data_dir, self.prefix, self.max_file_size, self.warcinfo, stats=self.crawler.stats,
                crawl_id=self._crawl_id, batch_rows=self.batch_rows, batch_seconds=self.batch_seconds,
                thread_min_bytes=self.thread_min_bytes, worker_id=self.worker_id,
                digest_index=shared_digest_index(self.crawler.settings),
            )
            for result in self.archive.repaired:
                self.crawler.stats.inc_value("warc/repaired_files")
                self.crawler.stats.inc_value("warc/repair_lost_bytes", result.lost_bytes)
            self.archive.reconcile()
        return self.archive

    def spider_opened(self, spider: Any) -> None:
        self._archive()  # repairs leftovers before anything new is written
        if self.batch_seconds > 0:
            from twisted.internet import task

            # rows queued while the crawl waits on slow portals still reach the catalog within the period
            self._flusher = task.LoopingCall(self._flush)
            self._flusher.start(self.batch_seconds, now=False)

    def _flush(self) -> None:
        if self.archive is not None:
            self.archive.flush()

    def item_scraped(self, item: Any, response: Any = None, spider: Any = None) -> None:
        """Write each catalogued document's description into the WARC (see `archive_metadata`)."""
        from crawler.items import DocumentItem

        # only what the catalog records as a document (a DocumentItem with its payload digest)
        if self.archive is None or not isinstance(item, DocumentItem) or not item.get("sha256"):
            return
        try:
            self.archive.archive_metadata(dict(item))
        except Exception as exc:
            logger.error("%s: cannot archive document metadata: %s", item.get("url"), exc)

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self._flusher is not None and self._flusher.running:
            self._flusher.stop()
        if self.archive is None:
            return
        closed = self.archive.close()
        self.archive = None
        try:
            indexed = update_indexes(self.data_dir)
            self.crawler.stats.set_value("warc/indexed_files", len(indexed))
        except Exception as exc:
            logger.error("%s: cannot update CDXJ indexes: %s", self.data_dir / "indexes", exc)
        logger.info("WARC files closed: %s", ", ".join(closed) or "none")

    def bytes_received(self, data: bytes, request: Request, spider: Any) -> None:
        """Stop a body at its size limit; the handler then hands over what arrived so far."""
        limit = request.meta.get("warc_maxsize")
        if not limit:
            return
        received = request.meta.get("_warc_received", 0) + len(data)
        request.meta["_warc_received"] = received
        if received > limit:
            raise StopDownload(fail=False)

    def process_request(self, request: Request) -> None:
        meta = request.meta
        if meta.get("playwright"):
            capture = BrowserCapture(self._archive(), meta.get("portal_id"))
            meta["_warc_browser"] = capture
            handlers = dict(meta.get("playwright_page_event_handlers") or {})
            handlers["response"] = capture.on_response
            meta["playwright_page_event_handlers"] = handlers
            if not meta.get("playwright_include_page"):
                # keep the page open until its exchanges are archived; closed in process_response
                meta["playwright_include_page"] = True
                meta["_warc_close_page"] = True
            return None
        # The handler would drop an oversized body entirely; take over the limit to archive the cut part.
        limit = meta.get("download_maxsize", self.maxsize)
        if limit:
            meta["warc_maxsize"] = limit
            meta["download_maxsize"] = 0
        return None

    async def process_response(self, request: Request, response: Response) -> Response:
        meta = request.meta
        if "warc_maxsize" in meta:
            # restored before HttpCompressionMiddleware, which applies it to the decoded size
            meta["download_maxsize"] = meta.pop("warc_maxsize")
            meta.pop("_warc_received", None)
        if "cached" in response.flags:
            self.crawler.stats.inc_value("warc/skipped_cached")
            return response
        if "_warc_browser" in meta:
            return await self._browser_response(request, response)
        body, truncated = response.body, None
        limit = meta.get("download_maxsize")
        if "download_stopped" in response.flags and limit and len(body) >= limit:
            # A view, not a slice: copying 200 MB would double the crawl's memory for this response.
            # The record holds exactly `limit` bytes; the spider gets the response as it arrived.
            body, truncated = memoryview(body)[:limit], "length"
            logger.warning("%s: body cut at DOWNLOAD_MAXSIZE (%d bytes); archived with WARC-Truncated",
                           request.url, limit)
        elif "partial" in response.flags or "dataloss" in response.flags:
            truncated = "disconnect"
        try:
            archived = await self._archive().archive_async(exchange_from_scrapy(request, response, body,
                                                                                truncated))
        except Exception as exc:
            logger.error("%s: cannot archive response: %s", request.url, exc)
            return response
        if truncated:
            meta["warc_truncated"] = truncated
        meta["warc_record_id"] = archived.record_id
        meta["sha256"] = archived.sha256
        return response

    async def _browser_response(self, request: Request, response: Response) -> Response:
        meta = request.meta
        capture: BrowserCapture = meta.pop("_warc_browser")
        page = meta.get("playwright_page")
        await capture.finish()
        if meta.pop("_warc_close_page", False) and page is not None:
            meta.pop("playwright_page", None)
            meta["playwright_include_page"] = False
            try:
                await page.close()
            except Exception as exc:
                logger.debug("%s: page already closed: %s", request.url, exc)
        main = capture.archived.get(response.url) or capture.archived.get(request.url)
        content_type = response.headers.get("Content-Type", b"text/html").decode("latin-1")
        if "charset" not in content_type.lower() and getattr(response, "encoding", None):
            content_type = f"text/html; charset={response.encoding}"
        archived = self._archive().archive_document(
            "conversion", response.url, response.body, content_type, refers_to=main,
            refers_to_uri=response.url, portal_id=meta.get("portal_id"),
        )
        meta["warc_record_id"] = archived.record_id
        meta["sha256"] = archived.sha256
        return response

    def process_exception(self, request: Request, exception: BaseException) -> None:
        meta = request.meta
        if "warc_maxsize" in meta:
            meta["download_maxsize"] = meta.pop("warc_maxsize")
        meta.pop("_warc_received", None)
        meta.pop("_warc_browser", None)
        return None


def warcinfo_fields(settings: Any) -> dict[str, str]:
    """The warcinfo record's fields, from the crawl's settings."""
    from importlib.metadata import version as package_version

    import scrapy

    try:
        from nianbao import __version__ as version
    except ImportError:  # pragma: no cover - the package is always installed with the archive
        version = "unknown"
    try:
        ip = socket.gethostbyname(socket.gethostname())
    except OSError:
        ip = ""
    return {
        "software": f"nianbao/{version} (Scrapy/{scrapy.__version__}; warcio/{package_version('warcio')})",
        "hostname": socket.gethostname(),
        "ip": ip,
        "operator": settings.get("WARC_OPERATOR", ""),
        "http-header-user-agent": settings.get("USER_AGENT", ""),
        "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
        "format": f"WARC File Format {WARC_VERSION.split('/')[1]}",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "http-capture-notes": HTTP_CAPTURE_NOTES,
    }
