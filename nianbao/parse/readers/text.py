"""Plain text (any charset) → Layout: one line per text line, cells split on tabs.

Text extracted from word-processor tables often prints one cell per line: each cell on a line of its
own behind a tab, a blank line after each row, and long cell text wrapped onto untabbed lines. Such
blocks are joined back into one multi-cell line per table row.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

from nianbao.parse.layout import Layout

# Declared/guessed GB encodings are decoded as their superset: GB2312 text often holds GBK/GB18030 characters.
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "hz", "cp936", "euc_cn", "euc-cn"}
_SPACE = re.compile(r"[ \u3000\xa0]+")
# A wrapped cell continues on an untabbed short line without sentence punctuation.
_MAX_CONTINUATION = 12
_SENTENCE = re.compile(r"[。；;！？]")


class TextDecodeError(ValueError):
    """Bytes that no charset reads as text."""


def decode(data: bytes, source: str = "text") -> tuple[str, list[str]]:
    """Decode `data` as text: BOM, then UTF-8, then charset-normalizer's guess (GB → gb18030)."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace"), []
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        try:
            return data.decode("gb18030"), [f"{source}: charset not recognised; decoded as gb18030"]
        except UnicodeDecodeError as exc:
            raise TextDecodeError(f"{source}: not text in any known charset") from exc
    encoding = best.encoding.lower()
    if encoding.replace("-", "_") in _GB_FAMILY or encoding in _GB_FAMILY:
        encoding = "gb18030"
    return data.decode(encoding, errors="replace"), [f"{source}: decoded as {encoding}"]


def _clean(cell: str) -> str:
    return _SPACE.sub(" ", cell).strip()


def text_lines(text: str) -> list[list[str]]:
    """Split text into lines of cells, joining one-cell-per-line table rows."""
    raw = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines: list[list[str]] = []
    row: list[str] | None = None  # the table row being assembled from one-cell lines
    for line in raw:
        if line.startswith("\t") and "\t" not in line[1:]:
            row = row if row is not None else []
            row.append(_clean(line[1:]))
            continue
        if not line.strip():
            if row is not None:
                lines.append(row)
                row = None
            continue
        if row is not None and row and len(line.strip()) <= _MAX_CONTINUATION \
                and not _SENTENCE.search(line) and "\t" not in line:
            row[-1] = row[-1] + line.strip()
            continue
        if row is not None:
            lines.append(row)
            row = None
        lines.append([_clean(c) for c in line.split("\t")])
    if row is not None:
        lines.append(row)
    return lines


def read(data: bytes, source: str = "text") -> Layout:
    """Read plain text into a Layout."""
    text, warnings = decode(data, source)
    return Layout(lines=text_lines(text), kind="txt", warnings=warnings)
