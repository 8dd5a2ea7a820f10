"""Shared pieces of the archive tests: a small HTTP site on 127.0.0.1 with the awkward answers the
archive must keep (gzip, chunked, two Set-Cookie, ETag/304, POST, query strings, an oversized body, a
page that renders its table with JavaScript), a spider that fetches all of them, and WARC readers.

Crawls are cached per test session in this module, so every test module that needs one shares it.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

ROOT = Path(__file__).resolve().parent.parent
BIG_SIZE = 300_000
MAXSIZE = 100_000
TABLE_HTML = ("<table id='t'><tr><td>新收政府信息公开申请数量</td><td>37</td></tr>"
              "<tr><td>上年结转</td><td>4</td></tr></table>")


def _page(title: str, body: str) -> bytes:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><h1>{title}</h1>{body}</body></html>").encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, headers: list[tuple[str, str]] | None = None,
              reason: str | None = None) -> None:
        self.send_response(status, reason)
        for name, value in headers or []:
            self.send_header(name, value)
        if not any(n.lower() == "content-length" for n, _ in headers or []):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = self.path
        html = [("Content-Type", "text/html; charset=utf-8")]
        if path == "/robots.txt":
            self._send(200, b"User-agent: *\nAllow: /\n", [("Content-Type", "text/plain")])
        elif path.startswith("/gz"):
            body = gzip.compress(_page("2023年政府信息公开工作年度报告", TABLE_HTML), mtime=0)
            self._send(200, body, html + [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")])
        elif path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b'{"rows": [', b'{"year": 2023, "n": 37}', b"]}"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/cookies":
            self._send(200, _page("cookies", "<p>two cookies</p>"),
                       html + [("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Path=/; HttpOnly")])
        elif path == "/etag":
            if self.headers.get("If-None-Match") == '"v1"':
                self._send(304, b"", [("ETag", '"v1"')])
            else:
                self._send(200, _page("etag", "<p>versioned</p>"), html + [("ETag", '"v1"')])
        elif path == "/cached":
            self._send(200, _page("cached", "<p>kept by the HTTP cache</p>"), html)
        elif path in ("/same-a", "/same-b"):
            self._send(200, _page("same", "<p>identical payload at two URLs</p>"), html)
        elif path == "/big.pdf":
            self._send(200, b"%PDF-1.4\n" + b"0" * BIG_SIZE, [("Content-Type", "application/pdf")])
        elif path == "/redirect":
            self._send(302, b"", [("Location", "/gz?lang=zh&page=2")])
        elif path == "/teapot":
            self._send(418, b"short and stout", [("Content-Type", "text/plain")], reason="I'm a teapot")
        elif path == "/js":
            script = ("fetch('/data.json').then(r => r.json()).then(d => {document.getElementById('out')"
                      ".innerHTML = '<table id=\"t\">' + d.rows.map(r => '<tr><td>' + r[0] + '</td><td>' "
                      "+ r[1] + '</td></tr>').join('') + '</table>';});")
            self._send(200, _page("rendered", f"<div id='out'></div><script>{script}</script>"), html)
        elif path == "/data.json":
            rows = [["新收政府信息公开申请数量", 37], ["上年结转", 4]]
            self._send(200, json.dumps({"rows": rows}, ensure_ascii=False).encode(),
                       [("Content-Type", "application/json; charset=utf-8")])
        else:
            self._send(404, b"not found", [("Content-Type", "text/plain")])

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length)
        self._send(200, b"received " + data, [("Content-Type", "text/plain")])


class LocalSite:
    """The test site on 127.0.0.1 (a free port), served from a thread."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


SPIDER = '''
import json
import scrapy


class ArchiveProbe(scrapy.Spider):
    name = "archive_probe"

    def __init__(self, base, browser="0", **kw):
        super().__init__(**kw)
        self.base = base
        self.browser = browser == "1"

    async def start(self):
        b = self.base
        for path in ("/gz?lang=zh&page=2", "/chunked", "/cookies", "/etag", "/same-a", "/same-b",
                     "/big.pdf", "/redirect", "/teapot", "/missing?x=1"):
            yield scrapy.Request(b + path, meta={"portal_id": "probe", "dont_cache": True}, dont_filter=True)
        # the one response Scrapy's HTTP cache keeps: the second crawl gets it from the cache
        yield scrapy.Request(b + "/cached", meta={"portal_id": "probe"}, dont_filter=True)
        yield scrapy.Request(b + "/post?form=1", method="POST", body=b"year=2023&q=%E5%B9%B4%E6%8A%A5",
                             headers={"Content-Type": "application/x-www-form-urlencoded"},
                             meta={"portal_id": "probe"}, dont_filter=True)
        if self.browser:
            from scrapy_playwright.page import PageMethod

            # the DOM is snapshotted once the page's own fetch has filled the table, however loaded the machine
            wait = [PageMethod("wait_for_selector", "#out td")]
            yield scrapy.Request(b + "/js", meta={"portal_id": "probe", "playwright": True, "dont_cache": True,
                                                  "playwright_page_methods": wait}, dont_filter=True)

    def parse(self, response):
        yield {"url": response.url, "status": response.status, "record_id": response.meta.get("warc_record_id"),
               "sha256": response.meta.get("sha256"), "truncated": response.meta.get("warc_truncated"),
               "flags": response.flags, "length": len(response.body),
               "text": response.text if response.url.endswith("/js") else None}
        if response.url.endswith("/etag") and response.status == 200:
            yield scrapy.Request(response.url, headers={"If-None-Match": '"v1"'}, dont_filter=True,
                                 meta={"portal_id": "probe", "handle_httpstatus_list": [304], "dont_cache": True})
'''


def scrapy_settings(data_dir: Path) -> list[str]:
    """Command-line settings for a fast test crawl that runs only the archive's own components."""
    pairs = {
        "HTTPCACHE_ENABLED": "1", "HTTPCACHE_DIR": str(data_dir.parent / "httpcache"),
        "DATA_DIR": str(data_dir), "DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "0",
        "ITEM_PIPELINES": "{}", "EXTENSIONS": "{}", "RETRY_ENABLED": "0", "LOG_LEVEL": "INFO",
        "DOWNLOADER_MIDDLEWARES": json.dumps({"archive.capture.WarcCaptureMiddleware": 950}),
        "DOWNLOAD_MAXSIZE": str(MAXSIZE), "HTTPERROR_ALLOW_ALL": "1", "TELNETCONSOLE_ENABLED": "0",
    }
    return [arg for key, value in pairs.items() for arg in ("-s", f"{key}={value}")]


def run_probe(site: LocalSite, data_dir: Path, work: Path, browser: bool = False) -> subprocess.CompletedProcess:
    """Crawl the test site with the probe spider (project settings, archive components only)."""
    spider = work / "archive_probe.py"
    spider.write_text(SPIDER, encoding="utf-8")
    items = work / f"items-{len(list(work.glob('items-*')))}.jsonl"
    cmd = [sys.executable, "-m", "scrapy", "runspider", str(spider), "-a", f"base={site.base}",
           "-a", f"browser={int(browser)}", "-O", f"{items}:jsonlines", *scrapy_settings(data_dir)]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    result.items = [json.loads(line) for line in items.read_text().splitlines()] if items.exists() else []
    return result


@dataclass
class Rec:
    """A WARC record read back: its WARC headers, HTTP status line and headers, and raw payload."""

    file: str
    offset: int
    type: str
    warc: list[tuple[str, str]]
    statusline: str | None
    protocol: str | None
    http: list[tuple[str, str]]
    payload: bytes

    @property
    def request_line(self) -> str:
        """A request record's request line (warcio splits off the method as `protocol`)."""
        return f"{self.protocol} {self.statusline}"

    def h(self, name: str) -> str | None:
        return next((v for k, v in self.warc if k.lower() == name.lower()), None)

    def http_all(self, name: str) -> list[str]:
        return [v for k, v in self.http if k.lower() == name.lower()]


def read_warcs(warc_dir: Path) -> list[Rec]:
    """Every record of every closed WARC file in warc_dir, in file order."""
    records = []
    for path in sorted(warc_dir.glob("*.warc.gz")):
        with open(path, "rb") as fh:
            it = ArchiveIterator(fh)
            for record in it:
                http = record.http_headers
                payload = record.raw_stream.read()  # before the offset, which reads to the record's end
                records.append(Rec(
                    file=path.name, offset=it.get_record_offset(), type=record.rec_type,
                    warc=list(record.rec_headers.headers),
                    statusline=http.statusline if http else None, protocol=http.protocol if http else None,
                    http=list(http.headers) if http else [], payload=payload,
                ))
    return records


_cache: dict[str, object] = {}


def probe_crawls(tmp_path_factory) -> dict:
    """Two crawls of the test site into one DATA_DIR (the second with the browser page too), once per session."""
    if "probe" not in _cache:
        site = LocalSite()
        try:
            work = tmp_path_factory.mktemp("probe")
            data = work / "data"
            first = run_probe(site, data, work)
            second = run_probe(site, data, work, browser=True)
        finally:
            site.stop()
        _cache["probe"] = {"data": data, "first": first, "second": second, "base": site.base}
    return _cache["probe"]  # type: ignore[return-value]


def crawl_portals(registry: Path, data_dir: Path, *extra: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """`scrapy crawl portals` (the project's spider and settings) from the repo root, politeness delays off."""
    cmd = [sys.executable, "-m", "scrapy", "crawl", "portals", "-a", f"portals={registry}",
           "-s", f"DATA_DIR={data_dir}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0",
           "-s", "TELNETCONSOLE_ENABLED=0", *extra]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def sample_crawls(tmp_path_factory) -> dict:
    """Two crawls of the same running sample portals into one DATA_DIR, once per session.

    The portals are stopped afterwards, so whatever reads the archive later cannot reach them.
    """
    if "sample" not in _cache:
        from nianbao.sample_portals.server import SamplePortals

        work = tmp_path_factory.mktemp("sample-crawl")
        data = work / "data"
        with SamplePortals(registry_path=work / "portals.csv") as portals:
            first = crawl_portals(portals.registry, data)
            first_files = sorted(p.name for p in (data / "warc").glob("*.warc.gz"))
            second = crawl_portals(portals.registry, data)
            base_urls = dict(portals.base_urls)
        _cache["sample"] = {"data": data, "first": first, "second": second, "first_files": first_files,
                            "base_urls": base_urls}
    return _cache["sample"]  # type: ignore[return-value]
