"""`nianbao refresh`: what cron runs — crawl incrementally, parse what is new, summarise."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nianbao.config import PROJECT_ROOT, ensure_layout

DEFAULT_REGISTRY = PROJECT_ROOT / "portals.csv"


class RefreshLocked(Exception):
    """Another refresh holds the data directory's lock."""


@contextmanager
def refresh_lock(root: Path) -> Iterator[Path]:
    """Hold DATA_DIR/refresh.lock for the duration; raise RefreshLocked if another run holds it."""
    path = root / "refresh.lock"
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise RefreshLocked(f"{path} is held by another refresh (pid {holder})") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield path
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def scrapy_env() -> dict[str, str]:
    """Environment that makes `scrapy` load this project's settings.py, wherever it runs from."""
    env = dict(os.environ)
    env["SCRAPY_SETTINGS_MODULE"] = "settings"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def job_dir(root: Path, portals: Path, only: str | None) -> Path:
    """A JOBDIR per registry (and selection): a killed crawl resumes there; a finished one clears it."""
    key = hashlib.sha1(f"{portals.resolve()}|{only or ''}".encode()).hexdigest()[:12]
    return root / "jobs" / f"portals-{key}"


def crawl(root: Path, portals: Path, only: str | None = None, settings: dict | None = None) -> int:
    """Run `scrapy crawl portals` in a child process; return its exit code."""
    jobdir = job_dir(root, portals, only)
    cmd = [sys.executable, "-m", "scrapy", "crawl", "portals", "-a", f"portals={portals}",
           "-s", f"DATA_DIR={root}", "-s", f"JOBDIR={jobdir}"]
    if only:
        cmd += ["-a", f"only={only}"]
    for key, value in (settings or {}).items():
        cmd += ["-s", f"{key}={value}"]
    code = subprocess.call(cmd, cwd=PROJECT_ROOT, env=scrapy_env())
    if code == 0:
        shutil.rmtree(jobdir, ignore_errors=True)
    return code


def summarise(root: Path, since: str) -> dict:
    """What the catalog gained since `since` (ISO timestamp): counts, each new report, each portal's crawl."""
    from catalog import open_catalog

    db = open_catalog(root / "catalog.db")

    def count(sql: str, *params: object) -> int:
        return db.execute(sql, params).fetchone()[0]

    new_reports = [
        {"agency": agency, "year": year, "title": title, "format_version": version, "url": url,
         "replaces_earlier_version": bool(earlier), "findings": findings}
        for agency, year, title, version, url, earlier, findings in db.execute(
            """select r.agency, r.year, r.title, r.format_version, r.source_url,
                      exists(select 1 from reports o where o.agency = r.agency and o.year = r.year
                             and o.id < r.id and o.format_version = r.format_version),
                      (select count(*) from findings f where f.report_id = r.id)
               from reports r where r.parsed_at >= ? order by r.agency, r.year""", [since])
    ]
    crawl = db.execute("select id, stats from crawls where started_at >= ? order by id desc limit 1", [since]).fetchone()
    portals = (json.loads(crawl[1]) if crawl and crawl[1] else {}).get("portals/summary", {})
    diagnoses = crawl_diagnoses(db, crawl[0]) if crawl else {}
    return {
        "captures": count("select count(*) from captures where timestamp >= ?", since),
        "revisits": count("select count(*) from captures where timestamp >= ? and warc_type = 'revisit'", since),
        "documents_new": count("select count(*) from documents where first_seen >= ?", since),
        "reports_new": len(new_reports),
        "reports_total": count("select count(*) from reports"),
        "findings_total": count("select count(*) from findings"),
        "portals_blocked": sorted(pid for pid, stats in portals.items() if stats.get("blocked")),
        "portals": portals,
        "diagnoses": diagnoses,
        "portals_failing": [{"portal_id": pid, **d} for pid, d in diagnoses.items() if d["status"] != "ok"],
        "new_reports": new_reports,
    }


def crawl_diagnoses(db, crawl_id: int) -> dict[str, dict]:
    """Every portal's diagnosis of one crawl: {portal_id: {status, reports, errors, reason, budget}}."""
    out = {}
    for portal_id, status, reports, errors, reason, detail in db.execute(
            "select portal_id, status, reports, errors, reason, detail from portal_diagnoses "
            "where crawl_id = ? order by portal_id", [crawl_id]):
        row = {"status": status, "reports": reports, "errors": errors, "reason": reason}
        budget = (json.loads(detail) if detail else {}).get("budget")
        if budget:
            row["budget"] = budget
        out[portal_id] = row
    return out


# diagnoses of a portal that could not be crawled at all
UNCRAWLABLE = ("unreachable",)


def nothing_crawled(diagnoses: dict[str, dict]) -> bool:
    """True when the crawl diagnosed portals and every one of them was unreachable."""
    return bool(diagnoses) and all(d["status"] in UNCRAWLABLE for d in diagnoses.values())


def refresh(root: Path, portals: str | None = None, only: str | None = None,
            settings: dict | None = None) -> int:
    """Crawl + parse + summary under a lock. Returns the process exit code."""
    registry = Path(portals) if portals else DEFAULT_REGISTRY
    if not registry.is_file():
        print(f"nianbao refresh: {registry}: no such registry file", file=sys.stderr)
        return 2
    ensure_layout(root)
    try:
        with refresh_lock(root):
            since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
            crawl_code = crawl(root, registry, only, settings)
            if crawl_code != 0:
                print(f"nianbao refresh: the crawl of {registry} failed (exit {crawl_code})", file=sys.stderr)
            from archive.stage import run_stage

            stage = run_stage(root)
            summary = {"crawl_exit": crawl_code, **summarise(root, since), "parse": stage}
            print(json.dumps(summary, ensure_ascii=False, indent=2))
            if crawl_code != 0:
                return 1
            for failing in summary["portals_failing"]:
                print(f"nianbao refresh: portal {failing['portal_id']}: {failing['status']}: {failing['reason']}",
                      file=sys.stderr)
            if nothing_crawled(summary["diagnoses"]):
                print(f"nianbao refresh: every portal of {registry} was unreachable "
                      f"({len(summary['diagnoses'])} portals); nothing was crawled", file=sys.stderr)
                return 1
            return 0
    except RefreshLocked as exc:
        print(f"nianbao refresh: {exc}", file=sys.stderr)
        return 1
