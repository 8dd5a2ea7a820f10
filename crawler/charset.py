"""Decoding what Chinese portals send: mislabelled page charsets and GBK/RFC 5987 file names.

Declared gb2312/gbk is decoded as gb18030 (w3lib already maps those names); a page whose declared
charset does not fit its bytes (utf-8 declared, GBK sent, or the reverse) is re-decoded with the
charset that decodes it cleanly.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from scrapy.http import HtmlResponse, Response, TextResponse

_CANDIDATES = ("utf-8", "gb18030")
_MAX_BAD_SHARE = 0.001


def _clean_decoding(body: bytes) -> str | None:
    for encoding in _CANDIDATES:
        try:
            body.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def repair_encoding(response: Response) -> Response:
    """`response` decoded with a charset that fits its bytes (itself when the declared one does)."""
    if not isinstance(response, TextResponse):
        return response
    text = response.text
    bad = text.count("\ufffd")
    if bad == 0 or bad <= len(text) * _MAX_BAD_SHARE and response.encoding.replace("-", "") in ("utf8", "gb18030"):
        return response
    encoding = _clean_decoding(response.body)
    if encoding is None or encoding == response.encoding:
        return response
    return response.replace(encoding=encoding)


def looks_like_html(body: bytes) -> bool:
    """True when the first bytes are an HTML document's."""
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<head" in head


def as_html(response: Response) -> Response:
    """A non-text response whose bytes are HTML (a mislabelled Content-Type) as an HtmlResponse."""
    if isinstance(response, TextResponse):
        return response
    if looks_like_html(response.body):
        encoding = _clean_decoding(response.body) or "gb18030"
        return HtmlResponse(response.url, status=response.status, headers=response.headers,
                            body=response.body, encoding=encoding, request=response.request)
    return response


def _decode_name(raw: bytes, charset: str | None = None) -> str:
    for encoding in ([charset] if charset else []) + ["utf-8", "gb18030"]:
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
