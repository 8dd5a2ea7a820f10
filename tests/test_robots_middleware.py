"""The robots.txt middleware (crawler/robots.py): one fetch per host, and what it takes from Scrapy's.

PortalRobotsTxtMiddleware subclasses Scrapy's RobotsTxtMiddleware but keeps its own per-host cache and
fetch; it rests only on Scrapy's __init__ and process_request_2. The first test fails when Scrapy's
class changes under it (a new hook it would shadow, the allow check moving, `_parsers` reaching code
it inherits)."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import TextResponse
from scrapy.robotstxt import ProtegoRobotParser
from scrapy.utils.test import get_crawler

from crawler.robots import PortalRobotsTxtMiddleware

RULES = b"User-agent: *\nDisallow: /private/\n"


def _methods(cls: type) -> set[str]:
    return {name for name, value in vars(cls).items() if inspect.isfunction(value) or isinstance(value, classmethod)}


def test_scrapys_robots_middleware_is_what_this_one_rests_on():
    scrapy_methods = _methods(RobotsTxtMiddleware)
    # its hooks and methods: a new one (say process_response) would be shadowed or skipped unnoticed here
    assert scrapy_methods == {"__init__", "from_crawler", "process_request", "process_request_2", "robot_parser",
                              "_parse_robots", "_robots_error"}
    # what this middleware takes from Scrapy's: __init__ (through super), from_crawler, process_request_2
    assert scrapy_methods - _methods(PortalRobotsTxtMiddleware) == {
        "from_crawler", "process_request_2", "_parse_robots", "_robots_error"}
    # Scrapy's cache (`_parsers`) is only touched by what this middleware replaces or never calls
    touching = {name for name in scrapy_methods if "_parsers" in inspect.getsource(vars(RobotsTxtMiddleware)[name])}
    assert touching <= {"__init__", "robot_parser", "_parse_robots", "_robots_error"}
    for name in ("__init__", "from_crawler", "process_request_2"):
        source = inspect.getsource(vars(RobotsTxtMiddleware)[name])
        assert not any(f"self.{m}" in source for m in ("_parsers[", "_parse_robots", "_robots_error", "robot_parser"))
    # __init__: off unless ROBOTSTXT_OBEY
    with pytest.raises(NotConfigured):
        PortalRobotsTxtMiddleware(get_crawler(settings_dict={"ROBOTSTXT_OBEY": False}))
    # process_request_2(parser, request): the allow check, with the crawl's user agent; None allows everything
    middleware = PortalRobotsTxtMiddleware(get_crawler(settings_dict={"ROBOTSTXT_OBEY": True}))
    parser = ProtegoRobotParser(RULES, None)
    with pytest.raises(IgnoreRequest):
        middleware.process_request_2(parser, Request("http://h.example/private/a.html"))
    assert middleware.process_request_2(parser, Request("http://h.example/public/a.html")) is None
    assert middleware.process_request_2(None, Request("http://h.example/private/a.html")) is None
    assert middleware.crawler.stats.get_value("robotstxt/forbidden") == 1


def test_requests_waiting_for_a_hosts_robots_txt_share_one_fetch():
    # four at once: Scrapy 2.19's own middleware hands the parser to the first waiter and None (allow
    # everything) to the third and fourth, its one Deferred consumed by the first asyncio future
    crawler = get_crawler(settings_dict={"ROBOTSTXT_OBEY": True})
    fetched: list[str] = []

    class Engine:
        async def download_async(self, request: Request) -> TextResponse:
            fetched.append(request.url)
            await asyncio.sleep(0.05)  # the other requests arrive while it is under way
            return TextResponse(request.url, body=RULES)

    crawler.engine = Engine()
    middleware = PortalRobotsTxtMiddleware(crawler)

    async def requests() -> list:
        paths = ("/a.html", "/private/b.html", "/c.html", "/private/d.html")
        return await asyncio.gather(*(middleware.process_request(Request(f"http://h.example{p}")) for p in paths),
                                    return_exceptions=True)

    outcomes = asyncio.run(requests())
    assert fetched == ["http://h.example/robots.txt"]
    assert [type(o).__name__ for o in outcomes] == ["NoneType", "IgnoreRequest", "NoneType", "IgnoreRequest"]
    assert crawler.stats.get_value("robotstxt/request_count") == 1
    assert crawler.stats.get_value("robotstxt/response_status_count/200") == 1
    assert middleware._parsers == {}  # Scrapy's own cache is never filled


def test_a_robots_txt_that_cannot_be_fetched_allows_everything_once():
    crawler = get_crawler(settings_dict={"ROBOTSTXT_OBEY": True})
    fetched: list[str] = []

    class Engine:
        async def download_async(self, request: Request) -> TextResponse:
            fetched.append(request.url)
            raise ConnectionRefusedError("refused")

    crawler.engine = Engine()
    middleware = PortalRobotsTxtMiddleware(crawler)

    async def requests() -> None:
        for path in ("/private/a.html", "/private/b.html"):
            assert await middleware.process_request(Request(f"http://h.example{path}")) is None

    asyncio.run(requests())
    assert fetched == ["http://h.example/robots.txt"]
    assert crawler.stats.get_value(f"robotstxt/exception_count/{ConnectionRefusedError}") == 1


def test_a_cancelled_waiting_request_leaves_the_fetch_and_the_others_alone():
    # one Deferred shared by the waiters would be cancelled with the first of them, failing the others
    crawler = get_crawler(settings_dict={"ROBOTSTXT_OBEY": True})

    class Engine:
        async def download_async(self, request: Request) -> TextResponse:
            await asyncio.sleep(0.05)
            return TextResponse(request.url, body=RULES)

    crawler.engine = Engine()
    middleware = PortalRobotsTxtMiddleware(crawler)

    async def requests() -> list:
        fetching = asyncio.ensure_future(middleware.process_request(Request("http://h.example/private/a.html")))
        await asyncio.sleep(0)
        cancelled = asyncio.ensure_future(middleware.process_request(Request("http://h.example/private/b.html")))
        other = asyncio.ensure_future(middleware.process_request(Request("http://h.example/private/c.html")))
        await asyncio.sleep(0.01)
        cancelled.cancel()
        return await asyncio.gather(fetching, cancelled, other, return_exceptions=True)

    outcomes = asyncio.run(requests())
    assert [type(o).__name__ for o in outcomes] == ["IgnoreRequest", "CancelledError", "IgnoreRequest"]
