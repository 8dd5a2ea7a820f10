"""Legacy DOC and WPS reader: `antiword -x db` (DocBook keeps the tables) and LibreOffice headless.

A Word 97 .doc goes to antiword first, LibreOffice when antiword fails or flattens a table. A Kingsoft
.wps goes to LibreOffice first (its filters follow WPS's departures from Word's binary format; antiword
only knows Word's), antiword as the fallback. Conversions run in a temporary directory under a time
limit (the whole LibreOffice process group is killed when it is exceeded) and are cached by the input's
sha256 under `$XDG_CACHE_HOME/nianbao/doc`, so each document is converted once.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from lxml import etree
from tenacity import retry, retry_if_exception_type, stop_after_attempt

from nianbao.parse.layout import Layout
from nianbao.parse.messages import warning as message
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
    proc = _run_bounded(
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
        TIMEOUT_SECONDS,
    )
    produced = out / "document.docx"
    if proc.returncode != 0 or not produced.exists():
        raise RuntimeError(f"soffice could not convert it (exit {proc.returncode})")
    return produced.read_bytes()


def _run_bounded(cmd: list[str], timeout: float) -> subprocess.CompletedProcess:
    """Run cmd in its own process group; past `timeout` the whole group is killed.

    `soffice` is a launcher script whose office process would outlive a plain kill of the launcher.
    """
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


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


def _read_antiword(data: bytes, digest: str, source: str) -> tuple[Layout, bool]:
    """antiword's reading, and whether it is complete (no table flattened)."""
    lines, flattened = docbook_lines(_antiword(data, digest), source)
    warnings = [message("doc.flattened", source)] if flattened else []
    return Layout(lines=lines, kind="doc", warnings=warnings), not flattened


def _read_soffice(data: bytes, digest: str, source: str) -> Layout:
    from nianbao.parse.readers import docx

    layout = docx.read(_soffice_docx(data, digest), source=source)
    return Layout(lines=layout.lines, kind="doc", warnings=[message("doc.libreoffice"), *layout.warnings])


_ANTIWORD_ERRORS = (FileNotFoundError, RuntimeError, subprocess.TimeoutExpired, DocReadError)
_SOFFICE_ERRORS = (FileNotFoundError, RuntimeError, subprocess.TimeoutExpired, ValueError)


def read(data: bytes, source: str = "DOC") -> Layout:
    """Read a Word 97–2003 or Kingsoft WPS document (kind "doc" or "wps", from the bytes)."""
    kind = "wps" if sniff(data) == "wps" else "doc"
    digest = hashlib.sha256(data).hexdigest()
    problems: list[str] = []
    partial: Layout | None = None

    def finish(layout: Layout) -> Layout:
        return Layout(lines=layout.lines, kind=kind, warnings=[*problems, *layout.warnings])

    if kind == "wps":
        try:
            return finish(_read_soffice(data, digest, source))
        except _SOFFICE_ERRORS as exc:
            problems.append(f"LibreOffice: {exc}")
    try:
        layout, complete = _read_antiword(data, digest, source)
        if complete or kind == "wps":
            return finish(layout)
        # antiword lost the structure of a table: LibreOffice, when installed, reads it whole
        problems.append("antiword: a table came out flattened")
        partial = layout
    except _ANTIWORD_ERRORS as exc:
        problems.append(f"antiword: {exc}")
    if kind == "doc":
        try:
            return finish(_read_soffice(data, digest, source))
        except _SOFFICE_ERRORS as exc:
            problems.append(f"LibreOffice: {exc}")
    if partial is not None:
        partial.warnings.extend(problems)
        return Layout(lines=partial.lines, kind=kind, warnings=partial.warnings)
    raise DocReadError(f"{source}: cannot read this {kind.upper()} file ({'; '.join(problems)})")
