"""A portal whose 年报 column lists 100,000 report-titled links: how long a crawl of it runs, and how
much of it, under the per-portal budgets (PORTAL_BUDGET_PAGES / _BYTES / _SECONDS).

    python -m bench.flood [--links 100000] [--pages-budget 3000] [--seconds-budget 1800]

Serves the column and every detail page it links on 127.0.0.1 (made on request from the URL), runs
`scrapy crawl portals` on it without politeness delays, and prints one JSON object: links listed,
requests the server answered, wall seconds, and the portal's diagnosis. Without budgets the same
crawl would request every link.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _handler(links: int, counter: list[int]):
    items = "".join(f'<li><a href="/nb/{i}.html">某局{2008 + i % 17}年政府信息公开工作年度报告（{i}）</a></li>'
                    for i in range(links))
    column = ("<html><head><meta charset='utf-8'><title>政府信息公开年报</title></head><body><ul class='list'>"
              f"{items}</ul></body></html>").encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - BaseHTTPRequestHandler's name
            counter[0] += 1
            if self.path == "/robots.txt":
                body = b"User-agent: *\nDisallow:\n"
            elif self.path == "/nb/index.html":
                body = column
            else:
                number = self.path.rsplit("/", 1)[-1].split(".")[0]
                body = (f"<html><head><meta charset='utf-8'></head><body><h1>某局2020年政府信息公开工作年度报告"
                        f"（{number}）</h1><p>{'一、总体情况。' * 80}</p></body></html>").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def run(links: int, pages_budget: int, seconds_budget: int, timeout: int) -> dict:
    """Serve the flooded column, crawl it, return the figures."""
    counter = [0]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(links, counter))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with tempfile.TemporaryDirectory(prefix="nianbao-flood-") as tmp:
            data = Path(tmp)
            registry = data / "registry.csv"
            registry.write_text("id,agency,url,region,level,render,allow_private,notes\n"
                                f"flood,某局,http://127.0.0.1:{server.server_address[1]}/nb/index.html,,,,true,\n",
                                encoding="utf-8")
            settings = {"DATA_DIR": data, "LOG_LEVEL": "WARNING", "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
                        "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "PORTAL_BUDGET_PAGES": pages_budget,
                        "PORTAL_BUDGET_SECONDS": seconds_budget, "WARC_ENABLED": True}
            command = [sys.executable, "-m", "scrapy", "crawl", "portals", "-a", f"portals={registry}"]
            for key, value in settings.items():
                command += ["-s", f"{key}={value}"]
            started = time.monotonic()
            result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
            seconds = time.monotonic() - started
            db = sqlite3.connect(data / "catalog.db")
            status, reason, detail = db.execute(
                "select status, reason, detail from portal_diagnoses order by crawl_id desc limit 1").fetchone()
            db.close()
    finally:
        server.shutdown()
        server.server_close()
    return {"links": links, "pages_budget": pages_budget, "requests_answered": counter[0],
            "wall_seconds": round(seconds, 1), "crawl_exit": result.returncode, "status": status,
            "reason": reason, "budget": json.loads(detail).get("budget")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.flood", description=__doc__)
    parser.add_argument("--links", type=int, default=100_000)
    parser.add_argument("--pages-budget", type=int, default=3000)
    parser.add_argument("--seconds-budget", type=int, default=1800)
    parser.add_argument("--timeout", type=int, default=3600, help="stop the crawl after this many seconds")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.links, args.pages_budget, args.seconds_budget, args.timeout), ensure_ascii=False,
                     indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
