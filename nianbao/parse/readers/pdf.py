"""PDF reader: pdfplumber words and ruled lines → lines of cells; pages without usable text are OCR'd.

The grid routine here (`positioned_lines`) is shared by every reader that knows where text sits on a
page: text PDF, OFD and OCR'd images.
"""

from __future__ import annotations

import difflib
import io
import re
from collections.abc import Callable, Iterable

import pdfplumber
from pdfplumber.table import cells_to_tables, edges_to_intersections, intersections_to_cells, merge_edges

from nianbao.parse.layout import Layout
from nianbao.parse.messages import OCR_REASONS
from nianbao.parse.messages import warning as message
from nianbao.parse.messages import where as place

OCR_DPI = 150
_CID = re.compile(r"\(cid:\d+\)")
_ASCII_WORD_END = re.compile(r"[A-Za-z0-9.,%]$")
_ASCII_WORD_START = re.compile(r"^[A-Za-z0-9]")
_FIGURE = re.compile(r"^-?[\d,，.]+$")
FillEmpty = Callable[[tuple[float, float, float, float]], str]


class PdfReadError(ValueError):
    """The bytes are not a PDF this reader can open."""


# ---------------------------------------------------------------- the grid routine


def join_texts(parts: Iterable[str]) -> str:
    """Join text pieces of one cell: no separator between CJK pieces, a space between Latin words."""
    out = ""
    for part in parts:
        part = part.strip()
        if not part:
            continue
        if out and _ASCII_WORD_END.search(out) and _ASCII_WORD_START.match(part):
            out += " "
        out += part
    return " ".join(out.split())


def _cluster(values: list[float], tolerance: float) -> list[float]:
    """Sorted representatives of values closer than `tolerance` to each other."""
    out: list[float] = []
    for value in sorted(values):
        if out and value - out[-1] <= tolerance:
            continue
        out.append(value)
    return out


def _index(reps: list[float], value: float) -> int:
    return min(range(len(reps)), key=lambda i: abs(reps[i] - value))


def _rows_of_words(words: list[dict]) -> list[list[dict]]:
    """Group words into printed rows by vertical overlap, each row sorted left to right."""
    rows: list[list[dict]] = []
    for word in sorted(words, key=lambda w: (w["top"], w["x0"])):
        height = word["bottom"] - word["top"]
        if rows:
            last = rows[-1]
            top = min(w["top"] for w in last)
            bottom = max(w["bottom"] for w in last)
            overlap = min(bottom, word["bottom"]) - max(top, word["top"])
            if overlap > 0.5 * min(height, bottom - top):
                last.append(word)
                continue
        rows.append([word])
    return [sorted(row, key=lambda w: w["x0"]) for row in rows]


def _cell_text(words: list[dict]) -> str:
    return join_texts(w["text"] for row in _rows_of_words(words) for w in row)


def _table_lines(
    cells: list[tuple[float, float, float, float]],
    words: list[dict],
    tolerance: float,
    fill_empty: FillEmpty | None = None,
) -> list[list[str]]:
    xs = _cluster([c[0] for c in cells] + [c[2] for c in cells], tolerance)
    ys = _cluster([c[1] for c in cells] + [c[3] for c in cells], tolerance)
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    grid = [[""] * n_cols for _ in range(n_rows)]
    placed: dict[tuple[int, int], list[dict]] = {}
    boxes: dict[tuple[int, int], tuple[float, float, float, float]] = {}
    for x0, top, x1, bottom in cells:
        r, c = _index(ys, top), _index(xs, x0)
        if r >= n_rows or c >= n_cols:
            continue
        inside = [
            w
            for w in words
            if x0 <= (w["x0"] + w["x1"]) / 2 <= x1 and top <= (w["top"] + w["bottom"]) / 2 <= bottom
        ]
        placed.setdefault((r, c), []).extend(inside)
        boxes[(r, c)] = (x0, top, x1, bottom)
    for (r, c), cell_words in placed.items():
        text = _cell_text(cell_words)
        if fill_empty is not None and _FIGURE.match(text) and any(w.get("uncertain") for w in cell_words):
            # a figure OCR was unsure of is read again alone: a sure figure, or blank with a warning
            text = fill_empty(boxes[(r, c)])
        grid[r][c] = text
    if fill_empty is not None:
        _fill_value_holes(grid, boxes, fill_empty)
    return [row for row in grid if any(row)]


def _fill_value_holes(grid: list[list[str]], boxes: dict, fill_empty: FillEmpty) -> None:
    """Ask `fill_empty` for every empty cell of the table.

    OCR detection sometimes misses a lone digit (a thin "1" above all), even every figure of a row of
    dashes; looking again at just that cell finds it or says it cannot, and a cell with nothing printed
    in it costs only an ink count.
    """
    for r, row in enumerate(grid):
        for c, text in enumerate(row):
            if not text and (r, c) in boxes:
                grid[r][c] = fill_empty(boxes[(r, c)])


def _text_line(words: list[dict]) -> list[str]:
    """A row of words outside any ruled table: split into cells where the gap is wide (ruleless tables)."""
    cells: list[list[dict]] = [[words[0]]]
    for prev, word in zip(words, words[1:], strict=False):
        height = max(word["bottom"] - word["top"], 1.0)
        if word["x0"] - prev["x1"] > 1.5 * height:
            cells.append([word])
        else:
            cells[-1].append(word)
    return [join_texts(w["text"] for w in cell) for cell in cells]


def positioned_lines(
    words: list[dict], edges: list[dict], tolerance: float = 3.0, fill_empty: FillEmpty | None = None
) -> list[tuple[str, list[list[str]]]]:
    """Lines of cells from positioned words and ruled edges of one page.

    `words`: dicts with x0, top, x1, bottom, text. `edges`: dicts with x0, top, x1, bottom and
    orientation "h"/"v". Returns blocks in reading order, each ("table", lines) or ("text", [line]);
    in a table, merged cells carry their text in the first position and "" in covered positions.
    `fill_empty(bbox) -> str`, when given, re-reads table cells left empty among figures (OCR).
    """
    edges = [
        {"x0": e["x0"], "x1": e["x1"], "top": e["top"], "bottom": e["bottom"], "orientation": e["orientation"],
         "width": e["x1"] - e["x0"], "height": e["bottom"] - e["top"]}
        for e in edges
        if (e["orientation"] == "h" and e["x1"] - e["x0"] >= tolerance)
        or (e["orientation"] == "v" and e["bottom"] - e["top"] >= tolerance)
    ]
    tables: list[list[tuple[float, float, float, float]]] = []
    if edges:
        merged = merge_edges(edges, tolerance, tolerance, tolerance, tolerance)
        intersections = edges_to_intersections(merged, tolerance, tolerance)
        tables = [t for t in cells_to_tables(intersections_to_cells(intersections)) if len(t) >= 2]
    blocks: list[tuple[float, str, list[list[str]]]] = []
    remaining = list(words)
    for cells in tables:
        x0 = min(c[0] for c in cells)
        top = min(c[1] for c in cells)
        x1 = max(c[2] for c in cells)
        bottom = max(c[3] for c in cells)

        def inside(w: dict, x0=x0, top=top, x1=x1, bottom=bottom) -> bool:
            cx, cy = (w["x0"] + w["x1"]) / 2, (w["top"] + w["bottom"]) / 2
            return x0 <= cx <= x1 and top <= cy <= bottom

        table_words = [w for w in remaining if inside(w)]
        remaining = [w for w in remaining if not inside(w)]
        lines = _table_lines(cells, table_words, tolerance, fill_empty)
        if lines:
            blocks.append((top, "table", lines))
    for row in _rows_of_words(remaining):
        line = _text_line(row)
        if any(line):
            blocks.append((row[0]["top"], "text", [line]))
    blocks.sort(key=lambda b: b[0])
    return [(kind, lines) for _, kind, lines in blocks]


def drop_repeated_header(previous_table: list[list[str]] | None, table: list[list[str]]) -> tuple[list[list[str]], int]:
    """Remove the header rows a table repeats at the top of a new page; return the rows and how many went."""
    if not previous_table:
        return table, 0
    k = 0
    while k < len(table) and k < len(previous_table) - 1 and _same_row(table[k], previous_table[k]):
        k += 1
    return table[k:], k


def _same_row(a: list[str], b: list[str]) -> bool:
    """Rows equal up to small differences (an OCR'd header may lose a character)."""
    if a == b:
        return True
    if len(a) != len(b) or not any(a):
        return False
    return difflib.SequenceMatcher(None, "|".join(a), "|".join(b)).ratio() >= 0.85


class PageAssembler:
    """Joins the blocks of successive pages into one list of lines.

    A table that ends one page and continues at the top of the next usually repeats its header rows
    there; those repeats are dropped so that the table reads as one.
    """

    def __init__(self) -> None:
        self.lines: list[list[str]] = []
        self.warnings: list[str] = []
        self._table_start: list[list[str]] | None = None
        self._table_open = False

    def add_page(self, number: int, blocks: list[tuple[str, list[list[str]]]]) -> None:
        for index, (kind, block_lines) in enumerate(blocks):
            if kind == "table":
                if index == 0 and self._table_open and self._table_start:
                    block_lines, dropped = drop_repeated_header(self._table_start, block_lines)
                    if dropped:
                        self.warnings.append(message("pdf.header_repeated", place("page", page=number), rows=dropped))
                else:
                    self._table_start = block_lines
            self.lines.extend(block_lines)
        self._table_open = bool(blocks) and blocks[-1][0] == "table"


# ---------------------------------------------------------------- the reader


def _page_words(page) -> list[dict]:
    return page.extract_words(x_tolerance=1.5, y_tolerance=2, keep_blank_chars=False, use_text_flow=False)


def _needs_ocr(page) -> str | None:
    """Why this page's text layer is unusable (so it must be OCR'd), or None when it is fine."""
    chars = page.chars
    if not chars:
        return "no text layer" if page.images else None
    text = "".join(c["text"] for c in chars)
    garbage = sum(len(m) for m in _CID.findall(text))
    if garbage > 0.3 * len(text):
        return "broken font map ((cid:N) glyphs)"
    # glyphs without a Unicode mapping come out as private-use or replacement characters
    unmapped = sum(1 for ch in text if ch == "\ufffd" or 0xE000 <= ord(ch) <= 0xF8FF)
    if unmapped > 0.3 * len(text):
        return "broken font map (unmapped glyphs)"
    return None


def read(data: bytes, source: str = "PDF") -> Layout:
    """Read a PDF page by page (flat memory); scanned or garbled pages go through OCR."""
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # pdfminer raises many types on damaged files
        raise PdfReadError(f"{source}: not a readable PDF ({exc.__class__.__name__}: {exc})") from exc
    pages = PageAssembler()
    ocr_pages = 0
    renderer = None
    try:
        n_pages = len(pdf.pages)
        for number in range(n_pages):
            page = pdf.pages[number]
            try:
                reason = _needs_ocr(page)
                if reason:
                    from nianbao.parse.readers import ocr

                    if renderer is None:
                        import pypdfium2

                        renderer = pypdfium2.PdfDocument(data)
                    pdfium_page = renderer[number]
                    image = pdfium_page.render(scale=OCR_DPI / 72).to_pil()
                    pdfium_page.close()
                    page_notes: list[str] = []
                    blocks = ocr.image_blocks(image, page_notes)
                    at = place("page", page=number + 1)
                    pages.warnings.append(message("pdf.ocr", at, reason=OCR_REASONS.get(reason, reason)))
                    pages.warnings += [f"{at}：{note}" for note in page_notes]
                    ocr_pages += 1
                else:
                    edges = [e for e in page.edges if e["orientation"] in ("h", "v")]
                    blocks = positioned_lines(_page_words(page), edges)
            finally:
                page.close()
            pages.add_page(number + 1, blocks)
    finally:
        pdf.close()
        if renderer is not None:
            renderer.close()
    kind = "pdf-scan" if n_pages and ocr_pages == n_pages else "pdf"
    return Layout(lines=pages.lines, kind=kind, warnings=pages.warnings)
