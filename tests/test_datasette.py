"""Datasette over the catalog: search (long and short phrases), printed tables, canned queries, links,
read-only mutable serving — through Datasette's own client and in a real browser against `nianbao serve`.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from catalog_builders import CAPTURED_AT, build_truth_catalog, load_seeds, truth_report
from loopback_server import wait_for_port

import catalog
from catalog.agencies import expand_body
from nianbao.datasette.labels import FORMAT_NAMES, RULE_NAMES, STATUS_NAMES
from nianbao.serve import build_datasette, build_metadata

CONSISTENCY_RULES = {"t3.balance", "t3.outcomes_sum", "t3.row_total", "t4.group_total"}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A truth-populated catalog and a Datasette instance over it."""
    data_dir = tmp_path_factory.mktemp("served")
    seeds = build_truth_catalog(data_dir)
    return data_dir, seeds, build_datasette(data_dir)


def get(ds, path: str):
    async def fetch():
        return await ds.client.get(path)

    return asyncio.run(fetch())


def get_json(ds, path: str):
    response = get(ds, path)
    assert response.status_code == 200, (path, response.text[:500])
    return response.json()


def _phrase(seed, length: int = 10) -> str:
    line = next(ln for ln in seed.data.decode("utf-8").splitlines() if len(ln.strip()) > 40)
    return line.strip()[12:12 + length]


def _contains(seeds, text: str) -> set[str]:
    return {s.truth["agency"] for s in seeds if text in s.data.decode("utf-8") + s.truth["agency"]}


def test_search_box_finds_long_and_short_phrases(served):
    _, seeds, ds = served
    for seed in seeds:
        phrase = _phrase(seed)
        rows = get_json(ds, f"/catalog/reports.json?_search={phrase}&_shape=array&_col=agency")
        assert {r["agency"] for r in rows} == _contains(seeds, phrase)
        assert seed.truth["agency"] in {r["agency"] for r in rows}
    for short in ("复议", "报告", "公开"):
        rows = get_json(ds, f"/catalog/reports.json?_search={short}&_shape=array&_col=agency")
        assert {r["agency"] for r in rows} == _contains(seeds, short) != set()
        canned = get_json(ds, f"/catalog/search.json?q={short}&_shape=array")
        assert {r["agency"] for r in canned} == _contains(seeds, short)
    page = get(ds, "/catalog/reports?_search=复议")
    assert page.status_code == 200
    assert 'id="_search"' in page.text and 'value="复议"' in page.text


def test_failing_consistency_query_lists_exactly_the_failing_reports(served):
    _, seeds, ds = served
    rows = get_json(ds, "/catalog/failing_consistency.json?_shape=array")
    expected = {s.truth["agency"]: set(s.truth["failing_rules"]) & CONSISTENCY_RULES for s in seeds}
    assert {r["agency"]: set(r["rules"].split(",")) for r in rows} == {a: r for a, r in expected.items() if r}


def test_table3_view_reads_like_the_printed_table(served):
    _, seeds, ds = served
    for seed in seeds:
        rows = get_json(ds, f"/catalog/table3.json?agency={seed.truth['agency']}&_shape=array&_size=100")
        assert rows
        for row in rows:
            for column in catalog.T3_COLUMNS:
                assert row[column] == seed.truth["cells"][f"t3.{row['row_key']}.{column}"]
        t3_rows = {k.split(".")[1] if k.count(".") == 2 else ".".join(k.split(".")[1:3])
                   for k in seed.truth["cells"] if k.startswith("t3.")}
        assert {r["row_key"] for r in rows} == t3_rows


def test_every_canned_query_answers(served):
    _, _, ds = served
    queries = build_metadata()["databases"]["catalog"]["queries"]
    assert {"search", "failing_consistency", "broken_carry_over", "requests_year_over_year",
            "most_litigated", "most_corrected", "missing_reports", "requests_by_year"} <= set(queries)
    for name, query in queries.items():
        assert not query.get("write"), name
        params = "&".join(f"{p}=" for p in query.get("params", []))
        get_json(ds, f"/catalog/{name}.json?{params}&_shape=array")
    by_year = get_json(ds, "/catalog/requests_by_year.json?_shape=array")
    assert sum(r["reports"] for r in by_year) == 5
    litigated = get_json(ds, "/catalog/most_litigated.json?_shape=array")
    assert litigated == sorted(litigated, key=lambda r: -r["lawsuits"]) and litigated[0]["lawsuits"] > 0


def test_report_page_links_original_and_archived_copy(served):
    _, seeds, ds = served
    page = get(ds, "/catalog/reports/1")
    assert page.status_code == 200
    digits = re.sub(r"\D", "", CAPTURED_AT)
    assert f'href="http://127.0.0.1:8080/nianbao/{digits}/{seeds[0].url}"' in page.text
    assert f'href="{seeds[0].url}"' in page.text


def test_cells_show_template_labels_and_units(served):
    _, _, ds = served
    page = get(ds, "/catalog/cells?report_id=1&key=t3.new_received.total")
    assert page.status_code == 200 and "一、本年新收政府信息公开申请数量" in page.text
    amounts = get(ds, "/catalog/table2?row_key=fees")
    assert amounts.status_code == 200 and "万元" in amounts.text


def _facet(html: str, column: str) -> str:
    """The HTML of one facet block of a table page."""
    found = re.search(rf'<div class="facet-info[^"]*" id="facet-{column}" data-column="{column}">(.*?)</ul>', html, re.S)
    assert found, f"no {column} facet"
    return found[1]


def _facet_items(block: str) -> dict[str, str]:
    """Stored code (the title) → the label shown, for every value of a facet block."""
    return dict(re.findall(r'title="([^"]*)">([^<]*)</(?:a|span)>', block))


def test_facets_cells_and_filters_show_chinese_labels_json_keeps_codes(served):
    data_dir, _, ds = served
    db = sqlite3.connect(data_dir / "catalog.db")
    rules = {r for (r,) in db.execute("select distinct rule from findings")}
    statuses = {s for (s,) in db.execute("select distinct status from coverage")}
    versions = {v for (v,) in db.execute("select distinct format_version from reports")}
    db.close()
    assert rules and statuses and versions
    findings = get(ds, "/catalog/findings").text
    block = _facet(findings, "rule")
    assert ">勾稽规则" in block  # the facet's heading
    assert _facet_items(block) == {rule: RULE_NAMES[rule] for rule in rules}
    cells = re.findall(r'<td class="col-rule[^"]*"><span[^>]*title="([^"]+)">([^<]+)</span>', findings)
    assert cells and all(RULE_NAMES[code] == label for code, label in cells)
    coverage = get(ds, "/catalog/coverage").text
    assert _facet_items(_facet(coverage, "status")) == {s: STATUS_NAMES[s] for s in statuses}
    status = sorted(statuses)[0]
    filtered = get(ds, f"/catalog/coverage?status={status}").text
    assert f"发布情况 = {STATUS_NAMES[status]}" in filtered  # the filter, in Chinese
    assert re.search(rf'<span title="{status}">{STATUS_NAMES[status]}</span> &middot;', filtered)  # selected facet
    reports = get(ds, "/catalog/reports?_facet=is_current").text
    assert _facet_items(_facet(reports, "format_version")) == {v: FORMAT_NAMES[v] for v in versions}
    assert _facet_items(_facet(reports, "is_current")) == {"1": "现行版本"}
    printed = get(ds, "/catalog/cells?report_id=1").text
    assert '<span class="coded provenance-printed" title="printed">原文印出</span>' in printed
    # SQL, JSON and exports keep the stable codes.
    as_json = get_json(ds, "/catalog/findings.json?_facet=rule&_shape=objects")
    assert {r["rule"] for r in as_json["rows"]} == rules
    assert {v["value"] for v in as_json["facet_results"]["rule"]["results"]} == rules
    assert {r["status"] for r in get_json(ds, "/catalog/coverage.json?_shape=array&_size=max")} == statuses


def test_canned_query_pages_have_chinese_headings_and_labels(served):
    _, seeds, ds = served
    page = get(ds, "/catalog/failing_consistency").text
    headings = dict(re.findall(r'<th class="col-[^"]*" scope="col" title="([^"]+)">([^<]+)</th>', page))
    assert headings["agency"] == "报告机关" and headings["rules"] == "不符的勾稽规则"
    assert headings["is_current"] == "现行版本" and headings["year"] == "年度"
    failing = {r for s in seeds for r in s.truth["failing_rules"] if r in CONSISTENCY_RULES}
    shown = re.findall(r'<td class="col-rules"><span[^>]*title="([^"]+)">([^<]+)</span>', page)
    assert {name for _, names in shown for name in names.split("、")} == {RULE_NAMES[r] for r in failing}
    assert {code for codes, _ in shown for code in codes.split(",")} == failing  # the codes, in the title
    csv_text = get(ds, "/catalog/failing_consistency.csv").text
    assert csv_text.splitlines()[0].startswith("report_id,agency,year")  # CSV keeps the SQL's names


def test_canned_search_links_every_hit_to_its_report_page(served):
    _, _, ds = served
    for phrase in ("复议", "政府信息公开"):
        hits = get_json(ds, f"/catalog/search.json?q={phrase}&_shape=array")
        assert hits
        page = get(ds, f"/catalog/search?q={phrase}").text
        linked = {int(i) for i in re.findall(r'<a class="report-link" href="/report/(\d+)">', page)}
        assert linked == {h["report_id"] for h in hits}
        for report_id in linked:
            assert get(ds, f"/report/{report_id}").status_code == 200


def test_serving_is_read_only_mutable_and_time_limited(served):
    data_dir, seeds, ds = served
    databases = get_json(ds, "/-/databases.json")
    assert [d["is_mutable"] for d in databases if d["name"] == "catalog"] == [True]
    assert get_json(ds, "/-/settings.json")["sql_time_limit_ms"] > 0
    assert "datasette-vega" in {p["name"] for p in get_json(ds, "/-/plugins.json")}
    refused = get(ds, "/catalog.json?sql=delete+from+reports")
    assert refused.status_code == 400
    # A write by the parser stage shows up without restarting the server.
    before = get_json(ds, "/catalog/reports.json?_shape=array&_col=id&_size=max")
    db = catalog.open_catalog(data_dir / "catalog.db")
    seed = seeds[0]
    doc = catalog.record_document(db, {"portal_id": "seeds", "url": seed.url + "?reissue", "kind": "attachment",
                                       "sha256": "ef" * 32, "year": seed.truth["year"], "published": "2030-01-01"})
    new_id = catalog.record_report(db, doc, truth_report(seed), "truth")
    db.close()
    after = get_json(ds, "/catalog/reports.json?_shape=array&_col=id&_size=max")
    assert len(after) == len(before) + 1 and new_id in {r["id"] for r in after}


# --------------------------------------------------------------------------- browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def nianbao_serve(refreshed):
    """`nianbao serve` in its own process over the sample-portal catalog; yields (base URL, data dir, truths)."""
    from nianbao.sample_portals.truth import load_truth

    assert refreshed["exit"] == 0, refreshed["stderr"][-3000:]
    data_dir = refreshed["data"]
    truths = [t for t in load_truth() if t.get("expected", True)]
    port = _free_port()
    cli = Path(sys.executable).with_name("nianbao")
    proc = subprocess.Popen([str(cli), "serve", "--data", str(data_dir), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line == f"http://127.0.0.1:{port}/catalog", line
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}", data_dir, truths
    finally:
        proc.terminate()
        proc.wait(10)


def _search_target(data_dir: Path, truths: list[dict]) -> tuple[dict, int, str, set[tuple[str, int]]]:
    """A truth report present in the catalog with table 3 cells and text, the report id, a phrase of
    its text and every current report (agency, year) whose text contains that phrase."""
    db = catalog.open_catalog(data_dir / "catalog.db")
    try:
        reports = list(db.query("select r.id, r.agency, r.year, s.title || ' ' || s.agency || ' ' || s.sections as text "
                                "from reports r join reports_search s on s.rowid = r.id where r.is_current = 1"))
        by_key = {(r["agency"], r["year"]): r for r in reports}
        for truth in truths:
            report = by_key.get((truth["agency"], truth["year"]))
            if not report or "t3.new_received.total" not in truth["cells"]:
                continue
            lines = [ln.strip() for ln in report["text"].splitlines() if len(ln.strip()) > 30]
            if lines:
                phrase = lines[len(lines) // 2][10:22]
                matches = {(r["agency"], r["year"]) for r in reports if phrase in r["text"]}
                return truth, report["id"], phrase, matches
    finally:
        db.close()
    raise AssertionError("no report of the ground truth with table 3 and text is in the catalog")


def test_browser_search_table3_and_failing_query(nianbao_serve):
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists("/usr/bin/chromium"):
        pytest.skip("Debian chromium is not installed")
    base, data_dir, truths = nianbao_serve
    target, report_id, phrase, matches = _search_target(data_dir, truths)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page()
            # Search box: type a phrase of the report's own text.
            page.goto(f"{base}/catalog/reports?_size=max")
            page.fill("#_search", phrase)
            page.press("#_search", "Enter")
            page.wait_for_url(re.compile(r"_search="))
            found = page.eval_on_selector_all(
                "table.rows-and-columns tbody tr",
                "trs => trs.map(tr => [tr.querySelector('td.col-id').innerText.trim(),"
                " tr.querySelector('td.col-agency').innerText.trim(),"
                " tr.querySelector('td.col-year').innerText.trim()])",
            )
            assert str(report_id) in [f[0] for f in found]
            assert {(f[1], int(f[2])) for f in found} == matches
            # Its table 3, row by row, against the ground truth.
            page.goto(f"{base}/catalog/table3?report_id={report_id}&_size=100")
            rows = page.eval_on_selector_all(
                "table.rows-and-columns tbody tr",
                "trs => trs.map(tr => Object.fromEntries([...tr.querySelectorAll('td')].map("
                "td => [[...td.classList].find(c => c.startsWith('col-')).slice(4), td.innerText.trim()])))",
            )
            assert len(rows) >= 20
            for row in rows:
                for column in catalog.T3_COLUMNS:
                    want = target["cells"][f"t3.{row['row_key']}.{column}"]
                    assert row[column] == ("" if want is None else str(want)), (row["row_key"], column)
            # The failing-勾稽关系 canned query shows exactly the reports built to fail.
            page.goto(f"{base}/catalog/failing_consistency")
            listed = page.eval_on_selector_all(
                "table.rows-and-columns tbody tr",
                "trs => trs.map(tr => [tr.querySelector('td.col-agency').innerText.trim(),"
                " tr.querySelector('td.col-year').innerText.trim()])",
            )
            assert {(a, int(y)) for a, y in listed} == {
                (t["agency"], t["year"]) for t in truths if set(t["failing_rules"]) & CONSISTENCY_RULES}
        finally:
            browser.close()


def test_year_over_year_and_carry_over_queries(tmp_path):
    seed = build_truth_catalog(tmp_path)[4]
    db = catalog.open_catalog(tmp_path / "catalog.db")
    cells = seed.truth["cells"]
    nxt = truth_report(seed)
    nxt["year"] = seed.truth["year"] + 1
    nxt["cells"] = {**cells, "t3.new_received.total": cells["t3.new_received.total"] + 10,
                    "t3.carried_over.total": cells["t3.carried_forward.total"] + 4}
    doc = catalog.record_document(db, {"portal_id": "seeds", "url": seed.url + "?next", "kind": "attachment",
                                       "sha256": "ab" * 32, "year": nxt["year"]})
    later = catalog.record_report(db, doc, nxt, "truth")
    db.close()
    ds = build_datasette(tmp_path)
    yoy = get_json(ds, f"/catalog/requests_year_over_year.json?agency={seed.truth['agency'][:3]}&_shape=array")
    assert [(r["year"], r["change"]) for r in yoy] == [(nxt["year"], 10)]
    broken = get_json(ds, "/catalog/broken_carry_over.json?_shape=array")
    assert [(r["report_id"], r["difference"]) for r in broken] == [(later, 4)]
    missing = get_json(ds, f"/catalog/missing_reports.json?year={nxt['year']}&_shape=array")
    reported = {expand_body(s.truth["agency"]) for s in load_seeds() if s.truth["year"] == nxt["year"]}
    assert expand_body(seed.truth["agency"]) not in {r["agency"] for r in missing}
    assert {r["agency"] for r in missing} & reported == set()


def test_atom_feed_lists_newest_reports_and_findings_by_region(refreshed, sample_truth):
    import xml.etree.ElementTree as ET

    ds = build_datasette(refreshed["data"])
    ns = {"a": "http://www.w3.org/2005/Atom"}

    def entries(region: str) -> list[dict]:
        response = get(ds, f"/catalog/feed.atom?region={region}")
        assert response.status_code == 200 and "xml" in response.headers["content-type"]
        root = ET.fromstring(response.content)
        return [{"id": e.findtext("a:id", namespaces=ns), "title": e.findtext("a:title", namespaces=ns),
                 "updated": e.findtext("a:updated", namespaces=ns),
                 "link": e.find("a:link", ns).get("href")} for e in root.findall("a:entry", ns)]

    everything = entries("")
    reports = [e for e in everything if e["id"].startswith("nianbao:report:")]
    expected = {(t["agency"], t["year"]) for t in sample_truth if t["expected"]}
    assert len(reports) == len(expected)
    assert [e["updated"] for e in everything] == sorted((e["updated"] for e in everything), reverse=True)
    findings = [e for e in everything if e["id"].startswith("nianbao:finding:")]
    assert any("publish.late" in e["title"] and "南岗区" in e["title"] for e in findings)
    assert all(e["link"].startswith("/report/") for e in everything)
    harbin = entries("2301")
    # the bodies of 哈尔滨市 and its districts (南岗区, 道里区, 平房区, 香坊区 …), by their region codes
    db = sqlite3.connect(refreshed["data"] / "catalog.db")
    names = {n for (n,) in db.execute("select name from agencies where region like '2301%'")}
    db.close()
    assert any("南岗区" in n for n in names) and not any("湖北" in n or "硚口" in n for n in names)
    assert harbin and all(any(e["title"].startswith(n) for n in names) for e in harbin)
    assert {e["id"] for e in entries("湖北省")} == {e["id"] for e in entries("420104")}
    assert {e["id"] for e in entries("湖北省")} < {e["id"] for e in everything}
