"""Generate the sample portals' static tree (site/) and ground truth (truth/): `python -m nianbao.sample_portals.build`.

The output is committed; re-run after changing the corpus, a family or a document writer (a rebuild of an
unchanged corpus rewrites no byte).
Attachment formats need LibreOffice at generation time (not at run time).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from nianbao.sample_portals.corpus import build_corpus
from nianbao.sample_portals.families import emptylist, gbk, hanweb, jsapp, linkedjs, nocolumn, robotsnav, trs
from nianbao.sample_portals.families.common import SiteWriter, article_html

PACKAGE_DIR = Path(__file__).resolve().parent
SITE_DIR = PACKAGE_DIR / "site"
TRUTH_DIR = PACKAGE_DIR / "truth"
FAMILIES = {"trs": trs, "hanweb": hanweb, "jsapp": jsapp, "gbk": gbk,
            "robotsnav": robotsnav, "linkedjs": linkedjs, "emptylist": emptylist, "nocolumn": nocolumn}

TRUTH_KEYS = (
    "id", "agency", "year", "format_version", "cells", "failing_rules", "title", "published",
    "portal_id", "family", "format", "variant", "expected", "sections",
)


def truth_record(report: dict, urls: list[dict]) -> dict:
    """A report's ground truth: the seeds' shape plus where and how it is published."""
    record = {k: report[k] for k in TRUTH_KEYS}
    if report["format"] == "html" and not _prints_sections(report):
        # a page that does not print the report's section texts: the truth only states what it prints
        record["sections"] = None
    record["urls"] = urls
    if not report["expected"]:
        record["not_expected_because"] = "robots.txt disallows its path"
    return record


def _prints_sections(report: dict) -> bool:
    article = article_html(report)
    return all(text in article for text in report["sections"].values() if text)


def build(site_dir: Path = SITE_DIR, truth_dir: Path = TRUTH_DIR) -> dict:
    """Regenerate site_dir and truth_dir from the corpus; returns counts."""
    reports = build_corpus()
    with tempfile.TemporaryDirectory() as tmp:
        writer = SiteWriter(Path(tmp) / "site")
        for name, family in FAMILIES.items():
            family.build([r for r in reports if r["family"] == name], writer)
        files = writer.flush()
        missing = [r["id"] for r in reports if r["id"] not in writer.placements]
        if missing:
            raise RuntimeError(f"reports published nowhere: {missing}")
        shutil.rmtree(site_dir, ignore_errors=True)
        shutil.copytree(Path(tmp) / "site", site_dir)
    shutil.rmtree(truth_dir, ignore_errors=True)
    truth_dir.mkdir(parents=True)
    for r in reports:
        record = truth_record(r, writer.placements[r["id"]])
        (truth_dir / f"{r['id']}.json").write_text(
            json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
    size = sum(p.stat().st_size for p in site_dir.rglob("*") if p.is_file())
    return {"reports": len(reports), "files": files, "bytes": size}


def main(argv: list[str] | None = None) -> int:
    """Command line: build into the package (or --site/--truth directories)."""
    parser = argparse.ArgumentParser(prog="python -m nianbao.sample_portals.build", description=__doc__)
    parser.add_argument("--site", type=Path, default=SITE_DIR)
    parser.add_argument("--truth", type=Path, default=TRUTH_DIR)
    args = parser.parse_args(argv)
    started = time.monotonic()
    counts = build(args.site, args.truth)
    print(
        f"{counts['reports']} reports, {counts['files']} files, {counts['bytes'] / 1e6:.1f} MB "
        f"in {time.monotonic() - started:.0f}s -> {args.site}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
