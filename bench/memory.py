"""Memory over time: RSS of one nianbao crawl (full archive) sampled while it fetches ~50,000 pages.

The crawl is judged flat when, after warm-up (the first quarter of the run), RSS grows by less than
`FLAT_TOLERANCE` of its post-warm-up median from the start to the end of the remaining samples.
"""

from __future__ import annotations

import shutil
import statistics
from pathlib import Path

from bench.bigportal import BigPortal, items_for_pages
from bench.crawl import CrawlPlan, run_tool

WARM_UP_SHARE = 0.25
FLAT_TOLERANCE = 0.10


def summarise(samples: list[tuple[float, float]]) -> dict:
    """Warm-up and steady-state figures of an RSS curve [(seconds, MB)]."""
    if len(samples) < 8:
        return {"flat": None, "reason": "too few samples"}
    steady = samples[int(len(samples) * WARM_UP_SHARE):]
    tenth = max(1, len(steady) // 10)
    early = statistics.median(mb for _, mb in steady[:tenth])
    late = statistics.median(mb for _, mb in steady[-tenth:])
    median = statistics.median(mb for _, mb in steady)
    growth = late - early
    return {
        "warm_up_end_s": steady[0][0],
        "steady_start_mb": round(early, 1),
        "steady_end_mb": round(late, 1),
        "steady_median_mb": round(median, 1),
        "steady_growth_mb": round(growth, 1),
        "flat": growth <= FLAT_TOLERANCE * median,
    }


def _thin(samples: list[tuple[float, float]], points: int = 60) -> list[tuple[float, float]]:
    step = max(1, len(samples) // points)
    return samples[::step] + ([samples[-1]] if samples and len(samples) % step != 1 else [])


def run_memory_benchmark(pages: int, hosts: int, work: Path, window_s: float | None = 360.0,
                         log=print) -> dict:
    """One full-archive crawl of about `pages` pages with RSS sampled every second (stopped after
    window_s when it has not finished by then; the figures say how far it got)."""
    items = items_for_pages(pages, hosts)
    plan = CrawlPlan(pages=pages, hosts=hosts, window_s=window_s)
    with BigPortal(hosts, items) as portal:
        log(f"memory: nianbao over {portal.expected_pages()} pages")
        run = run_tool("nianbao", portal, work, 0.0, plan, sample_every_s=1.0, label="memory")
    shutil.rmtree(work / "memory", ignore_errors=True)
    samples = run.pop("rss_samples", [])
    summary = summarise(samples)
    log(f"  {run['pages']} pages in {run['wall_s']} s, peak {run['peak_rss_mb']} MB "
        f"({run['peak_tree_rss_mb']} MB with child processes), flat: {summary.get('flat')}")
    return {**run, **summary, "rss_curve": _thin(samples)}
