"""`nianbao refresh`: what cron runs — crawl incrementally, parse what is new, summarise."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from nianbao.config import PROJECT_ROOT, ensure_layout
from nianbao.lock import DataDirLocked, child_env, data_dir_lock

DEFAULT_REGISTRY = PROJECT_ROOT / "portals.csv"


class RegistryInputError(Exception):
    """The registry file cannot be used at all; the message is one line naming the file (and line)."""


def check_registry(path: Path, only: str | None = None) -> list[str]:
    """Validate the registry before anything is crawled; return its bad-row messages (file:line: why).

    Raises RegistryInputError when the file cannot be read, is not UTF-8 (naming the line), lacks a
    required column, or has no usable portal row (header only, every row bad, or `only` naming none).
    """
    from crawler.registry import RegistryFileError, load_registry

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RegistryInputError(f"{path}: cannot read the registry: {exc.strerror or exc}") from exc
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise RegistryInputError(f"{path}:{line}: not UTF-8 (byte {raw[exc.start]:#04x} at offset "
                                 f"{exc.start})") from exc
    try:
        registry = load_registry(path)
    except RegistryFileError as exc:
        raise RegistryInputError(str(exc).splitlines()[0]) from exc
    problems = [str(error) for error in registry.errors]
    if not registry.portals:
        why = "every portal row is bad" if registry.errors else "no portal rows (header only)"
        raise RegistryInputError(f"{path}: {why}; nothing to crawl")
    if only:
        selected, unknown = registry.select(only)
        if not selected:
            raise RegistryInputError(f"{path}: --only {only}: no such portal id(s) {', '.join(unknown)}")
    return problems


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
    # the crawl writes the catalog under this refresh's lock
    code = subprocess.call(cmd, cwd=PROJECT_ROOT, env=child_env(root, scrapy_env()))
    if code == 0:
        shutil.rmtree(jobdir, ignore_errors=True)
    return code


def summarise(root: Path, since: str) -> dict:
    """What the catalog gained since `since` (ISO timestamp): counts, each new report, each portal's crawl."""
    from catalog import open_catalog
    from crawler.fetch_failures import fetch_failure_summary

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
        "fetch_failures": fetch_failure_summary(db, since),
        "diagnoses": diagnoses,
        "portals_failing": [{"portal_id": pid, **d} for pid, d in diagnoses.items() if d["status"] != "ok"],
        "new_reports": new_reports,
    }


def mark_killed_crawls(root: Path) -> list[int]:
    """Crawls still `running` although no refresh holds the lock: their process died; mark them `killed`."""
    from catalog import mark_interrupted_crawls, open_catalog

    if not (root / "catalog.db").exists():
        return []
    db = open_catalog(root / "catalog.db")
    try:
        return mark_interrupted_crawls(db, "killed")
    finally:
        db.close()


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
            settings: dict | None = None, wait: float = 0.0) -> int:
    """Crawl + parse + summary under the data directory's lock. Returns the process exit code."""
    registry = Path(portals) if portals else DEFAULT_REGISTRY
    if not registry.is_file():
        print(f"nianbao refresh: {registry}: no such registry file", file=sys.stderr)
        return 2
    try:
        for problem in check_registry(registry, only):
            print(f"nianbao refresh: bad registry row, skipped: {problem}", file=sys.stderr)
    except RegistryInputError as exc:
        print(f"nianbao refresh: {exc}", file=sys.stderr)
        return 2
    ensure_layout(root)
    try:
        with data_dir_lock(root, "nianbao refresh", wait=wait):
            killed = mark_killed_crawls(root)
            if killed:
                print(f"nianbao refresh: crawl(s) {', '.join(map(str, killed))} were left running by a "
                      "process that died; marked killed", file=sys.stderr)
            since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
            crawl_code = crawl(root, registry, only, settings)
            if crawl_code != 0:
                print(f"nianbao refresh: the crawl of {registry} failed (exit {crawl_code})", file=sys.stderr)
            from archive.stage import run_stage

            stage = run_stage(root)
            summary = {"crawl_exit": crawl_code, **summarise(root, since), "parse": stage}
            if killed:
                summary["crawls_marked_killed"] = killed
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
    except DataDirLocked as exc:
        print(f"nianbao refresh: {exc}", file=sys.stderr)
        return 1
