"""Many slow portals are crawled side by side: the engine's places go to the portals with the fewest
downloads under way, not to one portal's queue while the others wait.

Four portals on four host names (one loopback server, a test resolver), each a column of report links
whose pages take a quarter of a second; one connection per host. With a single LIFO priority queue the
downloader is handed the detail pages of the column parsed last, all waiting on that one host (5.6 s
here instead of 3.1); Scrapy's DownloaderAwarePriorityQueue, which the crawl's scheduler (crawler/journal.py)
takes from SCHEDULER_PRIORITY_QUEUE, keeps every portal's host busy. The slot is the host name, so
portals that share a host share a slot.
"""

from __future__ import annotations

import time

from loopback_server import LoopbackServer, html, run_crawl, write_registry

PORTALS = ("a", "b", "c", "d")
REPORTS = 12
SERVICE_S = 0.25


def _report(handler) -> None:  # noqa: ANN001 - http.server's handler
    time.sleep(SERVICE_S)
    body = "<html><head><meta charset='utf-8'></head><body><h1>某局2022年政府信息公开工作年度报告</h1></body></html>"
    data = body.encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def test_slow_portals_are_crawled_side_by_side(tmp_path) -> None:
    hosts = {f"portal-{p}.test": "127.0.0.1" for p in PORTALS}
    with LoopbackServer() as server:
        server.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow:\n")
        rows = []
        for p in PORTALS:
            links = "".join(f'<li><a href="/{p}/{i}.html">{p}局{2010 + i}年政府信息公开工作年度报告</a></li>'
                            for i in range(REPORTS))
            server.routes[f"/{p}/index.html"] = html(f"<h1>政府信息公开年报</h1><ul class='list'>{links}</ul>")
            for i in range(REPORTS):
                server.routes[f"/{p}/{i}.html"] = _report
            rows.append({"id": f"portal-{p}", "agency": f"{p}局", "allow_private": "true",
                         "url": f"http://portal-{p}.test:{server.port}/{p}/index.html"})
        registry = write_registry(tmp_path / "portals.csv", rows)
        result = run_crawl(tmp_path, registry, {"CONCURRENT_REQUESTS": 12, "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
                                                "WARC_ENABLED": False}, hosts=hosts)
        reports = sorted((h for h in server.log if h.path.endswith(".html") and "index" not in h.path),
                         key=lambda h: h.at)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(reports) == len(PORTALS) * REPORTS
    # how many portals' hosts were being served at once, at the busiest moment
    busiest = max(len({h.host for h in reports if start.at <= h.at < start.at + SERVICE_S}) for start in reports)
    assert busiest == len(PORTALS), busiest
    # all at once takes REPORTS * SERVICE_S seconds (3 s), one host at a time four times that
    elapsed = reports[-1].at - reports[0].at
    assert elapsed < 0.35 * len(PORTALS) * REPORTS * SERVICE_S, elapsed
