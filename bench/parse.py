"""Parse benchmark: reports per second per core by input type, and accuracy against ground truth.

Documents are the sample portals' published reports (`nianbao/sample_portals/site` with
`load_truth()`), falling back to the same reports rendered by bench.docpool when the site is not built.
nianbao's `parse_bytes` is set beside a baseline with no canonical mapping: pandas `read_html` (lxml) for
HTML and pdfplumber `extract_tables` for PDF. Speed is documents per CPU-second of this process (one
parse at a time, so CPU-seconds are core-seconds). Accuracy counts the truth's non-blank cells: nianbao
is right when the cell's key holds the printed value; the baseline is credited when the value appears
anywhere in the tables it extracted (a far weaker test, since it knows no keys).
"""

from __future__ import annotations

import io
import os
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

TYPES = ("html", "pdf", "docx", "doc", "pdf-scan", "ofd")
BASELINE_TYPES = {"html": "pandas.read_html (lxml)", "pdf": "pdfplumber extract_tables",
                  "pdf-scan": "pdfplumber extract_tables"}
_FULLWIDTH = str.maketrans("０１２３４５６７８９．，－", "0123456789.,-")


@dataclass
class Doc:
    """One report document to parse, with the truth it must yield."""

    report_id: str
    format: str
    data: bytes
    truth: dict
    source: str


def load_documents() -> tuple[list[Doc], str]:
    """The sample portals' report documents with their truth, and where they came from."""
    try:
        from nianbao.sample_portals.truth import SITE_DIR, load_truth

        records = load_truth()
    except (ImportError, FileNotFoundError):
        records = []
    docs = []
    for record in records:
        if not record.get("expected", True):
            continue
        for url in record.get("urls", []):
            if url["role"] not in ("report_page", "attachment"):
                continue
            path = _site_file(SITE_DIR, url["host"], url["path"])
            if path is not None:
                docs.append(Doc(record["id"], record["format"], path.read_bytes(), record, str(path)))
                break
    if docs:
        return docs, "nianbao/sample_portals/site + load_truth()"
    from bench.docpool import load_pool

    pool = load_pool()
    return ([Doc(d.report_id, d.format, d.data(), d.truth, str(d.path)) for d in pool],
            "sample corpus rendered by bench.docpool (site not built)")


def _site_file(site_dir: Path, host: str, path: str) -> Path | None:
    """The file a site URL serves: the path itself, or for download scripts (`downfile.jsp?filename=X`)
    the stored file named X."""
    direct = site_dir / host / path.split("?", 1)[0].lstrip("/")
    if direct.is_file():
        return direct
    match = re.search(r"filename=([^&]+)", path)
    if match:
        return next(iter(sorted((site_dir / host).rglob(match.group(1)))), None)
    return None


def _number(text: object) -> float | None:
    value = str(text).strip().translate(_FULLWIDTH).replace(",", "")
    if not re.fullmatch(r"-?\d+(\.\d+)?", value):
        return None
    return float(value)


def baseline_values(doc: Doc) -> list[float] | None:
    """Every number in the tables the baseline tool extracts, or None when there is no baseline."""
    values: list[float] = []
    if doc.format == "html":
        import pandas as pd

        text = doc.data.decode("utf-8", errors="replace")
        try:
            tables = pd.read_html(io.StringIO(text), flavor="lxml")
        except ValueError:  # "No tables found"
            tables = []
        for table in tables:
            for cell in table.astype(str).to_numpy().ravel():
                number = _number(cell.removesuffix(".0"))
                if number is not None:
                    values.append(number)
        return values
    if doc.format in ("pdf", "pdf-scan"):
        import pdfplumber

        with pdfplumber.open(io.BytesIO(doc.data)) as pdf:
            for page in pdf.pages:
                for table in page.extract_tables():
                    for row in table:
                        for cell in row:
                            number = _number(cell) if cell is not None else None
                            if number is not None:
                                values.append(number)
        return values
    return None


def _same(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is None and b is None
    try:
        return abs(float(a) - float(b)) < 1e-6
    except (TypeError, ValueError):
        return False


def score_nianbao(cells: dict, truth: dict) -> tuple[int, int, int, int]:
    """(right, total, right non-blank, total non-blank) over the truth's cells."""
    right = total = right_nb = total_nb = 0
    for key, value in truth.get("cells", {}).items():
        ok = _same(cells.get(key), value)
        total += 1
        right += ok
        if value is not None:
            total_nb += 1
            right_nb += ok
    return right, total, right_nb, total_nb


def score_baseline(values: list[float], truth: dict) -> tuple[int, int]:
    """(found, total): the truth's non-blank cells whose value is among the extracted numbers (each
    extracted number used once)."""
    pool = Counter(round(v, 4) for v in values)
    found = total = 0
    for value in truth.get("cells", {}).values():
        if value is None:
            continue
        total += 1
        key = round(float(value), 4)
        if pool[key] > 0:
            pool[key] -= 1
            found += 1
    return found, total


def _cpu() -> float:
    """CPU seconds of this process and of the children it has waited for (antiword, OCR helpers)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _timed(fn, docs: list[Doc], min_seconds: float, max_seconds: float) -> tuple[int, float, list]:
    """Run fn over docs (at least once each, then again until min_seconds of CPU); (runs, CPU s, last outputs)."""
    runs, cpu, outputs = 0, 0.0, []
    wall_start = time.monotonic()
    while True:
        outputs = []
        for doc in docs:
            start = _cpu()
            outputs.append(fn(doc))
            cpu += _cpu() - start
            runs += 1
        if cpu >= min_seconds or time.monotonic() - wall_start > max_seconds:
            return runs, cpu, outputs


def run_parse_benchmark(min_seconds: float = 3.0, max_seconds: float = 60.0, log=print) -> dict:
    """Speed and accuracy per input type, nianbao beside the baseline."""
    docs, origin = load_documents()
    try:
        from nianbao.parse import parse_bytes
    except ImportError as exc:
        parse_bytes = None
        missing = str(exc)
    rows = []
    for kind in TYPES:
        group = [d for d in docs if d.format == kind]
        if not group:
            continue
        row: dict = {"type": kind, "documents": len(group), "bytes": sum(len(d.data) for d in group)}
        if parse_bytes is not None:
            def parse(doc: Doc):
                try:
                    return parse_bytes(doc.data, doc.source, None).cells
                except Exception as exc:  # a failing document is scored as all cells wrong
                    return {"__error__": f"{type(exc).__name__}: {exc}"}

            runs, cpu, outputs = _timed(parse, group, min_seconds, max_seconds)
            score = [score_nianbao(cells, d.truth) for cells, d in zip(outputs, group, strict=True)]
            right, total, right_nb, total_nb = (sum(s[i] for s in score) for i in range(4))
            row.update({
                "nianbao_runs": runs, "nianbao_cpu_s": round(cpu, 3),
                "nianbao_reports_per_s_core": round(runs / cpu, 2) if cpu else None,
                "nianbao_cells_right": right, "nianbao_cells_total": total,
                "nianbao_nonblank_right": right_nb, "nianbao_nonblank_total": total_nb,
                "nianbao_errors": sorted({o["__error__"] for o in outputs if "__error__" in o})[:3],
            })
        else:
            row["nianbao_error"] = f"nianbao.parse unavailable: {missing}"
        if kind in BASELINE_TYPES:
            runs, cpu, outputs = _timed(baseline_values, group, min_seconds, max_seconds)
            found = [score_baseline(v or [], d.truth) for v, d in zip(outputs, group, strict=True)]
            row.update({
                "baseline": BASELINE_TYPES[kind], "baseline_runs": runs, "baseline_cpu_s": round(cpu, 3),
                "baseline_reports_per_s_core": round(runs / cpu, 2) if cpu else None,
                "baseline_found": sum(f[0] for f in found), "baseline_total": sum(f[1] for f in found),
            })
        log(f"parse: {kind}: {row.get('nianbao_reports_per_s_core')} reports/s/core, "
            f"cells {row.get('nianbao_nonblank_right')}/{row.get('nianbao_nonblank_total')}; baseline "
            f"{row.get('baseline_reports_per_s_core')} /s, found {row.get('baseline_found')}/{row.get('baseline_total')}")
        rows.append(row)
    return {"documents_from": origin, "types": rows}


def profile_parse(out_dir: Path, seconds: float = 10.0) -> dict:
    """pyinstrument profile of parse_bytes over the documents of every text type (no OCR)."""
    from pyinstrument import Profiler

    from bench.profile import hot_spots
    from nianbao.parse import parse_bytes

    docs = [d for d in load_documents()[0] if d.format in ("html", "pdf", "docx", "doc")]
    profiler = Profiler(interval=0.001)
    deadline = time.monotonic() + seconds
    profiler.start()
    runs = 0
    while time.monotonic() < deadline:
        for doc in docs:
            try:
                parse_bytes(doc.data, doc.source, None)
            except Exception:  # profiling only: failures are scored by run_parse_benchmark
                pass
            runs += 1
    profiler.stop()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "parse-profile.txt").write_text(profiler.output_text(unicode=True, color=False), encoding="utf-8")
    return {"runs": runs, **hot_spots(profiler.last_session)}
