"""Sample report documents: a report (truth-shaped dict) rendered in every format the portals publish.

A report is a dict shaped like the seeds' truth (`agency, year, format_version, cells`) plus `title`,
`published` (ISO date) and optional `sections` {overview, proactive, requests, reviews, problems, other}
(paragraphs separated by newlines), `null_text` (how a null cell prints: "—" by default, or "") and, for
`render_pre2019`, `figures` {proactive, requests}. Every format is reproducible byte for byte: the dates a
file carries are the report's `published` date, never the clock.
PDF, DOC, WPS, scanned-PDF and OFD output need LibreOffice at generation time.
"""

from nianbao.sample_portals.documents.copier_scan import render_copier_scan
from nianbao.sample_portals.documents.docx_writer import render_docx
from nianbao.sample_portals.documents.html_writer import render_html
from nianbao.sample_portals.documents.ofd_writer import render_ofd
from nianbao.sample_portals.documents.pdf_writer import (
    render_broken_font_pdf,
    render_doc,
    render_pdf,
    render_scanned_pdf,
)
from nianbao.sample_portals.documents.pre2019 import render_pre2019
from nianbao.sample_portals.documents.table_image import render_table_png
from nianbao.sample_portals.documents.wps_writer import render_wps

__all__ = [
    "render_broken_font_pdf",
    "render_copier_scan",
    "render_doc",
    "render_docx",
    "render_html",
    "render_ofd",
    "render_pdf",
    "render_pre2019",
    "render_scanned_pdf",
    "render_table_png",
    "render_wps",
]
