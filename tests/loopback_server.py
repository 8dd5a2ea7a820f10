"""A small HTTP server on a loopback address for crawl tests: scripted answers and a log of every
request it received (the proof of what reached it), plus a crawl runner with a test name resolver.

Bounded: threads are daemons, every answer ends within `MAX_ANSWER_SECONDS`, the server stops when
its `with` block ends.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
MAX_ANSWER_SECONDS = 30.0

# A test resolver for the crawl's process: names in NIANBAO_TEST_HOSTS ("name=address,...") resolve
# to the given address, for getaddrinfo and gethostbyname alike (so for Twisted's resolvers too).
SITECUSTOMIZE = '''
import os, socket
_hosts = dict(p.split("=", 1) for p in os.environ.get("NIANBAO_TEST_HOSTS", "").split(",") if "=" in p)
_getaddrinfo, _gethostbyname, _gethostbyname_ex = socket.getaddrinfo, socket.gethostbyname, socket.gethostbyname_ex
def getaddrinfo(host, *args, **kwargs):
    if isinstance(host, bytes):
        host = host.decode("ascii")
    return _getaddrinfo(_hosts.get((host or "").lower().rstrip("."), host), *args, **kwargs)
def gethostbyname(host):
    return _gethostbyname(_hosts.get(host.lower().rstrip("."), host))
def gethostbyname_ex(host):
    return _gethostbyname_ex(_hosts.get(host.lower().rstrip("."), host))
socket.getaddrinfo, socket.gethostbyname, socket.gethostbyname_ex = getaddrinfo, gethostbyname, gethostbyname_ex
'''

Answer = tuple[int, dict[str, str], bytes]


@dataclass
class Hit:
    """One request the server received."""

    path: str
    host: str
    at: float


@dataclass
class LoopbackServer:
    """Serve `routes` (path → answer, or a callable(handler) that writes its own) on `address`."""

    address: str = "127.0.0.1"
    routes: dict[str, Answer | Callable] = field(default_factory=dict)
    log: list[Hit] = field(default_factory=list)

    def __enter__(self) -> LoopbackServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            timeout = MAX_ANSWER_SECONDS

            def do_GET(self) -> None:  # noqa: N802 - http.server's interface
                # a proxy is asked for absolute URLs: those are routed by their path too
                path = urlsplit(self.path).path if self.path.startswith("http") else self.path.split("?", 1)[0]
                server.log.append(Hit(self.path, self.headers.get("Host", ""), time.monotonic()))
                answer = server.routes.get(path)
                if answer is None:
                    answer = (404, {"Content-Type": "text/plain"}, b"not found")
                if callable(answer):
                    answer(self)
                    return
                status, headers, body = answer
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:  # noqa: ANN002 - quiet
                return None

        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        server_class = type("Server", (ThreadingHTTPServer,), {"address_family": family, "daemon_threads": True})
        self.httpd = server_class((self.address, 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str = "/") -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"http://{host}:{self.port}{path}"

    def hits(self, path: str) -> list[Hit]:
        return [h for h in self.log if h.path.split("?", 1)[0] == path]


def html(body: str) -> Answer:
    return 200, {"Content-Type": "text/html; charset=utf-8"}, f"<html><body>{body}</body></html>".encode()


def redirect(location: str) -> Answer:
    return 302, {"Location": location, "Content-Type": "text/html"}, b""


def pdf(text: str = "report") -> Answer:
    return 200, {"Content-Type": "application/pdf"}, b"%PDF-1.4\n% " + text.encode() + b"\n%%EOF\n"


def report_list(links: dict[str, str]) -> Answer:
    """A 年报 column page: one report-titled link per (href → made-up agency) item."""
    items = "".join(f'<li><a href="{href}">{agency}2023年政府信息公开工作年度报告</a><span>2024-01-15</span></li>'
                    for href, agency in links.items())
    return html(f"<h1>政府信息公开年报</h1><ul class='list'>{items}</ul>")


def ipv6_loopback_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def write_registry(path: Path, rows: list[dict]) -> Path:
    columns = ("id", "agency", "url", "region", "level", "render", "allow_private", "notes")
    lines = [",".join(columns)] + [",".join(str(row.get(c, "")) for c in columns) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def crawl_env(tmp_path: Path, hosts: dict[str, str] | None = None, base: dict[str, str] | None = None) -> dict:
    """The environment of a child crawl that resolves the names in `hosts` with the test resolver."""
    custom = tmp_path / "testresolver"
    custom.mkdir(exist_ok=True)
    (custom / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    env = dict(os.environ if base is None else base)
    env["PYTHONPATH"] = os.pathsep.join([str(custom), str(ROOT), os.environ.get("PYTHONPATH", "")])
    env["SCRAPY_SETTINGS_MODULE"] = "settings"
    env["NIANBAO_TEST_HOSTS"] = ",".join(f"{k}={v}" for k, v in (hosts or {}).items())
    return env


_TEST_CRAWL_SETTINGS = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "LOG_LEVEL": "INFO"}


def _setting_args(settings: dict) -> list[str]:
    return [arg for key, value in {**_TEST_CRAWL_SETTINGS, **settings}.items() for arg in ("-s", f"{key}={value}")]


def crawl_command(registry: Path, data: Path, settings: dict | None = None) -> list[str]:
    """`scrapy crawl portals` of `registry` into `data`, politeness delays off, INFO log."""
    return [sys.executable, "-m", "scrapy", "crawl", "portals", "-a", f"portals={registry}", "-s", f"DATA_DIR={data}",
            *_setting_args(settings or {})]


def run_crawl(tmp_path: Path, registry: Path, settings: dict | None = None, hosts: dict[str, str] | None = None,
              command: list[str] | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    """`scrapy crawl portals` (or `command`, given the same settings) in a child process with the test
    resolver for `hosts`."""
    base = {"CONCURRENT_REQUESTS_PER_DOMAIN": 8, **(settings or {})}
    cmd = crawl_command(registry, tmp_path / "data", base) if command is None else [*command, *_setting_args(base)]
    return subprocess.run(cmd, cwd=ROOT, env=crawl_env(tmp_path, hosts), capture_output=True, text=True,
                          timeout=timeout)


def wait_for_port(port: int, seconds: float = 30, host: str = "127.0.0.1") -> None:
    """Return once something accepts connections on host:port; AssertionError after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {host}:{port} after {seconds:g} s")
