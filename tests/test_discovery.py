"""Finding the 年报 column and saying what happened: best-first discovery, robots.txt obeyed before
requesting, JavaScript lists from linked scripts and the browser fallback, per-portal budgets, a
diagnosis for every portal, and `refresh`'s exit codes.

Crawls run as `scrapy crawl portals` / `nianbao refresh` subprocesses against the sample portals;
what was requested is read from the sample server's own request log.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler
from test_spider import ROOT, crawl_command, documents

from crawler.adapters import select_adapter
from crawler.budget import PortalBudgets
from crawler.diagnosis import diagnose
from crawler.discovery import (
    COLUMN,
    FAILED,
    NO_REPORTS,
    ROBOTS,
    TIER_COLUMN,
    TIER_DISCLOSURE,
    TIER_SECTION,
    PortalDiscovery,
    clearly_a_list,
    linked_scripts,
    rank_link,
)
from nianbao.sample_portals.families import linkedjs, nocolumn, robotsnav
from nianbao.sample_portals.truth import expected_documents
from nianbao.serve import build_metadata
from spiders.portals import PortalsSpider

DISCOVERY_PORTALS = ("sample-robotsnav", "sample-linkedjs", "sample-emptylist", "sample-nocolumn", "sample-blocked")


def _closed_port_url() -> str:
    """A loopback URL nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/index.html"


def _registry(sample_portals, path: Path, ids: tuple[str, ...], extra: list[str] = ()) -> Path:
    lines = Path(sample_portals.registry).read_text(encoding="utf-8").rstrip("\n").split("\n")
    rows = [lines[0]] + [line for line in lines[1:] if line.split(",")[0] in ids] + list(extra)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _diagnoses(data_dir: Path) -> dict[str, dict]:
    db = sqlite3.connect(data_dir / "catalog.db")
    db.row_factory = sqlite3.Row
    rows = db.execute("select * from portal_diagnoses where crawl_id = (select max(id) from crawls)").fetchall()
    db.close()
    return {r["portal_id"]: {**dict(r), "detail": json.loads(r["detail"])} for r in rows}


@pytest.fixture(scope="module")
def discovered(sample_portals, tmp_path_factory):
    """One crawl of the discovery portals plus rows that end robots, empty_column and unreachable."""
    data_dir = tmp_path_factory.mktemp("discovery")
    unreachable = _closed_port_url()
    extra = [
        f"robots-only,道里区卫生健康局,{sample_portals.url('robotsnav', '/private/start.html')},,,,true,",
        f"empty-col,呼兰区卫生健康局,{sample_portals.url('nocolumn', nocolumn.EMPTY_COLUMN)},,,,true,",
        f"gone,某区卫生健康局,{unreachable},,,,true,",
    ]
    registry = _registry(sample_portals, data_dir / "registry.csv", DISCOVERY_PORTALS, extra)
    result = subprocess.run(crawl_command(registry, data_dir), cwd=ROOT, capture_output=True, text=True, timeout=300)
    log = (data_dir / "crawl.log").read_text(encoding="utf-8")
    assert result.returncode == 0, result.stderr[-3000:] + log[-3000:]
    return {"data_dir": data_dir, "diagnoses": _diagnoses(data_dir), "log": log, "unreachable": unreachable,
            "documents": documents(data_dir)}


# ---------------------------------------------------------------------- ranking and the search


def test_links_are_ranked_年报_first_then_the_disclosure_platform_then_sections():
    assert rank_link("政府信息公开年报", "http://x.gov.cn/a/") == TIER_COLUMN
    assert rank_link("年度报告", "http://x.gov.cn/a/") == TIER_COLUMN
    assert rank_link("政府信息公开", "http://x.gov.cn/a/") == TIER_DISCLOSURE
    assert rank_link("法定主动公开内容", "http://x.gov.cn/a/") == TIER_DISCLOSURE
    assert rank_link("信息公开目录", "http://x.gov.cn/a/") == TIER_DISCLOSURE
    assert rank_link("部门信息公开专栏链接", "http://x.gov.cn/a/") == TIER_SECTION
    assert rank_link("机构概况", "http://x.gov.cn/xxgk/jggk/") == TIER_SECTION  # by its xxgk path
    assert rank_link("机构职能", "http://x.gov.cn/xxgk/jggk/202301/t20230110_1.html") is None  # an item there
    # link texts of a real district disclosure platform (source in docs/architecture.md, Discovery)
    assert rank_link("部门政务公开", "http://x.gov.cn/col/col1/index.html") == TIER_DISCLOSURE
    assert rank_link("信息公开部门目录", "http://x.gov.cn/col/col2/index.html") == TIER_SECTION
    for text in ("政府信息公开指南", "依申请公开", "统计年报", "互动交流", "2023年政府信息公开工作年度报告"):
        assert rank_link(text, "http://x.gov.cn/a/") in (None,), text


def test_the_search_is_best_first_skips_what_robots_disallows_and_keeps_to_its_budget():
    search = PortalDiscovery("p", "http://x.gov.cn/index.html", max_pages=3, max_depth=2)
    search.pages = 1
    assert search.offer("http://x.gov.cn/xxgk/jggk/", "机构概况", 1, None)
    assert search.offer("http://x.gov.cn/search/nb", "政府信息公开年报", 1, None)
    assert search.offer("http://x.gov.cn/xxgk/", "政府信息公开", 1, None)
    assert not search.offer("http://other.com/xxgk/", "政府信息公开", 1, None)  # off the site
    assert not search.offer("http://x.gov.cn/deep/", "政府信息公开", 3, None)   # too deep
    assert not search.offer("http://x.gov.cn/xxgk/", "政府信息公开", 1, None)   # once
    first = search.next_candidate(lambda url: "/search/" not in url)
    assert first.url == "http://x.gov.cn/xxgk/"  # the 年报 link was disallowed: recorded, not returned
    assert [(o.url, o.result) for o in search.outcomes] == [("http://x.gov.cn/search/nb", ROBOTS)]
    search.record(first.url, "not_a_list", "no report items", tier=TIER_DISCLOSURE, depth=1)
    search.pages = 3
    assert search.next_candidate(lambda url: True) is None
    assert search.budget_hit == "discovery pages 3 reached"
    assert search.outcomes[-1].result == "not_tried" and search.outcomes[-1].url == "http://x.gov.cn/xxgk/jggk/"


def test_the_start_hosts_own_pages_come_before_the_sites_other_hosts():
    search = PortalDiscovery("p", "http://wjw.x.gov.cn/index.html")
    search.offer("http://www.x.gov.cn/xxgk/nb/", "政府信息公开年报", 1, None)  # the city's column
    search.offer("http://wjw.x.gov.cn/xxgk/nb/", "政府信息公开年报", 2, None)  # the bureau's own
    assert search.next_candidate(lambda url: True).url == "http://wjw.x.gov.cn/xxgk/nb/"
    search.record("http://wjw.x.gov.cn/xxgk/nb/", COLUMN, "the 年报 column", tier=TIER_COLUMN)
    assert search.next_candidate(lambda url: True) is None  # the city's column is not the bureau's


def test_once_the_column_is_found_only_column_links_are_tried():
    search = PortalDiscovery("p", "http://x.gov.cn/index.html")
    search.offer("http://x.gov.cn/xxgk/", "政府信息公开", 1, None)
    search.offer("http://x.gov.cn/bmnb/", "部门政府信息公开年报", 1, None)
    search.record("http://x.gov.cn/index.html", COLUMN, "the 年报 column")
    assert search.next_candidate(lambda url: True).url == "http://x.gov.cn/bmnb/"
    search.record("http://x.gov.cn/bmnb/", NO_REPORTS, "no reports", tier=TIER_COLUMN)
    assert search.next_candidate(lambda url: True) is None


def _page(html: str, url: str = "http://x.gov.cn/col/index.html") -> HtmlResponse:
    return HtmlResponse(url, body=html.encode("utf-8"), encoding="utf-8", request=Request(url))


def test_a_list_is_recognised_by_its_empty_container_and_pager_and_its_linked_scripts():
    empty = _page('<ul class="news-list"></ul><div class="page-box">共 8 条 第1/1页</div>')
    assert clearly_a_list(empty)
    assert not clearly_a_list(_page('<ul class="news-list"></ul><p>欢迎</p>'))  # no pager, no count
    assert not clearly_a_list(_page('<div id="app"></div><div class="page">下一页</div>'))  # not a list container
    shell = _page('<div id="app"></div><script src="/js/jquery.min.js"></script><script src="list.js"></script>'
                  '<script src="http://cdn.other.com/x.js"></script>')
    assert linked_scripts(shell, "http://x.gov.cn/") == ["http://x.gov.cn/col/list.js"]


def test_budgets_stop_scheduling_and_say_which_was_spent():
    now = [0.0]
    budgets = PortalBudgets(pages=3, bytes_=1000, seconds=60, clock=lambda: now[0])
    assert [budgets.may_schedule("a") for _ in range(5)] == [True, True, True, False, False]
    assert budgets.report("a")["links_not_followed"] == 2
    budgets.of("b").started, budgets.of("b").bytes = 0.0, 1500
    assert budgets.spent("b") == "bytes budget of 1000 bytes spent"
    budgets.of("c").started = 0.0
    assert budgets.spent("c") is None
    now[0] = 61.0
    assert budgets.spent("c") == "time budget of 60 s spent"
    assert budgets.report("c")["hit"] == "time budget of 60 s spent"


def test_diagnosis_statuses_from_outcomes():
    search = PortalDiscovery("p", "http://x.gov.cn/index.html")
    search.record("http://x.gov.cn/index.html", FAILED, "Connection refused")
    search.start_error = "ConnectionRefusedError: Connection refused"
    d = diagnose("p", search, {"pages": 0, "reports": 0, "errors": 1})
    assert d["status"] == "unreachable" and "Connection refused" in d["reason"]
    assert diagnose("p", search, {"pages": 3, "reports": 4})["status"] == "ok"
    assert diagnose("p", search, {"reports": 0}, blocked=True)["status"] == "blocked"
    # every 年报 link disallowed, nothing else found: robots, naming what was refused
    refused = PortalDiscovery("q", "http://x.gov.cn/index.html")
    refused.record("http://x.gov.cn/index.html", "not_a_list", "no report items")
    refused.record("http://x.gov.cn/search/nb", ROBOTS, "disallowed", tier=TIER_COLUMN, depth=1)
    refused.record("http://x.gov.cn/xxgk/", "not_a_list", "no report items", tier=TIER_DISCLOSURE, depth=1)
    d = diagnose("q", refused, {"pages": 2, "reports": 0})
    assert d["status"] == "robots" and d["reason"].endswith("http://x.gov.cn/search/nb")
    # a budget that was hit is part of the reason whatever the status
    budget = {"hit": "time budget of 60 s spent"}
    assert diagnose("q", refused, {"pages": 9, "reports": 3}, budget=budget)["reason"] == (
        "3 reports; budget: time budget of 60 s spent")


# ---------------------------------------------------------------------- on the sample portals


def test_the_column_behind_ordinary_navigation_is_found_and_robots_is_obeyed(discovered, sample_portals):
    d = discovered["diagnoses"]["sample-robotsnav"]
    assert d["status"] == "ok" and d["reports"] == 5
    tried = {c["url"]: c for c in d["detail"]["candidates"]}
    refused = tried[sample_portals.url("robotsnav", robotsnav.DISALLOWED)]
    assert refused["result"] == "robots" and refused["link"] == "政府信息公开年报"
    assert tried[sample_portals.url("robotsnav", "/zfxxgk/ndbg/index.html")]["result"] == "column"
    # the server's own log: nothing robots.txt disallows was ever asked for
    requested = sample_portals.requests("robotsnav")
    assert "/robots.txt" in requested and "/zfxxgk/ndbg/index.html" in requested
    assert not [r for r in requested if r.startswith(("/search/", "/private/"))], requested


def test_a_list_built_by_a_linked_script_is_rendered(discovered, sample_portals):
    d = discovered["diagnoses"]["sample-linkedjs"]
    assert d["status"] == "ok" and d["reports"] == 5
    column = next(c for c in d["detail"]["candidates"] if c["result"] == "column")
    assert column["url"] == sample_portals.url("linkedjs", linkedjs.COLUMN) and column["look"]["rendered"]
    assert column["look"]["render_reason"] == f"linked script {sample_portals.url('linkedjs', linkedjs.SCRIPT)} builds the list"
    assert linkedjs.SCRIPT in sample_portals.requests("linkedjs")


def test_an_empty_list_with_a_pager_is_rendered_once_as_the_fallback(discovered):
    d = discovered["diagnoses"]["sample-emptylist"]
    assert d["status"] == "ok" and d["reports"] == 5
    column = next(c for c in d["detail"]["candidates"] if c["result"] == "column")
    assert column["look"]["rendered"] and column["look"]["count_text"].startswith("共")
    assert column["look"]["render_reason"] == "an empty list beside a pager or count"


def test_every_report_of_the_discovery_portals_and_nothing_else(discovered, sample_portals):
    expected = expected_documents(sample_portals.base_urls)
    found: dict[str, set[str]] = {}
    for doc in discovered["documents"]:
        if doc["kind"] in ("report_page", "attachment"):
            found.setdefault(doc["portal_id"], set()).add(doc["seen_url"])
    for portal_id in DISCOVERY_PORTALS:
        want = {d["url"] for d in expected[portal_id]["report_pages"] + expected[portal_id]["attachments"]}
        assert found.get(portal_id, set()) == want, portal_id  # recall and precision 100 %


def test_no_column_lists_the_candidates_tried_and_why_each_failed(discovered, sample_portals):
    d = discovered["diagnoses"]["sample-nocolumn"]
    assert d["status"] == "no_column" and d["reports"] == 0
    results = {c["url"]: (c["result"], c["reason"]) for c in d["detail"]["candidates"]}
    assert results[sample_portals.url("nocolumn", nocolumn.DEAD)] == ("failed", "HTTP 404")
    assert results[sample_portals.url("nocolumn", "/gk/fdzdgknr/index.html")][0] == "list_without_reports"
    assert results[sample_portals.url("nocolumn", "/gk/index.html")][0] == "not_a_list"
    assert "HTTP 404" in d["reason"] and d["reason"].startswith("no 年报 column among")
    assert "portal sample-nocolumn: no_column: no 年报 column" in discovered["log"]  # one WARNING line


def test_empty_column_says_what_the_column_looked_like(discovered, sample_portals):
    d = discovered["diagnoses"]["empty-col"]
    assert d["status"] == "empty_column"
    assert d["detail"]["column"]["url"] == sample_portals.url("nocolumn", nocolumn.EMPTY_COLUMN)
    assert d["detail"]["column"]["count_text"] == "共 1 条"
    assert "关于做好2015年政府信息公开工作年度报告编制" in d["reason"] and "no report archived" in d["reason"]


def test_robots_blocked_and_unreachable_have_their_reasons(discovered, sample_portals):
    diagnoses = discovered["diagnoses"]
    robots = diagnoses["robots-only"]
    assert robots["status"] == "robots"
    assert robots["reason"] == f"robots.txt disallows the start page {sample_portals.url('robotsnav', '/private/start.html')}"
    blocked = diagnoses["sample-blocked"]
    assert blocked["status"] == "blocked" and "412" in blocked["reason"]
    gone = diagnoses["gone"]
    assert gone["status"] == "unreachable" and "Connection" in gone["reason"]
    assert gone["reason"].startswith(discovered["unreachable"])
    for portal_id in ("robots-only", "sample-blocked", "gone"):
        assert f"portal {portal_id}: {diagnoses[portal_id]['status']}:" in discovered["log"]
    assert "portal sample-robotsnav: ok" not in discovered["log"]  # ok portals are not warned about


def test_portal_health_query_shows_the_latest_diagnosis_per_portal(discovered):
    sql = build_metadata()["databases"]["catalog"]["queries"]["portal_health"]["sql"]
    db = sqlite3.connect(discovered["data_dir"] / "catalog.db")
    rows = db.execute(sql).fetchall()
    db.close()
    statuses = {row[0]: row[2] for row in rows}
    assert statuses == {pid: d["status"] for pid, d in discovered["diagnoses"].items()}
    assert rows[-1][2] == "ok"  # portals that are not ok come first


# ---------------------------------------------------------------------- budgets on a real crawl


# one request at a time, 0.2 s apart: the ~35 requests of the portal take far longer than 1 s (and none
# waits in the downloader past the deadline: CONCURRENT_REQUESTS bounds how many may)
SLOW = {"CONCURRENT_REQUESTS": "1", "CONCURRENT_REQUESTS_PER_DOMAIN": "1", "DOWNLOAD_DELAY": "0.2"}


@pytest.mark.parametrize(("settings", "hit"), [
    ({"PORTAL_BUDGET_PAGES": "6"}, "pages budget of 6 requests"),
    ({"PORTAL_BUDGET_BYTES": "30000"}, "bytes budget of 30000 bytes spent"),
    ({"PORTAL_BUDGET_SECONDS": "1", **SLOW}, "time budget of 1 s spent"),
], ids=["pages", "bytes", "seconds"])
def test_a_spent_budget_stops_the_portal_and_is_in_the_diagnosis(sample_portals, tmp_path, settings, hit):
    registry = _registry(sample_portals, tmp_path / "registry.csv", ("sample-gbk",))
    before = len(sample_portals.requests("gbk"))
    result = subprocess.run(crawl_command(registry, tmp_path, settings=settings), cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    d = _diagnoses(tmp_path)["sample-gbk"]
    assert hit in d["detail"]["budget"]["hit"] and f"budget: {hit}" in d["reason"]
    asked = [r for r in sample_portals.requests("gbk")[before:] if r != "/robots.txt"]
    expected_reports = len(expected_documents()["sample-gbk"]["report_pages"])
    if "PORTAL_BUDGET_PAGES" in settings:
        assert len(asked) <= 6 and d["detail"]["budget"]["links_not_followed"] > 0
    elif "PORTAL_BUDGET_BYTES" in settings:
        assert d["detail"]["budget"]["bytes"] >= 30000
    else:
        assert d["detail"]["budget"]["dropped_requests"] + d["detail"]["budget"]["links_not_followed"] > 0
    assert d["reports"] < expected_reports


# ---------------------------------------------------------------------- refresh's exit codes


def _refresh(registry: Path, data: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "nianbao.cli", "refresh", "--portals", str(registry), "--data", str(data),
           "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=0"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=data.parent)


def test_refresh_exits_non_zero_when_every_portal_is_unreachable(tmp_path):
    registry = tmp_path / "registry.csv"
    registry.write_text("id,agency,url,region,level,render,allow_private,notes\n"
                        f"gone-a,甲局,{_closed_port_url()},,,,true,\n"
                        f"gone-b,乙局,{_closed_port_url()},,,,true,\n", encoding="utf-8")
    result = _refresh(registry, tmp_path / "data")
    assert result.returncode == 1, result.stderr[-2000:]
    assert "every portal of" in result.stderr and "was unreachable (2 portals)" in result.stderr
    summary = json.loads(result.stdout)
    assert {p["portal_id"]: p["status"] for p in summary["portals_failing"]} == {"gone-a": "unreachable",
                                                                                 "gone-b": "unreachable"}


def test_refresh_exits_0_when_some_portals_fail_and_lists_them(sample_portals, tmp_path):
    gone = _closed_port_url()
    registry = _registry(sample_portals, tmp_path / "registry.csv", ("sample-gbk", "sample-nocolumn"),
                         [f"gone,某局,{gone},,,,true,"])
    result = _refresh(registry, tmp_path / "data")
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout)
    failing = {p["portal_id"]: p for p in summary["portals_failing"]}
    assert set(failing) == {"gone", "sample-nocolumn"}
    assert failing["gone"]["status"] == "unreachable" and failing["gone"]["reason"].startswith(gone)
    assert failing["sample-nocolumn"]["status"] == "no_column"
    assert summary["diagnoses"]["sample-gbk"]["status"] == "ok" and summary["reports_new"] > 0
    assert f"portal gone: unreachable: {gone}" in result.stderr


def test_a_list_of_thousands_of_report_links_schedules_no_more_than_the_budget(tmp_path):
    registry = tmp_path / "registry.csv"
    registry.write_text("id,agency,url,region,level,render,allow_private,notes\n"
                        "flood,某局,http://127.0.0.1:9/col/index.html,,,,true,\n", encoding="utf-8")
    crawler = get_crawler(PortalsSpider, {"PORTAL_BUDGET_PAGES": 200})
    spider = PortalsSpider.from_crawler(crawler, portals=str(registry))
    spider.portals = {p.id: p for p in spider.registry.portals}
    rows = "".join(f'<li><a href="/col/{i}.html">某局{2008 + i % 16}年政府信息公开工作年度报告</a></li>'
                   for i in range(5000))
    url = "http://127.0.0.1:9/col/index.html"
    page = HtmlResponse(url, body=f"<ul class='list'>{rows}</ul>".encode(), encoding="utf-8",
                        request=Request(url, meta={"portal_id": "flood"}))
    out = list(spider._list(page, spider.portals["flood"], select_adapter(page)))
    requests = [o for o in out if isinstance(o, Request)]
    assert len(requests) == 200
    report = spider.budgets.report("flood")
    assert report["links_not_followed"] == 5000 - 200 and "pages budget of 200" in report["hit"]


def test_a_年报_named_page_whose_items_are_on_further_pages_is_walked_as_the_column(tmp_path):
    registry = tmp_path / "registry.csv"
    registry.write_text("id,agency,url,region,level,render,allow_private,notes\n"
                        "p,某局,http://127.0.0.1:9/index.html,,,,true,\n", encoding="utf-8")
    spider = PortalsSpider.from_crawler(get_crawler(PortalsSpider), portals=str(registry))
    spider.portals = {p.id: p for p in spider.registry.portals}
    spider.discoveries["p"] = PortalDiscovery("p", "http://127.0.0.1:9/index.html")
    # the first page of a TRS column holds only a notice; its pager script names two more pages
    url = "http://127.0.0.1:9/xxgk/nb/index.html"
    html = ('<ul><li><a href="./t1.html">关于做好2023年政府信息公开工作年度报告编制工作的通知</a></li></ul>'
            '<script>createPageHTML(3, 0, "index", "html");</script>')
    meta = {"portal_id": "p", "discovery": True, "link_depth": 1, "candidate": {"text": "年报", "tier": TIER_COLUMN}}
    page = HtmlResponse(url, body=html.encode(), encoding="utf-8", request=Request(url, meta=meta))
    out = [o for o in spider._entry(page) if isinstance(o, Request)]
    assert {o.url for o in out} >= {"http://127.0.0.1:9/xxgk/nb/index_1.html", "http://127.0.0.1:9/xxgk/nb/index_2.html"}
    assert spider.discoveries["p"].columns == [url]
