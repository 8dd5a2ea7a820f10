"""A template table as a picture (PNG), as some portals paste tables into articles and DOCX files."""

from __future__ import annotations

import io

import pdfplumber
import pypdfium2

from nianbao.sample_portals.documents.blocks import Table, report_blocks
from nianbao.sample_portals.documents.office import convert

MARGIN_PT = 6


def report_table(report: dict, name: str) -> Table:
    """The report's table `name` ("t2", "t3" or "t4")."""
    for block in report_blocks(report):
        if isinstance(block, Table) and block.name == name:
            return block
    raise KeyError(f"no table {name!r} in the template")


def render_table_png(report: dict, name: str, dpi: int = 150) -> bytes:
    """Table `name` of the report printed alone and cropped to its ruled frame, as a PNG."""
    from nianbao.sample_portals.documents.docx_writer import render_table_docx

    pdf_bytes = convert(render_table_docx(report_table(report, name)), "docx", "pdf")
    with pdfplumber.open(io.BytesIO(pdf_bytes)) as pdf:
        page = pdf.pages[0]
        edges = page.edges
        if not edges:
            raise RuntimeError(f"table {name}: the printed page has no ruled lines")
        x0 = min(e["x0"] for e in edges) - MARGIN_PT
        top = min(e["top"] for e in edges) - MARGIN_PT
        x1 = max(e["x1"] for e in edges) + MARGIN_PT
        bottom = max(e["bottom"] for e in edges) + MARGIN_PT
        width, height = float(page.width), float(page.height)
    document = pypdfium2.PdfDocument(pdf_bytes)
    try:
        page = document[0]
        scale = dpi / 72
        image = page.render(scale=scale).to_pil().convert("L")
        page.close()
    finally:
        document.close()
    crop = image.crop((int(max(x0, 0) * scale), int(max(top, 0) * scale),
                       int(min(x1, width) * scale), int(min(bottom, height) * scale)))
    out = io.BytesIO()
    crop.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()
