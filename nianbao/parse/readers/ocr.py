"""OCR of page images (rapidocr + onnxruntime, Chinese models shipped in the wheel): image → lines of cells.

Text boxes come from the OCR engine; table structure comes from the ruled lines found in the image itself,
so merged cells are recovered exactly as on a text PDF. Without ruled lines, rows are grouped by vertical
overlap and cells split at wide gaps.
"""

from __future__ import annotations

import io
import re
import threading

import numpy as np
from PIL import Image, ImageOps

from nianbao.parse.layout import Layout

EDGE_TOLERANCE = 4.0  # pixels: ruled lines in a scan are a few pixels thick and not perfectly aligned
MIN_LINE_FRACTION = 0.035  # a ruled segment is at least this share of the page width (longer than any stroke)
# grey level below which a pixel may belong to a ruled line: thin lines in a scan come out light grey
LINE_DARK = 190
MAX_SIDE = 2600
CELL_INSET = 4  # pixels kept off a cell's rules when it is read again alone  # larger images are scaled down first: OCR time grows with the pixel count

_NUMBER_WITH_SPECK = re.compile(r"^-?\d+(\.\d+)?[.,·]$")

_engine = None
_engine_lock = threading.Lock()


class OcrError(RuntimeError):
    """The OCR engine is missing or failed on an image."""


def engine():
    """The OCR engine, loaded once per process (loading the models takes a while)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError as exc:  # pragma: no cover - a packaging error, not a data error
                raise OcrError("OCR needs the rapidocr-onnxruntime package, which is not installed") from exc
            _engine = RapidOCR()
        return _engine


def _segments(dark: np.ndarray, min_length: int) -> list[tuple[int, int, int]]:
    """Runs of dark pixels along each row: (row, start, end) for runs at least `min_length` long."""
    padded = np.zeros((dark.shape[0], dark.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = dark
    diff = np.diff(padded, axis=1)
    rows_s, starts = np.nonzero(diff == 1)
    _, ends = np.nonzero(diff == -1)
    keep = (ends - starts) >= min_length
    return list(zip(rows_s[keep].tolist(), starts[keep].tolist(), ends[keep].tolist(), strict=True))


def ruled_edges(image: Image.Image) -> list[dict]:
    """Horizontal and vertical ruled lines of a page image, as pdfplumber-style edge dicts (pixels)."""
    grey = np.asarray(image.convert("L"))
    dark = grey < LINE_DARK
    # a thin line often falls between two pixel rows and is light in both: look at pairs of rows/columns
    dark_rows = dark.copy()
    dark_rows[:-1] |= dark[1:]
    dark_cols = dark.copy()
    dark_cols[:, :-1] |= dark[:, 1:]
    min_length = max(20, int(MIN_LINE_FRACTION * grey.shape[1]))
    edges = [
        {"x0": float(s), "x1": float(e), "top": float(r), "bottom": float(r), "orientation": "h"}
        for r, s, e in _segments(dark_rows.astype(np.int8), min_length)
    ]
    edges += [
        {"x0": float(r), "x1": float(r), "top": float(s), "bottom": float(e), "orientation": "v"}
        for r, s, e in _segments(np.ascontiguousarray(dark_cols.T).astype(np.int8), min_length)
    ]
    return edges


def image_words(image: Image.Image) -> list[dict]:
    """OCR text boxes as word dicts (x0, top, x1, bottom, text) in pixels."""
    result, _ = engine()(np.asarray(image.convert("RGB")))
    words = []
    for box, text, _score in result or []:
        xs = [p[0] for p in box]
        ys = [p[1] for p in box]
        text = str(text)
        if _NUMBER_WITH_SPECK.match(text):
            # a scan speck next to a figure reads as a trailing point: "0." is "0"
            text = text[:-1]
        words.append({"x0": min(xs), "x1": max(xs), "top": min(ys), "bottom": max(ys), "text": text})
    return words


def _bounded(image: Image.Image) -> Image.Image:
    scale = MAX_SIDE / max(image.size)
    if scale < 1:
        image = image.resize((int(image.width * scale), int(image.height * scale)))
    return image


def image_blocks(image: Image.Image) -> list[tuple[str, list[list[str]]]]:
    """Blocks of lines (as `pdf.positioned_lines` returns them) read from one page image."""
    from nianbao.parse.readers.pdf import positioned_lines

    image = _bounded(image.convert("RGB"))
    return positioned_lines(
        image_words(image), ruled_edges(image), tolerance=EDGE_TOLERANCE, fill_empty=_cell_reader(image)
    )


def image_lines(image: Image.Image) -> list[list[str]]:
    """Lines of cells read from one page image."""
    return [line for _, lines in image_blocks(image) for line in lines]


def _cell_reader(image: Image.Image):
    """A second look at one table cell: cropped inside its rules, padded and enlarged, OCR'd alone."""

    def read_cell(box: tuple[float, float, float, float]) -> str:
        x0, top, x1, bottom = (int(round(v)) for v in box)
        inset = CELL_INSET
        if x1 - x0 <= 3 * inset or bottom - top <= 3 * inset:
            return ""
        crop = image.crop((x0 + inset, top + inset, x1 - inset, bottom - inset))
        if np.asarray(crop.convert("L")).min() >= LINE_DARK:
            return ""  # nothing printed in the cell
        crop = ImageOps.expand(crop, border=12, fill="white")
        crop = crop.resize((crop.width * 2, crop.height * 2), Image.LANCZOS)
        words = image_words(crop)
        return " ".join(w["text"] for w in sorted(words, key=lambda w: w["x0"]))

    return read_cell


def read(data: bytes, source: str = "image") -> Layout:
    """Read an image file (PNG, JPEG, GIF, TIFF; every frame) by OCR."""
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as exc:
        raise OcrError(f"{source}: not a readable image ({exc})") from exc
    lines: list[list[str]] = []
    frames = getattr(image, "n_frames", 1)
    for frame in range(frames):
        image.seek(frame)
        lines.extend(image_lines(image.convert("RGB")))
    return Layout(lines=lines, kind="image", warnings=[f"{source}: text read by OCR"])
