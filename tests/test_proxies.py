"""Proxies named in the environment: not used unless PROXY_FROM_ENV allows them; when allowed, every
target host is checked by the address policy before a request goes through the proxy (which would
otherwise resolve and reach it unchecked). The decision is logged and kept with the crawl's stats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from loopback_server import ROOT, SITECUSTOMIZE, LoopbackServer, html, redirect, report_list, write_registry

import catalog

REPORT = html("<h1>某局2023年政府信息公开工作年度报告</h1><p>一、总体情况</p>")


class ForwardProxy:
    """A forward proxy on 127.0.0.1 that answers from `routes` by path, logging every absolute URL asked."""

    def __init__(self, routes: dict) -> None:
        self.routes, self.asked = routes, []

    def __enter__(self) -> ForwardProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's interface
                proxy.asked.append(self.path)
                status, headers, body = proxy.routes.get(urlsplit(self.path).path, (404, {}, b"not found"))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:  # noqa: ANN002 - quiet
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        self.httpd.shutdown()
        self.httpd.server_close()


def _crawl(tmp_path: Path, registry: Path, proxy: str, allow: bool) -> subprocess.CompletedProcess:
    custom = tmp_path / "testresolver"
    custom.mkdir(exist_ok=True)
    (custom / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update({"PYTHONPATH": os.pathsep.join([str(custom), str(ROOT), os.environ.get("PYTHONPATH", "")]),
                "SCRAPY_SETTINGS_MODULE": "settings", "http_proxy": proxy, "no_proxy": "",
                # a name that resolves to a private address (the test resolver)
                "NIANBAO_TEST_HOSTS": "inner.example.gov.cn=127.0.0.1"})
    if allow:
        env["NIANBAO_PROXY_FROM_ENV"] = "1"
    cmd = [sys.executable, "-m", "scrapy", "crawl", "portals", "-a", f"portals={registry}",
           "-s", f"DATA_DIR={tmp_path / 'data'}"]
    for key, value in {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "LOG_LEVEL": "INFO",
                       "TELNETCONSOLE_ENABLED": False}.items():
        cmd += ["-s", f"{key}={value}"]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)


def _site(portal: LoopbackServer) -> dict:
    routes = {
        "/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow:\n"),
        "/nb/index.html": report_list({"/nb/r1.html": "某局", "/nb/r2.html": "某局"}),
        "/nb/r1.html": REPORT,
        # the second report moved to a name that resolves to a private address
        "/nb/r2.html": redirect("http://inner.example.gov.cn/secret.html"),
        "/secret.html": REPORT,
    }
    portal.routes.update(routes)
    return routes


def _stats(data: Path) -> tuple[dict, list[dict]]:
    db = catalog.open_catalog(data / "catalog.db")
    try:
        stats = json.loads(db.execute("select stats from crawls order by id desc limit 1").fetchone()[0])
        failures = list(db["fetch_failures"].rows)
    finally:
        db.close()
    return stats, failures


def test_proxies_in_the_environment_are_not_used_unless_allowed(tmp_path):
    with LoopbackServer() as portal, ForwardProxy({}) as proxy:
        proxy.routes.update(_site(portal))
        registry = write_registry(tmp_path / "portals.csv", [
            {"id": "px", "agency": "某局", "url": portal.url("/nb/index.html"), "allow_private": "true"}])
        result = _crawl(tmp_path, registry, proxy.url, allow=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert proxy.asked == []  # nothing went through the proxy
    assert portal.hits("/nb/r1.html")  # the portal was crawled directly
    assert f"http_proxy={proxy.url} (set PROXY_FROM_ENV=True to use them)" in result.stderr
    stats, _ = _stats(tmp_path / "data")
    assert stats["proxy/from_env"] == f"not used: http_proxy={proxy.url} (set PROXY_FROM_ENV=True to use them)"


def test_allowed_proxies_are_used_and_their_targets_checked_first(tmp_path):
    with LoopbackServer() as portal, ForwardProxy({}) as proxy:
        proxy.routes.update(_site(portal))
        registry = write_registry(tmp_path / "portals.csv", [
            {"id": "px", "agency": "某局", "url": portal.url("/nb/index.html"), "allow_private": "true"}])
        result = _crawl(tmp_path, registry, proxy.url, allow=True)
    assert result.returncode == 0, result.stderr[-3000:]
    # the portal's own host (allowed for it) went through the proxy, portal pages were never asked directly
    assert portal.url("/nb/r1.html") in proxy.asked and portal.url("/nb/index.html") in proxy.asked
    assert not portal.hits("/nb/r1.html")
    # the redirect to a name resolving to a private address was refused before reaching the proxy
    assert portal.url("/nb/r2.html") in proxy.asked
    assert not [u for u in proxy.asked if "inner.example.gov.cn" in u]
    stats, failures = _stats(tmp_path / "data")
    assert stats["proxy/from_env"].startswith(f"used: http_proxy={proxy.url} (127.0.0.1 loopback)")
    refused = {f["kind"]: f for f in failures if f["reason"] == "address_refused"}
    assert sorted(refused) == ["report", "robots_txt"], failures  # the page, and its host's robots.txt before it
    assert all("inner.example.gov.cn resolves to 127.0.0.1, which is a loopback address" in f["detail"]
               for f in refused.values())
    assert refused["report"]["url"] == portal.url("/nb/r2.html")
