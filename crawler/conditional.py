"""Conditional requests for documents the archive already holds, and answering a 304 from the archive.

A weekly refresh would otherwise download every report page and attachment again only for the
WARC layer to find the same payload. `ConditionalRequestMiddleware` asks the server instead: a
request the spider marks as a document (`meta["conditional"]`) gets `If-None-Match` and
`If-Modified-Since` from the newest complete capture of its URL in the catalog. The capture
middleware archives a `304 Not Modified` as a server-not-modified revisit of that capture, and the
spider carries on with `archived_response()`: the earlier capture's status, headers and body, read
back from the WARC. List pages and data endpoints are never marked, so new reports are always seen.

Setting `CONDITIONAL_REQUESTS = False` turns the middleware off.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes

from archive.reader import MAX_DECODED_BYTES, ArchiveLookupError, read_record_at
from catalog import latest_complete_capture, open_catalog

logger = logging.getLogger(__name__)

# Request meta key the spider sets on documents (report pages, detail pages, attachments).
CONDITIONAL_META = "conditional"
# Request meta key holding the capture whose validators were sent: what a 304 stands for.
PREVIOUS_CAPTURE_META = "conditional_previous"
_SENT_FOR_META = "_conditional_url"
VALIDATOR_HEADERS = (b"If-None-Match", b"If-Modified-Since")
# The archived body comes back decoded, so these no longer describe it.
_CODING_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}
NOT_MODIFIED_FLAG = "not_modified"


class ConditionalRequestMiddleware:
    """Downloader middleware: validators from the previous capture on document requests; counts 304s.

    Stats: `conditional/requests` (validators sent), `conditional/not_modified` (304 answers) and
    `conditional/modified` (a full answer although validators were sent).
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.catalog_path = Path(crawler.settings.get("DATA_DIR", "data")) / "catalog.db"
        self.db: Any = None
        self._catalog_failed = False
        # distributed workers share validators in Redis (crawler/distributed.py); None when alone
        from crawler.distributed import shared_validators

        self.shared = shared_validators(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler: Any) -> ConditionalRequestMiddleware:
        if not crawler.settings.getbool("CONDITIONAL_REQUESTS", True):
            raise NotConfigured("CONDITIONAL_REQUESTS is off")
        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_closed(self, spider: Any = None) -> None:
        if self.db is not None:
            self.db.conn.close()
            self.db = None

    def _catalog(self) -> Any:
        if self.db is None and not self._catalog_failed:
            try:
                self.db = open_catalog(self.catalog_path)
            except Exception as exc:  # without a catalog every document is simply fetched in full
                self._catalog_failed = True
                logger.error("%s: catalog unavailable, no conditional requests: %s", self.catalog_path, exc)
        return self.db

    def previous_capture(self, url: str) -> dict | None:
        """The newest complete 2xx capture of url that carries a validator, or None."""
        if self.shared is not None:
            return self.shared.previous_capture(url)
        db = self._catalog()
        if db is None:
            return None
        try:
            row = latest_complete_capture(db, url)
        except Exception as exc:
            logger.error("%s: cannot look up the previous capture of %s: %s", self.catalog_path, url, exc)
            return None
        if row is None or not (row.get("etag") or row.get("last_modified")):
            return None
        return row

    def process_request(self, request: Request) -> None:
        meta = request.meta
        sent_for = meta.get(_SENT_FOR_META)
        if sent_for is not None and sent_for != request.url:
            # a redirect copies the headers: the previous URL's validators say nothing about this one
            strip_validators(request)
        if (not meta.get(CONDITIONAL_META) or request.method != "GET" or meta.get("playwright")
                or any(name in request.headers for name in VALIDATOR_HEADERS)):
            return None
        previous = self.previous_capture(request.url)
        if previous is None:
            return None
        if previous.get("etag"):
            request.headers[b"If-None-Match"] = previous["etag"]
        if previous.get("last_modified"):
            request.headers[b"If-Modified-Since"] = previous["last_modified"]
        meta[_SENT_FOR_META] = request.url
        meta[PREVIOUS_CAPTURE_META] = {k: previous[k] for k in (
            "record_id", "timestamp", "warc_file", "offset", "sha256", "status")}
        # the spider reads the 304 (HttpErrorMiddleware would drop it) and answers it from the archive
        meta["handle_httpstatus_list"] = [*meta.get("handle_httpstatus_list", []), 304]
        self.stats.inc_value("conditional/requests")
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get(_SENT_FOR_META) == request.url:
            if response.status == 304:
                self.stats.inc_value("conditional/not_modified")
            elif 200 <= response.status < 300:
                self.stats.inc_value("conditional/modified")
        return response


def strip_validators(request: Request) -> None:
    """Remove the validators this middleware put on request (in place)."""
    for name in VALIDATOR_HEADERS:
        request.headers.pop(name, None)
    meta = request.meta
    meta.pop(_SENT_FOR_META, None)
    meta.pop(PREVIOUS_CAPTURE_META, None)
    statuses = [s for s in meta.get("handle_httpstatus_list", []) if s != 304]
    if statuses:
        meta["handle_httpstatus_list"] = statuses
    else:
        meta.pop("handle_httpstatus_list", None)


def unconditional(request: Request) -> Request:
    """A copy of request that fetches the document in full (after a 304 the archive could not answer)."""
    copy = request.replace(dont_filter=True, meta={**request.meta, CONDITIONAL_META: False})
    strip_validators(copy)
    return copy


def archived_response(response: Response, data_dir: str | Path,
                      max_decoded: int = MAX_DECODED_BYTES) -> Response:
    """The response a `304 Not Modified` stands for: the earlier capture, read back from the archive.

    Its status, headers (content and transfer codings dropped, the body being decoded) and body
    are those of the capture whose validators were sent; `request` and `meta` stay the 304's, and
    the flag `not_modified` marks it. Raises ArchiveLookupError naming the URL and the record when
    that capture cannot be read back whole, or when its payload decodes to more than max_decoded
    bytes (a gzip bomb archived as sent is never inflated past the cap; the document is then fetched
    again and meets the download's own decoded-size cap).
    """
    previous = response.meta.get(PREVIOUS_CAPTURE_META)
    if not previous:
        raise ArchiveLookupError(f"{response.url}: 304 Not Modified to a request that sent no validators")
    where = f"{response.url}: record {previous['record_id']} ({previous['warc_file']}@{previous['offset']})"
    try:
        record = read_record_at(data_dir, previous["warc_file"], previous["offset"], max_decoded=max_decoded)
    except Exception as exc:  # a missing file, a broken record: either way the copy is not there
        raise ArchiveLookupError(f"{where}: {exc}") from exc
    if record.truncated:
        raise ArchiveLookupError(f"{where}: the archived payload is truncated ({record.truncated})")
    if previous.get("sha256") and hashlib.sha256(record.raw_body).hexdigest() != previous["sha256"]:
        raise ArchiveLookupError(f"{where}: the archived payload does not match its catalogued sha256")
    values: dict[str, list[str]] = {}
    for name, value in record.headers:
        if name.lower() not in _CODING_HEADERS:
            values.setdefault(name, []).append(value)
    headers = Headers(values)
    cls = responsetypes.from_args(headers=headers, url=response.url, body=record.body)
    # built afresh: replace() would carry attributes of the 304's own response class over
    return cls(url=response.url, status=record.status or previous.get("status") or 200, headers=headers,
               body=record.body, flags=[*response.flags, NOT_MODIFIED_FLAG], request=response.request,
               certificate=response.certificate, ip_address=response.ip_address, protocol=response.protocol)
