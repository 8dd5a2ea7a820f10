"""Nothing lost without a trace, nothing waited for without end: every report link that ends without a
document is a fetch_failures row with its reason, counted in its portal's errors and listed in
`nianbao refresh`'s summary; Retry-After is honoured (capped); a slow body is cut; a URL that never
answers is not tried four times.

One `nianbao refresh` of a loopback portal whose report links fail in every way a network can.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import sys
import time
import zlib

import pytest
from loopback_server import LoopbackServer, pdf, redirect, report_list, run_crawl, write_registry
from scrapy.http import Request
from twisted.python.failure import Failure

from crawler.fetch_failures import classify
from crawler.retry import retry_after_seconds

CHAIN = 21  # one more redirect than Scrapy's REDIRECT_MAX_TIMES


def _trickle(handler) -> None:
    """Headers at once, then a byte every 0.2 s: a body that would take minutes."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/pdf")
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline:
            handler.wfile.write(b"%")
            handler.wfile.flush()
            time.sleep(0.2)
    except OSError:
        pass  # the crawler hung up: what it should do


def _stall(handler) -> None:
    """Accept the request and answer nothing (for 12 s at most)."""
    time.sleep(12)
    handler.close_connection = True


def _once(first, then):
    """An answer that is `first` on the first request, `then` afterwards."""
    seen = []

    def answer(handler) -> None:
        status, headers, body = first if not seen else then
        seen.append(1)
        handler.send_response(status)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    return answer


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("fetch_failures")
    with LoopbackServer("127.0.0.1") as server:
        links = {f"/r/{name}.pdf": f"{name}局" for name in
                 ("loop-a", "chain-0", "missing", "trickle", "stall", "refused", "dns", "busy", "busylong", "ok")}
        server.routes["/"] = report_list(links)
        server.routes["/r/loop-a.pdf"] = redirect("/r/loop-b.pdf")
        server.routes["/r/loop-b.pdf"] = redirect("/r/loop-a.pdf")
        for i in range(CHAIN):
            server.routes[f"/r/chain-{i}.pdf"] = redirect(f"/r/chain-{i + 1}.pdf")
        server.routes[f"/r/chain-{CHAIN}.pdf"] = pdf("end of the chain")
        server.routes["/r/trickle.pdf"] = _trickle
        server.routes["/r/stall.pdf"] = _stall
        server.routes["/r/refused.pdf"] = redirect(f"http://127.0.0.1:{_closed_port()}/x.pdf")
        server.routes["/r/dns.pdf"] = redirect("http://no-such-host.invalid/x.pdf")
        server.routes["/r/busy.pdf"] = _once((429, {"Retry-After": "2"}, b"slow down"), pdf("busy"))
        server.routes["/r/busylong.pdf"] = _once((503, {"Retry-After": "3600"}, b"later"), pdf("busy long"))
        server.routes["/r/ok.pdf"] = pdf("ok")
        registry = write_registry(tmp_path / "portals.csv", [
            {"id": "lab", "agency": "样例局", "url": server.url("/"), "allow_private": "true"},
        ])
        data = tmp_path / "data"
        started = time.monotonic()
        result = run_crawl(tmp_path, registry, {"DOWNLOAD_TIMEOUT": 3, "SLOW_BODY_GRACE": 1,
                                                "SLOW_BODY_MIN_RATE": 1000, "RETRY_AFTER_MAX": 2},
                           command=[sys.executable, "-m", "nianbao.cli", "refresh", "--portals", str(registry),
                                    "--data", str(data)])
        elapsed = time.monotonic() - started
    db = sqlite3.connect(data / "catalog.db")
    failures = {url.replace(server.url(""), ""): (reason, detail, kind) for url, reason, detail, kind in
                db.execute("select url, reason, detail, kind from fetch_failures")}
    documents = {url.replace(server.url(""), "") for (url,) in db.execute("select url from documents")}
    db.close()
    summary = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return {"result": result, "server": server, "failures": failures, "documents": documents,
            "summary": summary, "elapsed": elapsed}


def test_every_failed_report_link_is_recorded_with_its_reason(refreshed) -> None:
    assert refreshed["result"].returncode == 0, refreshed["result"].stderr[-3000:]
    failures = refreshed["failures"]
    expected = {"/r/loop-a.pdf": "redirect_loop", "/r/chain-0.pdf": "too_many_redirects",
                "/r/missing.pdf": "http_status", "/r/trickle.pdf": "timeout", "/r/stall.pdf": "timeout",
                "/r/refused.pdf": "connection", "/r/dns.pdf": "dns"}
    assert {url: failures.get(url, ("none",))[0] for url in expected} == expected
    assert failures["/r/missing.pdf"][1] == "HTTP 404"
    assert "B/s" in failures["/r/trickle.pdf"][1]
    # the robots.txt of the two hosts that cannot be reached failed too, and is the portal's failure (crawler/robots.py)
    robots = {url: reason for url, (reason, _, kind) in failures.items() if kind == "robots_txt"}
    assert sorted(robots.values()) == ["connection", "dns"]
    assert all(kind == "attachment" for url, (_, _, kind) in failures.items() if url not in robots)
    assert {"/r/ok.pdf", "/r/busy.pdf", "/r/busylong.pdf"} <= refreshed["documents"]
    assert not set(expected) & refreshed["documents"]


def test_the_refresh_summary_lists_them_and_counts_them_as_errors(refreshed) -> None:
    summary = refreshed["summary"]
    assert summary["fetch_failures"]["total"] == len(refreshed["failures"]) >= 7
    assert summary["fetch_failures"]["by_reason"]["timeout"] == 2
    assert {f["url"].rsplit("/", 1)[1] for f in summary["fetch_failures"]["failures"]} >= {"loop-a.pdf", "dns.pdf"}
    assert summary["portals"]["lab"]["errors"] >= 7
    assert "fetch failure (redirect_loop)" in refreshed["result"].stderr


def test_retry_after_is_honoured_and_capped(refreshed) -> None:
    server = refreshed["server"]
    busy = server.hits("/r/busy.pdf")
    assert len(busy) == 2
    assert busy[1].at - busy[0].at >= 1.9  # Retry-After: 2
    long = server.hits("/r/busylong.pdf")
    assert len(long) == 2
    assert 1.9 <= long[1].at - long[0].at < 15  # Retry-After: 3600, capped by RETRY_AFTER_MAX=2


def test_a_slow_url_costs_one_retry_at_most_and_a_trickle_is_cut(refreshed) -> None:
    server = refreshed["server"]
    assert len(server.hits("/r/stall.pdf")) <= 2  # not 1 + RETRY_TIMES
    assert len(server.hits("/r/trickle.pdf")) == 1
    assert refreshed["elapsed"] < 120


def test_retry_after_values() -> None:
    assert retry_after_seconds(b"30") == 30
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # in the past
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_classification_of_wrapped_errors() -> None:
    from scrapy.exceptions import CannotResolveHostError, DownloadTimeoutError, IgnoreRequest
    from twisted.internet.error import DNSLookupError

    request = Request("http://a.example.gov.cn/x.pdf", meta={"redirect_urls": ["http://a.example.gov.cn/x.pdf"],
                                                             "redirect_times": 20})

    def wrapped(outer, inner):
        try:
            try:
                raise inner
            except Exception as exc:
                raise outer from exc
        except Exception:
            return Failure()

    assert classify(wrapped(CannotResolveHostError("x"), DNSLookupError("x")), request)[0] == "dns"
    assert classify(Failure(DownloadTimeoutError("took longer")), request)[0] == "timeout"
    assert classify(Failure(IgnoreRequest("max redirections reached")), request)[0] == "redirect_loop"
    assert classify(Failure(IgnoreRequest("Forbidden by robots.txt")), request)[0] == "robots"
    assert classify(Failure(zlib.error("Error -3 while decompressing data")), request)[0] == "decode_error"
    assert classify(Failure(IgnoreRequest("Ignored response: larger than download max size (200 bytes)")),
                    Request("http://a.example.gov.cn/y.pdf"))[0] == "size_cap"


def test_retry_after_holds_the_whole_host(tmp_path) -> None:
    """After a 429 with Retry-After: 3, no request of the same host goes out for 3 s (with the
    default politeness delay on), not only the retried one."""
    with LoopbackServer("127.0.0.1") as server:
        others = {f"/d{i}.pdf": f"{name}局" for i, name in enumerate("乙丙丁戊")}
        server.routes["/"] = report_list({**others, "/busy.pdf": "甲局"})  # the last link is fetched first
        server.routes["/busy.pdf"] = _once((429, {"Retry-After": "3"}, b"slow down"), pdf("busy"))
        for path in others:
            server.routes[path] = pdf(path)
        registry = write_registry(tmp_path / "portals.csv", [
            {"id": "lab", "agency": "样例局", "url": server.url("/"), "allow_private": "true"},
        ])
        result = run_crawl(tmp_path, registry, {"DOWNLOAD_DELAY": 0.2, "DOWNLOAD_DELAY_JITTER": 0,
                                                "CONCURRENT_REQUESTS_PER_DOMAIN": 1})
    assert result.returncode == 0, result.stderr[-3000:]
    refused_at = server.hits("/busy.pdf")[0].at
    later = [h for h in server.log if h.at > refused_at]
    assert {h.path for h in later} == {*others, "/busy.pdf"}
    assert min(h.at for h in later) - refused_at >= 2.9
