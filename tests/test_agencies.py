"""Agencies: name variants merged into one body, reports credited to the body that titles them,
unknown coverage behind blocked portals, user pins in agency_aliases.csv, late publication."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

import catalog
from archive.stage import check_carry_link
from catalog.agencies import expand_body, identify, load_aliases, locate, rebuild_agencies, region_of_code
from catalog.deadlines import LATE_RULE, days_late, deadline

PORTALS = [
    {"id": "qk", "agency": "硚口区卫健局", "url": "http://127.0.0.1:9/qk", "region": "420104", "level": "县"},
    {"id": "hrb", "agency": "哈尔滨市卫生健康委员会", "url": "http://127.0.0.1:9/hrb", "region": "230100",
     "level": "市"},
    {"id": "sh", "agency": "绥化市人民政府办公室", "url": "http://127.0.0.1:9/sh", "region": "231200", "level": "市"},
]


def _report(db, portal: str, title: str, year: int, published: str, cells: dict | None = None,
            agency: str | None = None) -> int:
    sha = hashlib.sha256(f"{portal}{title}{published}".encode()).hexdigest()
    doc = catalog.record_document(db, {"portal_id": portal, "url": f"http://127.0.0.1:9/{portal}/{sha[:8]}.html",
                                       "kind": "report_page", "sha256": sha, "title": title, "year": year,
                                       "published": published})
    return catalog.record_report(db, doc, {"title": title, "year": year, "published": published,
                                           "agency": agency, "cells": cells or {}, "format_version": "2019"}, "1")


@pytest.fixture
def db(tmp_path):
    db = catalog.open_catalog(tmp_path / "catalog.db")
    catalog.load_portals(db, PORTALS)
    crawl = catalog.record_crawl_start(db, "portals.csv", {})
    for portal in ("qk", "hrb"):
        catalog.record_portal_diagnosis(db, {"crawl_id": crawl, "portal_id": portal, "status": "ok"})
    catalog.record_portal_diagnosis(db, {"crawl_id": crawl, "portal_id": "sh", "status": "blocked",
                                         "reason": "412 challenge"})
    yield db
    db.close()


def _agency(db, report_id: int) -> dict:
    return next(db.query("select a.* from agencies a join reports r on r.agency_id = a.id where r.id = ?",
                         [report_id]))


def test_region_names_come_from_the_region_code_package():
    assert region_of_code("230103") == catalog.agencies.Region("230103", "黑龙江省", "哈尔滨市", "南岗区")
    assert region_of_code("370687").county == "海阳市"
    assert region_of_code("999999") == catalog.agencies.Region()
    region, body = locate("朝阳区卫健委", "110000")  # 朝阳区 of Beijing, not of 长春
    assert (region.code, region.county, body) == ("110105", "朝阳区", "卫健委")
    assert locate("朝阳区卫健委", "220100")[0].code == "220104"


def test_name_variants_of_one_body_are_one_agency(db):
    short = _report(db, "qk", "硚口区卫健局2019年政府信息公开工作年度报告", 2019, "2020-01-20")
    full = _report(db, "qk", "武汉市硚口区卫生健康局2020年政府信息公开工作年度报告", 2020, "2021-01-20")
    renamed = _report(db, "qk", "硚口区卫生和计划生育局2017年政府信息公开工作年度报告", 2017, "2018-03-01")
    catalog.refresh_bodies(db)
    agency = _agency(db, short)
    assert agency["id"] == _agency(db, full)["id"] == _agency(db, renamed)["id"]
    assert agency["name"] == "武汉市硚口区卫生健康局"
    assert (agency["region"], agency["province"], agency["city"], agency["county"], agency["level"]) == (
        "420104", "湖北省", "武汉市", "硚口区", "县")
    names = {r["name"]: r["first_year"] for r in db.query(
        "select name, first_year from agency_names where agency_id = ?", [agency["id"]])}
    assert names == {"硚口区卫健局": 2019, "武汉市硚口区卫生健康局": 2020, "硚口区卫生和计划生育局": 2017}
    # The registry's own body (硚口区卫健局 on portal qk) is the same agency, not a second one.
    assert db.execute("select count(*) from agencies where region = '420104'").fetchone()[0] == 1
    assert identify("绥化市人民政府办公室").id == identify("绥化市人民政府").id


def test_carry_link_follows_the_agency_across_name_variants(db):
    first = _report(db, "qk", "硚口区卫健局2019年政府信息公开工作年度报告", 2019, "2020-01-20",
                    {"t3.carried_forward.total": 5})
    later = _report(db, "qk", "武汉市硚口区卫生健康局2020年政府信息公开工作年度报告", 2020, "2021-01-20",
                    {"t3.carried_over.total": 7})
    assert check_carry_link(db, later) == [later]
    finding = next(db.query("select detail, delta from findings where report_id = ? and rule = 't3.carry_link'",
                            [later]))
    assert finding["detail"].endswith(f"（上一年度：报告 {first}）") and abs(finding["delta"]) == 2


def test_report_on_another_bodys_portal_is_credited_to_its_own_body(db):
    district = _report(db, "hrb", "南岗区卫生健康局2022年政府信息公开工作年度报告", 2022, "2023-01-29")
    city = _report(db, "hrb", "哈尔滨市卫生健康委员会2021年政府信息公开工作年度报告", 2021, "2022-01-30")
    catalog.refresh_bodies(db)
    agency = _agency(db, district)
    assert (agency["name"], agency["region"], agency["county"]) == ("南岗区卫生健康局", "230103", "南岗区")
    assert agency["portals"] == "hrb" and agency["own_portals"] is None
    assert _agency(db, city)["name"] == "哈尔滨市卫生健康委员会"
    coverage = {(r["agency"], r["year"]): r["status"] for r in db.query("select * from coverage")}
    assert coverage[("南岗区卫生健康局", 2022)] == "published"
    assert coverage[("哈尔滨市卫生健康委员会", 2022)] == "missing"
    assert coverage[("哈尔滨市卫生健康委员会", 2021)] == "published"
    # The summary and the printed tables place the report in its body's region, not its portal's.
    summary = next(db.query("select region, level from report_summary where report_id = ?", [district]))
    assert summary == {"region": "230103", "level": "县"}
    # A body seen only through another's portal is expected from its first report on.
    assert ("南岗区卫生健康局", 2021) not in coverage


def test_blocked_portals_bodies_are_unknown_not_missing(db, tmp_path):
    _report(db, "qk", "硚口区卫健局2019年政府信息公开工作年度报告", 2019, "2020-01-20")
    _report(db, "qk", "硚口区卫健局2021年政府信息公开工作年度报告", 2021, "2022-01-20")
    catalog.refresh_bodies(db)
    rows = list(db.query("select year, status from coverage where agency = '绥化市人民政府'"))
    assert [r["year"] for r in rows] == [2019, 2020, 2021]
    assert {r["status"] for r in rows} == {"unknown"}
    qk = {r["year"]: r["status"] for r in db.query("select year, status from coverage where region = '420104'")}
    assert qk == {2019: "published", 2020: "missing", 2021: "published"}
    # Without a diagnosis, the crawl's own stats say the portal was blocked.
    other = catalog.open_catalog(tmp_path / "stats.db")
    catalog.load_portals(other, PORTALS)
    crawl = catalog.record_crawl_start(other, "portals.csv", {})
    catalog.record_crawl_end(other, crawl, {"portal/sh/blocked": 1, "portals/blocked": 1}, "finished")
    catalog.refresh_bodies(other)
    assert {r["status"] for r in other.query("select status from portal_status where portal_id = 'sh'")} == {
        "blocked"}
    assert {r["status"] for r in other.query("select status from coverage where portal_id = 'sh'")} == {"unknown"}
    other.close()


def test_aliases_csv_merges_and_splits(db, tmp_path, monkeypatch):
    office = _report(db, "sh", "绥化市人民政府办公室2020年政府信息公开工作年度报告", 2020, "2021-01-10")
    government = _report(db, "sh", "绥化市人民政府2021年政府信息公开工作年度报告", 2021, "2022-01-10")
    odd = _report(db, "hrb", "市卫生监督所2021年政府信息公开工作年度报告", 2021, "2022-01-10")
    catalog.refresh_bodies(db)
    assert _agency(db, office)["id"] == _agency(db, government)["id"]
    assert _agency(db, odd)["id"] != identify("哈尔滨市卫生健康委员会").id
    pins = Path(tmp_path) / "agency_aliases.csv"
    pins.write_text(
        "# pins\nname,action,target,notes\n"
        "绥化市人民政府办公室,split,,the office reports on its own work\n"
        "市卫生监督所,merge,哈尔滨市卫生健康委员会,a unit of the commission\n", encoding="utf-8")
    monkeypatch.setenv("NIANBAO_AGENCY_ALIASES", str(pins))
    catalog.refresh_bodies(db)
    assert _agency(db, office)["id"] != _agency(db, government)["id"]
    assert _agency(db, office)["name"] == "绥化市人民政府办公室"
    commission = identify("哈尔滨市卫生健康委员会").id
    assert _agency(db, odd)["id"] == commission
    # Pins apply to reports recorded later too, and an edited file is read again.
    later = _report(db, "sh", "绥化市人民政府办公室2022年政府信息公开工作年度报告", 2022, "2023-01-10")
    assert _agency(db, later)["id"] == _agency(db, office)["id"]
    pins.write_text("name,action,target,notes\n", encoding="utf-8")
    catalog.refresh_bodies(db)
    assert _agency(db, office)["id"] == _agency(db, government)["id"]
    pins.write_text("name,action,target\nX,swap,\n", encoding="utf-8")
    with pytest.raises(ValueError, match="merge .* or split"):
        load_aliases(pins)
    assert rebuild_agencies(db, catalog.agencies.Aliases())["reports_linked"] == 4


def test_late_reports_are_flagged_with_their_days(db):
    assert deadline(2018).isoformat() == "2019-03-31" and deadline(2019).isoformat() == "2020-01-31"
    assert days_late(2022, "2023-02-10") == 10 and days_late(2012, "2013-03-30") == -1
    late = _report(db, "qk", "硚口区卫健局2022年政府信息公开工作年度报告", 2022, "2023-02-10")
    on_time = _report(db, "qk", "硚口区卫健局2021年政府信息公开工作年度报告", 2021, "2022-01-20")
    reissue = _report(db, "qk", "硚口区卫健局2021年政府信息公开工作年度报告（更正版）", 2021, "2022-03-15")
    catalog.refresh_bodies(db)
    flagged = {r["report_id"]: r["delta"] for r in db.query(
        "select report_id, delta from findings where rule = ?", [LATE_RULE])}
    assert flagged == {late: 10.0}
    assert on_time not in flagged and reissue not in flagged
    coverage = {r["year"]: (r["status"], r["days_late"]) for r in db.query(
        "select year, status, days_late from coverage where region = '420104'")}
    assert coverage[2022] == ("late", 10) and coverage[2021] == ("published", -11)


def test_reissue_under_another_name_variant_supersedes_the_earlier_version(db, tmp_path):
    from nianbao.panel import build_panel

    first = _report(db, "qk", "硚口区卫健局2020年政府信息公开工作年度报告", 2020, "2021-01-20",
                    {"t3.new_received.total": 5}, agency="硚口区卫健局")
    reissue = _report(db, "qk", "硚口区卫生健康局2020年政府信息公开工作年度报告（更正版）", 2020, "2021-03-02",
                      {"t3.new_received.total": 6}, agency="硚口区卫生健康局")
    printed = {r["id"]: r["agency"] for r in db.query("select id, agency from reports")}
    assert printed == {first: "硚口区卫健局", reissue: "硚口区卫生健康局"}  # two printed names, one body

    def current() -> dict[int, int]:
        return {r["id"]: r["is_current"] for r in db.query("select id, is_current from reports")}

    assert current() == {first: 0, reissue: 1}  # as soon as the re-issue is recorded
    catalog.refresh_bodies(db)
    assert current() == {first: 0, reissue: 1}  # and after the agencies are rebuilt
    _, rows, _ = build_panel(db, years=[2020], patterns=["t3.new_received.total"])
    assert [(r["agency"], r["year"], r["report_id"], r["t3.new_received.total"]) for r in rows
            if r["region"] == "420104"] == [("硚口区卫生健康局", 2020, reissue, 6)]
    assert [r["report_id"] for r in db.query("select report_id from report_summary")] == [reissue]
    # The earlier version stays in the catalog, superseded; the first publication date decides lateness.
    assert db["reports"].get(first)["agency_id"] == db["reports"].get(reissue)["agency_id"]
    assert next(db.query("select published, status from coverage where year = 2020 and region = '420104'")) == {
        "published": "2021-01-20", "status": "published"}
    # The report page of the earlier version says it was superseded, and by which.
    import asyncio

    from nianbao.serve import build_datasette

    ds = build_datasette(tmp_path)
    page = asyncio.run(ds.client.get(f"/report/{first}")).text
    assert re.search(rf'此为已被替代的版本。现行版本：<a class="current-version" href="/report/{reissue}">', page)
    assert "此为已被替代的版本" not in asyncio.run(ds.client.get(f"/report/{reissue}")).text
    # A pin that parts the two names makes each its own body's current report again.
    pins = Path(tmp_path) / "agency_aliases.csv"
    pins.write_text("name,action,target\n硚口区卫健局,split,\n", encoding="utf-8")
    catalog.rebuild_agencies(db, load_aliases(pins))
    assert current() == {first: 1, reissue: 1}
    catalog.rebuild_agencies(db, catalog.agencies.Aliases())
    assert current() == {first: 0, reissue: 1}


def test_migration_recomputes_current_versions_by_agency(tmp_path):
    path = tmp_path / "catalog.db"
    db = catalog.open_catalog(path)
    catalog.load_portals(db, PORTALS)
    first = _report(db, "qk", "硚口区卫健局2020年政府信息公开工作年度报告", 2020, "2021-01-20", agency="硚口区卫健局")
    reissue = _report(db, "qk", "硚口区卫生健康局2020年政府信息公开工作年度报告", 2020, "2021-03-02",
                      agency="硚口区卫生健康局")
    # A catalog written before versions were grouped by agency: both current, one migration behind.
    db.execute("update reports set is_current = 1")
    db.execute("delete from schema_version where version = ?", [catalog.SCHEMA_VERSION])
    db.conn.commit()
    db.close()
    db = catalog.open_catalog(path)
    assert {r["id"]: r["is_current"] for r in db.query("select id, is_current from reports")} == {
        first: 0, reissue: 1}
    db.close()


def test_expand_body_writes_out_short_forms():
    assert expand_body("鹤岗市卫健委") == "鹤岗市卫生健康委员会"
    assert expand_body("某市卫生健康委") == "某市卫生健康委员会"
    assert expand_body("某市卫生健康委员会") == "某市卫生健康委员会"
    assert expand_body("某区发改委") == "某区发展和改革委员会"


def test_sample_report_published_after_the_deadline_is_late(refreshed, sample_truth):
    import sqlite3

    late = next(t for t in sample_truth if "publish.late" in t["failing_rules"])
    db = sqlite3.connect(refreshed["data"] / "catalog.db")
    rows = db.execute(
        "select r.published, f.delta, f.detail from findings f join reports r on r.id = f.report_id "
        "where f.rule = 'publish.late'").fetchall()
    assert [(published, delta) for published, delta, _ in rows] == [(late["published"], 16.0)]
    assert rows[0][2].endswith("发布，晚于法定期限2023-01-31共16天")
    status = db.execute("select status, days_late from coverage where agency = ? and year = ?",
                        [expand_body(late["agency"]), late["year"]]).fetchone()
    assert status == ("late", 16)
    counts = dict(db.execute("select status, count(*) from coverage group by status").fetchall())
    assert set(counts) == {"published", "late", "missing", "unknown"}
    db.close()
