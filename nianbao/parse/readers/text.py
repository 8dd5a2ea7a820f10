"""Plain text (any charset) → Layout: one line per text line, cells split on tabs or pipes.

Text extracted from word-processor tables often prints one cell per line: each cell on a line of its
own behind a tab, a blank line after each row, and long cell text wrapped onto untabbed lines. Such
blocks are joined back into one multi-cell line per table row.

Text converted from web pages prints tables with `|` between cells: a whole row per line
(`规章 | 0 | 0 | 0 |`, with or without a leading pipe), one cell per line (`规章 |`), or each cell on a
line of its own with the pipe on the next line. A line of pipes alone is an empty cell (`|`) or the
padding of merged cells at a row's end (`||`, `|||`). One-cell pipe lines are joined into rows: a
label after a value or an empty cell starts the next row.
"""

from __future__ import annotations

import re

from nianbao.charset import decode_bytes
from nianbao.parse.layout import Layout
from nianbao.parse.numbers import is_value

_SPACE = re.compile(r"[ \u3000\xa0]+")
# A wrapped cell continues on an untabbed short line without sentence punctuation.
_MAX_CONTINUATION = 12
_SENTENCE = re.compile(r"[。；;！？]")
_PIPES = str.maketrans({"｜": "|", "¦": "|"})
# A pipe-delimited "cell" longer than this, or ending a sentence, is prose that holds a pipe.
_MAX_PIPE_CELL = 80


class TextDecodeError(ValueError):
    """Bytes that no charset reads as text."""


# More than this share of undecodable characters: the bytes are not text in any charset.
_MAX_REPLACED_SHARE = 0.05


def decode(data: bytes, source: str = "text", content_type: str | None = None) -> tuple[str, list[str]]:
    """Decode `data` as text (`nianbao.charset`: BOM, the served charset, then sniffing) and say how,
    when not plain UTF-8."""
    decoded = decode_bytes(data, content_type, markup=False)
    if decoded.replacements > max(8, len(decoded.text) * _MAX_REPLACED_SHARE):
        raise TextDecodeError(f"{source}: not text in any known charset "
                              f"({decoded.replacements} undecodable sequences as {decoded.encoding})")
    return decoded.text, [f"{source}: {note}" for note in decoded.notes()]


def _clean(cell: str) -> str:
    return _SPACE.sub(" ", cell).strip()


def _is_pipe_only(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.strip("|")


def _pipe_cells(line: str) -> tuple[list[str], bool] | None:
    """The cells of a line with `|` between them and whether the row ends with merged-cell padding
    (`||`), or None when the line is not a pipe table row."""
    stripped = line.strip()
    if "|" not in stripped or _is_pipe_only(stripped):
        return None
    body = stripped[1:] if stripped.startswith("|") else stripped
    padded = body.endswith("||")
    body = body[:-1] if body.endswith("|") else body
    cells = [_clean(c) for c in body.split("|")]
    if padded:
        while len(cells) > 1 and not cells[-1]:
            cells.pop()
    if any(len(c) > _MAX_PIPE_CELL or "。" in c for c in cells):
        return None
    return cells, padded


class _PipeRows:
    """Joins pipe-table cells printed one per line back into rows."""

    def __init__(self, out: list[list[str]]) -> None:
        self.out = out
        self.row: list[str] = []

    def add(self, cell: str) -> None:
        # A label after a value or an empty cell is the next row's label.
        if cell and not is_value(cell) and self.row and (not self.row[-1] or is_value(self.row[-1])):
            self.end()
        self.row.append(cell)

    def end(self) -> None:
        if self.row:
            self.out.append(self.row)
        self.row = []


def _next_content(raw: list[str], index: int) -> str:
    return next((line for line in raw[index + 1:] if line.strip()), "")


def pipe_table_lines(raw: list[str]) -> list[str | list[str]]:
    """Rows of the pipe tables in `raw` as cell lists; every other line is passed on as it is."""
    if not any("|" in line for line in raw):
        return list(raw)
    out: list[str | list[str]] = []
    rows = _PipeRows(out)  # type: ignore[arg-type]
    separator_due = False  # a cell printed without its pipe: the next pipe line starts with it
    for index, line in enumerate(raw):
        if not line.strip():
            if not rows.row:
                out.append(line)
            continue
        if _is_pipe_only(line):
            # A lone pipe closes one (empty) cell; a run of pipes is merged-cell padding ending the row.
            groups = line.split()
            if separator_due:
                separator_due = False
                groups[0] = groups[0][1:]
            for group in filter(None, groups):
                if len(group) == 1:
                    rows.add("")
                else:
                    rows.end()
            continue
        separator_due = False
        parsed = _pipe_cells(line)
        if parsed is not None and len(parsed[0]) > 1:
            rows.end()
            out.append(parsed[0])
        elif parsed is not None:
            rows.add(parsed[0][0])
            if parsed[1]:
                rows.end()
        elif _is_pipe_only(_next_content(raw, index)) and len(line.strip()) <= _MAX_PIPE_CELL:
            rows.add(_clean(line))
            separator_due = True
        else:
            rows.end()
            out.append(line)
    rows.end()
    return out


def text_lines(text: str) -> list[list[str]]:
    """Split text into lines of cells, joining one-cell-per-line table rows."""
    raw = text.replace("\r\n", "\n").replace("\r", "\n").translate(_PIPES).split("\n")
    lines: list[list[str]] = []
    row: list[str] | None = None  # the table row being assembled from one-cell lines
    for line in pipe_table_lines(raw):
        if isinstance(line, list):
            if row is not None:
                lines.append(row)
                row = None
            lines.append(line)
            continue
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


def read(data: bytes, source: str = "text", content_type: str | None = None) -> Layout:
    """Read plain text into a Layout."""
    text, warnings = decode(data, source, content_type)
    return Layout(lines=text_lines(text), kind="txt", warnings=warnings)
