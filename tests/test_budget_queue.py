"""A portal's budget holds for the requests already queued in the downloader, not only for new ones.

The flood (bench/flood.py's idea): a column listing many report-titled links, each page answered slowly,
so the engine fills the downloader's per-host queue with up to CONCURRENT_REQUESTS of them while only
CONCURRENT_REQUESTS_PER_DOMAIN are on the wire. Once the portal's bytes budget is spent, the queued ones
are dropped unsent: the server sees at most the in-flight few after the budget.
"""

from __future__ import annotations

import json
import time

from loopback_server import LoopbackServer, run_crawl, write_registry

import catalog

LINKS = 300
PAGE_BYTES = 8000
BUDGET_PAGES = 10
PER_DOMAIN = 2


def _column() -> tuple[int, dict, bytes]:
    items = "".join(f'<li><a href="/nb/{i}.html">某局{2008 + i % 17}年政府信息公开工作年度报告（{i}）</a></li>'
                    for i in range(LINKS))
    body = f"<html><head><meta charset='utf-8'><title>政府信息公开年报</title></head><body><ul class='list'>{items}</ul>"
    return 200, {"Content-Type": "text/html; charset=utf-8"}, (body + "</body></html>").encode()


def _report(handler) -> None:  # noqa: ANN001 - http.server's handler
    time.sleep(0.3)  # slow enough that the engine queues many requests behind the two on the wire
    number = handler.path.rsplit("/", 1)[-1].split(".")[0]
    head = f"<html><head><meta charset='utf-8'></head><body><h1>某局2020年政府信息公开工作年度报告（{number}）</h1><p>"
    body = head.encode() + b"x" * (PAGE_BYTES - len(head.encode()) - 18) + b"</p></body></html>"
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def test_requests_queued_when_the_bytes_budget_is_spent_are_not_sent(tmp_path):
    status, headers, column = _column()
    robots = b"User-agent: *\nDisallow:\n"
    budget = len(column) + BUDGET_PAGES * PAGE_BYTES
    with LoopbackServer() as server:
        server.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, robots)
        server.routes["/nb/index.html"] = (status, headers, column)
        for i in range(LINKS):
            server.routes[f"/nb/{i}.html"] = _report
        registry = write_registry(tmp_path / "portals.csv", [
            {"id": "flood", "agency": "某局", "url": server.url("/nb/index.html"), "allow_private": "true"}])
        result = run_crawl(tmp_path, registry, {
            "CONCURRENT_REQUESTS": 32, "CONCURRENT_REQUESTS_PER_DOMAIN": PER_DOMAIN,
            "PORTAL_BUDGET_BYTES": budget, "WARC_ENABLED": False})
        reports = [h for h in server.log if h.path.startswith("/nb/") and h.path != "/nb/index.html"]
    assert result.returncode == 0, result.stderr[-3000:]
    # BUDGET_PAGES pages fill the budget; past it only what was on the wire completes (a transfer place freed by
    # the last response may start one more before that response's bytes are counted)
    assert BUDGET_PAGES <= len(reports) <= BUDGET_PAGES + 2 * PER_DOMAIN, len(reports)
    db = catalog.open_catalog(tmp_path / "data" / "catalog.db")
    try:
        (reason, detail), = db.execute("select reason, detail from portal_diagnoses where portal_id = 'flood'")
    finally:
        db.close()
    used = json.loads(detail)["budget"]
    assert f"bytes budget of {budget} bytes spent" in reason
    # the queue behind the budget was dropped unsent, not fetched
    assert used["dropped_requests"] >= 10 and used["requests"] == len(reports) + 1  # + the column
