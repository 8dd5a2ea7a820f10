"""ParsedReport: everything the parser learned about one document."""

from __future__ import annotations

from dataclasses import dataclass, field

CONTENT_TYPES = {
    "html": "text/html",
    "pdf": "application/pdf",
    "pdf-scan": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword",
    "wps": "application/vnd.ms-works",
    "ofd": "application/ofd",
    "txt": "text/plain",
    "image": "image/*",
    "zip": "application/zip",
}


@dataclass
class ParsedReport:
    """One parsed document: metadata, section texts, canonical cells, rule findings and warnings."""

    source: str
    agency: str | None = None
    year: int | None = None
    format_version: str | None = None  # "2019" | "2021" | "pre2019"
    title: str | None = None
    published: str | None = None  # ISO date
    sections: dict[str, str] = field(default_factory=dict)
    cells: dict[str, int | float | None] = field(default_factory=dict)
    # Per cell: "printed", "inferred:<rule>" (a lost cell settled by the template's sums), or "blank"
    # (no printed value reached it: a table, row or column not found).
    provenance: dict[str, str] = field(default_factory=dict)
    findings: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    content_type: str = ""
    sha256: str = ""

    def to_json(self) -> dict:
        """The `nianbao parse --json` object (interfaces.md) plus provenance, published, sections, content_type,
        sha256."""
        return {
            "source": self.source,
            "agency": self.agency,
            "year": self.year,
            "format_version": self.format_version,
            "title": self.title,
            "cells": self.cells,
            "provenance": self.provenance,
            "findings": self.findings,
            "warnings": self.warnings,
            "published": self.published,
            "sections": self.sections,
            "content_type": self.content_type,
            "sha256": self.sha256,
        }

    def summary_line(self) -> str:
        """One human-readable line: source, agency, year, version, cells read, rules failed."""
        filled = sum(v is not None for v in self.cells.values())
        rules = sorted({f["rule"] for f in self.findings})
        return (f"{self.source}: {self.agency or '?'} {self.year or '?'} "
                f"format {self.format_version or '?'}; cells {filled}/{len(self.cells)}; "
                f"findings {', '.join(rules) if rules else 'none'}; warnings {len(self.warnings)}")
