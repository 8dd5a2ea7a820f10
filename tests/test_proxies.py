"""Proxies named in the environment: not used unless PROXY_FROM_ENV allows them; when allowed, every
target host is checked by the address policy before a request goes through the proxy (which would
otherwise resolve and reach it unchecked). The decision is logged and kept with the crawl's stats."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from loopback_server import (
    ROOT,
    LoopbackServer,
    crawl_command,
    crawl_env,
    html,
    redirect,
    report_list,
    write_registry,
)

import catalog

REPORT = html("<h1>某局2023年政府信息公开工作年度报告</h1><p>一、总体情况</p>")


def _crawl(tmp_path: Path, registry: Path, proxy: str, allow: bool) -> subprocess.CompletedProcess:
    env = crawl_env(tmp_path, {"inner.example.gov.cn": "127.0.0.1"},  # a name resolving to a private address
                    base={k: v for k, v in os.environ.items() if "proxy" not in k.lower()})
    env.update({"http_proxy": proxy, "no_proxy": ""})
    if allow:
        env["NIANBAO_PROXY_FROM_ENV"] = "1"
    return subprocess.run(crawl_command(registry, tmp_path / "data"), cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=240)


def _proxied_crawl(tmp_path: Path, allow: bool) -> tuple[LoopbackServer, list[str], str, subprocess.CompletedProcess]:
    """A crawl of one portal with http_proxy set to a forward proxy on loopback; the portal, the absolute
    URLs the proxy was asked for, the proxy's URL and the crawl."""
    with LoopbackServer() as portal, LoopbackServer() as proxy:
        proxy.routes.update(_site(portal))
        registry = write_registry(tmp_path / "portals.csv", [
            {"id": "px", "agency": "某局", "url": portal.url("/nb/index.html"), "allow_private": "true"}])
        result = _crawl(tmp_path, registry, proxy.url(""), allow=allow)
    return portal, [hit.path for hit in proxy.log], proxy.url(""), result


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
    portal, asked, proxy_url, result = _proxied_crawl(tmp_path, allow=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert asked == []  # nothing went through the proxy
    assert portal.hits("/nb/r1.html")  # the portal was crawled directly
    assert f"http_proxy={proxy_url} (set PROXY_FROM_ENV=True to use them)" in result.stderr
    stats, _ = _stats(tmp_path / "data")
    assert stats["proxy/from_env"] == f"not used: http_proxy={proxy_url} (set PROXY_FROM_ENV=True to use them)"


def test_allowed_proxies_are_used_and_their_targets_checked_first(tmp_path):
    portal, asked, proxy_url, result = _proxied_crawl(tmp_path, allow=True)
    assert result.returncode == 0, result.stderr[-3000:]
    # the portal's own host (allowed for it) went through the proxy, portal pages were never asked directly
    assert portal.url("/nb/r1.html") in asked and portal.url("/nb/index.html") in asked
    assert not portal.hits("/nb/r1.html")
    # the redirect to a name resolving to a private address was refused before reaching the proxy
    assert portal.url("/nb/r2.html") in asked
    assert not [u for u in asked if "inner.example.gov.cn" in u]
    stats, failures = _stats(tmp_path / "data")
    assert stats["proxy/from_env"].startswith(f"used: http_proxy={proxy_url} (127.0.0.1 loopback)")
    refused = {f["kind"]: f for f in failures if f["reason"] == "address_refused"}
    assert sorted(refused) == ["report", "robots_txt"], failures  # the page, and its host's robots.txt before it
    assert all("inner.example.gov.cn resolves to 127.0.0.1, which is a loopback address" in f["detail"]
               for f in refused.values())
    assert refused["report"]["url"] == portal.url("/nb/r2.html")
