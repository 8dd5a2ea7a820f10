"""HTML reader: decode any charset, drop portal chrome, keep article text and tables as lines of cells."""

from __future__ import annotations

import re
from collections.abc import Mapping

import lxml.html
from lxml import etree

from nianbao.charset import decode_bytes
from nianbao.parse.layout import Layout
from nianbao.parse.messages import warning as message

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_DROP = {"script", "style", "noscript", "template", "nav", "select", "option", "iframe", "button", "svg", "object",
         "embed", "canvas", "map"}
_BLOCK = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "section", "article", "header",
          "footer", "main", "aside", "blockquote", "pre", "dl", "dt", "dd", "form", "center", "address", "figure",
          "figcaption", "hr", "title", "body", "caption", "fieldset", "legend", "tr", "td", "th"}
_MIN_OCR_BYTES = 2000  # smaller images are icons and decorations, not tables


class HtmlReadError(ValueError):
    """The bytes cannot be decoded or parsed as HTML."""


# More than this share of undecodable characters: the bytes are not a page in any charset.
_MAX_REPLACED_SHARE = 0.05


def decode(data: bytes, source: str = "HTML", content_type: str | None = None) -> tuple[str, str, list[str]]:
    """The page as text, the encoding used, and warnings on how it was decided (`nianbao.charset`)."""
    decoded = decode_bytes(data, content_type)
    if decoded.replacements > max(8, len(decoded.text) * _MAX_REPLACED_SHARE):
        raise HtmlReadError(f"{source}: cannot determine the character encoding "
                            f"({decoded.replacements} undecodable sequences as {decoded.encoding})")
    return decoded.text, decoded.encoding, [f"{source}: {note}" for note in decoded.notes()]


def _parse(data: bytes, source: str, warnings: list[str] | None = None, content_type: str | None = None):
    text, _, notes = decode(data, source, content_type)
    if warnings is not None:
        warnings.extend(notes)
    text = _XML_DECL.sub("", text)
    if not text.strip():
        raise HtmlReadError(f"{source}: the page is empty")
    try:
        return lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise HtmlReadError(f"{source}: not parseable as HTML ({exc})") from exc


def _tag(element) -> str:
    return element.tag.lower() if isinstance(element.tag, str) else ""


def _squash(text: str) -> str:
    return " ".join(text.split())


def _join_pieces(pieces: list[str]) -> str:
    """Pieces of one cell split by block elements: joined without a separator (CJK wraps have none)."""
    out = ""
    for piece in (_squash(p) for p in pieces):
        if not piece:
            continue
        if out and out[-1].isascii() and out[-1].isalnum() and piece[0].isascii() and piece[0].isalnum():
            out += " "
        out += piece
    return out


def _cell_text(cell) -> str:
    pieces = [""]

    def walk(el) -> None:
        tag = _tag(el)
        if tag in _DROP:
            return
        if tag in _BLOCK or tag == "br":
            pieces.append("")
        pieces[-1] += el.text or ""
        for child in el:
            walk(child)
            pieces[-1] += child.tail or ""
        if tag in _BLOCK:
            pieces.append("")

    walk(cell)
    return _join_pieces(pieces)


def table_lines(table) -> list[list[str]]:
    """A table as a grid: each merged cell's text in its first position, "" in the positions it covers."""
    rows = [tr for tr in table.iter("tr") if _owner_table(tr) is table]
    grid: dict[tuple[int, int], str] = {}
    width = 0
    for r, tr in enumerate(rows):
        c = 0
        for cell in tr:
            if _tag(cell) not in ("td", "th"):
                continue
            while (r, c) in grid:
                c += 1
            colspan = _span(cell.get("colspan"))
            rowspan = _span(cell.get("rowspan"), limit=len(rows) - r)
            text = _cell_text(cell)
            for dr in range(rowspan):
                for dc in range(colspan):
                    grid[(r + dr, c + dc)] = text if dr == dc == 0 else ""
            c += colspan
            width = max(width, c)
    lines = [[grid.get((r, c), "") for c in range(width)] for r in range(len(rows))]
    return [line for line in lines if any(line)]


def _owner_table(element):
    for ancestor in element.iterancestors():
        if _tag(ancestor) == "table":
            return ancestor
    return None


def _span(value: str | None, limit: int = 200) -> int:
    try:
        n = int(str(value).strip()) if value else 1
    except ValueError:
        return 1
    return max(1, min(n, limit, 200))


def _is_layout_table(table) -> bool:
    """A table that holds other tables lays out the page rather than presenting data."""
    return any(_tag(el) == "table" for el in table.iterdescendants())


class _Lines:
    def __init__(self) -> None:
        self.lines: list[list[str]] = []
        self.buffer = ""

    def add(self, text: str | None) -> None:
        if text:
            self.buffer += text

    def flush(self) -> None:
        text = _squash(self.buffer)
        if text:
            self.lines.append([text])
        self.buffer = ""


def image_sources(data: bytes) -> list[str]:
    """The `src` of every image in the page body, in document order (for the caller to fetch and OCR)."""
    root = _parse(data, "HTML")
    body = root.find("body")
    return [img.get("src") for img in (body if body is not None else root).iter("img") if img.get("src")]


def read(data: bytes, source: str = "HTML", images: Mapping[str, bytes] | None = None,
         content_type: str | None = None) -> Layout:
    """Read a page: title, article paragraphs and tables; `images` (src → bytes) are OCR'd in place.
    `content_type` is the Content-Type the page was served with (charset evidence)."""
    warnings: list[str] = []
    root = _parse(data, source, warnings, content_type)
    out = _Lines()
    title = root.find(".//title")
    if title is not None and _squash(title.text_content()):
        out.lines.append([_squash(title.text_content())])

    def walk(el) -> None:
        tag = _tag(el)
        if tag in _DROP or tag in ("head", "title"):
            return
        if tag == "table" and not _is_layout_table(el):
            out.flush()
            out.lines.extend(table_lines(el))
            return
        if tag == "br":
            out.flush()
            return
        if tag == "img":
            src = el.get("src")
            if images and src in images and len(images[src]) >= _MIN_OCR_BYTES:
                out.flush()
                from nianbao.parse.readers import ocr

                try:
                    layout = ocr.read(images[src], source=src)
                    out.lines.extend(layout.lines)
                    warnings.append(message("ocr.picture", source, name=src))
                    warnings.extend(layout.warnings[1:])  # what OCR could not read
                except ocr.OcrError as exc:
                    warnings.append(str(exc))
            return
        block = tag in _BLOCK or tag == "table"
        if block:
            out.flush()
        out.add(el.text)
        for child in el:
            walk(child)
            out.add(child.tail)
        if block:
            out.flush()

    body = root.find("body")
    walk(body if body is not None else root)
    out.flush()
    return Layout(lines=out.lines, kind="html", warnings=warnings)
