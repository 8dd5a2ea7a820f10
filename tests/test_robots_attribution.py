"""A portal whose robots.txt cannot be read says so: the robots.txt fetch carries the portal's id, its
failure is a fetch_failures row of that portal (kind robots_txt) and a line of the portal's diagnosis,
and the crawl goes on as Scrapy does (as if robots.txt allowed everything)."""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

from loopback_server import LoopbackServer, html, report_list, run_crawl, write_registry

import catalog
from crawler.robots import PortalRobotsTxtMiddleware

REPORT = html("<h1>某局2023年政府信息公开工作年度报告</h1><p>一、总体情况</p>")


def _never_answers(handler) -> None:  # noqa: ANN001 - http.server's handler
    time.sleep(6)  # longer than the crawl's DOWNLOAD_TIMEOUT; the crawler has gone by then


def _rows(data) -> tuple[list[dict], dict]:
    db = catalog.open_catalog(data / "catalog.db")
    try:
        failures = list(db["fetch_failures"].rows)
        diagnoses = {r["portal_id"]: r for r in db["portal_diagnoses"].rows}
    finally:
        db.close()
    return failures, diagnoses


def _crawl(tmp_path, robots) -> tuple[LoopbackServer, list[dict], dict]:
    with LoopbackServer() as server:
        server.routes["/robots.txt"] = robots
        server.routes["/nb/index.html"] = report_list({"/nb/r1.html": "某局"})
        server.routes["/nb/r1.html"] = REPORT
        # a second portal on the same host: it waited for the same robots.txt
        server.routes["/bureau/index.html"] = report_list({"/bureau/r2.html": "某分局"})
        server.routes["/bureau/r2.html"] = REPORT
        registry = write_registry(tmp_path / "portals.csv", [
            {"id": "city", "agency": "某局", "url": server.url("/nb/index.html"), "allow_private": "true"},
            {"id": "bureau", "agency": "某分局", "url": server.url("/bureau/index.html"), "allow_private": "true"}])
        result = run_crawl(tmp_path, registry, {"DOWNLOAD_TIMEOUT": 2, "RETRY_TIMES": 1})
    assert result.returncode == 0, result.stderr[-3000:]
    return server, *_rows(tmp_path / "data")


def test_a_robots_txt_answering_500_is_the_portals_fetch_failure(tmp_path):
    server, failures, diagnoses = _crawl(tmp_path, (500, {"Content-Type": "text/html"}, b"<h1>Internal Error</h1>"))
    robots = [f for f in failures if f["kind"] == "robots_txt"]
    assert len(robots) == 1
    (row,) = robots
    assert row["portal_id"] in ("city", "bureau") and row["url"] == server.url("/robots.txt")
    assert row["reason"] == "http_status" and row["detail"] == "robots.txt: HTTP 500"
    for portal in ("city", "bureau"):
        diagnosis = diagnoses[portal]
        assert diagnosis["status"] == "ok"  # crawled as if robots.txt allowed everything
        assert "robots.txt: " + server.url("/robots.txt") + " could not be read (http_status: HTTP 500)" \
            in diagnosis["reason"]
        assert json.loads(diagnosis["detail"])["robots_txt"]
    assert server.hits("/nb/r1.html") and server.hits("/bureau/r2.html")


def test_a_robots_txt_that_times_out_says_so_in_the_diagnosis(tmp_path):
    server, failures, diagnoses = _crawl(tmp_path, _never_answers)
    (row,) = [f for f in failures if f["kind"] == "robots_txt"]
    assert row["reason"] == "timeout" and row["portal_id"] in ("city", "bureau")
    assert all("could not be read (timeout:" in diagnoses[p]["reason"] for p in ("city", "bureau"))
    assert len(server.hits("/robots.txt")) == 2  # tried, and retried once as timeouts are


def test_a_readable_robots_txt_is_no_failure_and_still_carries_the_portal(tmp_path):
    server, failures, diagnoses = _crawl(tmp_path, (404, {"Content-Type": "text/plain"}, b"not found"))
    assert [f for f in failures if f["kind"] == "robots_txt"] == []
    assert all("robots.txt" not in d["reason"] for d in diagnoses.values())
    assert len(server.hits("/robots.txt")) == 1


def test_the_robots_request_takes_the_portal_of_the_request_that_needed_it():
    import asyncio

    from scrapy import Request
    from scrapy.http import TextResponse
    from scrapy.utils.test import get_crawler

    crawler = get_crawler(settings_dict={"ROBOTSTXT_OBEY": True})
    fetched: list[Request] = []

    class Engine:  # what the downloader is asked for, answered with an empty robots.txt
        async def download_async(self, request: Request) -> TextResponse:
            fetched.append(request)
            return TextResponse(request.url, body=b"")

    class Spider:
        blocked_portals = {"blocked"}

    crawler.engine, crawler.spider = Engine(), Spider()
    middleware = PortalRobotsTxtMiddleware(crawler)

    async def pages() -> None:
        await middleware.process_request(Request("http://a.example.gov.cn/nb/index.html", meta={"portal_id": "a"}))
        await middleware.process_request(Request("http://a.example.gov.cn/nb/2.html", meta={"portal_id": "b"}))
        await middleware.process_request(Request("http://b.example.gov.cn/nb/", meta={"portal_id": "blocked"}))
        await middleware.process_request(Request("http://c.example.gov.cn/nb/"))

    asyncio.run(pages())
    robots = {urlsplit(r.url).netloc: r for r in fetched}
    assert [r.url for r in fetched] == ["http://a.example.gov.cn/robots.txt", "http://b.example.gov.cn/robots.txt",
                                        "http://c.example.gov.cn/robots.txt"]  # once per host
    assert robots["a.example.gov.cn"].meta["portal_id"] == "a" and robots["a.example.gov.cn"].meta["robots_txt"] is True
    # a blocked portal does not lend its id (its requests are dropped, robots.txt would be too)
    assert "portal_id" not in robots["b.example.gov.cn"].meta and "robots_txt" not in robots["b.example.gov.cn"].meta
    assert "portal_id" not in robots["c.example.gov.cn"].meta  # no portal has needed that host
    assert all(r.meta["dont_obey_robotstxt"] for r in fetched)


def test_a_spent_budget_never_drops_the_hosts_robots_txt():
    from scrapy import Request

    from crawler.budget import PortalBudgetMiddleware, PortalBudgets

    class Spider:
        budgets = PortalBudgets(pages=1)

    class Crawler:
        spider = Spider()

    middleware = PortalBudgetMiddleware(Crawler())
    Spider.budgets.of("a").requests = 1  # the portal's pages budget is spent
    robots = Request("http://a.example.gov.cn/robots.txt",
                     meta={"dont_obey_robotstxt": True, "portal_id": "a", "robots_txt": True})
    assert middleware.process_request(robots) is None  # fetched: the other portals on the host obey it
    assert Spider.budgets.of("a").requests == 1
