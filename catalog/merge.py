"""Per-worker catalogs folded into one: `nianbao catalog merge`.

Each distributed worker keeps its own SQLite catalog beside its own WARC files (no SQLite file is
written by two processes over a network). Merging folds a worker's crawl-side tables into the catalog
Datasette serves, by natural keys, so running it again changes nothing:

- `portals` by id (a stub row never overwrites a registry row; gaps are filled);
- `crawls` by (started_at, portals_file, settings), other tables' crawl ids remapped;
- `captures` by WARC-Record-ID;
- `documents` by sha256 (first_seen the earliest, last_seen the latest, empty fields filled),
  `document_urls` by (document, url);
- `fetch_failures` by (crawl, portal, url, reason, at), `portal_diagnoses` by (crawl, portal): one
  worker of a cluster writes each portal's diagnosis (the one that finished it, from counters summed
  over workers: crawler/distributed.py), so the merged catalog holds one per portal per crawl.

Reports are not merged: the parser stage runs over the merged catalog, once, where Datasette reads it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import sqlite_utils

from catalog.connection import open_catalog
from catalog.schema import CAPTURE_KEYS, CatalogError

_DOCUMENT_FIELDS = ("portal_id", "kind", "title", "year", "published", "index_no", "publisher",
                    "content_type", "filename", "url", "warc_record_id")


def _rows(db: sqlite_utils.Database, sql: str, params: Any = ()) -> list[dict]:
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _merge_portals(target: sqlite_utils.Database, source: sqlite_utils.Database) -> None:
    for row in _rows(source, "select * from portals"):
        found = _rows(target, "select * from portals where id = ?", [row["id"]])
        if not found:
            target["portals"].insert(row, pk="id")
            continue
        gaps = {k: v for k, v in row.items() if found[0].get(k) in (None, "") and v not in (None, "")}
        if gaps:
            target["portals"].update(row["id"], gaps)


def _merge_crawls(target: sqlite_utils.Database, source: sqlite_utils.Database) -> dict[int, int]:
    mapping: dict[int, int] = {}
    for row in _rows(source, "select * from crawls order by id"):
        found = target.execute(
            "select id from crawls where started_at is ? and portals_file is ? and settings is ?",
            [row["started_at"], row["portals_file"], row["settings"]]).fetchone()
        source_id = row.pop("id")
        if found:
            mapping[source_id] = found[0]
            # a crawl merged while still running gets its end on a later merge
            target["crawls"].update(found[0], {k: row[k] for k in ("ended_at", "stats", "status") if row[k]})
        else:
            mapping[source_id] = target["crawls"].insert(row).last_pk
    return mapping


def _merge_captures(target: sqlite_utils.Database, source: sqlite_utils.Database,
                    crawls: dict[int, int]) -> int:
    keys = ", ".join(CAPTURE_KEYS)
    insert = (f"insert or ignore into captures ({keys}) values ({', '.join('?' * len(CAPTURE_KEYS))})")
    before = target.execute("select count(*) from captures").fetchone()[0]
    for row in source.execute(f"select {keys} from captures order by id"):
        values = list(row)
        crawl_index = CAPTURE_KEYS.index("crawl_id")
        values[crawl_index] = crawls.get(values[crawl_index])
        target.execute(insert, values)
    return target.execute("select count(*) from captures").fetchone()[0] - before


def _merge_documents(target: sqlite_utils.Database, source: sqlite_utils.Database) -> int:
    added = 0
    for doc in _rows(source, "select * from documents order by id"):
        found = _rows(target, "select * from documents where sha256 = ?", [doc["sha256"]])
        if found:
            have = found[0]
            doc_id = have["id"]
            updates = {
                "first_seen": min(x for x in (have["first_seen"], doc["first_seen"]) if x) if
                (have["first_seen"] or doc["first_seen"]) else None,
                "last_seen": max(x for x in (have["last_seen"], doc["last_seen"]) if x) if
                (have["last_seen"] or doc["last_seen"]) else None,
            }
            # the earlier sighting's fields win, as in record_document; gaps are filled
            earlier = doc if (doc["first_seen"] or "") < (have["first_seen"] or "") else None
            for key in _DOCUMENT_FIELDS:
                if earlier is not None and doc.get(key) not in (None, ""):
                    updates[key] = doc[key]
                elif have.get(key) in (None, "") and doc.get(key) not in (None, ""):
                    updates[key] = doc[key]
            target["documents"].update(doc_id, updates)
        else:
            row = {k: v for k, v in doc.items() if k != "id"}
            doc_id = target["documents"].insert(row).last_pk
            added += 1
        for url in _rows(source, "select * from document_urls where document_id = ?", [doc["id"]]):
            existing = target.execute(
                "select 1 from document_urls where document_id = ? and url = ?", [doc_id, url["url"]]
            ).fetchone()
            if existing:
                target.execute(
                    "update document_urls set first_seen = min(first_seen, ?), last_seen = max(last_seen, ?), "
                    "referer = coalesce(referer, ?) where document_id = ? and url = ?",
                    [url["first_seen"], url["last_seen"], url["referer"], doc_id, url["url"]])
            else:
                target["document_urls"].insert({**url, "document_id": doc_id})
    return added


def _merge_failures_and_diagnoses(target: sqlite_utils.Database, source: sqlite_utils.Database,
                                  crawls: dict[int, int]) -> None:
    tables = set(source.table_names())
    if "fetch_failures" in tables:
        for row in _rows(source, "select * from fetch_failures order by id"):
            row.pop("id")
            row["crawl_id"] = crawls.get(row["crawl_id"])
            if not target.execute(
                "select 1 from fetch_failures where crawl_id is ? and portal_id is ? and url is ? "
                "and reason is ? and at is ?",
                [row["crawl_id"], row["portal_id"], row["url"], row["reason"], row["at"]],
            ).fetchone():
                target["fetch_failures"].insert(row)
    if "portal_diagnoses" in tables:
        for row in _rows(source, "select * from portal_diagnoses"):
            row["crawl_id"] = crawls.get(row["crawl_id"])
            target["portal_diagnoses"].upsert(row, pk=("crawl_id", "portal_id"))


def merge_catalog(target: sqlite_utils.Database, source_path: str | Path) -> dict[str, int]:
    """Fold one worker catalog into target, in one transaction; returns what was added."""
    source_path = Path(source_path)
    if not source_path.exists():
        raise CatalogError(f"{source_path}: no such catalog")
    source = open_catalog(source_path)  # brings an older worker catalog to the same schema
    try:
        with target.atomic():
            _merge_portals(target, source)
            crawls = _merge_crawls(target, source)
            captures = _merge_captures(target, source, crawls)
            documents = _merge_documents(target, source)
            _merge_failures_and_diagnoses(target, source, crawls)
    finally:
        source.close()
    return {"captures": captures, "documents": documents, "crawls": len(crawls)}


def _link_or_copy(source: Path, target: Path) -> bool:
    if target.exists():
        if target.stat().st_size != source.stat().st_size:
            raise CatalogError(f"{target}: exists with another size than {source}")
        return False
    tmp = target.with_name(target.name + ".part")
    try:
        os.link(source, tmp)
    except OSError:  # another file system
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)
    return True


def merge_worker_dirs(data_dir: str | Path, worker_dirs: list[str | Path]) -> dict[str, int]:
    """Merge worker data directories into data_dir: closed WARC files and CDXJ indexes, then catalogs.

    WARC file names carry the worker id, so files of different workers never collide. Re-running it
    adds nothing twice. Returns totals.
    """
    data_dir = Path(data_dir)
    (data_dir / "warc").mkdir(parents=True, exist_ok=True)
    (data_dir / "indexes").mkdir(parents=True, exist_ok=True)
    target = open_catalog(data_dir / "catalog.db")
    totals = {"workers": 0, "warc_files": 0, "captures": 0, "documents": 0}
    try:
        for worker in map(Path, worker_dirs):
            if worker.resolve() == data_dir.resolve():
                continue
            if not (worker / "catalog.db").exists():
                raise CatalogError(f"{worker}: no catalog.db (is it a worker's DATA_DIR?)")
            for sub, pattern in (("warc", "*.warc.gz"), ("indexes", "*.cdxj")):
                if (worker / sub).is_dir() and (worker / sub).resolve() != (data_dir / sub).resolve():
                    for path in sorted((worker / sub).glob(pattern)):
                        if _link_or_copy(path, data_dir / sub / path.name) and sub == "warc":
                            totals["warc_files"] += 1
            added = merge_catalog(target, worker / "catalog.db")
            totals["workers"] += 1
            totals["captures"] += added["captures"]
            totals["documents"] += added["documents"]
    finally:
        target.close()
    return totals


def catalog_contents(db: sqlite_utils.Database) -> dict[str, list[tuple]]:
    """What two catalogs must share to hold the same crawl: captures, documents with their URLs,
    reports with their cells, each without row ids or crawl ids, sorted."""
    capture_keys = [k for k in CAPTURE_KEYS if k != "crawl_id"]
    captures = sorted(db.execute(f"select {', '.join(capture_keys)} from captures").fetchall(),
                      key=lambda row: str(row[capture_keys.index("record_id")]))
    doc_cols = ["sha256", *_DOCUMENT_FIELDS, "first_seen", "last_seen"]
    documents = sorted(db.execute(f"select {', '.join(doc_cols)} from documents").fetchall())
    urls = sorted(db.execute(
        "select d.sha256, u.url, u.referer, u.first_seen, u.last_seen from document_urls u "
        "join documents d on d.id = u.document_id").fetchall())
    reports = sorted(db.execute(
        "select d.sha256, r.parser_version, r.agency, r.year, r.format_version, r.title, r.published, "
        "r.is_current from reports r join documents d on d.id = r.document_id").fetchall(), key=str)
    cells = sorted(db.execute(
        "select d.sha256, c.key, c.value from cells c join reports r on r.id = c.report_id "
        "join documents d on d.id = r.document_id").fetchall(), key=str)
    return {"captures": [tuple(r) for r in captures], "documents": [tuple(r) for r in documents],
            "document_urls": [tuple(r) for r in urls], "reports": [tuple(r) for r in reports],
            "cells": [tuple(r) for r in cells]}
