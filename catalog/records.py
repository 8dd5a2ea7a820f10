"""The record_* API: everything a run learns is written through these functions."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlite_utils

from catalog.agencies import assign_report_agency
from catalog.cell_keys import _ensure_cell_keys
from catalog.schema import (
    CAPTURE_KEYS,
    PARSEABLE_KINDS,
    SECTION_NAMES,
    TOTAL_CELLS,
    CatalogError,
    now_iso,
)
from catalog.search import _index_report_text


def load_portals(db: sqlite_utils.Database, rows: list[dict]) -> None:
    """Insert or update the registry rows (portals.csv as dicts); other portals are left alone."""
    records = []
    for row in rows:
        if not row.get("id"):
            raise CatalogError(f"portal row without id: {row!r}")
        allow = row.get("allow_private")
        records.append({
            "id": row["id"], "agency": row.get("agency"), "url": row.get("url"),
            "region": row.get("region") or None, "level": row.get("level") or None,
            "render": row.get("render") or None,
            "allow_private": 1 if str(allow).strip().lower() in ("1", "true", "yes") else 0,
            "notes": row.get("notes") or None,
        })
    with db.atomic():
        db["portals"].upsert_all(records, pk="id")


def _ensure_portal(db: sqlite_utils.Database, portal_id: str | None) -> None:
    # Captures and documents may arrive for a portal the registry was not loaded for (a test site,
    # an ad-hoc crawl); a stub row keeps the foreign key valid.
    if portal_id and not db.execute("select 1 from portals where id = ?", [portal_id]).fetchone():
        db["portals"].insert({"id": portal_id}, pk="id", ignore=True)


def record_crawl_start(db: sqlite_utils.Database, portals_file: str, settings: dict) -> int:
    """A new crawls row for a run that starts now; returns its id."""
    with db.atomic():
        table = db["crawls"].insert({
            "started_at": now_iso(), "portals_file": str(portals_file),
            "settings": json.dumps(settings, ensure_ascii=False, default=str), "status": "running",
        })
    return table.last_pk


def record_crawl_end(db: sqlite_utils.Database, crawl_id: int, stats: dict, status: str) -> None:
    """Close a crawl: its end time, stats (JSON) and status ("finished", "failed", ...)."""
    with db.atomic():
        db["crawls"].update(crawl_id, {
            "ended_at": now_iso(), "stats": json.dumps(stats, ensure_ascii=False, default=str),
            "status": status,
        })


def mark_interrupted_crawls(db: sqlite_utils.Database, status: str = "killed") -> list[int]:
    """Close every crawl still `running` (its process died without ending it) with `status`; their ids.

    Only call this while holding the data directory's lock: then no live crawl can be running.
    """
    with db.atomic():
        ids = [row[0] for row in db.execute("select id from crawls where status = 'running' order by id")]
        for crawl_id in ids:
            db["crawls"].update(crawl_id, {"ended_at": now_iso(), "status": status})
    return ids


FETCH_FAILURE_KEYS = ("crawl_id", "portal_id", "url", "referer", "kind", "reason", "detail")


def record_fetch_failure(db: sqlite_utils.Database, failure: dict) -> int:
    """A URL that ended without a stored document: its reason code and detail (see FETCH_FAILURE_REASONS)."""
    row = {k: failure.get(k) for k in FETCH_FAILURE_KEYS}
    row["at"] = failure.get("at") or now_iso()
    with db.atomic():
        _ensure_portal(db, row["portal_id"])
        return db["fetch_failures"].insert(row).last_pk


def record_portal_diagnosis(db: sqlite_utils.Database, diagnosis: dict) -> None:
    """One portal's diagnosis for one crawl (replacing an earlier one for the same crawl).

    keys: crawl_id, portal_id, status (see DIAGNOSIS_STATUSES), reports, errors, reason (one line,
    shown to the user), detail (JSON: candidates tried, what the column looked like, budgets hit).
    """
    detail = diagnosis.get("detail")
    row = {
        "crawl_id": diagnosis["crawl_id"], "portal_id": diagnosis["portal_id"], "status": diagnosis["status"],
        "reports": diagnosis.get("reports", 0), "errors": diagnosis.get("errors", 0),
        "reason": diagnosis.get("reason"),
        "detail": detail if isinstance(detail, str) or detail is None else json.dumps(detail, ensure_ascii=False),
        "at": diagnosis.get("at") or now_iso(),
    }
    with db.atomic():
        _ensure_portal(db, row["portal_id"])
        db["portal_diagnoses"].upsert(row, pk=("crawl_id", "portal_id"))


_CAPTURE_INSERT = (
    f"insert into captures ({', '.join(CAPTURE_KEYS)}) values ({', '.join('?' * len(CAPTURE_KEYS))}) "
    "on conflict (record_id) do nothing"
)
_URL, _WARC_TYPE, _RECORD_ID, _PORTAL_ID = (CAPTURE_KEYS.index(k) for k in ("url", "warc_type", "record_id", "portal_id"))


def record_captures(db: sqlite_utils.Database, captures: Iterable[dict]) -> int:
    """WARC records in one transaction; a record_id recorded before keeps its row. Returns rows added.

    The archive lists a crawl's records through this per batch, so it is one plain statement run for
    every row rather than a lookup and an insert per row.
    """
    rows = []
    for capture in captures:
        row = [capture.get(k) for k in CAPTURE_KEYS]
        if not row[_URL] and row[_WARC_TYPE] != "warcinfo":
            raise CatalogError(f"capture without url (record {row[_RECORD_ID]})")
        rows.append(row)
    with db.atomic():
        for portal_id in dict.fromkeys(row[_PORTAL_ID] for row in rows):
            _ensure_portal(db, portal_id)
        before = db.conn.total_changes
        db.conn.executemany(_CAPTURE_INSERT, rows)
        return db.conn.total_changes - before


def record_capture(db: sqlite_utils.Database, capture: dict) -> int:
    """One WARC record; recording the same record_id twice returns the existing row's id."""
    record_captures(db, [capture])
    if capture.get("record_id"):
        return db.execute("select id from captures where record_id = ?", [capture["record_id"]]).fetchone()[0]
    return db.execute("select last_insert_rowid()").fetchone()[0]


def latest_complete_capture(db: sqlite_utils.Database, url: str) -> dict | None:
    """The newest complete 2xx capture (response or revisit) of url, or None.

    It is what a `304 Not Modified` for url stands for: conditional requests send its `etag` and
    `last_modified`, and a 304 is answered from its record (`warc_file`, `offset`; a revisit there
    leads on to the payload).
    """
    rows = db.query(
        "select id, url, timestamp, warc_type, record_id, status, content_type, payload_digest, sha256, "
        "warc_file, offset, length, revisit_of, etag, last_modified from captures "
        "where url = ? and status between 200 and 299 and warc_type in ('response', 'revisit') "
        "and truncated is null order by timestamp desc, id desc limit 1", [url])
    return next(iter(rows), None)


_DOCUMENT_FIELDS = ("portal_id", "kind", "title", "year", "published", "index_no", "publisher",
                    "content_type", "filename", "warc_record_id")


def record_document(db: sqlite_utils.Database, item: dict) -> int:
    """A DocumentItem: one documents row per distinct sha256, every URL it was seen at in document_urls."""
    return record_documents(db, [item])[0]


def record_documents(db: sqlite_utils.Database, items: Iterable[dict]) -> list[int]:
    """Several DocumentItems in one transaction (see `record_document`); returns their documents ids.

    All or nothing: an item without sha256 raises CatalogError before anything is written.
    """
    items = list(items)
    for item in items:
        if not item.get("sha256"):
            raise CatalogError(f"document without sha256: {item.get('url')}")
    ids = []
    with db.atomic():
        portals: set[str] = set()
        for item in items:
            portal_id = item.get("portal_id")
            if portal_id and portal_id not in portals:
                _ensure_portal(db, portal_id)
                portals.add(portal_id)
            ids.append(_record_document(db, item))
    return ids


def _record_document(db: sqlite_utils.Database, item: dict) -> int:
    sha256, url = item["sha256"], item.get("url")
    seen = item.get("fetched_at") or now_iso()
    cursor = db.execute("select * from documents where sha256 = ?", [sha256])
    found = cursor.fetchone()
    if found:
        doc = dict(zip([d[0] for d in cursor.description], found, strict=True))
        doc_id = doc["id"]
        updates: dict[str, Any] = {
            "last_seen": max(doc["last_seen"] or seen, seen),
            "first_seen": min(doc["first_seen"] or seen, seen),
        }
        # The first crawl that saw a field wins; later ones only fill gaps.
        for key in _DOCUMENT_FIELDS:
            if doc.get(key) in (None, "") and item.get(key) not in (None, ""):
                updates[key] = item[key]
        db.execute(f"update documents set {', '.join(f'{key} = ?' for key in updates)} where id = ?",
                   [*updates.values(), doc_id])
    else:
        # plain SQL: sqlite-utils' insert looks the table up again on every call, which a crawl pays per page
        row = {"sha256": sha256, **{key: item.get(key) for key in _DOCUMENT_FIELDS}, "url": url,
               "first_seen": seen, "last_seen": seen}
        doc_id = db.execute(f"insert into documents ({', '.join(row)}) values ({', '.join('?' for _ in row)})",
                            list(row.values())).lastrowid
    if url:
        updated = db.execute(
            "update document_urls set first_seen = min(first_seen, ?), last_seen = max(last_seen, ?) "
            "where document_id = ? and url = ?",
            [seen, seen, doc_id, url],
        ).rowcount
        if not updated:
            db.execute("insert into document_urls (document_id, url, referer, first_seen, last_seen) "
                       "values (?, ?, ?, ?, ?)", [doc_id, url, item.get("referer"), seen, seen])
    return doc_id


def documents_to_parse(db: sqlite_utils.Database, parser_version: str) -> list[dict]:
    """Report pages and attachments with neither a report nor a failure for parser_version.

    Each dict is the documents row plus where its bytes are archived: the newest response or resource
    capture with the same sha256 (`capture_url`, `capture_timestamp`, `warc_file`, `offset`, `length`).
    """
    kinds = ", ".join("?" for _ in PARSEABLE_KINDS)
    sql = f"""
select d.*,
  c.url as capture_url, c.timestamp as capture_timestamp, c.warc_file, c.offset, c.length,
  c.record_id as capture_record_id
from documents d
left join captures c on c.id = (
  select c2.id from captures c2
  where c2.sha256 = d.sha256 and c2.warc_type in ('response', 'resource')
  order by c2.timestamp desc, c2.id desc limit 1
)
where (d.kind in ({kinds}) or d.kind is null)
  and not exists (select 1 from reports r where r.document_id = d.id and r.parser_version = ?)
  and not exists (select 1 from parse_failures f where f.document_id = d.id and f.parser_version = ?)
order by d.id"""
    return list(db.query(sql, [*PARSEABLE_KINDS, parser_version, parser_version]))


def _get(parsed: Any, name: str, default: Any = None) -> Any:
    if isinstance(parsed, dict):
        return parsed.get(name, default)
    return getattr(parsed, name, default)


def record_report(db: sqlite_utils.Database, document_id: int, parsed: Any, parser_version: str) -> int:
    """One report version from a ParsedReport: the reports row, its cells and findings.

    Nothing is overwritten: a corrected re-issue (another document for the same agency and year) or a
    re-parse by a newer parser adds a row, and `is_current` moves to the newest. Re-recording the same
    document and parser version replaces that version's own cells and findings only.
    """
    doc = db.execute(
        "select d.id, d.portal_id, d.url, d.title, d.year, d.published, d.sha256, d.content_type, "
        "p.region, p.level, p.agency from documents d left join portals p on p.id = d.portal_id where d.id = ?",
        [document_id],
    ).fetchone()
    if doc is None:
        raise CatalogError(f"no document {document_id} to attach a report to")
    (_, portal_id, url, doc_title, doc_year, doc_published, sha256, doc_ctype,
     region, level, portal_agency) = doc
    sections = _get(parsed, "sections") or {}
    cells = _get(parsed, "cells") or {}
    findings = _get(parsed, "findings") or []
    row = {
        "document_id": document_id, "parser_version": parser_version, "portal_id": portal_id,
        "agency": _get(parsed, "agency") or portal_agency,
        "region": region, "level": level,
        "year": _get(parsed, "year") or doc_year,
        "format_version": _get(parsed, "format_version"),
        "title": _get(parsed, "title") or doc_title,
        "published": _get(parsed, "published") or doc_published,
        "source_url": url or _get(parsed, "source"),
        "sha256": _get(parsed, "sha256") or sha256,
        "content_type": _get(parsed, "content_type") or doc_ctype,
        "is_current": 0, "parsed_at": now_iso(),
        "archived_at": db.execute(
            "select max(timestamp) from captures where sha256 = ? and warc_type in ('response', 'resource')",
            [sha256],
        ).fetchone()[0],
        "warnings": json.dumps(list(_get(parsed, "warnings") or []), ensure_ascii=False),
        **{f"section_{name}": sections.get(name) for name in SECTION_NAMES},
    }
    with db.atomic():
        old = db.execute(
            "select id, agency_id, agency, year from reports where document_id = ? and parser_version = ?",
            [document_id, parser_version],
        ).fetchone()
        # The group this version was in before, so that a re-parse reading another body leaves it a current.
        previous_groups = [_version_group(old[1], old[2], old[3], document_id)] if old else []
        if old:
            report_id = old[0]
            db.execute("delete from cells where report_id = ?", [report_id])
            db.execute("delete from findings where report_id = ?", [report_id])
            db["reports"].update(report_id, row)
        else:
            report_id = db["reports"].insert(row).last_pk
        _ensure_cell_keys(db, cells.keys())
        provenance = _get(parsed, "provenance") or {}
        db["cells"].insert_all(
            ({"report_id": report_id, "key": k, "value": v, "provenance": provenance.get(k, "printed")}
             for k, v in cells.items()), pk=("report_id", "key")
        )
        _write_totals(db, report_id, cells)
        _insert_findings(db, report_id, findings)
        db.execute("delete from parse_failures where document_id = ? and parser_version = ?",
                   [document_id, parser_version])
        _index_report_text(db, {"id": report_id, **row})
        # The agency first: versions of one report are grouped by the body, not by its printed name.
        assign_report_agency(db, report_id)
        _update_current(db, report_id, previous_groups)
    return report_id


def _write_totals(db: sqlite_utils.Database, report_id: int, cells: dict) -> None:
    totals: dict[str, Any] = {name: cells.get(key) for name, key in TOTAL_CELLS.items()}

    def both(a: str, b: str) -> Any:
        values = [totals[a], totals[b]]
        return None if values == [None, None] else sum(v for v in values if v is not None)

    totals["lawsuits"] = both("lawsuits_direct", "lawsuits_after_review")
    totals["lawsuits_corrected"] = both("lawsuits_direct_corrected", "lawsuits_after_review_corrected")
    db["report_totals"].upsert({"report_id": report_id, **totals}, pk="report_id")


def _insert_findings(db: sqlite_utils.Database, report_id: int, findings: Iterable[dict]) -> None:
    rows = []
    for f in findings:
        delta = f.get("delta")
        rows.append({
            "report_id": report_id, "rule": f.get("rule"), "detail": f.get("detail"),
            "delta": float(delta) if isinstance(delta, (int, float)) else None,
            "cells": json.dumps(f.get("cells") or [], ensure_ascii=False),
        })
    if rows:
        db["findings"].insert_all(rows)


def replace_findings(db: sqlite_utils.Database, report_id: int, rule: str, findings: list[dict]) -> None:
    """Replace report_id's findings of one rule (for checks made after parsing, such as t3.carry_link)."""
    with db.atomic():
        db.execute("delete from findings where report_id = ? and rule = ?", [report_id, rule])
        _insert_findings(db, report_id, [{**f, "rule": rule} for f in findings])


_CURRENT_ORDER = ("coalesce(d.published, r.published, '') desc, d.first_seen desc, d.id desc, r.id desc")
_LATEST_PARSE = "r.id = (select max(r2.id) from reports r2 where r2.document_id = r.document_id)"


def _version_group(agency_id: str | None, agency: str | None, year: int | None, document_id: int) -> tuple:
    """The group of report versions a version belongs to: its agency and year, else its printed agency
    name and year (no agency resolved), else its document alone."""
    if year and agency_id:
        return ("agency_id", agency_id, year)
    if year and agency:
        return ("agency", agency, year)
    return ("document", document_id, None)


def _update_current(db: sqlite_utils.Database, report_id: int, also: Iterable[tuple] = ()) -> None:
    """Recompute `is_current` for every report version that report_id's arrival can affect.

    Versions of one report share the reporting body and the year: the body is the report's agency
    (`agency_id`), so a re-issue printed under another name variant of the body (硚口区卫健局 /
    硚口区卫生健康局) supersedes the earlier one; the printed agency name stands in when no agency was
    resolved; when body or year is unknown, the document alone is the group. Only the latest parse of
    each document is eligible; of those, the one from the most recently published (then first-seen)
    document is current. Earlier parses of the same document may have read another body or year, so
    their groups are recomputed too (and `also`, groups the version was in before a re-parse): a
    corrected parse never leaves a stale twin current.
    """
    groups = {
        _version_group(agency_id, agency, year, document_id)
        for agency_id, agency, year, document_id in db.execute(
            "select agency_id, agency, year, document_id from reports where document_id = "
            "(select document_id from reports where id = ?)",
            [report_id],
        )
    } | set(also)
    for kind, first, second in groups:
        # Each condition is answerable from an index (agency_id, year) / (agency, year) / document_id.
        if kind == "agency_id":
            where, params = "r.agency_id = ? and r.year = ?", [first, second]
        elif kind == "agency":
            where, params = "r.agency = ? and r.year = ? and r.agency_id is null", [first, second]
        else:
            where, params = ("r.document_id = ? and (r.year is null or (r.agency_id is null and r.agency is null))",
                             [first])
        rows = db.execute(
            f"""select r.id, {_LATEST_PARSE}
                from reports r join documents d on d.id = r.document_id where {where}
                order by {_CURRENT_ORDER}""",
            params,
        ).fetchall()
        if not rows:
            continue
        current = next((rid for rid, latest in rows if latest), None)
        db.execute(
            f"update reports set is_current = (id = ?) where id in ({', '.join('?' for _ in rows)})",
            [-1 if current is None else current, *(rid for rid, _ in rows)],
        )


def recompute_current(db: sqlite_utils.Database) -> list[int]:
    """Recompute `is_current` over the whole catalog (after agencies were re-resolved, e.g. by a new
    alias pin, which can join or part the versions of a body's year); returns the ids whose flag changed.

    Same rule as `_update_current`: per body and year (or per document), the latest parse of the most
    recently published document is current.
    """
    rows = db.execute(
        f"""select r.id, r.agency_id, r.agency, r.year, r.document_id, r.is_current, {_LATEST_PARSE}
            from reports r join documents d on d.id = r.document_id order by {_CURRENT_ORDER}"""
    ).fetchall()
    current: dict[tuple, int | None] = {}
    for rid, agency_id, agency, year, document_id, _, latest in rows:
        group = _version_group(agency_id, agency, year, document_id)
        if current.get(group) is None:
            current[group] = rid if latest else None
    winners = {rid for rid in current.values() if rid is not None}
    changed = [rid for rid, _, _, _, _, flag, _ in rows if bool(flag) != (rid in winners)]
    with db.atomic():
        db.conn.executemany("update reports set is_current = ? where id = ?",
                            [(int(rid in winners), rid) for rid in changed])
    return changed


def record_parse_failure(db: sqlite_utils.Database, document_id: int, parser_version: str, reason: str) -> None:
    """Note that document_id could not be parsed by parser_version, and why (one row per version)."""
    with db.atomic():
        db.execute(
            "insert into parse_failures (document_id, parser_version, reason, failed_at) values (?, ?, ?, ?) "
            "on conflict(document_id, parser_version) do update set reason = excluded.reason, "
            "failed_at = excluded.failed_at",
            [document_id, parser_version, reason, now_iso()],
        )


def report_cells(db: sqlite_utils.Database, report_id: int) -> dict[str, float | int | None]:
    """The stored cells of one report, key → value."""
    return {k: v for k, v in db.execute("select key, value from cells where report_id = ?", [report_id])}

