"""Bytes of one report document → ParsedReport: sniff → read → map cells → metadata → rules."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from nianbao.parse.layout import Layout
from nianbao.parse.report import CONTENT_TYPES, ParsedReport

__all__ = ["ParseTimeout", "ParsedReport", "parse_bytes", "parse_file", "parse_layout"]


class ParseTimeout(TimeoutError):
    """The document took longer than its time limit."""


def _sniff(data: bytes) -> str:
    try:
        from nianbao.parse.sniff import sniff
    except ImportError:  # the type sniffer is optional for plain text and HTML
        head = data[:2048].lstrip().lower()
        return "html" if head.startswith((b"<!doctype html", b"<html")) or b"<body" in head else "txt"
    return sniff(data)


def _check_time(deadline: float | None, source: str, stage: str) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise ParseTimeout(f"{source}: time limit exceeded while {stage}")


def parse_layout(layout: Layout, source: str, hints: dict | None = None,
                 deadline: float | None = None) -> ParsedReport:
    """Map an already-read Layout to a ParsedReport (no content type or digest)."""
    from nianbao.parse.furniture import strip_furniture
    from nianbao.parse.mapper import map_layout
    from nianbao.parse.metadata import extract_metadata, resolve_format_version
    from nianbao.parse.prose2008 import prose_figures
    from nianbao.parse.rules import check

    mapped = map_layout(layout)
    _check_time(deadline, source, "mapping tables")
    meta = extract_metadata(layout, hints)
    version, version_warnings = resolve_format_version(mapped.version, meta.year)
    cells, provenance = (mapped.cells, mapped.provenance) if mapped.version else ({}, {})
    if version == "pre2019":
        cells = prose_figures(layout)
    warnings = list(layout.warnings) + meta.warnings + mapped.warnings + version_warnings
    report = ParsedReport(
        source=source, agency=meta.agency, year=meta.year, format_version=version, title=meta.title,
        published=meta.published, sections=strip_furniture(meta.sections), cells=cells,
        provenance=provenance, findings=check(cells, version, meta.year, provenance), warnings=warnings,
    )
    return report


def parse_bytes(data: bytes, source: str, hints: dict | None = None,
                timeout: float | None = None) -> ParsedReport:
    """Parse one document's bytes. `hints` (title, agency, year, published from the crawl) fill gaps;
    its `content_type` (the Content-Type the document was served with) is charset evidence for text.

    `timeout` (seconds) is checked between stages; the parser stage enforces hard limits itself.
    Raises ReaderError for unreadable documents and ParseTimeout when the limit is exceeded.
    """
    from nianbao.parse.readers import read

    deadline = time.monotonic() + timeout if timeout else None
    kind = _sniff(data)
    layout = read(data, kind, source=source, content_type=(hints or {}).get("content_type"))
    _check_time(deadline, source, "reading")
    report = parse_layout(layout, source, hints, deadline)
    report.content_type = CONTENT_TYPES.get(layout.kind, "application/octet-stream")
    report.sha256 = hashlib.sha256(data).hexdigest()
    return report


def parse_file(path: str | Path, hints: dict | None = None, timeout: float | None = None) -> ParsedReport:
    """Parse a report file; its type comes from the bytes, not the name."""
    path = Path(path)
    return parse_bytes(path.read_bytes(), str(path), hints, timeout)
