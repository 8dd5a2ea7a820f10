"""The report as PDF: a text PDF (DOCX → LibreOffice), a scanned image-only PDF, and a DOC file."""

from __future__ import annotations

import hashlib
import io
import random
import re
from datetime import datetime

import pypdfium2
from PIL import Image, ImageFilter

from nianbao.sample_portals.documents.docx_writer import render_docx, report_datetime
from nianbao.sample_portals.documents.office import convert

SCAN_DPI = 150
_PDF_DATE = re.compile(rb"(/(?:CreationDate|ModDate)\s*\(D:)\d{14}")
_PDF_DIGEST = re.compile(rb"(<|/DocChecksum /)[0-9A-Fa-f]{32}")


def render_pdf(report: dict) -> bytes:
    """A text PDF as an office suite exports it; table 3 crosses a page break with its header repeated."""
    docx = render_docx(report)
    return stable_pdf(convert(docx, "docx", "pdf"), report_datetime(report), docx)


def render_broken_font_pdf(report: dict) -> bytes:
    """A text PDF whose fonts lost their ToUnicode maps, as some export tools and PDF "optimisers" leave them.

    The glyphs are subset and addressed by glyph id, so without the map a text extractor sees only
    `(cid:N)`; the page still renders correctly. Each /ToUnicode key is renamed in place (same length,
    so the cross-reference offsets stay valid).
    """
    pdf = render_pdf(report)
    broken = pdf.replace(b"/ToUnicode", b"/XoUnicode")
    if broken == pdf:
        raise RuntimeError("the exported PDF has no /ToUnicode map to strip")
    return broken


def render_doc(report: dict) -> bytes:
    """A legacy Word 97–2003 .doc file."""
    return convert(render_docx(report), "docx", "doc:MS Word 97")


def render_scanned_pdf(report: dict, dpi: int = SCAN_DPI, seed: int = 0) -> bytes:
    """An image-only PDF: each page printed, scanned in grey at `dpi` with slight noise, no text layer."""
    rng = random.Random(seed)
    pdf = pypdfium2.PdfDocument(render_pdf(report))
    pages: list[Image.Image] = []
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            image = page.render(scale=dpi / 72).to_pil().convert("L")
            page.close()
            pages.append(_scan_noise(image, rng))
    finally:
        pdf.close()
    out = io.BytesIO()
    stamp = report_datetime(report).timetuple()
    pages[0].save(
        out, format="PDF", save_all=True, append_images=pages[1:], resolution=dpi, creationDate=stamp, modDate=stamp
    )
    return out.getvalue()


def stable_pdf(pdf: bytes, when: datetime, source: bytes) -> bytes:
    """The PDF with the clock taken out, so the same report always gives the same bytes.

    LibreOffice stamps the export time as /CreationDate and derives the trailer's /ID and /DocChecksum
    from it; these become `when` and a digest of `source`. Every replacement keeps its length, so the
    cross-reference offsets stay valid.
    """
    stamp = when.strftime("%Y%m%d%H%M%S").encode()
    digest = hashlib.md5(source).hexdigest().upper().encode()
    pdf = _PDF_DATE.sub(lambda m: m.group(1) + stamp, pdf)
    trailer = pdf.rfind(b"trailer")
    if trailer < 0:
        return pdf
    return pdf[:trailer] + _PDF_DIGEST.sub(lambda m: m.group(1) + digest, pdf[trailer:])


def _scan_noise(image: Image.Image, rng: random.Random) -> Image.Image:
    """Soften the page and sprinkle speckles, as a flatbed scan of a printout looks."""
    image = image.filter(ImageFilter.GaussianBlur(0.4))
    pixels = image.load()
    width, height = image.size
    for _ in range(width * height // 4000):
        x, y = rng.randrange(width), rng.randrange(height)
        pixels[x, y] = rng.randrange(80, 200)
    return image
