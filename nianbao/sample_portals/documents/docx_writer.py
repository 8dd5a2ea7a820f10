"""The report as a DOCX file (python-docx): template tables with real merged cells and repeating headers."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from datetime import datetime

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from nianbao.sample_portals.documents.blocks import Paragraph, Table, expand_grid, report_blocks, report_title

FONT = "Noto Serif CJK SC"
_SIZES = {"title": 16, "heading": 12, "body": 12, "signature": 12}
_TABLE_FONT = {"t2": 10.5, "t3": 9, "t4": 8}


def _set_font(run, size: float, bold: bool = False) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = FONT
    # East Asian text takes its font from w:eastAsia, which python-docx does not set
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), FONT)


def _add_paragraph(doc, block: Paragraph) -> None:
    para = doc.add_paragraph()
    if block.style == "title":
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    elif block.style == "signature":
        para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    else:
        para.paragraph_format.first_line_indent = Pt(24)
    para.paragraph_format.page_break_before = block.page_break_before
    _set_font(para.add_run(block.text), _SIZES[block.style], bold=block.style in ("title", "heading"))


def _row_flag(row, tag: str) -> None:
    """Set a row property such as w:tblHeader (repeat on each page) or w:cantSplit."""
    flag = OxmlElement(tag)
    flag.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(flag)


def _add_table(doc, table: Table, usable_width_cm: float) -> None:
    grid = expand_grid(table)
    out = doc.add_table(rows=len(table.rows), cols=table.columns)
    out.style = "Table Grid"
    out.alignment = WD_TABLE_ALIGNMENT.CENTER
    total = sum(table.column_widths) or table.columns
    widths = [Cm(usable_width_cm * w / total) for w in (table.column_widths or [1] * table.columns)]
    out.autofit = False
    # LibreOffice lays out from the grid columns, Word from the cell widths: set both
    for c, column in enumerate(out.columns):
        column.width = widths[c]
    for row in out.rows:
        for c, cell in enumerate(row.cells):
            cell.width = widths[c]
        _row_flag(row, "w:cantSplit")
    for r in range(table.header_rows):
        _row_flag(out.rows[r], "w:tblHeader")
    size = _TABLE_FONT.get(table.name, 10)
    for r, grid_row in enumerate(grid):
        for c, cell in enumerate(grid_row):
            if cell is None:
                continue
            target = out.cell(r, c)
            if cell.colspan > 1 or cell.rowspan > 1:
                target = target.merge(out.cell(r + cell.rowspan - 1, c + cell.colspan - 1))
            para = target.paragraphs[0]
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _set_font(para.add_run(cell.text), size, bold=cell.header)


def _new_document():
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.2)
    section.top_margin = section.bottom_margin = Cm(2.5)
    return doc


USABLE_WIDTH_CM = 21 - 2 * 2.2


def render_table_docx(table: Table) -> bytes:
    """A document holding only `table` (used to print a table as a picture)."""
    doc = _new_document()
    _add_table(doc, table, USABLE_WIDTH_CM)
    buffer = io.BytesIO()
    doc.save(buffer)
    return _stable_zip(buffer.getvalue(), datetime(2020, 1, 1))


def render_docx(report: dict, table_images: Iterable[str] = ()) -> bytes:
    """The report as DOCX bytes, A4, tables as the template prints them.

    Tables named in `table_images` ("t2", "t3", "t4") are pasted as pictures instead (needs LibreOffice).
    """
    doc = _new_document()
    as_pictures = set(table_images)
    for block in report_blocks(report):
        if isinstance(block, Paragraph):
            _add_paragraph(doc, block)
        elif block.name in as_pictures:
            from nianbao.sample_portals.documents.table_image import render_table_png

            png = render_table_png(report, block.name)
            doc.add_paragraph().add_run().add_picture(io.BytesIO(png), width=Cm(USABLE_WIDTH_CM))
        else:
            _add_table(doc, block, USABLE_WIDTH_CM)
            doc.add_paragraph()
    stamp = report_datetime(report)
    doc.core_properties.created = doc.core_properties.modified = stamp
    doc.core_properties.title = report_title(report)
    doc.core_properties.author = report["agency"]
    buffer = io.BytesIO()
    doc.save(buffer)
    return _stable_zip(buffer.getvalue(), stamp)


def report_datetime(report: dict) -> datetime:
    """When the report was published (midnight), the date every writer stamps into its file."""
    published = str(report.get("published") or f"{int(report['year']) + 1}-01-31")[:10]
    return datetime.fromisoformat(published)


def _stable_zip(data: bytes, stamp: datetime) -> bytes:
    """The same package with fixed member timestamps, so the same report always gives the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()
