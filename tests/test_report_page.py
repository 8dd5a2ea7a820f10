"""The report page as printed, the Chinese interface and what every list links to — through Datasette's
client, and in a real browser against `nianbao serve` + `nianbao replay` on the crawled sample catalog
(which also saves the README's screenshots into docs/images/)."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from loopback_server import wait_for_port

from nianbao.serve import build_datasette

IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"
APPLICANTS = ("natural_person", "commercial_enterprise", "research_institution", "social_welfare_org",
              "legal_services_org", "other_org")


def _get(ds, path: str):
    async def fetch():
        return await ds.client.get(path)

    return asyncio.run(fetch())


def _report_id(data_dir: Path, truth: dict) -> int:
    import sqlite3

    db = sqlite3.connect(data_dir / "catalog.db")
    try:
        row = db.execute("select id from reports where agency = ? and year = ? and is_current = 1",
                         [truth["agency"], truth["year"]]).fetchone()
    finally:
        db.close()
    assert row, truth["id"]
    return row[0]


def _row_total_target(sample_truth: list[dict]) -> dict:
    return next(t for t in sample_truth if t["failing_rules"] == ["t3.row_total"])


def _row_total_delta(truth: dict) -> tuple[str, float]:
    """The row whose 总计 differs from its six applicant columns, and by how much (from the truth)."""
    for key, value in truth["cells"].items():
        if key.startswith("t3.") and key.endswith(".total") and value is not None:
            row = key[3:-6]
            parts = [truth["cells"].get(f"t3.{row}.{c}") or 0 for c in APPLICANTS]
            if sum(parts) != value:
                return row, abs(value - sum(parts))
    raise AssertionError("no failing row in the truth")


@pytest.fixture(scope="module")
def ds(refreshed):
    assert refreshed["exit"] == 0, refreshed["stderr"][-2000:]
    return build_datasette(refreshed["data"])


def test_report_page_prints_the_tables_with_failing_cells(ds, refreshed, sample_truth):
    truth = _row_total_target(sample_truth)
    report_id = _report_id(refreshed["data"], truth)
    page = _get(ds, f"/report/{report_id}")
    assert page.status_code == 200
    html = page.text
    assert truth["title"] in html and "三、收到和处理政府信息公开申请情况" in html
    total = re.search(r'data-key="t3.total_processed.total"[^>]*>([^<]*)<', html)
    assert total and total.group(1) == str(truth["cells"]["t3.total_processed.total"])
    row, delta = _row_total_delta(truth)
    failing = re.search(rf'<td class="num failing" data-key="t3.{re.escape(row)}.total" data-rules="([^"]*)"[^>]*>'
                        rf'[^<]*<span class="rule-note" data-rule="t3.row_total">([^<]*)</span>', html)
    assert failing, row
    assert failing.group(1) == "t3.row_total" and failing.group(2).startswith("表三行合计不符 差额 ")
    assert abs(float(failing.group(2).split()[-1])) == delta
    # The printed row order: 一、本年新收 first, 四、结转下年度 last.
    rows = re.findall(r'<tr data-row="([^"]+)">', html)
    assert rows[0] == "new_received" and rows[-1] == "carried_forward" and rows[-2] == "total_processed"
    # Neighbouring years of the same body.
    assert re.search(r'class="prev-year" href="/report/\d+">← 2018年度', html)
    assert re.search(r'class="next-year" href="/report/\d+">2020年度 →', html)
    assert 'class="archived-copy" href="http://' in html
    assert _get(ds, "/report/999999").status_code == 404


def test_every_list_of_reports_links_to_the_report_page(ds, refreshed, sample_truth):
    for path in ("/catalog/reports", "/catalog/report_summary", "/catalog/coverage?status=published",
                 "/catalog/failing_consistency", "/catalog/findings", "/catalog/table3?year=2020",
                 "/catalog/search?q=报告"):
        page = _get(ds, path)
        assert page.status_code == 200, path
        assert re.search(r'href="/report/\d+"', page.text), path


def test_chinese_interface_in_html_english_in_json(ds, refreshed):
    coverage = _get(ds, "/catalog/coverage?status=unknown").text
    assert "无法获取" in coverage and ">发布情况<" in coverage.replace("&nbsp;▼", "")
    assert re.search(r"231200 <span class=\"region-name\">黑龙江省绥化市</span>", coverage)
    rows = _get(ds, "/catalog/coverage.json?status=unknown&_shape=array").json()
    assert rows and {r["status"] for r in rows} == {"unknown"}
    findings = _get(ds, "/catalog/findings?rule=t3.balance").text
    assert "表三收支平衡不符" in findings
    bare = _get(ds, "/catalog/table3")
    assert bare.status_code == 302 and re.search(r"report_id=\d+&_sort=position", bare.headers["location"])
    one = _get(ds, bare.headers["location"])
    assert ">总计" in one.text and len(set(re.findall(r'href="/report/(\d+)"', one.text))) == 1


CJK = re.compile(r"[\u4e00-\u9fff]")
FIRST_PAGES = ("/catalog/reports", "/catalog/report_summary", "/catalog/coverage", "/catalog/agencies",
               "/catalog/findings", "/catalog/portal_status", "/catalog/failing_consistency",
               "/catalog/missing_reports?year=", "/catalog/portal_health", "/catalog/search?q=报告",
               "/catalog/panel?year=2022")
CODED_COLUMNS = ("status", "rule", "rules", "format_version", "is_current", "provenance", "grp")


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>|&nbsp;|[▼▲]", "", html).strip()


def test_first_pages_have_chinese_headings_and_no_bare_codes(ds, refreshed, sample_truth):
    """What a researcher opens first: every column heading has Chinese, no coded cell shows a bare code."""
    bare = _get(ds, "/catalog/table3")
    pages = [*FIRST_PAGES, bare.headers["location"], "/catalog/table4?year=2022"]
    for path in pages:
        page = _get(ds, path)
        assert page.status_code == 200, path
        headings = [_text(th) for th in re.findall(r"<th[^>]*>(.*?)</th>", page.text, re.S)]
        assert headings and [h for h in headings if h and not CJK.search(h)] == [], path
        for column in CODED_COLUMNS:
            for cell in re.findall(rf'<td class="col-{column}[^"]*">(.*?)</td>', page.text, re.S):
                assert not _text(cell) or CJK.search(_text(cell)), (path, column, cell)
    index = _get(ds, "/").text
    entry = re.search(r'<ul class="entry-points">(.*?)</ul>', index, re.S)
    assert entry and "年度报告" in entry[1] and "发布情况" in entry[1]
    for link in re.findall(r'href="([^"]+)"', entry[1]):
        assert _get(ds, link.replace("&amp;", "&")).status_code in (200, 302), link
    late = next(t for t in sample_truth if "publish.late" in t["failing_rules"])
    report = _get(ds, f"/report/{_report_id(refreshed['data'], late)}").text
    assert re.search(r'逾期发布（晚于法定期限）</strong>（publish.late）逾期 <span class="delta">16</span> 天', report)


def test_search_shows_snippets_and_current_versions_only(ds, refreshed, sample_truth):
    # The corrected re-issue and its original share their text; only the current one is listed.
    corrected = next(t for t in sample_truth if t["id"].endswith("-corrected"))
    phrase = "冰雪季传染病防控"
    page = _get(ds, f"/catalog/reports?_search={phrase}&year={corrected['year']}")
    listed = set(re.findall(r'class="report-link" href="/report/(\d+)"', page.text))
    assert len(listed) == 1 and "<mark>冰雪季传染病防控</mark>" in page.text
    both = _get(ds, f"/catalog/reports?_search={phrase}&year={corrected['year']}&is_current__in=0,1")
    assert len(set(re.findall(r'class="report-link" href="/report/(\d+)"', both.text))) == 2
    canned = _get(ds, f"/catalog/search?q={phrase}")
    assert canned.text.count(f"<mark>{phrase}</mark>") == len(set(re.findall(r'href="/report/(\d+)"', canned.text)))


def test_dashboard_charts_are_configured_and_answer(ds):
    page = _get(ds, "/-/dashboards/overview")
    assert page.status_code == 200 and "vega-lite" in page.text
    charts = ds.plugin_config("datasette-dashboards")["overview"]["charts"]

    async def run(sql):
        return (await ds.get_database("catalog").execute(sql)).rows

    per_year = asyncio.run(run(charts["requests_per_report"]["query"]))
    assert {r["year"] for r in per_year} >= {2019, 2024} and all(r["reports"] > 0 for r in per_year)
    provinces = asyncio.run(run(charts["coverage_by_province"]["query"]))
    assert {"黑龙江省", "湖北省", "山东省"} <= {r["province"] for r in provinces}


# --------------------------------------------------------------------------- browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served_with_replay(refreshed):
    """`nianbao replay` and `nianbao serve` (archived-copy links pointing at that replay) as processes."""
    assert refreshed["exit"] == 0
    data = refreshed["data"]
    replay_port, port = _free_port(), _free_port()
    env = {**os.environ, "NIANBAO_REPLAY_URL": f"http://127.0.0.1:{replay_port}/nianbao"}
    procs = [
        subprocess.Popen([sys.executable, "-m", "nianbao.cli", "replay", "--data", str(data), "--port",
                          str(replay_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env),
        subprocess.Popen([sys.executable, "-m", "nianbao.cli", "serve", "--data", str(data), "--port", str(port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env),
    ]
    try:
        wait_for_port(replay_port, 60)
        wait_for_port(port, 60)
        yield f"http://127.0.0.1:{port}", data
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_browser_reads_report_page_follows_archived_copy_and_saves_screenshots(
        served_with_replay, sample_truth, sample_portals):
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists("/usr/bin/chromium"):
        pytest.skip("Debian chromium is not installed")
    base, data = served_with_replay
    truth = _row_total_target(sample_truth)
    report_id = _report_id(data, truth)
    row, delta = _row_total_delta(truth)
    IMAGES.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/report/{report_id}")
            total = page.eval_on_selector('td[data-key="t3.total_processed.total"]',
                                          "td => td.childNodes[0].textContent.trim()")
            assert total == str(truth["cells"]["t3.total_processed.total"])
            note = page.locator(f'td[data-key="t3.{row}.total"].failing .rule-note')
            assert note.get_attribute("data-rule") == "t3.row_total"
            text = note.inner_text()
            assert text.startswith("表三行合计不符 差额 ") and abs(float(text.split()[-1])) == delta
            background = page.eval_on_selector(f'td[data-key="t3.{row}.total"]',
                                               "td => getComputedStyle(td).backgroundColor")
            assert background != "rgba(0, 0, 0, 0)"
            page.locator("#table3").scroll_into_view_if_needed()
            page.screenshot(path=str(IMAGES / "report-page.png"), full_page=False)
            # The archived copy, from the replay server.
            href = page.get_attribute("a.archived-copy", "href")
            assert href.startswith("http://127.0.0.1:") and "/nianbao/" in href
            response = page.goto(href)
            assert response is not None and response.status == 200
            page.wait_for_timeout(1500)
            texts = [frame.evaluate("() => document.body ? document.body.innerText : ''") for frame in page.frames]
            assert any(truth["agency"] in t for t in texts), texts[:2]
            # Coverage, one status per body and year, in Chinese, at 1400 px.
            columns = "&".join(f"_col={c}" for c in ("agency", "region", "year", "report_id", "published",
                                                           "days_late", "status"))
            page.goto(f"{base}/catalog/coverage?{columns}&_sort=province&_size=100")
            page.locator("table.rows-and-columns").scroll_into_view_if_needed()
            page.evaluate("() => window.scrollBy(0, document.querySelector('table.rows-and-columns')"
                          ".getBoundingClientRect().top - 10)")
            page.screenshot(path=str(IMAGES / "coverage.png"))
            assert page.locator("span.status-unknown").count() > 0
            # Table 3 of one report: 总计 in sight without scrolling.
            page.goto(f"{base}/catalog/table3")
            box = page.locator("th.col-total").bounding_box()
            assert box and box["x"] + box["width"] <= 1400
            # A chart drawn as the page opens.
            page.goto(f"{base}/-/dashboards/overview")
            page.wait_for_selector("#card-requests_per_report canvas, #card-requests_per_report svg",
                                   timeout=30000)
            page.locator("#card-requests_per_report").screenshot(path=str(IMAGES / "chart.png"))
        finally:
            browser.close()
    for name in ("report-page.png", "coverage.png", "chart.png"):
        assert (IMAGES / name).stat().st_size > 10_000, name
