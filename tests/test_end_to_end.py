"""The whole system on the sample portals: crawl, archive, parse, catalog — against the ground truth."""

from __future__ import annotations

import sqlite3

import pytest

from nianbao.sample_portals.truth import absolute_url


@pytest.fixture(scope="module")
def catalog(refreshed: dict) -> sqlite3.Connection:
    assert refreshed["exit"] == 0, refreshed["stderr"][-3000:]
    db = sqlite3.connect(refreshed["data"] / "catalog.db")
    db.row_factory = sqlite3.Row
    return db


def _report_for(db: sqlite3.Connection, urls: list[str]) -> list[sqlite3.Row]:
    marks = ",".join("?" * len(urls))
    return db.execute(f"select * from reports where source_url in ({marks}) order by id", urls).fetchall()


def _truth_urls(record: dict, base_urls: dict) -> list[str]:
    return [absolute_url(base_urls, u["host"], u["path"]) for u in record["urls"]
            if u["role"] in ("report_page", "attachment")]


def test_refresh_summary_counts_what_it_did(refreshed: dict, sample_truth: list[dict]) -> None:
    summary = refreshed["summary"]
    expected = [t for t in sample_truth if t["expected"]]
    assert summary["crawl_exit"] == 0
    assert summary["parse"]["failed"] == 0
    assert summary["reports_total"] == summary["reports_new"] == len(expected)
    assert {(r["agency"], r["year"]) for r in summary["new_reports"]} == {(t["agency"], t["year"]) for t in expected}
    assert summary["portals_blocked"] == ["sample-blocked"]
    publishing = {t["portal_id"] for t in expected}
    assert all(stats["reports"] > 0 for pid, stats in summary["portals"].items() if pid in publishing)
    # every portal that publishes nothing is listed with its diagnosis; the run still succeeded
    assert {p["portal_id"]: p["status"] for p in summary["portals_failing"]} == {
        "sample-blocked": "blocked", "sample-nocolumn": "no_column"}


def test_every_expected_report_is_in_the_catalog_with_its_truth(
        catalog: sqlite3.Connection, sample_truth: list[dict], sample_portals) -> None:
    wrong: list[str] = []
    for record in sample_truth:
        rows = _report_for(catalog, _truth_urls(record, sample_portals.base_urls))
        if not record["expected"]:
            assert rows == [], f"{record['id']} should not have been fetched"
            continue
        assert rows, f"{record['id']} ({record['title']}) is not in the catalog"
        report = rows[-1]
        assert (report["agency"], report["year"], report["format_version"]) == (
            record["agency"], record["year"], record["format_version"]), record["id"]
        cells = {k: v for k, v in catalog.execute(
            "select key, value from cells where report_id = ?", (report["id"],))}
        for key, value in record["cells"].items():
            if cells.get(key) != value:
                wrong.append(f"{record['id']} {key}: {cells.get(key)!r} != {value!r}")
        rules = {r for (r,) in catalog.execute(
            "select distinct rule from findings where report_id = ?", (report["id"],))}
        if rules != set(record["failing_rules"]):
            wrong.append(f"{record['id']} findings {sorted(rules)} != {sorted(record['failing_rules'])}")
    assert not wrong, "\n".join(wrong[:20])


def test_a_corrected_reissue_keeps_both_versions_newest_current(catalog: sqlite3.Connection) -> None:
    rows = catalog.execute(
        "select agency, year, count(*) n, sum(is_current) cur from reports where format_version != 'pre2019' "
        "group by agency, year having n > 1").fetchall()
    assert rows, "the sample portals publish a corrected re-issue (更正版); both versions must be kept"
    for row in rows:
        assert row["cur"] == 1, dict(row)
        newest = catalog.execute(
            "select title, is_current from reports where agency = ? and year = ? order by published desc, id desc",
            (row["agency"], row["year"])).fetchone()
        assert newest["is_current"] == 1


def test_no_report_is_made_of_a_non_report_item(catalog: sqlite3.Connection) -> None:
    titles = [t for (t,) in catalog.execute("select title from reports")]
    for word in ("企业年报", "统计年报", "指南", "目录", "通知"):
        assert not [t for t in titles if t and word in t], word


def test_warc_files_are_closed_and_indexed(refreshed: dict) -> None:
    data = refreshed["data"]
    closed = list((data / "warc").glob("*.warc.gz"))
    assert closed and not list((data / "warc").glob("*.open"))
    assert list((data / "indexes").glob("*.cdxj"))
