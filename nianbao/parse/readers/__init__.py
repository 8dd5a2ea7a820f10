"""Format readers: bytes of one document type → `Layout`. One module per format, imported on demand.

A reader that is missing or fails to import only affects its own format.
"""

from __future__ import annotations

import importlib

from nianbao.parse.layout import Layout

# sniffed kind → reader module
READERS = {
    "html": "html",
    "pdf": "pdf",
    "docx": "docx",
    "doc": "doc",
    "wps": "doc",
    "ofd": "ofd",
    "txt": "text",
    "image": "ocr",
    "zip": "ziparchive",
}


class ReaderError(Exception):
    """A document could not be read: unsupported type, missing reader, or unreadable bytes."""


# readers of text formats, which take the HTTP Content-Type it was served with as charset evidence
TEXT_KINDS = ("html", "txt")


def read(data: bytes, kind: str, source: str | None = None, content_type: str | None = None) -> Layout:
    """Read `data`, a document of sniffed type `kind`, into a Layout.

    `source` (file name or URL) only serves to name the document in warnings and errors. `content_type`,
    the Content-Type it was served with, is charset evidence for text formats (`nianbao.charset`).
    """
    name = source or f"{kind} document"
    module_name = READERS.get(kind)
    if module_name is None:
        raise ReaderError(f"{name}: no reader for document type {kind!r} (empty, unrecognised or unsupported bytes)")
    try:
        module = importlib.import_module(f"{__name__}.{module_name}")
    except ImportError as exc:
        raise ReaderError(f"{name}: the {kind} reader is not available ({exc})") from exc
    if content_type and kind in TEXT_KINDS:
        return module.read(data, source=name, content_type=content_type)
    return module.read(data, source=name)
