"""A large generated portal for the crawl benchmarks, served on 127.0.0.1 with injected latency.

Several portals ("hosts"), each on its own 127.0.0.1 port, publish a TRS-style 年报 column: list pages
`/col/ndbg/index.html`, `index_1.html` … (20 items each, pager written by `createPageHTML` and a plain
下一页 link so non-browser crawlers see it too), one detail page per report, and for some reports an
attachment (PDF, DOCX or DOC) instead of the article. Page bodies are the sample portals' rendered
reports (bench.docpool); attachment bytes get a per-URL trailer so no two URLs share a payload (real
portals' attachments differ, and identical payloads would turn into cheap revisit records).

Pages are made on request from the URL alone, so any size costs no disk. The server runs in its own
process (its CPU is not the crawler's) and answers a control port: `/stats`, `/reset`, `/latency?ms=N`.

    python -m bench.bigportal --hosts 20 --items 700 --latency-ms 0
prints one JSON line {"control": port, "ports": [...]} once listening.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from email.utils import formatdate
from html import escape
from pathlib import Path

from bench.docpool import PAGE_FOOT, PAGE_HEAD, load_pool

PER_PAGE = 20
ATTACHMENT_SHARE = 3  # in 10 reports are published as an attachment
ATTACHMENT_FORMATS = ("pdf", "pdf", "pdf", "docx", "doc")
DOC_BASE = 1_000_000
HOST_SPAN = 100_000
COLUMN = "/col/ndbg/"
_DETAIL = re.compile(r"^/col/ndbg/\d{6}/t\d{8}_(\d{7})\.html$")
_ATTACHMENT = re.compile(r"^/col/ndbg/\d{6}/P0\d{8}(\d{7})\.(pdf|docx|doc)$")
_LIST = re.compile(r"^/col/ndbg/(?:index(?:_(\d+))?\.html)?$")
_BODIES = ("卫生健康委员会", "教育局", "民政局", "司法局", "财政局", "人力资源和社会保障局", "自然资源局",
           "生态环境局", "住房和城乡建设局", "交通运输局", "水务局", "农业农村局", "商务局", "文化和旅游局",
           "应急管理局", "体育局", "市场监督管理局", "统计局", "医疗保障局", "信访局")
_PLACES = ("哈尔滨市", "齐齐哈尔市", "牡丹江市", "佳木斯市", "大庆市", "鸡西市", "双鸭山市", "伊春市",
           "七台河市", "鹤岗市", "黑河市", "绥化市", "烟台市", "威海市", "青岛市", "潍坊市", "武汉市",
           "宜昌市", "襄阳市", "荆州市", "十堰市", "孝感市", "黄冈市", "咸宁市")
LIST_NAV = "".join(f'<li><a href="index.html">{name}</a></li>' for name in (
    "政府信息公开指南", "政府信息公开制度", "法定主动公开内容", "政府信息公开年报", "依申请公开"))


@dataclass
class Item:
    """One report of a generated column."""

    host: int
    index: int

    @property
    def doc_id(self) -> int:
        return DOC_BASE + self.host * HOST_SPAN + self.index

    @property
    def year(self) -> int:
        return 2008 + self.index % 17

    @property
    def agency(self) -> str:
        place = _PLACES[self.host % len(_PLACES)]
        return place + _BODIES[(self.index // 17) % len(_BODIES)]

    @property
    def title(self) -> str:
        return f"{self.agency}{self.year}年政府信息公开工作年度报告"

    @property
    def date(self) -> str:
        return f"{self.year + 1}-{1 + self.index % 3:02d}-{10 + self.index % 18:02d}"

    @property
    def attachment_format(self) -> str | None:
        if (self.index * 7) % 10 < ATTACHMENT_SHARE:
            return ATTACHMENT_FORMATS[self.index % len(ATTACHMENT_FORMATS)]
        return None

    def _stamp(self) -> tuple[str, str]:
        ymd = self.date.replace("-", "")
        return ymd[:6], ymd

    @property
    def detail_path(self) -> str:
        month, day = self._stamp()
        return f"{COLUMN}{month}/t{day}_{self.doc_id}.html"

    @property
    def attachment_path(self) -> str:
        month, day = self._stamp()
        return f"{COLUMN}{month}/P0{day}{self.doc_id}.{self.attachment_format}"


def pages_per_host(items: int) -> int:
    """Responses one host serves to a full crawl: robots.txt, list pages, detail pages, attachments."""
    attachments = sum(1 for i in range(items) if Item(0, i).attachment_format)
    return 1 + -(-items // PER_PAGE) + items + attachments


def items_for_pages(total_pages: int, hosts: int) -> int:
    """Items per host so that a full crawl of `hosts` hosts fetches at least `total_pages` responses."""
    items = max(1, total_pages // hosts * 10 // 14)
    while pages_per_host(items) * hosts < total_pages:
        items += 1
    return items


class Content:
    """Builds every response of the generated portals from its path."""

    def __init__(self, items: int):
        if not 0 < items < HOST_SPAN:
            raise ValueError(f"bench.bigportal: items per host must be 1..{HOST_SPAN - 1}, not {items}")
        self.items = items
        self.list_pages = -(-items // PER_PAGE)
        pool = load_pool()
        self.articles = []
        for doc in pool:
            if doc.format == "html" and doc.truth["format_version"] != "pre2019":
                html = doc.data().decode("utf-8")
                start, end = html.index('<div class="article-content">'), html.index('<div class="footer">')
                self.articles.append((html[start:end], doc.truth["title"]))
        self.attachments = {}
        for fmt in set(ATTACHMENT_FORMATS):
            docs = [d for d in pool if d.format == fmt]
            self.attachments[fmt] = [d.data() for d in docs]
        if not self.articles or not all(self.attachments.values()):
            raise RuntimeError("bench.docpool: the sample corpus lacks HTML, PDF, DOCX or DOC reports")

    def respond(self, host: int, path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for a GET of `path` on host number `host`."""
        if path == "/robots.txt":
            return 200, "text/plain", b"User-agent: *\nDisallow: /search/\n"
        if path in ("/", "/index.html"):
            body = f'<html><body><a href="{COLUMN}index.html">政府信息公开年报</a></body></html>'
            return 200, "text/html; charset=utf-8", body.encode("utf-8")
        match = _LIST.match(path)
        if match:
            page = int(match.group(1) or 0)
            if page < self.list_pages:
                return 200, "text/html; charset=utf-8", self.list_page(host, page).encode("utf-8")
        match = _DETAIL.match(path)
        if match:
            item = self._item(host, int(match.group(1)))
            if item:
                return 200, "text/html; charset=utf-8", self.detail_page(item).encode("utf-8")
        match = _ATTACHMENT.match(path)
        if match:
            item = self._item(host, int(match.group(1)))
            if item and item.attachment_format == match.group(2):
                return 200, _MIME[match.group(2)], self.attachment(item)
        return 404, "text/html; charset=utf-8", b"<html><body><h1>404 Not Found</h1></body></html>"

    def _item(self, host: int, doc_id: int) -> Item | None:
        index = doc_id - DOC_BASE - host * HOST_SPAN
        return Item(host, index) if 0 <= index < self.items else None

    def list_page(self, host: int, page: int) -> str:
        rows = []
        for index in range(page * PER_PAGE, min(self.items, (page + 1) * PER_PAGE)):
            item = Item(host, index)
            href = "." + item.detail_path[len(COLUMN) - 1:]
            title = escape(item.title)
            rows.append(f'<li><a href="{href}" target="_blank" title="{title}">{title}</a>'
                        f'<span class="date">{item.date}</span></li>')
        nxt = f'<a href="index_{page + 1}.html">下一页</a>' if page + 1 < self.list_pages else ""
        head = PAGE_HEAD.format(title="政府信息公开年报", agency=_PLACES[host % len(_PLACES)], published="")
        return (head + f'<ul class="nav">{LIST_NAV}</ul><ul class="list">' + "".join(rows) + "</ul>"
                f'<div class="page"><script>createPageHTML({self.list_pages}, {page}, "index", "html");</script>'
                f"{nxt}</div>" + PAGE_FOOT.format(agency=_PLACES[host % len(_PLACES)]))

    def detail_page(self, item: Item) -> str:
        head = PAGE_HEAD.format(title=escape(item.title), agency=escape(item.agency), published=item.date)
        if item.attachment_format:
            name = item.attachment_path.rsplit("/", 1)[1]
            body = (f'<div class="article-content"><h1 class="title">{escape(item.title)}</h1>'
                    f'<p>现将{escape(item.title)}予以公布。</p><p>附件：<a href="./{name}">'
                    f"{escape(item.title)}.{item.attachment_format}</a></p></div>")
        else:
            article, title = self.articles[item.index % len(self.articles)]
            body = article.replace(escape(title), escape(item.title), 1)
        return head + body + PAGE_FOOT.format(agency=escape(item.agency))

    def attachment(self, item: Item) -> bytes:
        pool = self.attachments[item.attachment_format]
        return pool[item.index % len(pool)] + f"\n%nianbao-bench {item.host}/{item.doc_id}\n".encode()


_MIME = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword",
}
_REASONS = {200: "OK", 404: "Not Found", 400: "Bad Request"}


class Server:
    """The asyncio HTTP/1.1 server (keep-alive, GET/HEAD) of every host, plus the control port."""

    def __init__(self, content: Content, latency_ms: float):
        self.content = content
        self.latency = latency_ms / 1000
        self.responses = 0
        self.bytes = 0
        self.statuses: dict[int, int] = {}
        self.last_modified = formatdate(time.time() - 86400 * 30, usegmt=True)

    async def handle(self, host: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
                parts = request_line.split(" ")
                method, target = (parts[0], parts[1]) if len(parts) >= 2 else ("", "/")
                path = target.split("?", 1)[0]
                if method in ("GET", "HEAD"):
                    status, ctype, body = self.content.respond(host, path)
                else:
                    status, ctype, body = 400, "text/plain", b"bad request"
                if self.latency:
                    await asyncio.sleep(self.latency)
                header = (f"HTTP/1.1 {status} {_REASONS[status]}\r\nServer: nianbao-bench\r\n"
                          f"Date: {formatdate(usegmt=True)}\r\nLast-Modified: {self.last_modified}\r\n"
                          f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                          "Connection: keep-alive\r\n\r\n").encode("latin-1")
                writer.write(header if method == "HEAD" else header + body)
                await writer.drain()
                self.responses += 1
                self.bytes += len(body)
                self.statuses[status] = self.statuses.get(status, 0) + 1
                if b"connection: close" in head.lower():
                    return
        except ConnectionError:
            return
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            target = head.split(b" ", 2)[1].decode("latin-1")
            if target.startswith("/reset"):
                self.responses, self.bytes, self.statuses = 0, 0, {}
            elif target.startswith("/latency"):
                self.latency = float(target.split("ms=", 1)[1]) / 1000
            body = json.dumps({"responses": self.responses, "bytes": self.bytes, "latency_ms": self.latency * 1000,
                               "statuses": self.statuses}).encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                         + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            await writer.drain()
        finally:
            writer.close()


async def _serve(hosts: int, items: int, latency_ms: float) -> None:
    server = Server(Content(items), latency_ms)
    ports = []
    servers = []
    for host in range(hosts):
        srv = await asyncio.start_server(lambda r, w, h=host: server.handle(h, r, w), "127.0.0.1", 0,
                                         backlog=256)
        servers.append(srv)
        ports.append(srv.sockets[0].getsockname()[1])
    control = await asyncio.start_server(server.control, "127.0.0.1", 0)
    print(json.dumps({"control": control.sockets[0].getsockname()[1], "ports": ports}), flush=True)
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--items", type=int, default=700, help="reports per host")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.hosts, args.items, args.latency_ms))


class BigPortal:
    """The generated portals in a child process; `with BigPortal(hosts, items) as portal: ...`."""

    def __init__(self, hosts: int, items: int, latency_ms: float = 0.0, startup_timeout: float = 120.0):
        # article ids are 7 digits: DOC_BASE + host * HOST_SPAN + item
        if not 0 < hosts <= (10_000_000 - DOC_BASE) // HOST_SPAN - 1 or not 0 < items < HOST_SPAN:
            raise ValueError(f"bench.bigportal: {hosts} hosts × {items} items is outside 1..89 × 1..99999")
        self.hosts, self.items = hosts, items
        self.latency_ms = latency_ms
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self.ports: list[int] = []
        self.control_port = 0

    def __enter__(self) -> BigPortal:
        load_pool()  # render the document pool here, not inside the server's start-up time
        repo = Path(__file__).resolve().parents[1]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.bigportal", "--hosts", str(self.hosts), "--items", str(self.items),
             "--latency-ms", str(self.latency_ms)],
            cwd=repo, stdout=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + self.startup_timeout
        line = ""
        while time.monotonic() < deadline and not line:
            line = self.proc.stdout.readline()
            if self.proc.poll() is not None:
                break
        if not line:
            self.__exit__(None, None, None)
            raise RuntimeError("bench.bigportal: the generated portal server did not start")
        info = json.loads(line)
        self.ports, self.control_port = info["ports"], info["control"]
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def _control(self, path: str) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.control_port}{path}", timeout=10) as resp:
            return json.loads(resp.read())

    def stats(self) -> dict:
        """Responses and body bytes served since the last reset, by status."""
        return self._control("/stats")

    def reset(self) -> dict:
        return self._control("/reset")

    def set_latency(self, ms: float) -> dict:
        return self._control(f"/latency?ms={ms}")

    def column_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}{COLUMN}index.html" for port in self.ports]

    def write_registry(self, path: Path) -> Path:
        """A portals.csv naming every generated portal (allow_private: they are on 127.0.0.1)."""
        lines = ["id,agency,url,region,level,render,allow_private,notes"]
        for host, url in enumerate(self.column_urls()):
            agency = _PLACES[host % len(_PLACES)] + "人民政府"
            lines.append(f"bench-{host:02d},{agency},{url},,市,,true,generated benchmark portal")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def expected_pages(self) -> int:
        """Responses a complete crawl of every host fetches (robots.txt included)."""
        return pages_per_host(self.items) * self.hosts


if __name__ == "__main__":
    main()
