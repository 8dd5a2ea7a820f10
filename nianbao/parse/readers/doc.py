"""Legacy DOC and WPS reader: `antiword -x db` (DocBook keeps the tables), LibreOffice as a fallback.

Conversions run in a temporary directory under a time limit and are cached by the input's sha256 under
`$XDG_CACHE_HOME/nianbao/doc`, so each document is converted once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from lxml import etree
from tenacity import retry, retry_if_exception_type, stop_after_attempt

from nianbao.parse.layout import Layout
from nianbao.parse.sniff import sniff

TIMEOUT_SECONDS = 120
# antiword writes one tgroup per table row, with that row's cell widths: boundaries closer than this
# (points) are the same column line
COLUMN_TOLERANCE = 3.0
FLATTENED_BARS = 4


class DocReadError(ValueError):
    """Neither converter could read the document."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nianbao" / "doc"


def _cached(digest: str, suffix: str) -> Path:
    return cache_dir() / f"{digest}.{suffix}"


def _store(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError:
        pass  # an unwritable cache only costs a second conversion


def _converted(
    data: bytes, digest: str, suffix: str, tool: str, names: tuple[str, ...], convert: Callable[[str, Path], bytes]
) -> bytes:
    """`convert(executable, input_path)` of the document, run once per document: later calls read the cache.

    `names` are the executable's names, tried in order; the input lies alone in a temporary directory.
    """
    cached = _cached(digest, suffix)
    if cached.exists():
        return cached.read_bytes()
    binary = next((path for path in map(shutil.which, names) if path), None)
    if not binary:
        raise FileNotFoundError(f"{tool} is not installed")
    with tempfile.TemporaryDirectory(prefix="nianbao-doc-") as tmp:
        path = Path(tmp) / "document.doc"
        path.write_bytes(data)
        result = convert(binary, path)
    _store(cached, result)
    return result


def _antiword(data: bytes, digest: str) -> bytes:
    def convert(binary: str, path: Path) -> bytes:
        proc = subprocess.run(
            [binary, "-x", "db", "-m", "UTF-8.txt", str(path)],
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
            cwd=path.parent,
            env={**os.environ, "LANG": "C.UTF-8"},
        )
        if proc.returncode != 0 or not proc.stdout.strip():
            message = proc.stderr.decode("utf-8", errors="replace").strip().splitlines()
            raise RuntimeError(f"antiword failed: {message[-1] if message else f'exit {proc.returncode}'}")
        return proc.stdout

    return _converted(data, digest, "db.xml", "antiword", ("antiword",), convert)


# A LibreOffice that starts with a fresh profile sometimes exits having written nothing; a second
# start with the profile in place succeeds.
@retry(stop=stop_after_attempt(2), retry=retry_if_exception_type(RuntimeError), reraise=True)
def _run_soffice(binary: str, path: Path) -> bytes:
    """Convert the document at path to DOCX with LibreOffice headless; its bytes."""
    out = path.parent / "out"
    proc = subprocess.run(
        [
            binary,
            f"-env:UserInstallation={(path.parent / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "docx",
            "--outdir",
            str(out),
            str(path),
        ],
        capture_output=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    produced = out / "document.docx"
    if proc.returncode != 0 or not produced.exists():
        raise RuntimeError(f"soffice could not convert it (exit {proc.returncode})")
    return produced.read_bytes()


def _soffice_docx(data: bytes, digest: str) -> bytes:
    return _converted(data, digest, "docx", "LibreOffice (soffice)", ("soffice", "libreoffice"), _run_soffice)


def _tgroup_boundaries(tgroup) -> list[float]:
    widths = []
    for spec in tgroup.findall("colspec"):
        value = (spec.get("colwidth") or "0").rstrip("pt*")
        try:
            widths.append(float(value))
        except ValueError:
            widths.append(0.0)
    edges, x = [0.0], 0.0
    for w in widths:
        x += w
        edges.append(x)
    return edges


def _entry_text(entry) -> str:
    return " ".join("".join(entry.itertext()).split())


def docbook_table_lines(table) -> list[list[str]]:
    """A DocBook informaltable as a grid; a wide cell spans the columns its width covers."""
    groups = table.findall("tgroup")
    bounds = sorted({round(b, 1) for g in groups for b in _tgroup_boundaries(g)})
    columns: list[float] = []
    for b in bounds:
        if not columns or b - columns[-1] > COLUMN_TOLERANCE:
            columns.append(b)

    def column_of(x: float) -> int:
        return min(range(len(columns)), key=lambda i: abs(columns[i] - x))

    n_cols = max(len(columns) - 1, 1)
    lines: list[list[str]] = []
    for group in groups:
        edges = _tgroup_boundaries(group)
        for row in group.iter("row"):
            line = [""] * n_cols
            entries = row.findall("entry")
            for i, entry in enumerate(entries):
                start = column_of(edges[i]) if i < len(edges) else n_cols - 1
                line[min(start, n_cols - 1)] = _entry_text(entry)
            if any(line):
                lines.append(line)
    return lines


def docbook_lines(xml: bytes, source: str) -> tuple[list[list[str]], int]:
    """Paragraphs and tables of antiword's DocBook output, in order, and how many tables came flattened."""
    try:
        root = etree.fromstring(xml, parser=etree.XMLParser(recover=True, resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise DocReadError(f"{source}: antiword produced unreadable DocBook ({exc})") from exc
    if root is None:
        raise DocReadError(f"{source}: antiword produced no output")
    lines: list[list[str]] = []
    flattened = 0

    def visit(el) -> None:
        nonlocal flattened
        for child in el:
            if not isinstance(child.tag, str):
                continue
            if child.tag in ("informaltable", "table"):
                lines.extend(docbook_table_lines(child))
                continue
            if child.tag == "para" and child.find(".//informaltable") is None:
                text = " ".join("".join(child.itertext()).split())
                if text.count("|") >= FLATTENED_BARS:
                    # a table antiword could not lay out comes as one paragraph with "|" between cells
                    lines.append([" ".join(cell.split()) for cell in text.split("|")])
                    flattened += 1
                elif text:
                    lines.append([text])
                continue
            visit(child)

    visit(root)
    return lines, flattened


def read(data: bytes, source: str = "DOC") -> Layout:
    """Read a Word 97–2003 or Kingsoft WPS document (kind "doc" or "wps", from the bytes)."""
    kind = "wps" if sniff(data) == "wps" else "doc"
    digest = hashlib.sha256(data).hexdigest()
    problems: list[str] = []
    partial: Layout | None = None
    try:
        lines, flattened = docbook_lines(_antiword(data, digest), source)
        if not flattened:
            return Layout(lines=lines, kind=kind, warnings=[])
        # antiword lost the structure of a table: LibreOffice, when installed, reads it whole
        problems.append("antiword: a table came out flattened")
        partial = Layout(lines=lines, kind=kind, warnings=[f"{source}: a table was flattened by antiword"])
    except (FileNotFoundError, RuntimeError, subprocess.TimeoutExpired, DocReadError) as exc:
        problems.append(f"antiword: {exc}")
    try:
        from nianbao.parse.readers import docx

        layout = docx.read(_soffice_docx(data, digest), source=source)
        return Layout(lines=layout.lines, kind=kind, warnings=[*problems, "converted by LibreOffice", *layout.warnings])
    except (FileNotFoundError, RuntimeError, subprocess.TimeoutExpired, ValueError) as exc:
        problems.append(f"LibreOffice: {exc}")
    if partial is not None:
        partial.warnings.extend(problems)
        return partial
    raise DocReadError(f"{source}: cannot read this {kind.upper()} file ({'; '.join(problems)})")
