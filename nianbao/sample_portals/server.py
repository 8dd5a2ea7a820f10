"""Serve the sample portals on 127.0.0.1: one port (= one host) per portal family, one for the
attachment file server and one for a portal that only answers 412 with a JavaScript challenge.

`SamplePortals` is a context manager for tests and the demo; `serve_forever` is what
`nianbao sample-portals` runs. The server adds what a static tree cannot hold: the data
endpoints, gzip and chunked transfer, ETag/Last-Modified with 304, two Set-Cookie headers,
a slow page, a transient 503, a 301, RFC 5987 Content-Disposition, and, with `scale`, columns
of any size generated on the fly.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import mimetypes
import shutil
import sys
import tempfile
import threading
import time
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

from nianbao.sample_portals.families import gbk, gkmlpt, hanweb, jsapp, jspager, trs, trssearch
from nianbao.sample_portals.families.common import FILES_BASE, SITE_BASE, Reply, load_manifest

PACKAGE_DIR = Path(__file__).resolve().parent
SITE_DIR = PACKAGE_DIR / "site"
HOSTS = ("trs", "hanweb", "jsapp", "gbk", "files", "blocked", "robotsnav", "linkedjs", "emptylist", "nocolumn")
DYNAMIC = {"trs": trs.Dynamic, "hanweb": hanweb.Dynamic, "jsapp": jsapp.Dynamic, "gbk": gbk.Dynamic}
# the intensive-platform families: gkmlpt, a TRS column past maxStaticIndex, a goPage pager
HOSTS += ("gkmlpt", "trssearch", "jspager")
DYNAMIC.update({"gkmlpt": gkmlpt.Dynamic, "trssearch": trssearch.Dynamic, "jspager": jspager.Dynamic})
# One fixed modification time for the whole tree: builds and checkouts must not change what
# conditional requests see.
LAST_MODIFIED = formatdate(1740988800, usegmt=True)  # 2025-03-03
TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml")
REGISTRY_COLUMNS = ("id", "agency", "url", "region", "level", "render", "allow_private", "notes")
REGISTRY_ROWS = {
    "trs": ("sample-trs", "哈尔滨市卫生健康委员会", "/index.html", "230100", "市", "",
            "TRS-style static column, createPageHTML pagination"),
    "hanweb": ("sample-hanweb", "海阳市卫生健康局", "/index.html", "370687", "县",
               "", "Hanweb-style column with a dataproxy.jsp data endpoint"),
    "jsapp": ("sample-jsapp", "硚口区卫健局", "/index.html", "420104", "县", "js",
              "list built by JavaScript from a JSON API"),
    "gbk": ("sample-gbk", "鹤岗市卫健委", "/index.htm", "230400", "市", "", "old GBK site, table layout"),
    "blocked": ("sample-blocked", "绥化市人民政府办公室", "/index.html", "231200", "市", "",
                "answers 412 with a JavaScript challenge"),
    "robotsnav": ("sample-robotsnav", "道里区卫生健康局", "/index.html", "230102", "县", "",
                  "the 年报 link on the home page is disallowed by robots.txt; the navigation reaches the column"),
    "linkedjs": ("sample-linkedjs", "平房区卫生健康局", "/index.html", "230108", "县", "",
                 "the column list is built by a linked script"),
    "emptylist": ("sample-emptylist", "香坊区卫生健康局", "/index.html", "230110", "县", "",
                  "an empty list container and a pager that only the browser fills"),
    "nocolumn": ("sample-nocolumn", "呼兰区卫生健康局", "/index.html", "230111", "县", "",
                 "publishes no 年报 column"),
}
REGISTRY_ROWS.update({
    "gkmlpt": ("sample-gkmlpt", "南海区卫生健康局", "/index.html", "440605", "县", "",
               "Guangdong gkmlpt platform: shell page, catalogue tree, JSON API"),
    "trssearch": ("sample-trssearch", "鼓楼区卫生健康局", "/index.htm", "350102", "县", "",
                  "TRS column past maxStaticIndex: later pages from the search service"),
    "jspager": ("sample-jspager", "绵竹市卫生健康局", "/index.html", "510683", "县", "",
                "list paged by javascript:goPage(n) form posts"),
})
CHALLENGE_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta http-equiv="Pragma" content="no-cache">
<meta id="9DhefwqGPrzGxEp9hPaoag" content="{token}">
<script type="text/javascript">
var $_ts = window['$_ts']; if (!$_ts) $_ts = {{}}; $_ts.nsd = 48213; $_ts.cd = "{token}";
document.cookie = "FSSBBIl1UgzbN7N80T=" + $_ts.cd + "; path=/";
setTimeout(function () {{ location.reload(); }}, 50);
</script>
</head><body></body></html>
"""


class _Host:
    """What one host serves: its static tree, its on-the-fly routes and its manifest's quirks."""

    def __init__(self, name: str, site_dir: Path, scale: int, slow_seconds: float):
        self.name = name
        self.root = site_dir / name
        self.manifest = load_manifest(site_dir, name) if name in DYNAMIC else {}
        self.dynamic = DYNAMIC[name](self.manifest, scale) if name in DYNAMIC else None
        self.downloads = load_manifest(site_dir, "hanweb").get("downloads", {}) if name == "files" else {}
        self.slow = set(self.manifest.get("slow", []))
        self.flaky = set(self.manifest.get("flaky", []))
        self.slow_seconds = slow_seconds
        self.hits: dict[str, int] = {}
        self.requests: list[str] = []  # every request's target (path and query), in arrival order
        self.intervals: list[tuple[float, float, str]] = []  # (arrival, answer began, target) per request
        self.lock = threading.Lock()
        self.files_base = ""

    def count(self, path: str) -> int:
        """How many times `path` was asked for, this one included."""
        with self.lock:
            self.hits[path] = self.hits.get(path, 0) + 1
            return self.hits[path]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""
    host: _Host  # set on the per-host subclass

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - signature of the base class
        pass

    def do_HEAD(self) -> None:
        self._timed(head=True)

    def do_GET(self) -> None:
        self._timed()

    def do_POST(self) -> None:
        self._timed()

    def _timed(self, head: bool = False) -> None:
        # When each request was being served, for tests of clients' per-host concurrency: from its
        # arrival to the moment its answer began (a client cannot have the whole answer before that, so a
        # client that waits for one answer before the next request never shows as overlapping).
        start = time.monotonic()
        self._answered = None
        try:
            self._serve(head=head)
        finally:
            with self.host.lock:
                self.host.intervals.append((start, self._answered or time.monotonic(), self.path))

    def _form(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw or "x-www-form-urlencoded" not in (self.headers.get("Content-Type") or "form-urlencoded"):
            return {}
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))

    def _serve(self, head: bool = False) -> None:
        host = self.host
        split = urlsplit(self.path)
        path = split.path or "/"
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        form = self._form() if self.command == "POST" else {}
        with host.lock:
            host.requests.append(self.path)
        if host.name == "blocked":
            return self._challenge(head)
        if path in host.slow:
            time.sleep(host.slow_seconds)
        if path in host.flaky and host.count(path) % 2 == 1:
            # fails every other time: any client that retries once gets the page
            body = b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"
            return self._send(Reply(503, body, headers=[("Retry-After", "1")]), head)
        redirects = host.manifest.get("redirects", {})
        if path in redirects:
            location = f"http://{self.headers.get('Host') or self.server.server_address[0]}{redirects[path]}"
            body = b"<html><body>301 Moved Permanently</body></html>"
            return self._send(Reply(301, body, headers=[("Location", location)]), head)
        reply = None
        if host.dynamic is not None:
            reply = host.dynamic.handle(self.command, path, query, form)
        if reply is None and host.name == "files" and path == hanweb.DOWNLOAD:
            reply = self._download(query)
        if reply is None:
            reply = self._static(path)
        if reply.status == 200 and path in host.manifest.get("cookies", []):
            reply.headers = (reply.headers or []) + [
                ("Set-Cookie", f"JSESSIONID={hashlib.sha1(path.encode()).hexdigest()[:32].upper()}; Path=/; HttpOnly"),
                ("Set-Cookie", "SERVERID=a1b2c3d4e5f6|web01; Path=/"),
            ]
        self._send(reply, head)

    def _static(self, path: str) -> Reply:
        host = self.host
        target = (host.root / path.lstrip("/")).resolve()
        if not str(target).startswith(str(host.root.resolve())):
            return self._not_found()
        if target.is_dir():
            for index in ("index.html", "index.htm"):
                if (target / index).is_file():
                    target = target / index
                    break
        if not target.is_file():
            return self._not_found()
        data = target.read_bytes()
        ctype = host.manifest.get("content_type") if target.suffix in (".htm", ".html") else None
        if not ctype:
            ctype = _content_type(target.name)
        headers = []
        disposition = host.manifest.get("dispositions", {}).get(path)
        if disposition:
            # the file's name only in RFC 5987 form, as gkmlpt attachment servers send it
            headers.append(("Content-Disposition", f"attachment; filename*=UTF-8''{quote(disposition, safe='')}"))
        return self._conditional(Reply(200, data, ctype, headers=headers))

    def _conditional(self, reply: Reply) -> Reply:
        """A static document with its validators, or `304 Not Modified` when the request's still match."""
        digest = hashlib.sha1(reply.body)
        if FILES_BASE.encode() in reply.body:
            # the page as served names the running file server, whose address is part of its content
            digest.update(self.host.files_base.encode())
        validators = [("ETag", '"' + digest.hexdigest()[:20] + '"'), ("Last-Modified", LAST_MODIFIED)]
        if _not_modified(self.headers, validators[0][1]):
            return Reply(304, b"", reply.content_type, headers=validators)
        reply.headers = (reply.headers or []) + validators
        return reply

    def _download(self, query: dict) -> Reply:
        entry = self.host.downloads.get(query.get("filename", ""))
        if entry is None:
            return self._not_found()
        data = (self.host.root / entry["path"].lstrip("/")).read_bytes()
        name = entry["name"]
        # Old servers send the raw GBK bytes; RFC 5987 filename* carries the same name in UTF-8.
        raw = name.encode("gbk", errors="replace").decode("latin-1")
        disposition = f"attachment; filename=\"{raw}\"; filename*=UTF-8''{quote(name, safe='')}"
        return self._conditional(
            Reply(200, data, "application/octet-stream", headers=[("Content-Disposition", disposition)]))

    def _not_found(self) -> Reply:
        body = "<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1></body></html>"
        return Reply(404, body.encode("utf-8"))

    def _challenge(self, head: bool) -> None:
        token = hashlib.sha1(self.path.encode()).hexdigest()
        reply = Reply(
            412,
            CHALLENGE_PAGE.format(token=token).encode("utf-8"),
            headers=[("Set-Cookie", f"FSSBBIl1UgzbN7N80S={token[:24]}; Path=/; HttpOnly")],
        )
        self._send(reply, head)

    def _send(self, reply: Reply, head: bool) -> None:
        body = reply.body
        if any(reply.content_type.startswith(t) for t in TEXT_TYPES) and FILES_BASE.encode() in body:
            body = body.replace(FILES_BASE.encode(), self.host.files_base.encode())
        if any(reply.content_type.startswith(t) for t in TEXT_TYPES) and SITE_BASE.encode() in body:
            address, port = self.server.server_address[:2]
            own = "http://" + (self.headers.get("Host") or f"{address}:{port}")
            body = body.replace(SITE_BASE.encode(), own.encode())
        headers = list(reply.headers or [])
        gzip_it = (
            self.host.manifest.get("gzip")
            and reply.status == 200
            and reply.content_type.startswith("text/html")
            and "gzip" in (self.headers.get("Accept-Encoding") or "")
        )
        if gzip_it:
            body = gzip.compress(body, mtime=0)
            headers += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
        self._answered = time.monotonic()
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        for name, value in headers:
            self.send_header(name, value)
        if reply.chunked and not head:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), 1024):
                chunk = body[i : i + 1024]
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and reply.status != 304:
            self.wfile.write(body)


def _content_type(name: str) -> str:
    ext = name.rsplit(".", 1)[-1].lower()
    known = {
        "html": "text/html; charset=utf-8",
        "htm": "text/html; charset=utf-8",
        "js": "application/javascript; charset=utf-8",
        "css": "text/css",
        "txt": "text/plain; charset=utf-8",
        "json": "application/json; charset=utf-8",
        "ofd": "application/ofd",
        "doc": "application/msword",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
    return known.get(ext) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def _not_modified(headers, etag: str) -> bool:
    if_none = headers.get("If-None-Match")
    if if_none:
        return etag in [t.strip() for t in if_none.split(",")] or if_none.strip() == "*"
    since = headers.get("If-Modified-Since")
    if since:
        try:
            return parsedate_to_datetime(since) >= parsedate_to_datetime(LAST_MODIFIED)
        except (TypeError, ValueError):
            return False
    return False


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # a crawler or browser hanging up mid-response is ordinary; anything else is a bug worth seeing
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class SamplePortals:
    """The sample portals running on 127.0.0.1, one thread per host; use as a context manager.

    first_port=0 picks free ports, otherwise hosts take first_port, first_port+1, … in HOSTS
    order. scale adds that many filler items to every family's column, generated on the fly
    (for benchmarks: 20,000+ entries cost nothing to build). The registry CSV of the running
    portals is written to `registry` (a temporary file unless registry_path is given).
    """

    def __init__(
        self,
        first_port: int = 0,
        scale: int = 0,
        registry_path: str | Path | None = None,
        slow_seconds: float = 2.0,
        site_dir: Path = SITE_DIR,
    ):
        if not (site_dir / "_manifest").is_dir():
            raise FileNotFoundError(f"no sample site in {site_dir}: run `python -m nianbao.sample_portals.build`")
        self.first_port = first_port
        self.scale = scale
        self.site_dir = site_dir
        self.slow_seconds = slow_seconds
        self._tmp: str | None = None
        self._registry_path = Path(registry_path) if registry_path else None
        self._servers: dict[str, ThreadingHTTPServer] = {}
        self._threads: list[threading.Thread] = []
        self._hosts: dict[str, _Host] = {}
        self.base_urls: dict[str, str] = {}
        self.registry: Path | None = None

    def start(self) -> SamplePortals:
        """Bind every host, start serving, write the registry."""
        try:
            for i, name in enumerate(HOSTS):
                host = _Host(name, self.site_dir, self.scale, self.slow_seconds)
                handler = type(f"{name.title()}Handler", (_Handler,), {"host": host})
                port = self.first_port + i if self.first_port else 0
                server = _QuietServer(("127.0.0.1", port), handler)
                self._servers[name] = server
                self._hosts[name] = host
                self.base_urls[name] = f"http://127.0.0.1:{server.server_address[1]}"
        except OSError:
            self.stop()
            raise
        for host in self._hosts.values():
            host.files_base = self.base_urls["files"]
        for name, server in self._servers.items():
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"sample-portal-{name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        self.registry = self._write_registry()
        return self

    def _write_registry(self) -> Path:
        path = self._registry_path
        if path is None:
            self._tmp = tempfile.mkdtemp(prefix="nianbao-sample-")
            path = Path(self._tmp) / "sample_portals.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(REGISTRY_COLUMNS)
            for host, (pid, agency, start, region, level, render, notes) in REGISTRY_ROWS.items():
                url = self.base_urls[host] + start
                writer.writerow((pid, agency, url, region, level, render, "true", notes))
        return path

    def reset_faults(self) -> None:
        """Forget request counts, so the transient 503 fails the next request again."""
        for host in self._hosts.values():
            with host.lock:
                host.hits.clear()

    def requests(self, host: str) -> list[str]:
        """Every request target (path?query) `host` has received, in arrival order."""
        with self._hosts[host].lock:
            return list(self._hosts[host].requests)

    def intervals(self, host: str) -> list[tuple[float, float, str]]:
        """(arrival, answer began, target) of every request `host` has served (time.monotonic seconds)."""
        with self._hosts[host].lock:
            return list(self._hosts[host].intervals)

    def peak_concurrency(self, host: str, since: int = 0) -> tuple[int, list[tuple[float, float, str]]]:
        """The most requests `host` was handling at once (from its `since`-th request on), and those requests."""
        return peak_concurrency(self.intervals(host)[since:])

    def url(self, host: str, path: str) -> str:
        """Absolute URL of `path` on one of the hosts (trs, hanweb, jsapp, gbk, files, blocked)."""
        return self.base_urls[host] + path

    def stop(self) -> None:
        """Stop every host and remove the temporary registry."""
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> SamplePortals:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_forever(port: int = 0, scale: int = 0) -> int:
    """Serve the sample portals until Ctrl-C; print the registry path and base URLs. Exit code."""
    try:
        portals = SamplePortals(first_port=port, scale=scale).start()
    except (OSError, FileNotFoundError) as exc:
        print(f"nianbao sample-portals: cannot start on port {port or 'auto'}: {exc}", file=sys.stderr)
        return 2
    try:
        print(f"registry: {portals.registry}")
        for name, url in portals.base_urls.items():
            print(f"{name:8} {url}/")
        print("serving on 127.0.0.1; Ctrl-C to stop", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        portals.stop()


def peak_concurrency(intervals: list[tuple[float, float, str]]) -> tuple[int, list[tuple[float, float, str]]]:
    """The most of these (arrival, answer began, target) intervals open at once, and the first such set."""
    events = sorted([(start, 1, i) for i, (start, _, _) in enumerate(intervals)]
                    + [(end, -1, i) for i, (_, end, _) in enumerate(intervals)], key=lambda e: (e[0], e[1]))
    current, peak, open_now, worst = 0, 0, set(), []
    for _, step, index in events:
        current += step
        if step > 0:
            open_now.add(index)
        else:
            open_now.discard(index)
        if current > peak:
            peak, worst = current, [intervals[i] for i in sorted(open_now)]
    return peak, worst
