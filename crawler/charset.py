"""Decoding what Chinese portals send, on Scrapy responses: page charsets and GBK/RFC 5987 file names.

The charset of a page is decided by `nianbao.charset` (the decoder the parser uses too): BOM, HTTP
Content-Type, meta/XML declaration, then sniffing; gb2312/gbk are read as gb18030, and a declaration
the bytes contradict (utf-8 declared and GBK sent, Latin-1 on a Chinese page, or the reverse) is
overruled. A response whose encoding changes is logged with what was declared and what was used, and
counted in the crawl's stats (`charset/mislabelled`, `charset/replacement_chars`).
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote_to_bytes

from scrapy.http import HtmlResponse, Response, TextResponse, XmlResponse

from nianbao.charset import codec_for, decide, decode_bytes, same_codec

logger = logging.getLogger(__name__)


def repair_encoding(response: Response, stats: Any = None) -> Response:
    """`response` decoded with the charset that fits its bytes (itself when Scrapy's choice does).

    A mislabelled page, or one with undecodable bytes, is logged (URL, declarations, encoding used)
    and counted in `stats` (a Scrapy stats collector) when given."""
    if not isinstance(response, TextResponse):
        return response
    markup = isinstance(response, (HtmlResponse, XmlResponse))
    decoded = decode_bytes(response.body, response.headers.get("Content-Type"), markup=markup)
    notes = decoded.notes()
    if decoded.mislabelled or decoded.replacements:
        logger.warning("%s: %s", response.url, "; ".join(notes))
        if stats is not None:
            stats.inc_value("charset/mislabelled", int(decoded.mislabelled))
            stats.inc_value("charset/replacement_chars", decoded.replacements)
    if same_codec(decoded.encoding, response.encoding):
        return response
    return response.replace(encoding=decoded.encoding)


def looks_like_html(body: bytes) -> bool:
    """True when the first bytes are an HTML document's."""
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<head" in head


def as_html(response: Response) -> Response:
    """A non-text response whose bytes are HTML (a mislabelled Content-Type) as an HtmlResponse."""
    if isinstance(response, TextResponse):
        return response
    if looks_like_html(response.body):
        encoding = decide(response.body, response.headers.get("Content-Type")).encoding
        return HtmlResponse(response.url, status=response.status, headers=response.headers,
                            body=response.body, encoding=encoding, request=response.request)
    return response


def _decode_name(raw: bytes, charset: str | None = None) -> str:
    for encoding in ([codec_for(charset) or charset] if charset else []) + ["utf-8", "gb18030"]:
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return raw.decode("latin-1")


# Longest file name kept (characters); the raw header stays in the WARC record.
MAX_FILENAME_CHARS = 200
# C0 and C1 controls (NUL, CR, LF, TAB …), DEL, and the bidirectional overrides that disguise extensions.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_filename(name: str | None, limit: int = MAX_FILENAME_CHARS) -> str | None:
    """A file name fit to store and show: control characters removed, whitespace trimmed, and at most
    `limit` characters (the extension kept when the name is cut). None when nothing is left."""
    if not name:
        return None
    name = _CONTROL.sub("", name).strip()
    if len(name) > limit:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10 and stem:
            name = stem[: limit - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:limit].rstrip()
    return name or None


_EXT_PARAM = re.compile(rb"filename\*\s*=\s*([\w!#$%&+^`{}~-]+)'[^']*'([^;\s]+)", re.I)
_PLAIN_PARAM = re.compile(rb"filename\s*=\s*(\"(?:[^\"\\]|\\.)*\"|[^;]+)", re.I)


def filename_from_disposition(header: bytes | str | None) -> str | None:
    """The file name a Content-Disposition header carries.

    Handles RFC 5987 ``filename*=UTF-8''%E5%B9%B4…`` (any charset, gbk included), raw UTF-8 or
    GBK bytes in ``filename="…"``, and percent-encoded plain file names. The name comes back cleaned
    (`clean_filename`): a server can put NUL, CR or LF in it, raw or percent-encoded.
    """
    return clean_filename(_raw_filename(header))


def _raw_filename(header: bytes | str | None) -> str | None:
    """The file name exactly as the header carries it, decoded."""
    if not header:
        return None
    raw = header.encode("latin-1", "replace") if isinstance(header, str) else bytes(header)
    extended = _EXT_PARAM.search(raw)
    if extended:
        charset = extended.group(1).decode("ascii").lower()
        return _decode_name(unquote_to_bytes(extended.group(2).decode("ascii", "replace")), charset)
    plain = _PLAIN_PARAM.search(raw)
    if not plain:
        return None
    value = plain.group(1).strip()
    if value.startswith(b'"') and value.endswith(b'"') and len(value) >= 2:
        value = value[1:-1].replace(b'\\"', b'"')
    if b"%" in value and re.search(rb"%[0-9A-Fa-f]{2}", value):
        value = unquote_to_bytes(value.decode("latin-1"))
    return _decode_name(value).strip() or None
