"""The report as PDF: a text PDF (DOCX → LibreOffice), a scanned image-only PDF, and a DOC file."""

from __future__ import annotations

import io
import random

import pypdfium2
from PIL import Image, ImageFilter

from nianbao.sample_portals.documents.docx_writer import render_docx
from nianbao.sample_portals.documents.office import convert

SCAN_DPI = 150


def render_pdf(report: dict) -> bytes:
    """A text PDF as an office suite exports it; table 3 crosses a page break with its header repeated."""
    return convert(render_docx(report), "docx", "pdf")


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
    pages[0].save(out, format="PDF", save_all=True, append_images=pages[1:], resolution=dpi)
    return out.getvalue()


def _scan_noise(image: Image.Image, rng: random.Random) -> Image.Image:
    """Soften the page and sprinkle speckles, as a flatbed scan of a printout looks."""
    image = image.filter(ImageFilter.GaussianBlur(0.4))
    pixels = image.load()
    width, height = image.size
    for _ in range(width * height // 4000):
        x, y = rng.randrange(width), rng.randrange(height)
        pixels[x, y] = rng.randrange(80, 200)
    return image
