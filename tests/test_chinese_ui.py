"""Datasette's own interface in Chinese on the catalog's pages — table, filtered table, row, canned query —
through Datasette's client, and the column menu table.js builds, in a real browser; JSON and CSV keep
the English column names and codes."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from catalog_builders import archive_seeds, build_truth_catalog, load_seeds
from loopback_server import wait_for_port

import catalog
from nianbao.datasette.labels import STATUS_NAMES, UI_TEXT, filter_summary, table_description
from nianbao.serve import build_datasette

# Datasette 0.65.5's English interface phrases; none may be left on a catalog page.
ENGLISH = ("Apply", "Sort by", "Sort...", "descending", "Suggested facets", "Next page", "View and edit SQL",
           "This data as", "Advanced export", "JSON shape", "CSV options", "download file", "Export CSV",
           "remove filter", "- column -", "Custom SQL query", "Run SQL", "Edit SQL", "Format SQL",
           "Query parameters", "Powered by", "Queries took", "Data license", "Data source",
           "Links from other tables", "0 records", " rows", " row ", "where ", "sorted by", "Search:", "(view)",
           "home", "Table actions", "Menu", "hidden table", "Tables", "Views", "Queries", "Many rows", "Error",
           "not found")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("zh-ui")
    build_truth_catalog(data_dir)
    return data_dir, build_datasette(data_dir)


def get(ds, path: str):
    async def fetch():
        return await ds.client.get(path)

    return asyncio.run(fetch())


def visible_text(html: str) -> str:
    """Datasette's interface text on a page: no scripts, styles, SQL (code, not interface), the catalog's own
    bilingual descriptions (metadata.yml) or tags; button captions kept."""
    html = re.sub(r"<(script|style|pre|textarea)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'<(div) class="metadata-description">.*?</div>|<dl class="column-descriptions">.*?</dl>', " ",
                  html, flags=re.S)
    html = re.sub(r'<input type="(submit|button)" value="([^"]*)"[^>]*>', r" \2 ", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&nbsp;", " ")


def english_left(html: str) -> list[str]:
    """Each English phrase left on the page, with what surrounds it."""
    text = visible_text(html)
    return [text[max(0, text.find(p) - 80):text.find(p) + 40] for p in ENGLISH if p in text]


def test_table_page_chrome_is_chinese(served):
    _, ds = served
    page = get(ds, "/catalog/reports?_size=2&_sort_desc=year")
    assert page.status_code == 200
    html = page.text
    assert english_left(html) == []
    text = visible_text(html)
    for phrase in ("应用", "查看和编辑 SQL", "数据格式：", "高级导出", "下一页", "CSV 选项：", "导出 CSV", "首页",
                   "技术支持：", "排序：年度 降序"):
        assert phrase in text, phrase
    assert re.search(r'<h3 class="table-description">5 条记录 · 排序：年度 降序</h3>', html)
    # The controls still send the English column names and operators.
    assert '<option value="year">年度</option>' in html
    assert '<option value="exact">=</option>' in html and '<option value="notblank__1">不为空白</option>' in html
    assert '<option value="year" selected>排序：年度</option>' in html
    assert re.search(r'<a class="next-page" href="[^"]*_next=', html)


def test_filtered_table_describes_its_filters_in_chinese(served):
    data_dir, ds = served
    import sqlite3

    db = sqlite3.connect(data_dir / "catalog.db")
    status, count = db.execute("select status, count(*) from coverage group by status order by 2 desc").fetchone()
    db.close()
    html = get(ds, f"/catalog/coverage?status={status}&year__gte=2019&_sort=year").text
    assert english_left(html) == []
    line = f"{count:,} 条记录 · 筛选：发布情况 = {STATUS_NAMES[status]}；年度 ≥ 2019 · 排序：年度 升序"
    assert f'<h3 class="table-description">{line}</h3>' in html
    assert f"<title>覆盖 coverage · {line}</title>" in html
    # The filter rows keep the column and operator values the URL needs.
    assert '<option value="status" selected>发布情况</option>' in html
    assert '<option value="gte" selected>≥</option>' in html
    assert "（视图）" in html  # coverage is a view
    # Search on reports: the plugin's own description, in Chinese.
    search = get(ds, "/catalog/reports?_search=复议").text
    assert english_left(search) == []
    assert re.search(r'<h3 class="table-description">\d+ 条记录 · 筛选：全文包含“复议”；仅现行版本', search)
    searched = get(ds, "/catalog/reports.json?_search=复议").json()
    assert searched["human_description_en"].startswith('where text contains "复议" and current versions only')
    # JSON keeps the codes and Datasette's English description.
    data = get(ds, f"/catalog/coverage.json?status={status}").json()
    assert data["human_description_en"] == f'where status = "{status}"'
    assert {row[data["columns"].index("status")] for row in data["rows"]} == {status}


def test_row_page_chrome_is_chinese(served):
    _, ds = served
    html = get(ds, "/catalog/reports/1").text
    assert english_left(html) == []
    text = visible_text(html)
    assert "年度报告 reports：1" in text and "首页 / 年报 catalog / 年度报告 reports" in text
    assert "数据格式：" in text
    portal = get(ds, "/catalog/portals/seeds").text
    assert english_left(portal) == []
    assert re.search(r"其他表中的引用.*?\d+ 条记录</a>\s*来自", portal, re.S)


def test_canned_query_page_chrome_is_chinese(served):
    _, ds = served
    html = get(ds, "/catalog/search?q=复议").text
    assert english_left(html) == []
    text = visible_text(html)
    for phrase in ("自定义 SQL 查询：返回", "查询参数", "检索词", "运行 SQL", "隐藏 SQL", "数据格式："):
        assert phrase in text, phrase
    csv_text = get(ds, "/catalog/search.csv?q=复议").text
    assert csv_text.splitlines()[0].startswith("id,report_id,agency")


def test_index_database_and_error_pages_are_chinese(served):
    _, ds = served
    index = get(ds, "/").text
    assert english_left(index) == []
    assert re.search(r"\d+ 个表（[\d,]+ 条记录）", visible_text(index))
    database = get(ds, "/catalog").text
    assert english_left(database) == []
    assert '<h2 id="tables">表</h2>' in database and '<h2 id="queries">查询</h2>' in database
    assert '<a href="/catalog/reports" title="reports">年度报告 reports</a>' in database
    for path in ("/-/dashboards", "/-/dashboards/overview"):  # datasette-dashboards' pages
        page = get(ds, path)
        assert page.status_code == 200 and english_left(page.text) == [], path
        assert "首页" in visible_text(page.text) and "仪表板" in visible_text(page.text), path
    missing = get(ds, "/catalog/no_such_table")
    assert missing.status_code == 404 and english_left(missing.text) == []
    assert "未找到该表" in missing.text


def test_description_functions_use_the_labels():
    assert filter_summary("coverage", [("status", "exact", "late"), ("published", "isnull", "1")]) == \
        "发布情况 = 逾期发布；发布日期 为空"
    assert filter_summary("findings", [("rule", "in", "t3.balance,t4.group_total"), ("delta", "gte", "2")]) == \
        "勾稽规则 属于 表三收支平衡不符、表四合计不符；差额 ≥ 2"
    assert table_description("findings", 1234, [("rule", "exact", "t3.balance")], sort_desc="delta") == \
        "1,234 条记录 · 筛选：勾稽规则 = 表三收支平衡不符 · 排序：差额 降序"
    assert table_description("reports", 0) == "0 条记录"
    # Every phrase of the vocabulary is Chinese (or a Chinese phrase around a code word such as SQL/CSV).
    assert [k for k, v in UI_TEXT.items() if not re.search(r"[\u4e00-\u9fff]", v)] == []


CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORDS = re.compile(r"\b[a-z]{3,}\b")


def test_report_page_shows_the_parsers_findings_and_warnings_in_chinese(tmp_path):
    """Seeds parsed by the parser: the failing rules' details and the warnings are Chinese sentences."""
    from nianbao.parse import parse_bytes

    seeds = load_seeds()
    doc_ids = archive_seeds(tmp_path, seeds)
    db = catalog.open_catalog(tmp_path / "catalog.db")
    for seed in seeds:
        catalog.record_report(db, doc_ids[seed.name], parse_bytes(seed.data, seed.url), "test")
    rows = list(db.query("select f.report_id, f.rule, f.detail from findings f"))
    warnings = [w for (stored,) in db.execute("select warnings from reports") for w in json.loads(stored)]
    db.close()
    failing = {(s.truth["agency"], r) for s in seeds for r in s.truth["failing_rules"]}
    assert rows and len({r["rule"] for r in rows}) == len({r for _, r in failing})
    for row in rows:
        # No English left in a detail (cell keys and codes aside), and the rule's statement comes first.
        assert CJK.search(row["detail"]) and not LATIN_WORDS.search(row["detail"]), row["detail"]
        assert "——" in row["detail"] and ("：左边合计" in row["detail"] or "：本年" in row["detail"])
    assert warnings and all(CJK.search(w) for w in warnings), warnings
    ds = build_datasette(tmp_path)
    for row in rows:
        page = get(ds, f"/report/{row['report_id']}").text
        shown = re.findall(r'<small class="finding-detail">([^<]*)</small>', page)
        assert row["detail"].replace('"', "&#34;") in shown
    with_warnings = next(r for (r,) in sqlite3_rows(tmp_path, "select id from reports where warnings != '[]'"))
    page = get(ds, f"/report/{with_warnings}").text
    assert '<details class="parse-warnings"><summary>解析提示（' in page


def sqlite3_rows(data_dir: Path, sql: str) -> list[tuple]:
    import sqlite3

    db = sqlite3.connect(data_dir / "catalog.db")
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_browser_column_menu_and_filters_are_chinese(served):
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists("/usr/bin/chromium"):
        pytest.skip("Debian chromium is not installed")
    data_dir, _ = served
    port = _free_port()
    cli = Path(sys.executable).with_name("nianbao")
    proc = subprocess.Popen([str(cli), "serve", "--data", str(data_dir), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_port(port)
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            try:
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{port}/catalog/findings")
                page.click("th.col-rule svg.dropdown-menu-icon")
                menu = page.locator("div.dropdown-menu").last
                menu.wait_for(state="visible")
                shown = menu.inner_text()
                assert "升序排列" in shown and "降序排列" in shown and "类型：TEXT" in shown
                assert "Sort" not in shown and "Type:" not in shown
                # datasette-vega's chart panel, relabelled as it renders.
                page.click("text=显示图表选项")
                page.locator("text=X 轴列").first.wait_for()
                panel = page.inner_text("body")
                assert "图表选项" in panel and "交换 X 轴和 Y 轴" in panel and "柱状图" in panel
                assert "Charting options" not in panel and "Show charting options" not in panel
                # A filter chosen by its Chinese heading still filters on the column's code.
                page.select_option("select[name=_filter_column]", label="勾稽规则")
                page.select_option("select[name=_filter_op]", label="=")
                page.fill("input[name=_filter_value]", "t3.balance")
                page.click("input[type=submit][value=应用]")
                page.wait_for_url(re.compile(r"rule(__exact)?=t3.balance"))
                assert "筛选：勾稽规则 = 表三收支平衡不符" in page.inner_text("h3.table-description")
            finally:
                browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
