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
from nianbao.parse.messages import warning as message

EDGE_TOLERANCE = 4.0  # pixels: ruled lines in a scan are a few pixels thick and not perfectly aligned
MIN_LINE_FRACTION = 0.035  # a ruled segment is at least this share of the page width (longer than any stroke)
# grey level below which a pixel may belong to a ruled line: thin lines in a scan come out light grey
LINE_DARK = 190
MAX_SIDE = 2600  # larger images are scaled down first: OCR time grows with the pixel count
CELL_INSET = 4  # pixels kept off a cell's rules when it is read again alone
SEAL_CHROMA = 70  # a pixel whose red or blue exceeds its weakest channel by this much is coloured ink
MAX_SKEW = 3.0  # degrees: a copier's feed skews a sheet by a degree or two
MIN_SKEW = 0.1  # below this a rotation moves a ruled line by less than a pixel every 500
SKEW_WIDTH = 700  # pixels: the page width the skew is measured at
MIN_FIGURE_SCORE = 0.8  # OCR confidence below which a figure in a table cell is read again alone
VOTE_MARGIN = 0.2  # how much surer the agreed figure's best reading must be than any dissenting one
# (inset px, enlargement) of the crops a cell is read again from, in order
CELL_READINGS = ((4, 2), (2, 1), (4, 1), (6, 1), (2, 3), (6, 3), (6, 4))

_NUMBER_WITH_SPECK = re.compile(r"^-?\d+(\.\d+)?[.,·]$")
_FIGURE = re.compile(r"^-?\d[\d,，]*(\.\d+)?$")
_DASHES = {"—", "-", "－", "/", "／", "——", "一", "无"}
MIN_INK_PIXELS = 15  # fewer dark pixels than this in a cell is a speck, not print
DASH_MAX_HEIGHT = 5  # pixels: ink no taller than this, and three times as wide, is a dash

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
    """OCR text boxes as word dicts (x0, top, x1, bottom, text, score) in pixels.

    A box the engine is unsure of (score below MIN_FIGURE_SCORE) is marked `uncertain`: a table cell
    holding one is read again alone before its figure is believed.
    """
    result, _ = engine()(np.asarray(image.convert("RGB")))
    words = []
    for box, text, score in result or []:
        xs = [p[0] for p in box]
        ys = [p[1] for p in box]
        text = str(text)
        if _NUMBER_WITH_SPECK.match(text):
            # a scan speck next to a figure reads as a trailing point: "0." is "0"
            text = text[:-1]
        words.append({"x0": min(xs), "x1": max(xs), "top": min(ys), "bottom": max(ys), "text": text,
                      "score": float(score), "uncertain": float(score) < MIN_FIGURE_SCORE})
    return words


def _bounded(image: Image.Image) -> Image.Image:
    scale = MAX_SIDE / max(image.size)
    if scale < 1:
        image = image.resize((int(image.width * scale), int(image.height * scale)))
    return image


def remove_seal(image: Image.Image) -> Image.Image:
    """The page with red and blue ink (seals, signatures, stamps) turned to paper; black print stays.

    A seal's ring would otherwise read as ruled lines and its lettering as text; print under it is
    black, which no colour channel separates from, so it survives.
    """
    rgb = np.asarray(image.convert("RGB")).astype(np.int16)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    coloured = (np.maximum(r, b) - np.minimum(np.minimum(r, g), b)) > SEAL_CHROMA
    if not coloured.any():
        return image.convert("RGB")
    paper = np.percentile(rgb.max(axis=2), 90)
    out = rgb.copy()
    out[coloured] = paper
    return Image.fromarray(out.astype(np.uint8), "RGB")


def whiten_paper(image: Image.Image) -> Image.Image:
    """Stretch grey levels so that the paper is white: grey copier paper and grain fall below the ink test."""
    grey = np.asarray(image.convert("L")).astype(np.float32)
    paper = float(np.percentile(grey, 75))
    if paper >= 250 or paper <= 64:
        return image.convert("L")
    stretched = np.clip((grey - 0) * (255.0 / paper), 0, 255)
    return Image.fromarray(stretched.astype(np.uint8), "L")


def skew_angle(image: Image.Image) -> float:
    """The page's rotation in degrees (counter-clockwise positive), from its printed rows.

    Rotating back by the right angle makes ink rows and ruled lines horizontal, which makes the row
    profile of ink sharpest: the angle is searched coarse then fine on a reduced copy of the page.
    """
    grey = image.convert("L")
    scale = SKEW_WIDTH / grey.width
    if scale < 1:
        grey = grey.resize((SKEW_WIDTH, max(1, int(grey.height * scale))), Image.BILINEAR)
    ink = Image.fromarray(((np.asarray(grey) < LINE_DARK) * 255).astype(np.uint8), "L")
    if not np.asarray(ink).any():
        return 0.0

    def sharpness(angle: float) -> float:
        rows = np.asarray(ink.rotate(-angle, resample=Image.BILINEAR)).sum(axis=1, dtype=np.float64)
        return float(np.square(np.diff(rows)).sum())

    best = max(np.arange(-MAX_SKEW, MAX_SKEW + 1e-9, 0.5), key=sharpness)
    best = max(np.arange(best - 0.5, best + 0.5 + 1e-9, 0.1), key=sharpness)
    best = max(np.arange(best - 0.1, best + 0.1 + 1e-9, 0.025), key=sharpness)
    return float(round(best, 2))


def deskew(image: Image.Image) -> tuple[Image.Image, float]:
    """The page turned upright, and the angle it was turned by (0 when already straight)."""
    angle = skew_angle(image)
    if abs(angle) < MIN_SKEW:
        return image, 0.0
    fill = 255 if image.mode == "L" else (255, 255, 255)
    return image.rotate(-angle, resample=Image.BICUBIC, expand=False, fillcolor=fill), angle


def clean_scan(image: Image.Image) -> tuple[Image.Image, list[str]]:
    """A scanned page made ready for OCR: seal ink removed, paper whitened, rotation undone."""
    notes: list[str] = []
    image = remove_seal(_bounded(image.convert("RGB")))
    image, angle = deskew(whiten_paper(image))
    if angle:
        notes.append(message("ocr.straightened", angle=f"{angle:+.2f}"))
    return image.convert("RGB"), notes


def image_blocks(image: Image.Image, warnings: list[str] | None = None) -> list[tuple[str, list[list[str]]]]:
    """Blocks of lines (as `pdf.positioned_lines` returns them) read from one page image.

    The page is cleaned first (`clean_scan`); what had to be done, and every table cell that OCR could
    not read for certain (left blank), is appended to `warnings`.
    """
    from nianbao.parse.readers.pdf import positioned_lines

    notes = warnings if warnings is not None else []
    image, cleaning = clean_scan(image)
    notes.extend(cleaning)
    return positioned_lines(
        image_words(image), ruled_edges(image), tolerance=EDGE_TOLERANCE, fill_empty=_cell_reader(image, notes)
    )


def image_lines(image: Image.Image, warnings: list[str] | None = None) -> list[list[str]]:
    """Lines of cells read from one page image (see `image_blocks` for `warnings`)."""
    return [line for _, lines in image_blocks(image, warnings) for line in lines]


def _cell_reader(image: Image.Image, warnings: list[str]):
    """A second look at one table cell: cropped inside its rules, padded and enlarged, OCR'd alone.

    What it returns is a figure read with confidence, a printed dash, or "" — a cell with ink that
    cannot be read for certain stays blank, with a warning naming where it is, rather than a guess.
    """

    def read_cell(box: tuple[float, float, float, float]) -> str:
        x0, top, x1, bottom = (int(round(v)) for v in box)
        if x1 - x0 <= 3 * CELL_INSET or bottom - top <= 3 * CELL_INSET:
            return ""
        inner = image.crop((x0 + CELL_INSET, top + CELL_INSET, x1 - CELL_INSET, bottom - CELL_INSET))
        ink = np.asarray(inner.convert("L")) < LINE_DARK
        if int(ink.sum()) < MIN_INK_PIXELS:
            return ""  # nothing printed in the cell
        # rows with a stroke in them (scan specks are single pixels); one thin, wide band of them is a
        # printed dash, which OCR detection often skips
        rows = np.nonzero(ink.sum(axis=1) >= 3)[0]
        if rows.size and rows[-1] - rows[0] < DASH_MAX_HEIGHT:
            cols = np.nonzero(ink[rows[0] : rows[-1] + 1].any(axis=0))[0]
            if cols[-1] - cols[0] >= 3 * (rows[-1] - rows[0] + 1):
                return "—"
        readings: list[tuple[str, float]] = []
        # a thin glyph (a lone "1") reads with low confidence at one crop and scale and well at another;
        # a figure is believed when one reading is sure of it, or when several agree, one of them sure
        for inset, zoom in CELL_READINGS:
            if x1 - x0 <= 3 * inset or bottom - top <= 3 * inset:
                continue
            crop = ImageOps.expand(image.crop((x0 + inset, top + inset, x1 - inset, bottom - inset)), border=12,
                                   fill="white")
            if zoom > 1:
                crop = crop.resize((crop.width * zoom, crop.height * zoom), Image.LANCZOS)
            words = sorted(image_words(crop), key=lambda w: w["x0"])
            text = " ".join(w["text"] for w in words)
            if text in _DASHES:
                return "—"  # one spelling of the dash: "一" read for it must not become the numeral 1
            if not text:
                continue
            score = min(w["score"] for w in words)
            if not readings and _FIGURE.match(text) and score >= MIN_FIGURE_SCORE:
                return text
            readings.append((text, score))
        agreed = _agreed_figure(readings)
        if agreed is not None:
            return agreed
        saw = "、".join(f"“{text}”（{score:.2f}）" for text, score in readings)
        saw = message("ocr.saw", readings=saw) if saw else ""
        warnings.append(message("ocr.cell_unreadable", x=x0, y=top, saw=saw))
        return ""

    return read_cell


def _agreed_figure(readings: list[tuple[str, float]]) -> str | None:
    """The figure most crops read, when the vote is clear; None otherwise.

    Clear: at least two readings and two thirds of them agree, one of those is sure (MIN_FIGURE_SCORE),
    and it is surer by VOTE_MARGIN than any reading of something else. A split vote is no reading.
    """
    if len(readings) < 2:
        return None
    votes: dict[str, list[float]] = {}
    for text, score in readings:
        votes.setdefault(text, []).append(score)
    ranked = sorted(votes.items(), key=lambda kv: (len(kv[1]), max(kv[1])), reverse=True)
    text, scores = ranked[0]
    others = [score for other, kv_scores in ranked[1:] for score in kv_scores]
    if (
        _FIGURE.match(text)
        and len(scores) >= 2
        and 3 * len(scores) >= 2 * len(readings)
        and max(scores) >= MIN_FIGURE_SCORE
        and max(scores) - max(others, default=0.0) >= VOTE_MARGIN
    ):
        return text
    return None


def read(data: bytes, source: str = "image") -> Layout:
    """Read an image file (PNG, JPEG, GIF, TIFF; every frame) by OCR."""
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as exc:
        raise OcrError(f"{source}: not a readable image ({exc})") from exc
    lines: list[list[str]] = []
    warnings = [message("ocr.read", source)]
    frames = getattr(image, "n_frames", 1)
    for frame in range(frames):
        image.seek(frame)
        notes: list[str] = []
        lines.extend(image_lines(image.convert("RGB"), notes))
        at = message("ocr.frame", source, frame=frame + 1) if frames > 1 else source
        warnings += [f"{at}：{note}" for note in notes]
    return Layout(lines=lines, kind="image", warnings=warnings)
