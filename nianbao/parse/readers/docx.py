"""DOCX reader: the body's paragraphs and tables in order, merges (gridSpan/vMerge) as "" positions."""

from __future__ import annotations

import posixpath

from lxml import etree

from nianbao.parse.layout import Layout
from nianbao.parse.messages import warning as message
from nianbao.parse.readers.package import BoundedPackage, PackageBombError, PackageError

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
V = "urn:schemas-microsoft-com:vml"
SLIVER_TWIPS = 30  # grid columns narrower than half a millimetre carry no cell of their own
_MIN_OCR_BYTES = 2000  # smaller pictures are logos and seals, not tables


class DocxReadError(ValueError):
    """The bytes are not a DOCX package this reader can open."""


def _w(name: str) -> str:
    return f"{{{W}}}{name}"


def _int(value: str | None, default: int = 1) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _paragraph_lines(p) -> list[list[str]]:
    """A paragraph: its text, split into lines at breaks and into cells at tab stops."""
    lines: list[list[str]] = [[""]]
    for el in p.iter(_w("t"), _w("tab"), _w("br"), _w("cr"), _w("sym")):
        if el.tag == _w("t"):
            lines[-1][-1] += el.text or ""
        elif el.tag == _w("tab"):
            # a tab inside w:pPr/w:tabs is a tab-stop definition, not text
            if el.getparent().tag != _w("tabs"):
                lines[-1].append("")
        elif el.tag == _w("sym"):
            lines[-1][-1] += " "
        else:
            lines.append([""])
    out = []
    for line in lines:
        cells = [" ".join(cell.split()) for cell in line]
        if any(cells):
            out.append([c for c in cells if c] if len([c for c in cells if c]) == 1 else cells)
    return out


def _cell_text(tc) -> str:
    """All text of a table cell (nested tables included), wrapped lines joined without a separator."""
    parts: list[str] = []
    for p in tc.iter(_w("p")):
        for line in _paragraph_lines(p):
            parts.append(" ".join(c for c in line if c))
    out = ""
    for part in parts:
        if out and out[-1].isascii() and out[-1].isalnum() and part[:1].isascii() and part[:1].isalnum():
            out += " "
        out += part
    return out


def table_lines(tbl) -> list[list[str]]:
    """A w:tbl as a grid: merged cells carry text in the first position, "" in covered positions."""
    rows: list[list[str]] = []
    for tr in tbl.findall(_w("tr")):
        grid_before = tr.find(f"{_w('trPr')}/{_w('gridBefore')}")
        row = [""] * (_int(grid_before.get(_w("val")), 0) if grid_before is not None else 0)
        for tc in tr.iter(_w("tc")):
            if tc.getparent() is not tr and not _in_sdt_of(tc, tr):
                continue
            tc_pr = tc.find(_w("tcPr"))
            span, continued = 1, False
            if tc_pr is not None:
                grid_span = tc_pr.find(_w("gridSpan"))
                if grid_span is not None:
                    span = max(1, _int(grid_span.get(_w("val"))))
                v_merge = tc_pr.find(_w("vMerge"))
                if v_merge is not None and v_merge.get(_w("val"), "continue") != "restart":
                    continued = True
                h_merge = tc_pr.find(_w("hMerge"))
                if h_merge is not None and h_merge.get(_w("val"), "continue") != "restart":
                    row.append("")
                    continue
            text = "" if continued else _cell_text(tc)
            row.extend([text] + [""] * (span - 1))
        if any(row):
            rows.append(row)
    return _drop_sliver_columns(tbl, rows)


def _drop_sliver_columns(tbl, rows: list[list[str]]) -> list[list[str]]:
    """Remove hairline grid columns that converters leave where cell edges nearly align.

    A sliver holds text only as the first column of a merged cell that goes on to the right: that text
    moves one column right, where the merged cell continues.
    """
    widths = [_int(col.get(_w("w")), 0) for col in tbl.findall(f"{_w('tblGrid')}/{_w('gridCol')}")]
    for i in reversed([i for i, width in enumerate(widths) if width < SLIVER_TWIPS]):
        movable = all(
            i >= len(row) or not row[i] or (i + 1 < len(row) and not row[i + 1]) for row in rows
        )
        if not movable:
            continue
        for row in rows:
            if i < len(row):
                if row[i] and i + 1 < len(row):
                    row[i + 1] = row[i]
                del row[i]
    return rows


def _in_sdt_of(tc, tr) -> bool:
    """A cell wrapped in a content control (w:sdt/w:sdtContent) still belongs to the row."""
    parent = tc.getparent()
    while parent is not None and parent is not tr:
        if parent.tag not in (_w("sdtContent"), _w("sdt"), _w("customXml")):
            return False
        parent = parent.getparent()
    return parent is tr


class _DocxPackage:
    """The package's parts, each decompressed within the zip caps (a DOCX is a zip, so it can be a bomb)."""

    def __init__(self, data: bytes, source: str) -> None:
        try:
            self.zip = BoundedPackage(data, source, "DOCX")
            self.document = self.zip.xml("word/document.xml")
        except PackageBombError as exc:
            raise DocxReadError(str(exc)) from exc
        except (PackageError, KeyError) as exc:
            raise DocxReadError(f"{source}: not a DOCX package (no readable word/document.xml: {exc})") from exc
        except etree.XMLSyntaxError as exc:
            raise DocxReadError(f"{source}: word/document.xml is not well-formed ({exc})") from exc
        self.targets: dict[str, str] = {}
        try:
            rels = self.zip.xml("word/_rels/document.xml.rels")
            for rel in rels:
                target = rel.get("Target", "")
                self.targets[rel.get("Id", "")] = target if target.startswith("/") else posixpath.join("word", target)
        except PackageBombError as exc:
            raise DocxReadError(str(exc)) from exc
        except (KeyError, PackageError, etree.XMLSyntaxError):
            pass  # no relationships: no images to OCR

    def image(self, rel_id: str) -> bytes | None:
        name = self.targets.get(rel_id)
        if not name:
            return None
        try:
            return self.zip.read(posixpath.normpath(name).lstrip("/"))
        except PackageBombError as exc:
            raise DocxReadError(str(exc)) from exc
        except (KeyError, PackageError):
            return None


def _picture_ids(p) -> list[str]:
    ids = [blip.get(f"{{{R}}}embed") for blip in p.iter(f"{{{A}}}blip")]
    ids += [data.get(f"{{{R}}}id") for data in p.iter(f"{{{V}}}imagedata")]
    return [i for i in ids if i]


def read(data: bytes, source: str = "DOCX") -> Layout:
    """Read the document body in order; pictures (tables pasted as images) are OCR'd in place."""
    package = _DocxPackage(data, source)
    body = package.document.find(_w("body"))
    lines: list[list[str]] = []
    warnings: list[str] = []
    if body is None:
        raise DocxReadError(f"{source}: word/document.xml has no body")

    def visit(container) -> None:
        for el in container:
            if el.tag == _w("p"):
                lines.extend(_paragraph_lines(el))
                for rel_id in _picture_ids(el):
                    picture = package.image(rel_id)
                    if picture and len(picture) >= _MIN_OCR_BYTES:
                        _ocr_picture(picture, rel_id)
            elif el.tag == _w("tbl"):
                lines.extend(table_lines(el))
            elif el.tag in (_w("sdt"), _w("sdtContent"), _w("customXml")):
                visit(el)

    def _ocr_picture(picture: bytes, rel_id: str) -> None:
        from nianbao.parse.readers import ocr

        try:
            layout = ocr.read(picture, source=f"{source} picture {rel_id}")
            lines.extend(layout.lines)
            warnings.append(message("ocr.picture", source, name=rel_id))
            warnings.extend(layout.warnings[1:])  # what OCR could not read, after its "read by OCR" line
        except ocr.OcrError as exc:
            warnings.append(str(exc))

    visit(body)
    return Layout(lines=lines, kind="docx", warnings=warnings)
