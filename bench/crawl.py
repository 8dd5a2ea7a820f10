"""Crawl + archive benchmark: nianbao with WARC, the same spider without WARC, and wget --mirror --warc-file.

Every tool crawls the same generated portals (bench.bigportal) at each injected latency. Pages are
counted by the server (responses it finished sending during the run), so all tools are counted alike.
Politeness is one connection per portal with no delay for every tool: wget has no other setting (it is
sequential, one connection in all), and Scrapy is set to match (CONCURRENT_REQUESTS_PER_DOMAIN=1).
At latency > 0 every tool runs for the same fixed window (wget, sequential, would need hours for the
full portal) and rates are compared; at 0 ms every tool crawls the whole portal unless it is still
running at the 0 ms window, which bounds the run time of the whole benchmark.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.bigportal import BigPortal
from bench.measure import Measured, dir_bytes, run_measured

REPO = Path(__file__).resolve().parents[1]
TOOLS = {
    "nianbao": "(a) nianbao, full WARC archive",
    "scrapy": "(b) same spider, WARC_ENABLED=False",
    "wget": "(c) wget --mirror --warc-file",
    "floor": "(d) minimal Scrapy spider (Scrapy's own floor)",
    "floor8": "(d') minimal Scrapy spider, CONCURRENT_ITEMS=8 as nianbao",
}


@dataclass
class CrawlPlan:
    """Sizes and limits of the crawl benchmark."""

    pages: int = 20_000
    hosts: int = 20
    latencies_ms: tuple[float, ...] = (0.0, 100.0)
    window_s: float | None = 240.0  # a run at 0 ms stops after this long if it has not finished
    slow_window_s: float = 40.0  # every tool runs this long at latency > 0 (wget would take hours)
    timeout_s: float = 1800.0  # hard bound of any one run


def _scrapy_command(registry: Path, data: Path, stats: Path, warc: bool, window_s: float | None,
                    extra: list[str] | None = None) -> list[str]:
    command = [sys.executable, "-m", "bench.crawl_child", "--portals", str(registry), "--data", str(data),
               "--stats", str(stats), *(extra or [])]
    if not warc:
        command.append("--no-warc")
    if window_s:
        command += ["--window", str(window_s)]
    return command


def _wget_command(portal: BigPortal, out: Path) -> list[str]:
    # -e robots=on is wget's default for recursive runs; named here because it is part of politeness
    return ["wget", "--mirror", "--warc-file", str(out / "wget"), "--no-verbose", "--output-file",
            str(out / "wget.log"), "--directory-prefix", str(out / "mirror"), "--tries", "2", "--timeout", "30",
            "--user-agent", "nianbao-bench-wget", "-e", "robots=on", *portal.column_urls()]


def run_tool(tool: str, portal: BigPortal, work: Path, latency_ms: float, plan: CrawlPlan,
             sample_every_s: float = 1.0, window_s: float | None = None, label: str | None = None,
             child_args: list[str] | None = None, checkout: Path | None = None) -> dict:
    """One crawl by `tool` over `portal` at `latency_ms`; returns its figures (child_args go to
    bench.crawl_child). `checkout` runs another checkout's code (its bench/ and crawler), to compare
    versions in one run."""
    name = label or f"{tool}-{int(latency_ms)}ms"
    out = work / name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    registry = portal.write_registry(out / "portals.csv")
    portal.set_latency(latency_ms)
    portal.reset()
    if window_s is None:
        window_s = plan.slow_window_s if latency_ms > 0 else plan.window_s
    window = window_s
    stats_file = out / "scrapy-stats.json"
    if tool == "wget":
        command = _wget_command(portal, out)
        written = out
    elif tool in ("floor", "floor8"):
        command = [sys.executable, "-m", "bench.crawl_floor", "--portals", str(registry), "--stats",
                   str(stats_file), *(["--window", str(window)] if window else []),
                   *(["--concurrent-items", "8"] if tool == "floor8" else [])]
        written = out
    else:
        command = _scrapy_command(registry, out / "data", stats_file, tool == "nianbao", window, child_args)
        written = out / "data"
    # Scrapy closes itself at the window (CLOSESPIDER_TIMEOUT) and gets time to finish its files;
    # wget is stopped by signal
    env = None
    if checkout is not None:
        env = {**os.environ, "PYTHONPATH": str(checkout)}
    measured: Measured = run_measured(command, cwd=checkout or REPO, env=env, timeout_s=plan.timeout_s,
                                      window_s=window if tool == "wget" else (window + 120 if window else None),
                                      sample_every_s=sample_every_s, log_path=out / "run.log")
    served = portal.stats()
    pages = served["responses"]
    if tool == "wget":
        warc_bytes = sum(p.stat().st_size for p in out.glob("wget*.warc.gz"))
        bytes_written = warc_bytes + dir_bytes(out / "mirror")
    else:
        warc_bytes = dir_bytes(written / "warc")
        bytes_written = dir_bytes(written)
    result = {
        "tool": tool, "label": TOOLS[tool], "latency_ms": latency_ms, "pages": pages,
        "expected_pages": portal.expected_pages(), "complete": pages >= portal.expected_pages(),
        "window_s": window, "bytes_served": served["bytes"], "statuses": served["statuses"],
        "wall_s": measured.wall_s,
        "pages_per_s": round(pages / measured.wall_s, 1) if measured.wall_s else None,
        "cpu_s": round(measured.cpu_s, 2),
        "cpu_s_per_1000_pages": round(1000 * measured.cpu_s / pages, 2) if pages else None,
        "peak_rss_mb": measured.peak_rss_mb,
        "peak_tree_rss_mb": measured.peak_tree_rss_mb,
        "bytes_written": bytes_written,
        "warc_bytes": warc_bytes,
        "returncode": measured.returncode,
        "rss_samples": measured.rss_samples,
    }
    if stats_file.exists():
        stats = json.loads(stats_file.read_text(encoding="utf-8"))
        result["scrapy_finish_reason"] = stats.get("finish_reason")
        result["scrapy_items"] = stats.get("item_scraped_count")
        result["scrapy_errors"] = stats.get("log_count/ERROR", 0)
    return result


def ratios(runs: list[dict]) -> list[dict]:
    """nianbao against the plain-Scrapy and wget runs at the same latency."""
    out = []
    by = {(r["tool"], r["latency_ms"]): r for r in runs}
    for latency in sorted({r["latency_ms"] for r in runs}):
        a = by.get(("nianbao", latency))
        if not a:
            continue
        row = {"latency_ms": latency}
        for other in ("scrapy", "wget"):
            b = by.get((other, latency))
            if not b or not b["pages"] or not a["pages"]:
                continue
            row[f"pages_per_s_vs_{other}"] = round(a["pages_per_s"] / b["pages_per_s"], 2) if b["pages_per_s"] else None
            row[f"cpu_per_page_vs_{other}"] = (round(a["cpu_s_per_1000_pages"] / b["cpu_s_per_1000_pages"], 2)
                                               if b["cpu_s_per_1000_pages"] else None)
            row[f"rss_vs_{other}"] = (round(a["peak_tree_rss_mb"] / b["peak_tree_rss_mb"], 2)
                                      if b["peak_tree_rss_mb"] else None)
        out.append(row)
    return out


def run_crawl_benchmark(plan: CrawlPlan, work: Path, log=print) -> dict:
    """Every tool at every latency over one generated portal set; the runs and the ratios."""
    from bench.bigportal import items_for_pages

    items = items_for_pages(plan.pages, plan.hosts)
    runs = []
    with BigPortal(plan.hosts, items) as portal:
        for latency in plan.latencies_ms:
            for tool in ("nianbao", "scrapy", "wget"):
                log(f"crawl: {tool} at {latency:g} ms over {portal.expected_pages()} pages")
                try:
                    result = run_tool(tool, portal, work, latency, plan)
                except Exception as exc:  # one broken tool must not lose the other figures
                    result = {"tool": tool, "latency_ms": latency, "error": f"{type(exc).__name__}: {exc}",
                              "pages": 0}
                log(f"  {result.get('pages')} pages in {result.get('wall_s')} s, "
                    f"{result.get('cpu_s_per_1000_pages')} CPU s/1000 pages, peak {result.get('peak_rss_mb')} MB "
                    f"({result.get('peak_tree_rss_mb')} MB with child processes)")
                # the curve is for the memory benchmark; here it only bloats the results
                result.pop("rss_samples", None)
                runs.append(result)
                shutil.rmtree(work / f"{tool}-{int(latency)}ms", ignore_errors=True)
    return {"hosts": plan.hosts, "items_per_host": items, "runs": runs,
            "ratios": ratios([r for r in runs if "error" not in r])}
