"""The report as a copier scans it: pages a degree or two askew, grey paper with grain, a red seal.

Offices often publish the signed and sealed printout run through a copier's scan-to-PDF: each sheet
goes in slightly rotated, the paper comes out grey and grainy, the pages are colour JPEGs, and the
body's red seal (公章) is stamped over the signature and date, the report's last lines.
"""

from __future__ import annotations

import io
import math
import random
import shutil
import subprocess

import numpy as np
import pypdfium2
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from nianbao.sample_portals.documents.docx_writer import report_datetime
from nianbao.sample_portals.documents.pdf_writer import render_pdf

SCAN_DPI = 150
PAPER_GREY = 226  # what white paper comes out as
GRAIN_SIGMA = 9.0  # grey levels of noise per pixel
SEAL_RED = (214, 38, 44)
SEAL_DIAMETER_CM = 4.2
JPEG_QUALITY = 80


def render_copier_scan(report: dict, skew: float = 1.0, seal: bool = True, dpi: int = SCAN_DPI,
                       seed: int = 0) -> bytes:
    """An image-only PDF of the report: every page rotated by about `skew` degrees (either way), grey
    grainy paper, and, when `seal`, the agency's red seal over the last lines of the last page."""
    rng = random.Random(seed)
    noise = np.random.default_rng(seed)
    document = pypdfium2.PdfDocument(render_pdf(report))
    pages: list[Image.Image] = []
    try:
        for index in range(len(document)):
            page = document[index]
            image = page.render(scale=dpi / 72).to_pil().convert("RGB")
            page.close()
            if seal and index == len(document) - 1:
                image = stamp_seal(image, report["agency"], dpi)
            angle = skew * rng.choice((-1, 1)) + rng.uniform(-0.15, 0.15) * (skew > 0)
            pages.append(_copier(image, angle, noise))
    finally:
        document.close()
    out = io.BytesIO()
    stamp = report_datetime(report).timetuple()
    pages[0].save(out, format="PDF", save_all=True, append_images=pages[1:], resolution=dpi, quality=JPEG_QUALITY,
                  creationDate=stamp, modDate=stamp)
    return out.getvalue()


def _copier(image: Image.Image, angle: float, noise: np.random.Generator) -> Image.Image:
    """Rotate as the sheet went in, then grey paper, grain and a slight blur."""
    image = image.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=(255, 255, 255))
    pixels = np.asarray(image).astype(np.float32) * (PAPER_GREY / 255.0)
    pixels += noise.normal(0.0, GRAIN_SIGMA, size=pixels.shape[:2])[..., None]
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    return image.filter(ImageFilter.GaussianBlur(0.5))


def last_lines_box(image: Image.Image) -> tuple[int, int, int, int]:
    """Bounding box of the page's last two printed lines (the signature and the date)."""
    ink = np.asarray(image.convert("L")) < 160
    rows = np.nonzero(ink.any(axis=1))[0]
    if rows.size == 0:
        w, h = image.size
        return (w // 2, h // 2, w // 2, h // 2)
    # walk up from the bottom: a gap of blank rows separates lines
    lines: list[tuple[int, int]] = []
    bottom = previous = int(rows[-1])
    for row in rows[::-1][1:]:
        row = int(row)
        if previous - row > 3:
            lines.append((previous, bottom))
            bottom = row
            if len(lines) == 2:
                break
        previous = row
    else:
        lines.append((previous, bottom))
    top = min(t for t, _ in lines)
    bottom = max(b for _, b in lines)
    cols = np.nonzero(ink[top : bottom + 1].any(axis=0))[0]
    return (int(cols[0]), top, int(cols[-1]), bottom)


def _seal_font(size: int) -> ImageFont.ImageFont:
    """A Chinese font for the seal's lettering (fontconfig's choice for zh-CN), else Pillow's default."""
    found = ""
    if shutil.which("fc-match"):
        found = subprocess.run(["fc-match", "-f", "%{file}:%{index}", "sans-serif:lang=zh-cn"], capture_output=True,
                               text=True, timeout=10, check=False).stdout.strip()
    path, _, index = found.rpartition(":")
    try:
        return ImageFont.truetype(path, size, index=int(index or 0)) if path else ImageFont.load_default(size)
    except (OSError, ValueError):
        return ImageFont.load_default(size)


def seal_image(agency: str, diameter: int) -> Image.Image:
    """A round official seal: red ring, the body's name around the top, a five-pointed star inside."""
    size = diameter + 8
    seal = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(seal)
    c = size / 2
    r = diameter / 2
    ring = max(4, diameter // 40)
    draw.ellipse((c - r, c - r, c + r, c + r), outline=SEAL_RED + (235,), width=ring)
    star = []
    for i in range(10):  # outer and inner points of a five-pointed star, alternately
        theta = math.radians(90 + 36 * i)
        radius = 0.34 * r if i % 2 == 0 else 0.13 * r
        star.append((c + radius * math.cos(theta), c - radius * math.sin(theta)))
    draw.polygon(star, fill=SEAL_RED + (235,))
    text = agency[:14]
    font = _seal_font(int(diameter * 0.11))
    span = 220.0  # degrees of the arc the name covers, centred on the top
    for i, ch in enumerate(text):
        theta = math.radians(90 + span / 2 - span * (i + 0.5) / len(text))
        x = c + 0.74 * r * math.cos(theta)
        y = c - 0.74 * r * math.sin(theta)
        glyph = Image.new("RGBA", (font.size * 2, font.size * 2), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((font.size, font.size), ch, font=font, fill=SEAL_RED + (235,), anchor="mm")
        glyph = glyph.rotate(math.degrees(theta) - 90, resample=Image.BICUBIC)
        seal.alpha_composite(glyph, (int(x - font.size), int(y - font.size)))
    return seal


def stamp_seal(page: Image.Image, agency: str, dpi: int) -> Image.Image:
    """The page with the seal stamped over its last lines; ink multiplies, so text under it stays dark."""
    diameter = int(SEAL_DIAMETER_CM / 2.54 * dpi)
    x0, top, x1, bottom = last_lines_box(page)
    cx, cy = (x0 + x1) // 2, (top + bottom) // 2
    seal = seal_image(agency, diameter)
    layer = Image.new("RGB", page.size, (255, 255, 255))
    tinted = Image.new("RGB", seal.size, (255, 255, 255))
    tinted.paste(seal.convert("RGB"), (0, 0), seal)
    layer.paste(tinted, (cx - seal.width // 2, cy - seal.height // 2))
    return ImageChops.multiply(page, layer)
