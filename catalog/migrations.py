"""The catalog's schema as ordered migrations; `migrate` applies the ones a catalog has not had yet.

Each migration is a function of the database, applied once in its own transaction and recorded in
`schema_version`, so an older catalog is upgraded in place when it is opened. New schema changes are
new functions appended to `MIGRATIONS`, never edits of applied ones.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from catalog.cell_keys import _ensure_cell_keys
from catalog.records import _write_totals, report_cells
from catalog.schema import SECTION_NAMES, TOTAL_CELLS, now_iso
from catalog.search import _sections_text, text_grams


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


def _migration_5_fetch_failures_diagnoses_provenance(db: sqlite_utils.Database) -> None:
    """Every URL that ended without a document, each portal's diagnosis per crawl, each cell's provenance."""
    db["fetch_failures"].create(
        {"id": int, "crawl_id": int, "portal_id": str, "url": str, "referer": str, "kind": str,
         "reason": str, "detail": str, "at": str},
        pk="id",
        foreign_keys=[("crawl_id", "crawls", "id"), ("portal_id", "portals", "id")],
    )
    db["fetch_failures"].create_index(["crawl_id", "portal_id"])
    db["fetch_failures"].create_index(["url"])
    db["portal_diagnoses"].create(
        {"crawl_id": int, "portal_id": str, "status": str, "reports": int, "errors": int,
         "reason": str, "detail": str, "at": str},
        pk=("crawl_id", "portal_id"),
        foreign_keys=[("crawl_id", "crawls", "id"), ("portal_id", "portals", "id")],
    )
    db["portal_diagnoses"].create_index(["portal_id"])
    # printed: as the report prints it; inferred:<rule>: computed from a total by that rule.
    db["cells"].add_column("provenance", str, not_null_default="printed")


def _migration_agencies(db: sqlite_utils.Database) -> None:
    """Reporting bodies as rows (agencies, their name variants and portals), each report linked to one."""
    db["agencies"].create(
        {"id": str, "name": str, "match_key": str, "variants": str, "region": str, "province": str,
         "city": str, "county": str, "level": str, "portals": str, "own_portals": str, "first_year": int,
         "reports": int},
        pk="id",
    )
    db["agencies"].create_index(["region"])
    db["agency_names"].create(
        {"agency_id": str, "name": str, "years": str, "first_year": int, "last_year": int},
        pk=("agency_id", "name"), foreign_keys=[("agency_id", "agencies", "id")],
    )
    db["agency_portals"].create(
        {"agency_id": str, "portal_id": str, "own": int},
        pk=("agency_id", "portal_id"),
        foreign_keys=[("agency_id", "agencies", "id"), ("portal_id", "portals", "id")],
    )
    db["agency_portals"].create_index(["portal_id"])
    db["reports"].add_column("agency_id", str)
    db["reports"].create_index(["agency_id", "year"])
    if db.execute("select 1 from reports union all select 1 from portals limit 1").fetchone():
        from catalog.agencies import refresh_bodies

        refresh_bodies(db)


def _migration_current_version_by_agency(db: sqlite_utils.Database) -> None:
    """`is_current` recomputed per agency and year, so a re-issue printed under another name variant of
    its body supersedes the earlier version (it was computed per printed name)."""
    from catalog.records import recompute_current

    recompute_current(db)


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _migration_1_base,
    _migration_2_printed_tables_and_search,
    _migration_3_totals_and_short_search,
    _migration_4_capture_validators,
    _migration_5_fetch_failures_diagnoses_provenance,
    _migration_agencies,
    _migration_current_version_by_agency,
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
    return schema_version(db)

