"""OFD reader (GB/T 33190: a zip of XML): text objects and ruled path objects of each page → lines of cells."""

from __future__ import annotations

import posixpath
import re

from lxml import etree

from nianbao.parse.layout import Layout
from nianbao.parse.messages import warning as message
from nianbao.parse.readers.package import BoundedPackage, PackageError
from nianbao.parse.readers.pdf import PageAssembler, positioned_lines

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


class OfdReadError(ValueError):
    """The bytes are not an OFD package this reader understands."""


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _children(element, name: str):
    return [child for child in element.iter() if _local(child.tag) == name]


def _floats(text: str | None) -> list[float]:
    return [float(n) for n in _NUMBER.findall(text or "")]


def _resolve(base: str, ref: str) -> str:
    ref = ref.strip()
    if ref.startswith("/"):
        return ref.lstrip("/")
    return posixpath.normpath(posixpath.join(base, ref))


def _xml(archive: BoundedPackage, name: str, source: str):
    try:
        return archive.xml(name)
    except KeyError as exc:
        raise OfdReadError(f"{source}: OFD part {name} is missing") from exc
    except PackageError as exc:
        raise OfdReadError(str(exc)) from exc
    except etree.XMLSyntaxError as exc:
        raise OfdReadError(f"{source}: OFD part {name} is not well-formed XML ({exc})") from exc


def _page_objects(page_xml) -> tuple[list[dict], list[dict]]:
    """Words (one per TextObject) and ruled edges (straight PathObjects) of one page, in millimetres."""
    words: list[dict] = []
    edges: list[dict] = []
    for obj in page_xml.iter():
        name = _local(obj.tag)
        if name == "TextObject":
            box = _floats(obj.get("Boundary"))
            text = "".join("".join(code.itertext()) for code in _children(obj, "TextCode"))
            if len(box) == 4 and text.strip():
                x, y, w, h = box
                words.append({"x0": x, "top": y, "x1": x + w, "bottom": y + h, "text": text})
        elif name == "PathObject":
            box = _floats(obj.get("Boundary"))
            if len(box) != 4:
                continue
            x, y, w, h = box
            # a ruled line is a path whose boundary is thin in one direction
            if h <= 0.6 and w > 0.6:
                edges.append({"x0": x, "x1": x + w, "top": y + h / 2, "bottom": y + h / 2, "orientation": "h"})
            elif w <= 0.6 and h > 0.6:
                edges.append({"x0": x + w / 2, "x1": x + w / 2, "top": y, "bottom": y + h, "orientation": "v"})
            elif w > 0.6 and h > 0.6 and _is_rectangle(obj):
                # a stroked rectangle: its four sides
                edges += [
                    {"x0": x, "x1": x + w, "top": y, "bottom": y, "orientation": "h"},
                    {"x0": x, "x1": x + w, "top": y + h, "bottom": y + h, "orientation": "h"},
                    {"x0": x, "x1": x, "top": y, "bottom": y + h, "orientation": "v"},
                    {"x0": x + w, "x1": x + w, "top": y, "bottom": y + h, "orientation": "v"},
                ]
    return words, edges


def _is_rectangle(path_obj) -> bool:
    data = " ".join("".join(d.itertext()) for d in _children(path_obj, "AbbreviatedData"))
    return data.count("L") >= 3 and "B" not in data and "A" not in data


def read(data: bytes, source: str = "OFD") -> Layout:
    """Read every page of the first document of an OFD package."""
    try:
        archive = BoundedPackage(data, source, "OFD")
    except PackageError as exc:
        raise OfdReadError(str(exc)) from exc
    try:
        root = _xml(archive, "OFD.xml", source)
        doc_roots = [("".join(e.itertext())).strip() for e in _children(root, "DocRoot")]
        if not doc_roots or not doc_roots[0]:
            raise OfdReadError(f"{source}: OFD.xml names no DocRoot")
        doc_path = _resolve("", doc_roots[0])
        document = _xml(archive, doc_path, source)
        doc_dir = posixpath.dirname(doc_path)
        pages = [p.get("BaseLoc") for p in _children(document, "Page") if p.get("BaseLoc")]
        assembled = PageAssembler()
        for number, loc in enumerate(pages, start=1):
            page_xml = _xml(archive, _resolve(doc_dir, loc), source)
            words, edges = _page_objects(page_xml)
            assembled.add_page(number, positioned_lines(words, edges, tolerance=1.0))
        if not pages:
            assembled.warnings.append(message("ofd.no_pages", source))
    finally:
        archive.close()
    return Layout(lines=assembled.lines, kind="ofd", warnings=assembled.warnings)
