"""The browser starts only for portals that need one."""

from __future__ import annotations

import subprocess
import sys

from nianbao.config import PROJECT_ROOT
from nianbao.demo import DEMO_SETTINGS
from nianbao.refresh import scrapy_env


def crawl(registry, data, only: str, *extra: str, python: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    cmd = [sys.executable, *python, "-m", "scrapy", "crawl", "portals", "-a", f"portals={registry}", "-a", f"only={only}",
           "-s", f"DATA_DIR={data}", "-s", "LOG_LEVEL=INFO"]
    for key, value in DEMO_SETTINGS.items():
        if key != "LOG_LEVEL":
            cmd += ["-s", f"{key}={value}"]
    cmd += extra
    return subprocess.run(cmd, cwd=PROJECT_ROOT, env=scrapy_env(), capture_output=True, text=True, timeout=300)


def test_a_crawl_without_javascript_portals_starts_no_browser(sample_portals, tmp_path) -> None:
    # -X importtime lists every module the crawl imported: Playwright is not even loaded
    result = crawl(sample_portals.registry, tmp_path / "data", "sample-gbk", python=("-X", "importtime"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "'portal/sample-gbk/reports'" in result.stderr
    assert "Starting download handler" not in result.stderr and "playwright/" not in result.stderr
    imported = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "scrapy.core.downloader.handlers.http11" in imported
    assert not {name for name in imported if "playwright" in name}
    # nor are Scrapy's consoles into a running crawl started (telnet, the remote-control HTTP server)
    enabled = result.stderr.split("Enabled extensions:", 1)[1].split("]", 1)[0]
    assert "CrawlRecorder" in enabled and "TelnetConsole" not in enabled and "RemoteControl" not in enabled


def test_a_javascript_portal_starts_it_once(sample_portals, tmp_path) -> None:
    result = crawl(sample_portals.registry, tmp_path / "data", "sample-jsapp")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr.count("Starting download handler") == 1
    assert "'playwright/browser_count': 1" in result.stderr and "'portal/sample-jsapp/reports'" in result.stderr


def test_a_rendered_page_holds_one_connection_to_its_host(sample_portals, tmp_path) -> None:
    # the linked-script column renders in the browser, which fetches the page, jQuery and the list
    # script; with one request per host allowed, the host never serves two at once
    since = len(sample_portals.intervals("linkedjs"))
    result = crawl(sample_portals.registry, tmp_path / "data", "sample-linkedjs",
                   "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "'playwright/request_count/resource_type/script'" in result.stderr
    targets = [target for _, _, target in sample_portals.intervals("linkedjs")[since:]]
    assert any(target.endswith(".js") for target in targets)
    peak, worst = sample_portals.peak_concurrency("linkedjs", since)
    assert peak == 1, worst
