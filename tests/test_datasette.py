"""Datasette over the catalog: search (long and short phrases), printed tables, canned queries, links,
read-only mutable serving — through Datasette's own client and in a real browser against `nianbao serve`.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from catalog_builders import CAPTURED_AT, build_truth_catalog, load_seeds, truth_report

from archive import catalog
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
def nianbao_serve(tmp_path_factory):
    """`nianbao serve` on a populated catalog, in its own process; yields (base URL, seeds)."""
    data_dir = tmp_path_factory.mktemp("browser")
    seeds = build_truth_catalog(data_dir)
    port = _free_port()
    cli = Path(sys.executable).with_name("nianbao")
    proc = subprocess.Popen([str(cli), "serve", "--data", str(data_dir), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line == f"http://127.0.0.1:{port}/catalog", line
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", seeds
    finally:
        proc.terminate()
        proc.wait(10)


def test_browser_search_table3_and_failing_query(nianbao_serve):
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists("/usr/bin/chromium"):
        pytest.skip("Debian chromium is not installed")
    base, seeds = nianbao_serve
    target = seeds[3]
    phrase = _phrase(target, 12)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page()
            # Search box: type a phrase of the report's own text.
            page.goto(f"{base}/catalog/reports")
            page.fill("#_search", phrase)
            page.press("#_search", "Enter")
            page.wait_for_url(re.compile(r"_search="))
            found = page.locator("table.rows-and-columns td.col-agency").all_inner_texts()
            assert target.truth["agency"] in [t.strip() for t in found]
            assert {t.strip() for t in found} == _contains(seeds, phrase)
            report_id = page.locator("table.rows-and-columns td.col-id").first.inner_text().strip()
            # Its table 3, row by row.
            page.goto(f"{base}/catalog/table3?report_id={report_id}&_size=100")
            rows = page.eval_on_selector_all(
                "table.rows-and-columns tbody tr",
                "trs => trs.map(tr => Object.fromEntries([...tr.querySelectorAll('td')].map("
                "td => [[...td.classList].find(c => c.startsWith('col-')).slice(4), td.innerText.trim()])))",
            )
            assert len(rows) >= 20
            for row in rows:
                for column in catalog.T3_COLUMNS:
                    want = target.truth["cells"][f"t3.{row['row_key']}.{column}"]
                    assert row[column] == ("" if want is None else str(want)), (row["row_key"], column)
            # The failing-勾稽关系 canned query shows exactly the reports built to fail.
            page.goto(f"{base}/catalog/failing_consistency")
            agencies = {t.strip() for t in page.locator("table.rows-and-columns td.col-agency").all_inner_texts()}
            assert agencies == {s.truth["agency"] for s in load_seeds()
                                if set(s.truth["failing_rules"]) & CONSISTENCY_RULES}
        finally:
            browser.close()
