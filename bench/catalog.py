"""Catalog benchmark: the Datasette canned queries on synthetic catalogs of growing size.

Catalogs are built with the catalog's own API (`open_catalog`, `load_portals`, `record_document`,
`record_report`), batched in large transactions with `synchronous=OFF` (a throwaway file: only the
build is sped up, not what is measured). Reports are realistic: one per agency and statistical year
2010-2024, pre-2019 ones without cells, later ones with a full generated cell map of their template,
a few failing a rule, and section texts. Each canned query of `nianbao/datasette/metadata.yml` is then
timed on a fresh read-only connection (median of a few runs, bounded by a time limit) and through
Datasette's own request handling (its `.json` endpoint, with the project's settings and time limit).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import sqlite3
import statistics
import time
from pathlib import Path

YEARS = range(2010, 2025)
QUERY_PARAMS = {"q": "复议", "agency": "", "year": ""}
EXTRA_SEARCHES = {"search (3+ chars, trigram)": {"q": "信息公开工作"}}


class _CellPool:
    """A few hundred generated cell maps per template version, reused across reports."""

    def __init__(self, size: int = 200, seed: int = 7):
        from nianbao.sample_portals.corpus import generate_cells

        rng = random.Random(seed)
        self.maps = {v: [generate_cells(v, rng) for _ in range(size)] for v in ("2019", "2021")}

    def pick(self, version: str, n: int) -> dict:
        maps = self.maps[version]
        return maps[n % len(maps)]


def _report(n: int, pool: _CellPool) -> tuple[dict, dict, dict]:
    """The n-th synthetic report: (portal row, DocumentItem dict, ParsedReport-shaped dict)."""
    from nianbao.sample_portals.corpus import template_version

    a = n // len(YEARS)
    portal = {"id": f"p{a:05d}", "agency": f"第{a}号县人民政府办公室", "url": f"http://portal{a}.example.gov.cn/",
              "region": f"{230000 + a % 900}", "level": ("省", "市", "县", "乡")[a % 4]}
    year = YEARS[n % len(YEARS)]
    version = template_version(year)
    cells = dict(pool.pick(version, n)) if version != "pre2019" else {}
    findings = []
    if cells and n % 23 == 0:
        cells["t3.carried_forward.total"] = (cells["t3.carried_forward.total"] or 0) + 1
        findings.append({"rule": "t3.balance", "detail": "结转下年度继续办理 differs by 1",
                         "cells": ["t3.carried_forward.total"], "delta": 1})
    agency = portal["agency"]
    title = f"{agency}{year}年政府信息公开工作年度报告"
    sha = hashlib.sha256(f"{n}".encode()).hexdigest()
    url = f"{portal['url']}xxgk/ndbg/{year}/{n}.html"
    published = f"{year + 1}-01-{10 + n % 18:02d}"
    item = {"portal_id": portal["id"], "url": url, "kind": "report_page", "title": title, "year": year,
            "published": published, "content_type": "text/html", "sha256": sha,
            "fetched_at": "2025-03-01T00:00:00Z"}
    t = _TOPICS[n % len(_TOPICS)]
    parsed = {
        "source": url, "agency": agency, "year": year, "format_version": version, "title": title,
        "published": published,
        "sections": {
            "overview": f"{year}年，{agency}坚持以公开为常态、不公开为例外，围绕{t}等重点工作扎实推进政府信息公开工作。" * 3,
            "proactive": f"全年通过门户网站主动公开政府信息{100 + n % 900}条，围绕{t}发布工作动态和政策解读。" * 2,
            "requests": f"本年度共收到政府信息公开申请{n % 60}件，依法依规予以答复。",
            "reviews": "因政府信息公开工作被申请行政复议、提起行政诉讼情况见下表。",
            "problems": "一是政策解读形式还不够丰富；二是信息发布的及时性有待提高。下一步将加强业务培训。",
            "other": "本年度未收取信息处理费。",
        },
        "cells": cells, "findings": findings, "warnings": [], "content_type": "text/html", "sha256": sha,
    }
    return portal, item, parsed


_TOPICS = ("冰雪季传染病防控", "老旧小区家庭医生签约服务", "海洋渔业从业人员健康体检", "优化营商环境政策解读")


def build_catalogs(sizes: tuple[int, ...], work: Path, batch: int = 2000, log=print) -> list[tuple[Path, dict]]:
    """Catalogs of each size (ascending): one build, a copy of the file taken as each size is reached."""
    from catalog import load_portals, open_catalog, record_document, record_report

    building = work / "catalog-build.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(building) + suffix).unlink(missing_ok=True)
    start = time.monotonic()
    db = open_catalog(building)
    db.execute("pragma synchronous=off")
    pool = _CellPool()
    out = []
    seen_portals: set[str] = set()
    n = 0
    for size in sorted(sizes):
        db.conn.execute("BEGIN")
        while n < size:
            portal, item, parsed = _report(n, pool)
            if portal["id"] not in seen_portals:
                load_portals(db, [portal])
                seen_portals.add(portal["id"])
            record_report(db, record_document(db, item), parsed, "bench")
            n += 1
            if n % batch == 0:
                db.conn.execute("COMMIT")
                db.conn.execute("BEGIN")
                if n % (batch * 10) == 0:
                    log(f"  catalog: {n} reports in {time.monotonic() - start:.0f} s")
        db.conn.execute("COMMIT")
        db.execute("analyze")
        db.execute("pragma wal_checkpoint(truncate)")
        cells = db.execute("select count(*) from cells").fetchone()[0]
        target = work / f"catalog-{size}" / "catalog.db"
        target.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        if size == max(sizes):
            db.close()  # the last size is the building file itself: no copy of the largest catalog
            building.rename(target)
        else:
            with sqlite3.connect(target) as copy:
                db.conn.backup(copy)
            copy.close()
        out.append((target, {"reports": size, "cells": cells, "build_s": round(time.monotonic() - start, 1),
                             "file_mb": round(target.stat().st_size / 2**20, 1)}))
    for suffix in ("-wal", "-shm"):
        Path(str(building) + suffix).unlink(missing_ok=True)
    return out


def _canned_queries() -> dict[str, tuple[str, dict]]:
    from nianbao.serve import DATABASE_NAME, build_metadata

    queries = build_metadata()["databases"][DATABASE_NAME]["queries"]
    out = {}
    for name, query in queries.items():
        params = {p: QUERY_PARAMS.get(p, "") for p in query.get("params", [])}
        out[name] = (query["sql"], params)
        if name == "search":
            out["search (1-2 chars, substring scan)"] = out.pop("search")
            for label, extra in EXTRA_SEARCHES.items():
                out[label] = (query["sql"], {**params, **extra})
    return out


def _time_sql(path: Path, sql: str, params: dict, runs: int, limit_s: float) -> dict:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    deadline = [0.0]
    conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline[0] else 0, 10_000)
    times, rows = [], None
    try:
        for _ in range(runs):
            deadline[0] = time.monotonic() + limit_s
            start = time.monotonic()
            try:
                rows = len(conn.execute(sql, params).fetchall())
            except sqlite3.OperationalError as exc:
                if "interrupted" in str(exc):
                    return {"sql_ms": None, "sql_error": f"over {limit_s:g} s", "rows": None}
                return {"sql_ms": None, "sql_error": str(exc), "rows": None}
            times.append(time.monotonic() - start)
            if times[-1] > 2.0:  # a slow query is timed once: repeating it would only cost time
                break
    finally:
        conn.close()
    return {"sql_ms": round(1000 * statistics.median(times), 1), "sql_first_ms": round(1000 * times[0], 1),
            "rows": rows}


def _time_datasette(path: Path, queries: dict[str, tuple[str, dict]], runs: int) -> dict[str, dict]:
    from nianbao.serve import DATABASE_NAME, build_datasette

    ds = build_datasette(path.parent) if path.name == "catalog.db" else None
    if ds is None:
        return {}
    out = {}

    async def go() -> None:
        await ds.invoke_startup()
        for label, (_, params) in queries.items():
            name = "search" if label.startswith("search") else label
            query = "&".join(f"{k}={v}" for k, v in params.items())
            times, status = [], None
            for _ in range(runs):
                start = time.monotonic()
                response = await ds.client.get(f"/{DATABASE_NAME}/{name}.json?{query}&_shape=array")
                times.append(time.monotonic() - start)
                status = response.status_code
                if status != 200 or times[-1] > 2.0:
                    break
            out[label] = {"datasette_ms": round(1000 * statistics.median(times), 1), "datasette_status": status}

    asyncio.run(go())
    return out


def run_catalog_benchmark(sizes: tuple[int, ...], work: Path, runs: int = 3, limit_s: float = 60.0,
                          log=print) -> dict:
    """Build each size's catalog and time every canned query on it."""
    queries = _canned_queries()
    results = []
    work.mkdir(parents=True, exist_ok=True)
    log(f"catalog: building {', '.join(str(s) for s in sorted(sizes))} reports")
    for target, built in build_catalogs(sizes, work, log=log):
        log(f"  {built['reports']} reports: {built['file_mb']} MB (cumulative build {built['build_s']} s)")
        timings = {}
        for label, (sql, params) in queries.items():
            timings[label] = {**_time_sql(target, sql, params, runs, limit_s)}
        try:
            for label, figures in _time_datasette(target, queries, runs).items():
                timings[label].update(figures)
        except Exception as exc:  # Datasette timings are extra: the raw SQL figures stand alone
            log(f"  datasette timing failed: {type(exc).__name__}: {exc}")
        for label, t in timings.items():
            log(f"  {label}: {t.get('sql_ms')} ms sql, {t.get('datasette_ms')} ms datasette ({t.get('rows')} rows)")
        results.append({**built, "queries": timings})
    return {"sizes": results}
