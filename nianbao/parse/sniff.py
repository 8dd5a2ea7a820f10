"""Document type from the bytes alone (magic numbers), never from a file name or a Content-Type."""

from __future__ import annotations

import io
import re
import zipfile

from nianbao.charset import sniff as sniff_charset

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# OLE2 directory entries name their streams in UTF-16LE.
_WORD_STREAM = "WordDocument".encode("utf-16-le")
# Kingsoft WPS writes its own streams/markers next to (or instead of) WordDocument; every file it saves
# carries the custom property KSOProductBuildVer, named in the property set's code page (often ANSI).
_KINGSOFT_MARKERS = [m.encode("utf-16-le") for m in ("WpsCustomData", "Kingsoft", "KSOProductBuildVer")] + [
    b"Kingsoft",
    b"WPS Office",
    b"KSOProductBuildVer",
]
_HTML_START = re.compile(
    rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|meta|title|div|p|table|span|script|style|link)\b",
    re.IGNORECASE | re.DOTALL,
)
_HTML_ANYWHERE = re.compile(rb"<(html|body|table|div)\b[^>]*>", re.IGNORECASE)


def sniff(data: bytes) -> str:
    """Return the document type of `data`.

    One of "pdf", "docx", "ofd", "zip", "doc", "wps", "html", "image", "txt", "unknown".
    """
    if not data:
        return "unknown"
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _sniff_zip(data)
    if data.startswith(OLE2_MAGIC):
        return _sniff_ole2(data)
    if _is_image(head):
        return "image"
    text = _decode_head(data[:4096])
    if text is None:
        return "unknown"
    if _HTML_START.match(text.encode("utf-8")) or _HTML_ANYWHERE.search(text[:4096].encode("utf-8")):
        return "html"
    return "txt"


def _sniff_zip(data: bytes) -> str:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return "zip"
    if "word/document.xml" in names:
        return "docx"
    if "OFD.xml" in names or "ofd.xml" in names:
        return "ofd"
    return "zip"


def _sniff_ole2(data: bytes) -> str:
    if any(marker in data for marker in _KINGSOFT_MARKERS):
        return "wps"
    if _WORD_STREAM in data:
        return "doc"
    return "unknown"


def _is_image(head: bytes) -> bool:
    return (
        head.startswith(b"\x89PNG\r\n\x1a\n")
        or head.startswith(b"\xff\xd8\xff")
        or head.startswith((b"GIF87a", b"GIF89a"))
        or head.startswith((b"II*\x00", b"MM\x00*"))
        or (head.startswith(b"RIFF") and head[8:12] == b"WEBP")
        or head.startswith(b"BM")
        and len(head) > 14
        and head[6:10] == b"\x00\x00\x00\x00"
    )


def _decode_head(head: bytes) -> str | None:
    """Decode the start of a text document, or None when it is binary."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return head.decode("utf-16")
        except UnicodeDecodeError:
            # a cut in the middle of a surrogate pair: drop the last code unit
            return head[: len(head) - len(head) % 2 - 2].decode("utf-16", errors="replace")
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if b"\x00" in head:
        return None
    encoding = sniff_charset(head)  # the decoder's own sniffing, so text is text for the reader too
    if encoding is None:
        return None
    text = head.decode(encoding, errors="replace")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\r\n\t\f")
    return text if controls <= len(text) // 100 + 1 else None
