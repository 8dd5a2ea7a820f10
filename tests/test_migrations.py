"""Migrations: a catalog made by schema version 1 upgrades in place without losing anything."""

from __future__ import annotations

import sqlite3

import catalog

# Schema version 1 exactly as it shipped (frozen here: the migration code may evolve, this must not).
V1_SCHEMA = """
CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT);
CREATE TABLE "portals" ("id" TEXT PRIMARY KEY, "agency" TEXT, "url" TEXT, "region" TEXT, "level" TEXT,
   "render" TEXT, "allow_private" INTEGER, "notes" TEXT);
CREATE TABLE "crawls" ("id" INTEGER PRIMARY KEY, "started_at" TEXT, "ended_at" TEXT, "portals_file" TEXT,
   "settings" TEXT, "stats" TEXT, "status" TEXT);
CREATE TABLE "captures" ("id" INTEGER PRIMARY KEY, "crawl_id" INTEGER REFERENCES "crawls"("id"),
   "portal_id" TEXT REFERENCES "portals"("id"), "url" TEXT, "timestamp" TEXT, "warc_type" TEXT,
   "record_id" TEXT, "status" INTEGER, "content_type" TEXT, "payload_digest" TEXT, "sha256" TEXT,
   "warc_file" TEXT, "offset" INTEGER, "length" INTEGER, "revisit_of" TEXT, "refers_to_uri" TEXT,
   "refers_to_date" TEXT, "truncated" TEXT);
CREATE UNIQUE INDEX "idx_captures_record_id" ON "captures" ("record_id");
CREATE INDEX "idx_captures_sha256" ON "captures" ("sha256");
CREATE INDEX "idx_captures_url_timestamp" ON "captures" ("url", "timestamp");
CREATE INDEX "idx_captures_crawl_id" ON "captures" ("crawl_id");
CREATE TABLE "documents" ("id" INTEGER PRIMARY KEY, "sha256" TEXT, "portal_id" TEXT REFERENCES "portals"("id"),
   "kind" TEXT, "title" TEXT, "year" INTEGER, "published" TEXT, "index_no" TEXT, "publisher" TEXT,
   "content_type" TEXT, "filename" TEXT, "url" TEXT, "warc_record_id" TEXT, "first_seen" TEXT, "last_seen" TEXT);
CREATE UNIQUE INDEX "idx_documents_sha256" ON "documents" ("sha256");
CREATE INDEX "idx_documents_portal_id_year" ON "documents" ("portal_id", "year");
CREATE TABLE "document_urls" ("document_id" INTEGER REFERENCES "documents"("id"), "url" TEXT, "referer" TEXT,
   "first_seen" TEXT, "last_seen" TEXT, PRIMARY KEY ("document_id", "url"));
CREATE INDEX "idx_document_urls_url" ON "document_urls" ("url");
CREATE TABLE "reports" ("id" INTEGER PRIMARY KEY, "document_id" INTEGER REFERENCES "documents"("id"),
   "parser_version" TEXT, "portal_id" TEXT REFERENCES "portals"("id"), "agency" TEXT, "region" TEXT,
   "level" TEXT, "year" INTEGER, "format_version" TEXT, "title" TEXT, "published" TEXT, "source_url" TEXT,
   "sha256" TEXT, "content_type" TEXT, "is_current" INTEGER, "parsed_at" TEXT, "warnings" TEXT,
   "section_overview" TEXT, "section_proactive" TEXT, "section_requests" TEXT, "section_reviews" TEXT,
   "section_problems" TEXT, "section_other" TEXT);
CREATE UNIQUE INDEX "idx_reports_document_id_parser_version" ON "reports" ("document_id", "parser_version");
CREATE INDEX "idx_reports_agency_year" ON "reports" ("agency", "year");
CREATE INDEX "idx_reports_year" ON "reports" ("year");
CREATE INDEX "idx_reports_portal_id_year" ON "reports" ("portal_id", "year");
CREATE INDEX "idx_reports_is_current" ON "reports" ("is_current");
CREATE TABLE "cells" ("report_id" INTEGER REFERENCES "reports"("id"), "key" TEXT, "value" ANY,
   PRIMARY KEY ("report_id", "key"));
CREATE INDEX "idx_cells_key" ON "cells" ("key");
CREATE TABLE "findings" ("id" INTEGER PRIMARY KEY, "report_id" INTEGER REFERENCES "reports"("id"),
   "rule" TEXT, "detail" TEXT, "delta" REAL, "cells" TEXT);
CREATE INDEX "idx_findings_report_id" ON "findings" ("report_id");
CREATE INDEX "idx_findings_rule" ON "findings" ("rule");
CREATE TABLE "parse_failures" ("id" INTEGER PRIMARY KEY, "document_id" INTEGER REFERENCES "documents"("id"),
   "parser_version" TEXT, "reason" TEXT, "failed_at" TEXT);
CREATE UNIQUE INDEX "idx_parse_failures_document_id_parser_version"
   ON "parse_failures" ("document_id", "parser_version");
CREATE VIEW report_summary AS select id as report_id, agency, year from reports where is_current = 1;
INSERT INTO schema_version VALUES (1, '2024-01-01T00:00:00Z');
"""

V1_DATA = """
INSERT INTO portals VALUES ('hrb', '哈尔滨市卫生健康委员会', 'http://127.0.0.1:9/', '230100', '市', NULL, 1, NULL);
INSERT INTO crawls VALUES (1, '2024-03-01T00:00:00Z', '2024-03-01T01:00:00Z', 'portals.csv', '{}', '{}', 'finished');
INSERT INTO captures (id, crawl_id, portal_id, url, timestamp, warc_type, record_id, status, sha256, warc_file,
   offset, length) VALUES (1, 1, 'hrb', 'http://127.0.0.1:9/2023.html', '2024-03-01T00:10:00Z', 'response',
   '<urn:uuid:a>', 200, 'aa', 'crawl-00000.warc.gz', 0, 1234);
INSERT INTO documents (id, sha256, portal_id, kind, title, year, url, first_seen, last_seen) VALUES
   (1, 'aa', 'hrb', 'report_page', '哈尔滨市卫生健康委员会2023年政府信息公开工作年度报告', 2023,
    'http://127.0.0.1:9/2023.html', '2024-03-01T00:10:00Z', '2024-03-01T00:10:00Z');
INSERT INTO document_urls VALUES (1, 'http://127.0.0.1:9/2023.html', NULL, '2024-03-01T00:10:00Z',
   '2024-03-01T00:10:00Z');
INSERT INTO reports (id, document_id, parser_version, portal_id, agency, region, level, year, format_version,
   title, source_url, sha256, is_current, section_overview, section_reviews) VALUES
   (1, 1, '1', 'hrb', '哈尔滨市卫生健康委员会', '230100', '市', 2023, '2021',
    '哈尔滨市卫生健康委员会2023年政府信息公开工作年度报告', 'http://127.0.0.1:9/2023.html', 'aa', 1,
    '本机关坚持以公开为常态、不公开为例外', '被申请行政复议1件');
INSERT INTO cells VALUES (1, 't3.new_received.natural_person', 34), (1, 't3.new_received.total', 34),
   (1, 't3.carried_over.total', 3), (1, 't3.total_processed.total', 35), (1, 't2.fees.amount', 25.1),
   (1, 't3.granted.other_org', NULL);
INSERT INTO findings VALUES (1, 1, 't4.group_total', 'review: total 2 ≠ 1', 1.0, '[]');
INSERT INTO parse_failures VALUES (1, 1, '0', 'timed out after 180 s', '2024-03-01T02:00:00Z');
"""


def _make_v1(path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(V1_SCHEMA + V1_DATA)
    conn.commit()
    conn.close()


def _dump(path, table: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    rows = conn.execute(f"select * from {table} order by 1, 2").fetchall()
    conn.close()
    return rows


def test_v1_catalog_upgrades_in_place_without_loss(tmp_path):
    path = tmp_path / "catalog.db"
    _make_v1(path)
    before = {t: _dump(path, t) for t in ("portals", "crawls", "documents", "document_urls",
                                           "cells", "findings", "parse_failures")}
    reports_before = _dump(path, "reports")
    captures_before = _dump(path, "captures")

    db = catalog.open_catalog(path)
    assert catalog.schema_version(db) == catalog.SCHEMA_VERSION
    for table, rows in before.items():
        after = _dump(path, table)
        if table == "cells":  # cells gained provenance (version 5): printed, for every cell made before
            assert {row[-1] for row in after} == {"printed"}
            after = [row[:-1] for row in after]
        assert after == rows, table
    # reports gained archived_at (backfilled from its capture); every v1 column is unchanged.
    reports_after = _dump(path, "reports")
    assert [row[: len(reports_before[0])] for row in reports_after] == reports_before
    assert db["reports"].get(1)["archived_at"] == "2024-03-01T00:10:00Z"
    # captures gained etag and last_modified, null for what was captured before they were recorded
    assert [row[: len(captures_before[0])] for row in _dump(path, "captures")] == captures_before
    assert db["captures"].get(1)["etag"] is None and db["captures"].get(1)["last_modified"] is None
    # Printed values keep their type: 34 stays an integer, 25.1 a real, a blank stays null.
    assert catalog.report_cells(db, 1) == {"t3.new_received.natural_person": 34, "t3.new_received.total": 34,
                                           "t3.carried_over.total": 3, "t3.total_processed.total": 35,
                                           "t2.fees.amount": 25.1, "t3.granted.other_org": None}
    # The new structures are filled from the old data.
    assert db["cell_keys"].get("t3.new_received.natural_person")["row_key"] == "new_received"
    assert [r["agency"] for r in catalog.search_reports(db, "不公开为例外")] == ["哈尔滨市卫生健康委员会"]
    assert [r["agency"] for r in catalog.search_reports(db, "复议")] == ["哈尔滨市卫生健康委员会"]
    summary = next(db.query("select * from report_summary"))
    assert (summary["new_requests"], summary["carried_over"], summary["findings_count"]) == (34, 3, 1)
    assert db["report_totals"].get(1)["total_processed"] == 35
    row = next(db.query("select * from table3 where row_key = 'new_received'"))
    assert (row["natural_person"], row["total"]) == (34, 34)
    db.close()

    # Opening again is a no-op.
    db = catalog.open_catalog(path)
    assert db.execute("select version from schema_version order by version").fetchall() == [(v,) for v in range(1, catalog.SCHEMA_VERSION + 1)]
    assert db.execute("select count(*) from cells").fetchone()[0] == 6
    db.close()


def test_failed_migration_leaves_the_catalog_at_its_version(tmp_path, monkeypatch):
    path = tmp_path / "catalog.db"
    _make_v1(path)

    def broken(db):
        db.execute("create table half_done (x)")
        raise sqlite3.OperationalError("disk full")

    monkeypatch.setattr(catalog.migrations, "MIGRATIONS", [catalog.MIGRATIONS[0], broken])
    try:
        catalog.open_catalog(path)
    except catalog.CatalogError as exc:
        assert "catalog.db" in str(exc) and "disk full" in str(exc)
    else:
        raise AssertionError("a failing migration must raise")
    conn = sqlite3.connect(path)
    assert conn.execute("select max(version) from schema_version").fetchone()[0] == 1
    assert conn.execute("select name from sqlite_master where name = 'half_done'").fetchone() is None
    conn.close()


def test_previous_version_catalog_upgrades_in_place(tmp_path, monkeypatch):
    """A catalog left at version 2 (made by the code of that version) gains version 3's tables, filled."""
    path = tmp_path / "catalog.db"
    _make_v1(path)
    with monkeypatch.context() as patch:
        patch.setattr(catalog.migrations, "MIGRATIONS", catalog.MIGRATIONS[:2])
        patch.setattr(catalog.views, "_view_sql", lambda: {})
        db = catalog.open_catalog(path)
        assert catalog.schema_version(db) == 2 and "report_totals" not in db.table_names()
        db.close()
    cells_before = _dump(path, "cells")
    db = catalog.open_catalog(path)
    assert catalog.schema_version(db) == catalog.SCHEMA_VERSION
    assert [row[:-1] for row in _dump(path, "cells")] == cells_before  # + provenance (version 5)
    totals = db["report_totals"].get(1)
    assert (totals["new_requests"], totals["carried_over"], totals["lawsuits"]) == (34, 3, None)
    assert [r["id"] for r in catalog.search_reports(db, "例外")] == [1]
    assert [r["id"] for r in catalog.search_reports(db, "诉")] == []
    db.close()


def test_version_3_catalog_gains_capture_validators(tmp_path, monkeypatch):
    """Version 4 adds each capture's ETag and Last-Modified; older captures keep theirs null and unchanged."""
    path = tmp_path / "catalog.db"
    _make_v1(path)
    with monkeypatch.context() as patch:
        patch.setattr(catalog.migrations, "MIGRATIONS", catalog.MIGRATIONS[:3])
        db = catalog.open_catalog(path)
        assert catalog.schema_version(db) == 3 and "etag" not in db["captures"].columns_dict
        db.close()
    captures_before = _dump(path, "captures")
    db = catalog.open_catalog(path)
    assert catalog.schema_version(db) == catalog.SCHEMA_VERSION
    assert [row[:-2] for row in _dump(path, "captures")] == captures_before
    old = catalog.latest_complete_capture(db, "http://127.0.0.1:9/2023.html")
    assert (old["record_id"], old["etag"], old["last_modified"]) == ("<urn:uuid:a>", None, None)
    # a newer complete capture of the URL records its validators and becomes what a 304 stands for
    catalog.record_capture(db, {
        "crawl_id": 1, "url": "http://127.0.0.1:9/2023.html", "timestamp": "2024-04-01T00:00:00Z",
        "warc_type": "response", "record_id": "<urn:uuid:b>", "status": 200, "sha256": "bb",
        "warc_file": "crawl-00001.warc.gz", "offset": 0, "length": 99, "etag": '"v2"',
        "last_modified": "Mon, 03 Mar 2025 08:00:00 GMT",
    })
    # neither a later 304 nor a truncated capture replaces it
    for record_id, status, truncated in (("<urn:uuid:c>", 304, None), ("<urn:uuid:d>", 200, "length")):
        catalog.record_capture(db, {
            "crawl_id": 1, "url": "http://127.0.0.1:9/2023.html", "timestamp": "2024-05-01T00:00:00Z",
            "warc_type": "revisit" if status == 304 else "response", "record_id": record_id, "status": status,
            "warc_file": "crawl-00002.warc.gz", "offset": 0, "length": 9, "truncated": truncated,
        })
    latest = catalog.latest_complete_capture(db, "http://127.0.0.1:9/2023.html")
    assert (latest["record_id"], latest["etag"], latest["last_modified"]) == (
        "<urn:uuid:b>", '"v2"', "Mon, 03 Mar 2025 08:00:00 GMT")
    assert catalog.latest_complete_capture(db, "http://127.0.0.1:9/other.html") is None
    db.close()
