"""The catalog: schema, record_* API, report versions, printed-table views, search and coverage."""

from __future__ import annotations

import sqlite3

import pytest
from catalog_builders import CAPTURED_AT, PORTAL, archive_seeds, build_truth_catalog, load_seeds, truth_report

import catalog
from catalog.agencies import expand_body


@pytest.fixture(scope="module")
def truth_catalog(tmp_path_factory):
    """A catalog with the five seeds archived and recorded from their truth."""
    data_dir = tmp_path_factory.mktemp("truth-catalog")
    seeds = build_truth_catalog(data_dir)
    db = catalog.open_catalog(data_dir / "catalog.db")
    yield db, seeds
    db.close()


def _report_id(db, agency: str) -> int:
    return db.execute("select id from reports where agency = ? and is_current = 1", [agency]).fetchone()[0]


def test_open_catalog_creates_schema_in_wal_mode_with_foreign_keys(tmp_path):
    db = catalog.open_catalog(tmp_path / "catalog.db")
    tables = set(db.table_names())
    assert {"portals", "crawls", "captures", "documents", "document_urls", "reports", "cells", "cell_keys",
            "findings", "parse_failures", "reports_search", "schema_version"} <= tables
    assert {"table2", "table3", "table4", "report_summary", "coverage"} <= set(db.view_names())
    assert catalog.schema_version(db) == catalog.SCHEMA_VERSION
    assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert db.execute("pragma foreign_keys").fetchone()[0] == 1
    assert {fk.other_table for fk in db["cells"].foreign_keys} == {"reports", "cell_keys"}
    db.close()
    # Reopening applies nothing twice.
    db = catalog.open_catalog(tmp_path / "catalog.db")
    assert db.execute("select count(*) from schema_version").fetchone()[0] == catalog.SCHEMA_VERSION
    db.close()


def test_crawl_capture_and_document_records(tmp_path):
    db = catalog.open_catalog(tmp_path / "catalog.db")
    catalog.load_portals(db, [{**PORTAL, "allow_private": "true"}])
    crawl_id = catalog.record_crawl_start(db, "portals.csv", {"DOWNLOAD_DELAY": 1})
    capture = {"crawl_id": crawl_id, "url": "http://127.0.0.1:9/a.pdf", "timestamp": CAPTURED_AT,
               "warc_type": "response", "record_id": "<urn:uuid:1>", "status": 200, "sha256": "ab" * 32,
               "warc_file": "x.warc.gz", "offset": 0, "length": 99, "portal_id": "seeds"}
    first = catalog.record_capture(db, capture)
    assert catalog.record_capture(db, capture) == first
    revisit = catalog.record_capture(db, {**capture, "record_id": "<urn:uuid:2>", "warc_type": "revisit",
                                          "revisit_of": "<urn:uuid:1>", "timestamp": "2024-04-01T00:00:00Z"})
    assert revisit != first
    item = {"portal_id": "seeds", "url": "http://127.0.0.1:9/a.pdf", "kind": "attachment", "title": "2023年报",
            "year": 2023, "sha256": "ab" * 32, "fetched_at": "2024-03-01T00:00:00Z"}
    doc = catalog.record_document(db, item)
    same = catalog.record_document(db, {**item, "url": "http://127.0.0.1:9/mirror/a.pdf", "title": None,
                                        "fetched_at": "2024-05-01T00:00:00Z"})
    assert same == doc
    row = db["documents"].get(doc)
    assert (row["title"], row["year"], row["first_seen"], row["last_seen"]) == (
        "2023年报", 2023, "2024-03-01T00:00:00Z", "2024-05-01T00:00:00Z")
    urls = sorted(r["url"] for r in db["document_urls"].rows_where("document_id = ?", [doc]))
    assert urls == ["http://127.0.0.1:9/a.pdf", "http://127.0.0.1:9/mirror/a.pdf"]
    catalog.record_crawl_end(db, crawl_id, {"item_scraped_count": 1}, "finished")
    crawl = db["crawls"].get(crawl_id)
    assert crawl["status"] == "finished" and '"item_scraped_count": 1' in crawl["stats"]
    assert db["portals"].get("seeds")["allow_private"] == 1
    with pytest.raises(catalog.CatalogError, match="without sha256"):
        catalog.record_document(db, {"url": "http://127.0.0.1:9/b.pdf"})
    db.close()


def test_cells_findings_and_views_hold_the_truth(truth_catalog):
    db, seeds = truth_catalog
    for seed in seeds:
        truth = seed.truth
        report_id = _report_id(db, truth["agency"])
        assert catalog.report_cells(db, report_id) == truth["cells"]
        rules = sorted(r[0] for r in db.execute("select rule from findings where report_id = ?", [report_id]))
        assert rules == sorted(truth["failing_rules"])
        row = db.execute("select * from table3 where report_id = ? and row_key = 'new_received'",
                         [report_id]).fetchone()
        cols = [d[0] for d in db.execute("select * from table3 limit 0").description]
        printed = dict(zip(cols, row, strict=True))
        for column in catalog.T3_COLUMNS:
            assert printed[column] == truth["cells"][f"t3.new_received.{column}"]
        summary = next(db.query("select * from report_summary where report_id = ?", [report_id]))
        assert summary["new_requests"] == truth["cells"]["t3.new_received.total"]
        assert summary["total_processed"] == truth["cells"]["t3.total_processed.total"]
        assert summary["findings_count"] == len(truth["failing_rules"])
        lawsuits = sum(truth["cells"].get(f"t4.{g}.total") or 0
                       for g in ("litigation_direct", "litigation_after_review"))
        assert summary["lawsuits"] == lawsuits
    # A printed blank stays null; it never becomes 0.
    blanks = [(s, k) for s in seeds for k, v in s.truth["cells"].items() if v is None]
    for seed, key in blanks:
        value = db.execute("select value from cells where report_id = ? and key = ?",
                           [_report_id(db, seed.truth["agency"]), key]).fetchone()
        assert value == (None,)


def test_cell_keys_carry_template_labels(truth_catalog):
    db, _ = truth_catalog
    row = db["cell_keys"].get("t3.new_received.natural_person")
    assert (row["table_no"], row["row_key"], row["column_key"]) == ("t3", "new_received", "natural_person")
    assert "本年新收" in row["row_label"] and row["column_label"] == "自然人"
    assert db["cell_keys"].get("t2.fees.amount")["unit"] == "万元"


def test_search_finds_long_and_short_phrases(truth_catalog):
    db, seeds = truth_catalog
    texts = {s.truth["agency"]: s.data.decode("utf-8") + s.truth["agency"] for s in seeds}
    # A phrase of one seed's own text finds that report and only it.
    target = seeds[1]
    phrase = next(line for line in target.data.decode("utf-8").splitlines() if len(line) > 30)[8:20]
    expected = {a for a, t in texts.items() if phrase in t}
    assert target.truth["agency"] in expected
    assert {r["agency"] for r in catalog.search_reports(db, phrase)} == expected
    # Two-character queries cannot match a trigram index; the fallback must still find them.
    for short in ("复议", "公开", "报告", "鹤岗"):
        want = {a for a, t in texts.items() if short in t}
        assert want, short
        assert {r["agency"] for r in catalog.search_reports(db, short)} == want, short
    assert catalog.search_reports(db, "不存在的短语甲乙丙") == []


def _two_versions(tmp_path, second_cells: dict | None = None, published: str = "2024-06-01"):
    """One seed's report, then a re-issue of it (another document, same body and year): db, seed,
    the seed's document id and both report ids."""
    seed = load_seeds()[:1][0]
    doc_ids = archive_seeds(tmp_path, [seed])
    db = catalog.open_catalog(tmp_path / "catalog.db")
    first = catalog.record_report(db, doc_ids[seed.name], truth_report(seed), "1")
    reissue = truth_report(seed)
    reissue["cells"] = {**reissue["cells"], **(second_cells or {})}
    doc2 = catalog.record_document(db, {"portal_id": "seeds", "url": seed.url + "?v=2", "kind": "attachment",
                                        "sha256": "cd" * 32, "year": seed.truth["year"],
                                        "published": published, "fetched_at": published + "T12:00:00Z"})
    second = catalog.record_report(db, doc2, reissue, "1")
    return db, seed, doc_ids[seed.name], first, second


def test_corrected_reissue_keeps_every_version(tmp_path):
    db, seed, doc_id, first, second = _two_versions(tmp_path, {"t3.new_received.natural_person": 99})
    rows = {r["id"]: r["is_current"] for r in db.query("select id, is_current from reports")}
    assert rows == {first: 0, second: 1}
    assert catalog.report_cells(db, first)["t3.new_received.natural_person"] == \
        seed.truth["cells"]["t3.new_received.natural_person"]
    assert catalog.report_cells(db, second)["t3.new_received.natural_person"] == 99
    summaries = list(db.query("select report_id from report_summary"))
    assert summaries == [{"report_id": second}]
    # A newer parser version of the older document does not make the older document current.
    third = catalog.record_report(db, doc_id, truth_report(seed), "2")
    assert db["reports"].get(third)["is_current"] == 0 and db["reports"].get(second)["is_current"] == 1
    db.close()


def test_versions_without_an_agency_are_grouped_by_printed_name(tmp_path):
    db, _, _, first, second = _two_versions(tmp_path, published="2031-06-01")
    # No agency resolved (as in a catalog before agencies): the printed name groups the versions.
    db.execute("update reports set agency_id = null, is_current = 1")
    assert sorted(catalog.recompute_current(db)) == [first]
    assert {r["id"]: r["is_current"] for r in db.query("select id, is_current from reports")} == {
        first: 0, second: 1}
    db.execute("update reports set agency = 'another body' where id = ?", [first])
    assert catalog.recompute_current(db) == [first]  # two bodies now: each its own current report
    db.close()


def test_documents_to_parse_and_parse_failures(tmp_path):
    seeds = load_seeds()[:3]
    doc_ids = archive_seeds(tmp_path, seeds)
    db = catalog.open_catalog(tmp_path / "catalog.db")
    todo = catalog.documents_to_parse(db, "7")
    assert [d["id"] for d in todo] == list(doc_ids.values())
    assert all(d["warc_file"] == "seeds-00000.warc.gz" and d["offset"] is not None for d in todo)
    catalog.record_parse_failure(db, doc_ids[seeds[0].name], "7", "ValueError: no table")
    catalog.record_parse_failure(db, doc_ids[seeds[0].name], "7", "ValueError: still no table")
    catalog.record_report(db, doc_ids[seeds[1].name], truth_report(seeds[1]), "7")
    assert [d["id"] for d in catalog.documents_to_parse(db, "7")] == [doc_ids[seeds[2].name]]
    assert len(catalog.documents_to_parse(db, "8")) == 3
    reasons = [r["reason"] for r in db["parse_failures"].rows]
    assert reasons == ["ValueError: still no table"]
    with pytest.raises(catalog.CatalogError, match="no document 999"):
        catalog.record_report(db, 999, truth_report(seeds[0]), "7")
    db.close()


def test_coverage_marks_missing_years(truth_catalog):
    db, seeds = truth_catalog
    catalog.load_portals(db, [{"id": "silent", "agency": "某县人民政府", "url": "http://127.0.0.1:9/silent"}])
    crawl = catalog.record_crawl_start(db, "portals.csv", {})
    catalog.record_portal_diagnosis(db, {"crawl_id": crawl, "portal_id": "silent", "status": "empty_column"})
    catalog.refresh_bodies(db)
    years = sorted({s.truth["year"] for s in seeds})
    rows = list(db.query("select portal_id, agency, year, status from coverage order by portal_id, year"))
    silent = [(r["year"], r["status"]) for r in rows if r["portal_id"] == "silent"]
    assert silent == [(y, "missing") for y in range(years[0], years[-1] + 1)]
    published = {(r["agency"], r["year"]) for r in rows if r["status"] in ("published", "late")}
    assert published == {(expand_body(s.truth["agency"]), s.truth["year"]) for s in seeds}


def test_foreign_keys_are_enforced(truth_catalog):
    db, _ = truth_catalog
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("insert into cells (report_id, key, value) values (424242, 't3.new_received.total', 1)")


def test_re_recording_a_report_replaces_its_search_text(tmp_path):
    seeds = load_seeds()[:1]
    doc_ids = archive_seeds(tmp_path, seeds)
    db = catalog.open_catalog(tmp_path / "catalog.db")
    report = truth_report(seeds[0])
    report["sections"] = {"overview": "甲乙丙丁戊己庚辛", "reviews": "被申请行政复议"}
    first = catalog.record_report(db, doc_ids[seeds[0].name], report, "1")
    assert [r["id"] for r in catalog.search_reports(db, "丙丁戊")] == [first]
    assert [r["id"] for r in catalog.search_reports(db, "复议")] == [first]
    report["sections"] = {"overview": "子丑寅卯"}
    again = catalog.record_report(db, doc_ids[seeds[0].name], report, "1")
    assert again == first
    for gone in ("丙丁戊", "复议", "丙"):
        assert catalog.search_reports(db, gone) == [], gone
    assert [r["id"] for r in catalog.search_reports(db, "丑寅")] == [first]
    assert [r["id"] for r in catalog.search_reports(db, "卯")] == [first]
    assert db.execute("select count(*) from reports").fetchone()[0] == 1
    # The grams index stays consistent with its content (FTS5 integrity check).
    db.execute("insert into reports_grams (reports_grams, rank) values ('integrity-check', 0)")
    db.execute("insert into reports_search (reports_search) values ('integrity-check')")
    db.close()


def test_a_reparse_that_reads_another_agency_leaves_no_stale_current_twin(tmp_path):
    seeds = load_seeds()[:1]
    doc_ids = archive_seeds(tmp_path, seeds)
    db = catalog.open_catalog(tmp_path / "catalog.db")
    misread = truth_report(seeds[0])
    misread["agency"] = "误读机关"
    old = catalog.record_report(db, doc_ids[seeds[0].name], misread, "1")
    new = catalog.record_report(db, doc_ids[seeds[0].name], truth_report(seeds[0]), "2")
    assert {r["id"]: r["is_current"] for r in db.query("select id, is_current from reports")} == {old: 0, new: 1}
    assert [r["agency"] for r in db.query("select agency from report_summary")] == [seeds[0].truth["agency"]]
    db.close()
