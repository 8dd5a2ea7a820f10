"""The sample portals' ground truth: every generated report, and what a perfect crawl finds.

`load_truth()` returns one dict per report in the seeds' truth shape (agency, year,
format_version, cells, failing_rules) plus id, title, published, portal_id, family, format,
variant, expected, sections and urls ([{host, path, role, format}], role one of report_page,
detail_page, attachment, redirect). Hosts are family names or "files"; `absolute_url` turns a
host and path into a URL of running portals.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from nianbao.sample_portals.families.common import load_manifest

PACKAGE_DIR = Path(__file__).resolve().parent
TRUTH_DIR = PACKAGE_DIR / "truth"
SITE_DIR = PACKAGE_DIR / "site"
FAMILIES = ("trs", "hanweb", "jsapp", "gbk", "robotsnav", "linkedjs", "emptylist", "nocolumn")


@cache
def _load(truth_dir: Path) -> tuple[dict, ...]:
    files = sorted(truth_dir.glob("*.json"))
    if not files:
        raise FileNotFoundError(
            f"no ground truth in {truth_dir}: run `python -m nianbao.sample_portals.build`"
        )
    records = []
    for path in files:
        try:
            records.append(json.loads(path.read_text(encoding="utf-8")))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc})") from exc
    return tuple(records)


def load_truth(truth_dir: Path = TRUTH_DIR) -> list[dict]:
    """Every generated report's ground truth (fresh copies; sorted by id)."""
    return [json.loads(json.dumps(r)) for r in _load(Path(truth_dir))]


def absolute_url(base_urls: dict[str, str], host: str, path: str) -> str:
    """The URL of host+path on running portals (base_urls as SamplePortals.base_urls)."""
    return base_urls[host].rstrip("/") + path


def expected_documents(base_urls: dict[str, str] | None = None, site_dir: Path = SITE_DIR) -> dict[str, dict]:
    """What a perfect crawl of each portal finds, and what it must not return, keyed by portal_id.

    For each portal: `report_pages` and `attachments` ({host, path, url?, report_id, year, format}:
    the documents that carry a report), `detail_pages` (pages that only link a report's attachment),
    `redirects` (listed address → where it now lives), `must_not_fetch` (robots.txt disallows them),
    `dead_links` (listed, answer 404) and `non_reports` (items of the column that are not annual
    reports). With base_urls, every item also has its absolute `url`.
    """
    out: dict[str, dict] = {}

    def item(host: str, path: str, **extra) -> dict:
        d = {"host": host, "path": path, **extra}
        if base_urls is not None:
            d["url"] = absolute_url(base_urls, host, path)
        return d

    for record in load_truth():
        portal = out.setdefault(record["portal_id"], _empty())
        for u in record["urls"]:
            common = {"report_id": record["id"], "year": record["year"], "format": u["format"]}
            if not record["expected"]:
                portal["must_not_fetch"].append(item(u["host"], u["path"], **common))
            elif u["role"] == "report_page":
                portal["report_pages"].append(item(u["host"], u["path"], **common))
            elif u["role"] == "attachment":
                portal["attachments"].append(item(u["host"], u["path"], **common))
            elif u["role"] == "detail_page":
                portal["detail_pages"].append(item(u["host"], u["path"], **common))
    for family in FAMILIES:
        manifest = load_manifest(site_dir, family)
        portal = out.setdefault(f"sample-{family}", _empty())
        for old, new in manifest.get("redirects", {}).items():
            portal["redirects"].append({**item(family, old), "to": item(family, new)})
        for e in manifest["entries"]:
            if e.kind == "dead":
                portal["dead_links"].append(item(family, e.href, title=e.title))
            elif e.kind == "notice":
                portal["non_reports"].append(item(family, e.href, title=e.title))
    out.setdefault("sample-blocked", _empty())["blocked"] = True
    return out


def _empty() -> dict:
    return {
        "report_pages": [],
        "attachments": [],
        "detail_pages": [],
        "redirects": [],
        "must_not_fetch": [],
        "dead_links": [],
        "non_reports": [],
        "blocked": False,
    }
