"""The SQLite catalog: schema, versioned migrations and the record_* functions.

Everything a run learns goes through this module: portals, crawls, WARC captures, documents, parsed
reports with their cells and findings, and parse failures. The schema is built by ordered migration
functions (`MIGRATIONS`); `schema_version` records how far a catalog has come, so an older catalog is
upgraded in place when it is opened. Views (printed tables, summaries, coverage) hold no data and are
rebuilt whenever their definition changes.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

SECTION_NAMES = ("overview", "proactive", "requests", "reviews", "problems", "other")
PARSEABLE_KINDS = ("report_page", "attachment")
CAPTURE_KEYS = (
    "crawl_id", "url", "timestamp", "warc_type", "record_id", "status", "content_type", "payload_digest",
    "sha256", "warc_file", "offset", "length", "revisit_of", "refers_to_uri", "refers_to_date", "truncated",
    "portal_id", "etag", "last_modified",
)
DOCUMENT_KEYS = (
    "portal_id", "url", "kind", "title", "year", "published", "index_no", "publisher", "referer",
    "content_type", "filename", "sha256", "status", "warc_record_id", "fetched_at",
)
T3_COLUMNS = (
    "natural_person", "commercial_enterprise", "research_institution", "social_welfare_org",
    "legal_services_org", "other_org", "total",
)
T4_COLUMNS = ("upheld", "corrected", "other", "pending", "total")
_KEY_RE = re.compile(r"^(t[234])\.(.+)\.([a-z_]+)$")
# The headline numbers of a report, stored per report in report_totals so that summaries and
# year-over-year joins over every report need no pivot of the cells table.
TOTAL_CELLS = {
    "new_requests": "t3.new_received.total",
    "carried_over": "t3.carried_over.total",
    "granted": "t3.granted.total",
    "partially_granted": "t3.partially_granted.total",
    "total_processed": "t3.total_processed.total",
    "carried_forward": "t3.carried_forward.total",
    "reviews": "t4.review.total",
    "reviews_corrected": "t4.review.corrected",
    "lawsuits_direct": "t4.litigation_direct.total",
    "lawsuits_after_review": "t4.litigation_after_review.total",
    "lawsuits_direct_corrected": "t4.litigation_direct.corrected",
    "lawsuits_after_review_corrected": "t4.litigation_after_review.corrected",
}


class CatalogError(Exception):
    """A record could not be written: the message names the document, URL or key."""


def now_iso() -> str:
    """The current UTC time as an ISO string (seconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- migrations


def _migration_1_base(db: sqlite_utils.Database) -> None:
    """The base tables: registry, crawls, captures, documents, reports, cells, findings, failures."""
    db["portals"].create(
        {"id": str, "agency": str, "url": str, "region": str, "level": str, "render": str,
         "allow_private": int, "notes": str},
        pk="id",
    )
    db["crawls"].create(
        {"id": int, "started_at": str, "ended_at": str, "portals_file": str, "settings": str,
         "stats": str, "status": str},
        pk="id",
    )
    db["captures"].create(
        {"id": int, "crawl_id": int, "portal_id": str, "url": str, "timestamp": str, "warc_type": str,
         "record_id": str, "status": int, "content_type": str, "payload_digest": str, "sha256": str,
         "warc_file": str, "offset": int, "length": int, "revisit_of": str, "refers_to_uri": str,
         "refers_to_date": str, "truncated": str},
        pk="id",
        foreign_keys=[("crawl_id", "crawls", "id"), ("portal_id", "portals", "id")],
    )
    db["captures"].create_index(["record_id"], unique=True)
    db["captures"].create_index(["sha256"])
    db["captures"].create_index(["url", "timestamp"])
    db["captures"].create_index(["crawl_id"])
    db["documents"].create(
        {"id": int, "sha256": str, "portal_id": str, "kind": str, "title": str, "year": int,
         "published": str, "index_no": str, "publisher": str, "content_type": str, "filename": str,
         "url": str, "warc_record_id": str, "first_seen": str, "last_seen": str},
        pk="id",
        foreign_keys=[("portal_id", "portals", "id")],
    )
    db["documents"].create_index(["sha256"], unique=True)
    db["documents"].create_index(["portal_id", "year"])
    db["document_urls"].create(
        {"document_id": int, "url": str, "referer": str, "first_seen": str, "last_seen": str},
        pk=("document_id", "url"),
        foreign_keys=[("document_id", "documents", "id")],
    )
    db["document_urls"].create_index(["url"])
    db["reports"].create(
        {"id": int, "document_id": int, "parser_version": str, "portal_id": str, "agency": str,
         "region": str, "level": str, "year": int, "format_version": str, "title": str,
         "published": str, "source_url": str, "sha256": str, "content_type": str, "is_current": int,
         "parsed_at": str, "warnings": str,
         **{f"section_{name}": str for name in SECTION_NAMES}},
        pk="id",
        foreign_keys=[("document_id", "documents", "id"), ("portal_id", "portals", "id")],
    )
    db["reports"].create_index(["document_id", "parser_version"], unique=True)
    db["reports"].create_index(["agency", "year"])
    db["reports"].create_index(["year"])
    db["reports"].create_index(["portal_id", "year"])
    db["reports"].create_index(["is_current"])
    db["cells"].create(
        {"report_id": int, "key": str, "value": "ANY"},
        pk=("report_id", "key"),
        foreign_keys=[("report_id", "reports", "id")],
    )
    db["cells"].create_index(["key"])
    db["findings"].create(
        {"id": int, "report_id": int, "rule": str, "detail": str, "delta": float, "cells": str},
        pk="id",
        foreign_keys=[("report_id", "reports", "id")],
    )
    db["findings"].create_index(["report_id"])
    db["findings"].create_index(["rule"])
    db["parse_failures"].create(
        {"id": int, "document_id": int, "parser_version": str, "reason": str, "failed_at": str},
        pk="id",
        foreign_keys=[("document_id", "documents", "id")],
    )
    db["parse_failures"].create_index(["document_id", "parser_version"], unique=True)


def _migration_2_printed_tables_and_search(db: sqlite_utils.Database) -> None:
    """Cells split into table/row/column with a labelled key table, and trigram full-text search."""
    db["cell_keys"].create(
        {"key": str, "table_no": str, "row_key": str, "column_key": str, "label": str,
         "row_label": str, "column_label": str, "unit": str, "position": int},
        pk="key",
    )
    db["cell_keys"].create_index(["table_no", "row_key"])
    keys = [row[0] for row in db.execute("select distinct key from cells")]
    _ensure_cell_keys(db, keys)
    # cells.key references cell_keys so Datasette shows each key with its Chinese label.
    db["cells"].transform(foreign_keys=[("report_id", "reports", "id"), ("key", "cell_keys", "key")])
    db["cells"].create_index(["key", "report_id"], if_not_exists=True)
    # When the report's bytes were archived, for links to the replayed copy.
    db["reports"].add_column("archived_at", str)
    db.execute(
        "update reports set archived_at = (select max(c.timestamp) from captures c "
        "where c.sha256 = reports.sha256 and c.warc_type in ('response', 'resource'))"
    )
    db.execute(
        "create virtual table reports_search using fts5("
        "title, agency, sections, tokenize='trigram')"
    )
    for row in db.query(f"select id, title, agency, {', '.join('section_' + s for s in SECTION_NAMES)} from reports"):
        db.execute(
            "insert into reports_search (rowid, title, agency, sections) values (?, ?, ?, ?)",
            [row["id"], row["title"] or "", row["agency"] or "", _sections_text(row)],
        )

def _migration_3_totals_and_short_search(db: sqlite_utils.Database) -> None:
    """Per-report headline totals (fast summaries at scale) and the index for 1–2-character queries."""
    db["report_totals"].create(
        {"report_id": int, **{name: "ANY" for name in TOTAL_CELLS}, "lawsuits": "ANY", "lawsuits_corrected": "ANY"},
        pk="report_id",
        foreign_keys=[("report_id", "reports", "id")],
    )
    for report_id in [row[0] for row in db.execute("select id from reports")]:
        _write_totals(db, report_id, report_cells(db, report_id))
    db.execute(
        "create virtual table reports_grams using fts5("
        "grams, content='', detail=none, tokenize='unicode61 remove_diacritics 0')"
    )
    for row in db.query("select rowid, title, agency, sections from reports_search"):
        db.execute("insert into reports_grams (rowid, grams) values (?, ?)",
                   [row["rowid"], text_grams(row["title"], row["agency"], row["sections"])])


def _migration_4_capture_validators(db: sqlite_utils.Database) -> None:
    """The ETag and Last-Modified each response came with, for conditional requests on the next crawl.

    Captures made before this version keep null validators (their headers are in the WARC only): their
    URLs are simply fetched unconditionally once more, and that capture records the validators.
    """
    db["captures"].add_column("etag", str)
    db["captures"].add_column("last_modified", str)


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _migration_1_base,
    _migration_2_printed_tables_and_search,
    _migration_3_totals_and_short_search,
    _migration_4_capture_validators,
]
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(db: sqlite_utils.Database) -> int:
    """The catalog's schema version (0 for an empty database)."""
    if "schema_version" not in db.table_names():
        return 0
    row = db.execute("select max(version) from schema_version").fetchone()
    return row[0] or 0


def migrate(db: sqlite_utils.Database) -> int:
    """Apply every migration the catalog has not had yet, each in its own transaction; return the version."""
    if "schema_version" not in db.table_names():
        db["schema_version"].create({"version": int, "applied_at": str}, pk="version")
    current = schema_version(db)
    for version, migration in enumerate(MIGRATIONS, start=1):
        if version <= current:
            continue
        with db.atomic():
            migration(db)
            db["schema_version"].insert({"version": version, "applied_at": now_iso()})
    _ensure_views(db)
    if db.execute("select 1 from cell_keys where label is null limit 1").fetchone():
        # Keys recorded before the template knew them get their labels once it does.
        refresh_cell_labels(db, only_missing=True)
    return schema_version(db)


def open_catalog(path: str | Path) -> sqlite_utils.Database:
    """Open (creating or upgrading as needed) the catalog at path: WAL mode, foreign keys on."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=30)
    db = sqlite_utils.Database(conn)
    db.execute("pragma journal_mode=wal")
    # In WAL mode NORMAL never corrupts the file; a power cut may lose the last commits, which the
    # WARC files (the evidence) still hold. FULL would sync the disk once per captured record.
    db.execute("pragma synchronous=normal")
    db.execute("pragma busy_timeout=30000")
    db.execute("pragma foreign_keys=on")
    try:
        migrate(db)
    except sqlite3.DatabaseError as exc:
        raise CatalogError(f"{path}: cannot open or migrate the catalog: {exc}") from exc
    return db


# --------------------------------------------------------------------------- views


def _pivot(columns: Iterable[str]) -> str:
    return ",\n  ".join(
        f"max(case when k.column_key = '{c}' then c.value end) as {c}" for c in columns
    )


def _view_sql() -> dict[str, str]:
    """The views, by name: the printed tables, the per-report summary and coverage."""
    report_cols = "r.id as report_id, r.agency, r.region, r.level, r.year, r.format_version"
    return {
        "table2": f"""
select {report_cols}, k.row_key, k.row_label, k.position,
  {_pivot(("issued", "repealed", "in_force", "made", "published", "total_public", "prior_items",
           "change", "decisions", "items", "amount"))}
from reports r join cells c on c.report_id = r.id join cell_keys k on k.key = c.key
where k.table_no = 't2' and r.is_current = 1
group by r.id, k.row_key""",
        "table3": f"""
select {report_cols}, k.row_key, k.row_label, min(k.position) as position,
  {_pivot(T3_COLUMNS)}
from reports r join cells c on c.report_id = r.id join cell_keys k on k.key = c.key
where k.table_no = 't3' and r.is_current = 1
group by r.id, k.row_key""",
        "table4": f"""
select {report_cols}, k.row_key as grp, k.row_label, min(k.position) as position,
  {_pivot(T4_COLUMNS)}
from reports r join cells c on c.report_id = r.id join cell_keys k on k.key = c.key
where k.table_no = 't4' and r.is_current = 1
group by r.id, k.row_key""",
        "report_summary": """
select r.id as report_id, r.portal_id, r.agency, r.region, r.level, r.year, r.format_version, r.title,
  t.new_requests, t.carried_over, t.total_processed, t.carried_forward, t.granted, t.partially_granted,
  round(1.0 * t.granted / nullif(t.total_processed, 0), 4) as granted_share,
  t.reviews, t.reviews_corrected, t.lawsuits, t.lawsuits_corrected,
  (select count(*) from findings f where f.report_id = r.id) as findings_count
from reports r left join report_totals t on t.report_id = r.id
where r.is_current = 1""",
        "coverage": """
with recursive bounds(lo, hi) as (
  select coalesce(min(year), 2019), coalesce(max(year), 2019)
  from (select year from reports where year is not null
        union all select year from documents where year is not null)
), years(year) as (
  select lo from bounds union all select year + 1 from years, bounds where year < hi
)
select p.id as portal_id, p.agency, p.region, p.level, y.year,
  (select r.id from reports r where r.portal_id = p.id and r.year = y.year and r.is_current = 1
   order by r.id desc limit 1) as report_id,
  case when exists (select 1 from reports r where r.portal_id = p.id and r.year = y.year
                    and r.is_current = 1) then 'present' else 'missing' end as status
from portals p cross join years y""",
    }


def _ensure_views(db: sqlite_utils.Database) -> None:
    """(Re)create the views whose definition changed; untouched views stay as they are."""
    existing = {name: sql for name, sql in db.execute("select name, sql from sqlite_master where type = 'view'")}
    for name, body in _view_sql().items():
        sql = f"create view {name} as {body.strip()}"
        if existing.get(name) == sql:
            continue
        with db.atomic():
            db.execute(f"drop view if exists {name}")
            db.execute(sql)


# --------------------------------------------------------------------------- cell keys and search


def _template_labels() -> dict[str, str]:
    """Chinese labels of the cell keys from the template data, or {} while it is unavailable."""
    try:
        from nianbao.template import cell_labels
    except ImportError:
        return {}
    try:
        return dict(cell_labels())
    except Exception:  # a broken template must not stop cataloguing
        return {}


def _split_key(key: str) -> tuple[str, str, str]:
    match = _KEY_RE.match(key)
    if not match:
        return ("", key, "")
    return match.group(1), match.group(2), match.group(3)


def _ensure_cell_keys(db: sqlite_utils.Database, keys: Iterable[str]) -> None:
    """Add rows to cell_keys for keys not yet there, labelled from the template when it knows them."""
    known = {row[0] for row in db.execute("select key from cell_keys")}
    new = [k for k in dict.fromkeys(keys) if k not in known]
    if not new:
        return
    labels = _template_labels()
    order = {k: i for i, k in enumerate(labels)}
    rows = []
    for i, key in enumerate(new):
        table_no, row_key, column_key = _split_key(key)
        label = labels.get(key)
        row_label, column_label = _split_label(label)
        # Keys the template does not know sort after every template key, in arrival order.
        position = order.get(key, 100000 + len(known) + i)
        rows.append({
            "key": key, "table_no": table_no, "row_key": row_key, "column_key": column_key,
            "label": label, "row_label": row_label, "column_label": column_label,
            "unit": "万元" if key.endswith(".amount") else None, "position": position,
        })
    db["cell_keys"].insert_all(rows, pk="key", ignore=True)


def _split_label(label: str | None) -> tuple[str | None, str | None]:
    """'row label / column label' → the two halves (labels without a separator are row labels)."""
    if not label:
        return None, None
    for sep in (" · ", " / "):
        if sep in label:
            row, _, column = label.rpartition(sep)
            return row.strip(), column.strip()
    return label, None


def refresh_cell_labels(db: sqlite_utils.Database, only_missing: bool = False) -> int:
    """Relabel cell keys from the template data (all, or only those without a label); return rows changed."""
    labels = _template_labels()
    if not labels:
        return 0
    order = {k: i for i, k in enumerate(labels)}
    where = "key = ? and label is null" if only_missing else "key = ?"
    changed = 0
    with db.atomic():
        for key, label in labels.items():
            row_label, column_label = _split_label(label)
            cur = db.execute(
                f"update cell_keys set label = ?, row_label = ?, column_label = ?, position = ? where {where}",
                [label, row_label, column_label, order[key], key],
            )
            changed += cur.rowcount
    return changed


def text_grams(*texts: str | None) -> str:
    """Every distinct character and adjacent pair within runs of letters/digits, space-separated.

    Indexed by `reports_grams` (unicode61 tokenizer), this answers one- and two-character queries
    such as 复议 or 报告, which a trigram index cannot match.
    """
    grams: dict[str, None] = {}
    for text in texts:
        for run in _ALNUM_RUN.findall((text or "").lower()):
            for i, char in enumerate(run):
                grams[char] = None
                if i + 1 < len(run):
                    grams[run[i:i + 2]] = None
    return " ".join(grams)


_ALNUM_RUN = re.compile(r"[^\W_]+")


def _sections_text(row: dict) -> str:
    return "\n".join(row.get(f"section_{s}") or "" for s in SECTION_NAMES)


def _index_report_text(db: sqlite_utils.Database, row: dict) -> None:
    sections = _sections_text(row)
    old = db.execute("select title, agency, sections from reports_search where rowid = ?", [row["id"]]).fetchone()
    if old:
        # reports_grams is contentless: a row is removed by repeating exactly what was indexed.
        db.execute("insert into reports_grams (reports_grams, rowid, grams) values ('delete', ?, ?)",
                   [row["id"], text_grams(*old)])
        db.execute("delete from reports_search where rowid = ?", [row["id"]])
    title, agency = row.get("title") or "", row.get("agency") or ""
    db.execute(
        "insert into reports_search (rowid, title, agency, sections) values (?, ?, ?, ?)",
        [row["id"], title, agency, sections],
    )
    db.execute("insert into reports_grams (rowid, grams) values (?, ?)",
               [row["id"], text_grams(title, agency, sections)])


def search_reports(db: sqlite_utils.Database, query: str, limit: int = 50) -> list[dict]:
    """Current reports whose title, agency or section texts contain query (see search_sql)."""
    return list(db.query(search_sql(limit), {"q": query.strip()}))


def search_condition(param: str = "q") -> str:
    """SQL true for reports.id values whose indexed text contains :param.

    Queries of three characters or more use the trigram index (reports_search); shorter ones (报告,
    复议) cannot match trigrams and use the character/pair index (reports_grams) instead. Shared by
    the search box plugin, the canned query and search_reports().
    """
    p = f":{param}"
    quoted = f"""'"' || replace({p}, '"', '""') || '"'"""
    return f"""id in (
  select rowid from reports_search where length({p}) >= 3 and reports_search match {quoted}
  union all
  select rowid from reports_grams where length({p}) between 1 and 2 and reports_grams match {quoted}
)"""


def search_sql(limit: int = 200) -> str:
    """The search query over current reports, parameter :q; the canned query `search` runs it."""
    return f"""select r.id, r.agency, r.year, r.title, r.format_version
from reports r
where r.is_current = 1 and r.{search_condition()}
order by r.year desc, r.id desc
limit {int(limit)}"""


# --------------------------------------------------------------------------- record_* API


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


_CAPTURE_INSERT = (
    f"insert into captures ({', '.join(CAPTURE_KEYS)}) values ({', '.join('?' * len(CAPTURE_KEYS))})"
)


def record_captures(db: sqlite_utils.Database, captures: Iterable[dict]) -> list[int]:
    """WARC records in one transaction (an exchange's response and request); their row ids, in order.

    A record_id recorded before keeps its row and returns its id. The capture middleware calls this
    once per exchange, so the statement is plain SQL rather than a table introspection per row.
    """
    rows = []
    for capture in captures:
        row = {k: capture.get(k) for k in CAPTURE_KEYS}
        if not row["url"] and row["warc_type"] != "warcinfo":
            raise CatalogError(f"capture without url (record {row['record_id']})")
        rows.append(row)
    ids: list[int] = []
    with db.atomic():
        for portal_id in dict.fromkeys(row["portal_id"] for row in rows):
            _ensure_portal(db, portal_id)
        for row in rows:
            if row["record_id"]:
                found = db.execute("select id from captures where record_id = ?", [row["record_id"]]).fetchone()
                if found:
                    ids.append(found[0])
                    continue
            ids.append(db.execute(_CAPTURE_INSERT, [row[k] for k in CAPTURE_KEYS]).lastrowid)
    return ids


def record_capture(db: sqlite_utils.Database, capture: dict) -> int:
    """One WARC record; recording the same record_id twice returns the existing row's id."""
    return record_captures(db, [capture])[0]


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


def record_document(db: sqlite_utils.Database, item: dict) -> int:
    """A DocumentItem: one documents row per distinct sha256, every URL it was seen at in document_urls."""
    sha256 = item.get("sha256")
    url = item.get("url")
    if not sha256:
        raise CatalogError(f"document without sha256: {url}")
    seen = item.get("fetched_at") or now_iso()
    with db.atomic():
        _ensure_portal(db, item.get("portal_id"))
        found = db.execute("select * from documents where sha256 = ?", [sha256]).fetchone()
        if found:
            doc = dict(zip([d[0] for d in db.execute("select * from documents limit 0").description], found, strict=True))
            doc_id = doc["id"]
            updates: dict[str, Any] = {
                "last_seen": max(doc["last_seen"] or seen, seen),
                "first_seen": min(doc["first_seen"] or seen, seen),
            }
            # The first crawl that saw a field wins; later ones only fill gaps.
            for key in ("portal_id", "kind", "title", "year", "published", "index_no", "publisher",
                        "content_type", "filename", "warc_record_id"):
                if doc.get(key) in (None, "") and item.get(key) not in (None, ""):
                    updates[key] = item[key]
            db["documents"].update(doc_id, updates)
        else:
            doc_id = db["documents"].insert({
                "sha256": sha256, "portal_id": item.get("portal_id"), "kind": item.get("kind"),
                "title": item.get("title"), "year": item.get("year"), "published": item.get("published"),
                "index_no": item.get("index_no"), "publisher": item.get("publisher"),
                "content_type": item.get("content_type"), "filename": item.get("filename"), "url": url,
                "warc_record_id": item.get("warc_record_id"), "first_seen": seen, "last_seen": seen,
            }).last_pk
        if url:
            existing = db.execute(
                "select first_seen, last_seen from document_urls where document_id = ? and url = ?",
                [doc_id, url],
            ).fetchone()
            if existing:
                db.execute(
                    "update document_urls set first_seen = min(first_seen, ?), last_seen = max(last_seen, ?) "
                    "where document_id = ? and url = ?",
                    [seen, seen, doc_id, url],
                )
            else:
                db["document_urls"].insert({
                    "document_id": doc_id, "url": url, "referer": item.get("referer"),
                    "first_seen": seen, "last_seen": seen,
                })
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
            "select id from reports where document_id = ? and parser_version = ?", [document_id, parser_version]
        ).fetchone()
        if old:
            report_id = old[0]
            db.execute("delete from cells where report_id = ?", [report_id])
            db.execute("delete from findings where report_id = ?", [report_id])
            db["reports"].update(report_id, row)
        else:
            report_id = db["reports"].insert(row).last_pk
        _ensure_cell_keys(db, cells.keys())
        db["cells"].insert_all(
            ({"report_id": report_id, "key": k, "value": v} for k, v in cells.items()), pk=("report_id", "key")
        )
        _write_totals(db, report_id, cells)
        _insert_findings(db, report_id, findings)
        db.execute("delete from parse_failures where document_id = ? and parser_version = ?",
                   [document_id, parser_version])
        _index_report_text(db, {"id": report_id, **row})
        _update_current(db, report_id)
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


def _update_current(db: sqlite_utils.Database, report_id: int) -> None:
    """Recompute `is_current` for every report version that report_id's arrival can affect.

    Versions of one report share agency and year (or, when either is unknown, the document). Only the
    latest parse of each document is eligible; of those, the one from the most recently published (then
    first-seen) document is current. Earlier parses of the same document may have read another agency
    or year, so their groups are recomputed too: a corrected parse never leaves a stale twin current.
    """
    groups = {
        ("agency", a, y) if a and y else ("document", d, None)
        for a, y, d in db.execute(
            "select agency, year, document_id from reports where document_id = "
            "(select document_id from reports where id = ?)",
            [report_id],
        )
    }
    for kind, first, second in groups:
        if kind == "agency":
            where, params = "r.agency = ? and r.year = ?", [first, second]
        else:
            where, params = "r.document_id = ? and (r.agency is null or r.year is null)", [first]
        rows = db.execute(
            f"""select r.id, r.id = (select max(r2.id) from reports r2 where r2.document_id = r.document_id)
                from reports r join documents d on d.id = r.document_id where {where}
                order by coalesce(d.published, r.published, '') desc, d.first_seen desc, d.id desc, r.id desc""",
            params,
        ).fetchall()
        current = next((rid for rid, latest in rows if latest), None)
        db.execute(
            f"update reports set is_current = (id = ?) where id in ({', '.join('?' for _ in rows)})",
            [-1 if current is None else current, *(rid for rid, _ in rows)],
        )


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
