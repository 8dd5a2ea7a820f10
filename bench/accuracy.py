"""Parser accuracy against hand-read truth: cells right / wrong / missing, per document format.

    python -m bench.accuracy [--shared DIR] [--made [--seeds ID,ID]] [--json OUT.json]

Real reports: each truth in tests/truth/real/*.json names its document under `../shared/real/` (the
third-party files stay outside the project; `--shared` or NIANBAO_SHARED points elsewhere). With
`--made`, the five seed reports are also rendered by the sample-document writers in every format
(LibreOffice needed; scans are OCR'd, so this takes minutes) and scored the same way.

A cell is *right* when the parser gives the printed value (a printed blank as null); *wrong* when it
gives another value, a value for a printed blank, or a value the document does not print at all;
*missing* when the document prints a value the parser did not find. Cells listed as uncertain in a
truth (a row cut off by the end of an excerpt) are not scored. Metadata (agency, year, template) and
the set of failing sum rules are scored per document.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TRUTH_DIR = REPO / "tests" / "truth" / "real"
SUM_RULES = {"t3.balance", "t3.outcomes_sum", "t3.row_total", "t4.group_total"}


def locate_shared(explicit: str | None = None) -> Path | None:
    """`--shared`, else NIANBAO_SHARED, else a `shared` folder beside the repository or a parent of it."""
    for candidate in (explicit, os.environ.get("NIANBAO_SHARED")):
        if candidate:
            return Path(candidate) if Path(candidate).is_dir() else None
    for parent in list(REPO.parents)[:3]:
        if (parent / "shared" / "real").is_dir():
            return parent / "shared"
    return None


def score_cells(truth: dict, cells: dict) -> dict[str, int | list]:
    """Right / wrong / missing counts of one parsed report against its truth, with the wrong keys."""
    expected = truth["cells"]
    uncertain = set(truth.get("uncertain_cells", []))
    right = missing = 0
    wrong: list[str] = []
    for key, value in expected.items():
        got = cells.get(key)
        if got is None and value is not None:
            missing += 1
        elif got == value or (got is not None and value is not None and abs(got - value) < 1e-6):
            right += 1
        else:
            wrong.append(key)
    wrong += sorted(k for k, v in cells.items() if k not in expected and k not in uncertain and v is not None)
    return {"right": right, "wrong": len(wrong), "missing": missing, "wrong_cells": wrong}


def score_report(truth: dict, parsed) -> dict:
    """Cells plus metadata and failing rules of one document."""
    result = score_cells(truth, parsed.cells)
    meta = {"agency": parsed.agency, "year": parsed.year, "format_version": parsed.format_version}
    result["metadata_wrong"] = [k for k, v in meta.items() if v != truth[k]]
    rules = {f["rule"] for f in parsed.findings} & SUM_RULES
    result["rules_right"] = rules == set(truth.get("failing_rules", []))
    return result


def real_documents(shared: Path) -> Iterator[tuple[str, str, dict, Callable[[], bytes]]]:
    """(name, format, truth, bytes loader) of every real report with a truth in the project."""
    for path in sorted(TRUTH_DIR.glob("*.json")):
        truth = json.loads(path.read_text(encoding="utf-8"))
        document = shared / "real" / truth["document"]
        if document.is_file():
            yield path.stem, truth["format"], truth, document.read_bytes


def made_documents(seeds: list[str] | None = None) -> Iterator[tuple[str, str, dict, Callable[[], bytes]]]:
    """The seed reports (all, or the ids in `seeds`) rendered in every format the writers make."""
    import io
    import zipfile

    from nianbao.sample_portals import documents
    from nianbao.sample_portals.corpus import seed_truths

    def zipped(report: dict) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("附件/年度报告.docx", documents.render_docx(report))
        return out.getvalue()

    writers: dict[str, Callable[[dict], bytes]] = {
        "html": lambda r: documents.render_html(r).encode("utf-8"),
        "docx": documents.render_docx,
        "pdf": documents.render_pdf,
        "doc": documents.render_doc,
        "wps": documents.render_wps,
        "ofd": documents.render_ofd,
        "zip": zipped,
        "pdf (broken font map)": documents.render_broken_font_pdf,
        "pdf (scan)": documents.render_scanned_pdf,
        "pdf (copier scan, 1°, seal)": documents.render_copier_scan,
    }
    for name, truth in sorted(seed_truths().items()):
        if seeds and name not in seeds:
            continue
        report = {**truth, "published": f"{truth['year'] + 1}-01-20"}
        for fmt, write in writers.items():
            yield name, fmt, truth, (lambda w=write, r=report: w(r))


def run(entries: Iterator[tuple[str, str, dict, Callable[[], bytes]]], log=sys.stderr) -> dict:
    """Parse and score every entry; totals per format and one row per document."""
    from nianbao.parse import parse_bytes

    per_format: dict[str, dict] = defaultdict(lambda: {"documents": 0, "right": 0, "wrong": 0, "missing": 0,
                                                       "metadata_wrong": 0, "rules_wrong": 0, "seconds": 0.0})
    rows = []
    for name, fmt, truth, load in entries:
        data = load()
        started = time.monotonic()
        try:
            parsed = parse_bytes(data, f"{name}.{fmt}")
            result = score_report(truth, parsed)
        except Exception as exc:  # a document that fails is counted as all missing, and said so
            result = {"right": 0, "wrong": 0, "missing": sum(v is not None for v in truth["cells"].values()),
                      "wrong_cells": [], "metadata_wrong": ["failed"], "rules_right": False,
                      "error": f"{exc.__class__.__name__}: {exc}"}
        elapsed = time.monotonic() - started
        totals = per_format[fmt]
        totals["documents"] += 1
        for key in ("right", "wrong", "missing"):
            totals[key] += result[key]
        totals["metadata_wrong"] += bool(result["metadata_wrong"])
        totals["rules_wrong"] += not result["rules_right"]
        totals["seconds"] += elapsed
        rows.append({"document": name, "format": fmt, "seconds": round(elapsed, 2), **result})
        print(f"{fmt:28} {name:42} right {result['right']:3} wrong {result['wrong']:2} "
              f"missing {result['missing']:3} {elapsed:6.1f}s {result.get('error', '')}", file=log)
    return {"formats": dict(per_format), "documents": rows}


def markdown(results: dict, title: str) -> str:
    """The per-format table."""
    lines = [f"### {title}", "",
             "| format | documents | cells right | wrong | missing | metadata wrong | failing rules wrong | s/doc |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    totals = {"documents": 0, "right": 0, "wrong": 0, "missing": 0, "metadata_wrong": 0, "rules_wrong": 0}
    for fmt, t in results["formats"].items():
        lines.append(f"| {fmt} | {t['documents']} | {t['right']} | {t['wrong']} | {t['missing']} | "
                     f"{t['metadata_wrong']} | {t['rules_wrong']} | {t['seconds'] / max(t['documents'], 1):.1f} |")
        for key in totals:
            totals[key] += t[key]
    lines.append(f"| **all** | {totals['documents']} | {totals['right']} | {totals['wrong']} | {totals['missing']} | "
                 f"{totals['metadata_wrong']} | {totals['rules_wrong']} | |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", help="the folder holding real/ (default: ../shared beside the repository)")
    parser.add_argument("--made", action="store_true", help="also score the seeds rendered in every format")
    parser.add_argument("--seeds", help="with --made: only these seed ids (comma-separated); OCR takes minutes each")
    parser.add_argument("--json", type=Path, help="write every figure to this JSON file")
    args = parser.parse_args(argv)
    shared = locate_shared(args.shared)
    report: dict = {}
    if shared is None:
        print("real reports: ../shared/real not found (use --shared or NIANBAO_SHARED); skipped", file=sys.stderr)
    else:
        report["real"] = run(real_documents(shared))
        print(markdown(report["real"], "Real reports (tests/truth/real)"))
    if args.made:
        report["made"] = run(made_documents(args.seeds.split(",") if args.seeds else None))
        print(markdown(report["made"], "Seed reports rendered by the sample-document writers"))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    wrong = sum(t["wrong"] for part in report.values() for t in part["formats"].values())
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
