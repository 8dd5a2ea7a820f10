"""CPU per page of the crawl, repeated: nianbao, the same spider without WARC, plain Scrapy, wget.

    python -m bench.crawl_cost [--pages 2000[,8000]] [--hosts 10] [--repeats 3] [--tools nianbao,scrapy,floor,wget]

On a shared machine wall time is noise; CPU time (user + system of the crawl's process tree, from the
kernel's rusage of the reaped child) is not, or much less. Every tool crawls the same generated portals
(bench.bigportal) at 0 ms latency, the tools taking turns within each repeat so a burst of load from
elsewhere falls on all of them; each figure is given as the minimum and the median over the repeats.

- (a) `nianbao`: the portals spider with the WARC capture (bench.crawl_child);
- (b) `scrapy`: the same spider with WARC_ENABLED=False;
- (d) `floor`: a minimal Scrapy spider that follows every link and stores nothing (bench.crawl_floor),
  Scrapy's own per-page cost on this machine; (d') `floor8` the same with CONCURRENT_ITEMS=8, as
  nianbao's settings have it;
- (c) `wget`: `wget --mirror --warc-file`.

`--baseline DIR` also runs another checkout's (a) and (b) (e.g. `git archive main | tar -x -C DIR`)
in the same repeats, so before and after are measured under the same load.

Start-up (imports, engine start) is in every whole-crawl figure: 1-2 CPU s for the Scrapy-based tools, nothing
for wget. With two sizes (`--pages 2000,8000`) each tool also gets its CPU per page at the margin, the larger
crawl's CPU less the smaller's over the pages more, which is what a crawl of tens of thousands of pages pays.

Writes bench/results/crawl-cost.json (or --out) and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
from pathlib import Path

from bench.bigportal import BigPortal, items_for_pages
from bench.crawl import TOOLS, CrawlPlan, run_tool

RESULTS = Path(__file__).resolve().parent / "results"


def summarise(runs: list[dict]) -> dict[str, dict]:
    """Per tool: pages, and min and median of CPU s per 1,000 pages over its complete runs."""
    out: dict[str, dict] = {}
    for tool in dict.fromkeys(r["tool"] for r in runs):
        mine = [r for r in runs if r["tool"] == tool and r.get("cpu_s_per_1000_pages")]
        if not mine:
            continue
        cpu = [r["cpu_s_per_1000_pages"] for r in mine]
        name, _, base = tool.partition("@")
        label = TOOLS[name] + (" — before (baseline checkout)" if base else "")
        out[tool] = {"label": label, "runs": len(mine), "pages": [r["pages"] for r in mine],
                     "complete": all(r["complete"] for r in mine), "cpu_per_1000": cpu,
                     "min": min(cpu), "median": round(statistics.median(cpu), 2),
                     "pages_per_s_median": statistics.median(r["pages_per_s"] for r in mine)}
    return out


def table(summary: dict[str, dict]) -> str:
    """The figures as Markdown: per tool, then the ratios the goals are about."""
    lines = ["| tool | runs | pages | CPU s / 1000 pages, min | median | all runs |", "|---|---|---|---|---|---|"]
    for s in summary.values():
        lines.append(f"| {s['label']} | {s['runs']} | {max(s['pages'])} | {s['min']:.2f} | {s['median']:.2f} | "
                     f"{', '.join(f'{c:.2f}' for c in s['cpu_per_1000'])} |")

    def ratio(a: str, b: str, key: str) -> str:
        if a not in summary or b not in summary:
            return "—"
        return f"{summary[a][key] / summary[b][key]:.2f}"

    lines += ["", "| ratio | of minima | of medians |", "|---|---|---|"]
    for a, b, name in (("nianbao", "scrapy", "WARC overhead: (a) / (b)"),
                       ("nianbao", "wget", "(a) nianbao / (c) wget"),
                       ("scrapy", "wget", "(b) WARC off / (c) wget"),
                       ("floor", "wget", "(d) plain Scrapy / (c) wget"),
                       ("floor8", "wget", "(d') plain Scrapy, CONCURRENT_ITEMS=8 / (c) wget"),
                       ("scrapy", "floor", "(b) WARC off / (d) plain Scrapy"),
                       ("scrapy", "floor8", "(b) WARC off / (d') plain Scrapy, CONCURRENT_ITEMS=8"),
                       ("nianbao", "floor", "(a) nianbao / (d) plain Scrapy"),
                       ("nianbao@base", "scrapy@base", "before: WARC overhead (a) / (b)"),
                       ("nianbao@base", "wget", "before: (a) nianbao / (c) wget"),
                       ("scrapy@base", "wget", "before: (b) WARC off / (c) wget"),
                       ("nianbao", "nianbao@base", "(a) after / before"),
                       ("scrapy", "scrapy@base", "(b) after / before")):
        if a in summary and b in summary:
            lines.append(f"| {name} | {ratio(a, b, 'min')} | {ratio(a, b, 'median')} |")
    return "\n".join(lines)


def marginal(runs: list[dict]) -> dict[str, dict]:
    """Per tool, CPU ms per page at the margin: (CPU of the larger crawl − CPU of the smaller) / (pages
    more), paired within each repeat, so start-up (imports, engine, browser-less handler set-up) drops out.
    A national crawl is tens of thousands of pages per process: this is the cost it pays per page."""
    out: dict[str, dict] = {}
    sizes = sorted({r["size"] for r in runs if "size" in r})
    if len(sizes) < 2:
        return out
    small, large = sizes[0], sizes[-1]
    for tool in dict.fromkeys(r["tool"] for r in runs):
        by = {(r["repeat"], r["size"]): r for r in runs if r["tool"] == tool and r.get("cpu_s") is not None}
        per = []
        for repeat in sorted({k[0] for k in by}):
            a, b = by.get((repeat, small)), by.get((repeat, large))
            if a and b and b["pages"] > a["pages"]:
                per.append(round(1000 * (b["cpu_s"] - a["cpu_s"]) / (b["pages"] - a["pages"]), 2))
        if per:
            out[tool] = {"ms_per_page": per, "min": min(per), "median": round(statistics.median(per), 2)}
    return out


def run_cost_benchmark(pages: tuple[int, ...] = (2000,), hosts: int = 10, repeats: int = 3,
                       tools: tuple[str, ...] = ("nianbao", "scrapy", "floor", "floor8", "wget"),
                       work: Path = RESULTS / "work" / "crawl-cost", baseline: Path | None = None,
                       log=print) -> dict:
    """Every tool over the same generated portals, `repeats` times, taking turns; with two page counts,
    the marginal CPU per page too. Returns the runs, the summary (largest size) and the marginal figures."""
    tools = list(tools)
    if baseline:
        tools += [f"{t}@base" for t in tools if t in ("nianbao", "scrapy")]
    unknown = {t.split("@")[0] for t in tools} - set(TOOLS)
    if unknown:
        raise ValueError(f"unknown tools: {', '.join(sorted(unknown))}")
    runs = []
    portals = [BigPortal(hosts, items_for_pages(size, hosts)) for size in pages]
    try:
        for portal in portals:
            portal.__enter__()
        for repeat in range(repeats):
            for size, portal in zip(pages, portals, strict=True):
                plan = CrawlPlan(pages=size, hosts=hosts, latencies_ms=(0.0,), window_s=600.0)
                for tool in tools:
                    name, _, base = tool.partition("@")
                    label = f"{name}{base}-{size}-{repeat}"
                    result = run_tool(name, portal, work, 0.0, plan, label=label,
                                      checkout=baseline if base else None)
                    result.update(tool=tool, repeat=repeat, size=size)
                    result.pop("rss_samples", None)
                    runs.append(result)
                    log(f"{tool} {size} #{repeat}: {result['pages']} pages, {result['cpu_s']} CPU s, "
                        f"{result['cpu_s_per_1000_pages']} CPU s/1000 pages, {result['wall_s']} s wall")
                    shutil.rmtree(work / label, ignore_errors=True)
    finally:
        for portal in portals:
            portal.__exit__(None, None, None)
    largest = max(pages)
    return {"pages": list(pages), "hosts": hosts, "repeats": repeats, "load_average_at_end": os.getloadavg(),
            "runs": runs, "summary": summarise([r for r in runs if r["size"] == largest]),
            "marginal": marginal(runs)}


def marginal_table(figures: dict[str, dict], pages: list[int]) -> str:
    """The marginal figures as Markdown, with the ratios the goals are about."""
    if not figures:
        return ""
    lines = [f"| tool | CPU ms per page at the margin ({min(pages):,} → {max(pages):,} pages), min | median | "
             "all repeats |", "|---|---|---|---|"]
    for tool, f in figures.items():
        name, _, base = tool.partition("@")
        label = TOOLS[name] + (" — before (baseline checkout)" if base else "")
        lines.append(f"| {label} | {f['min']:.2f} | {f['median']:.2f} | {', '.join(f'{x:.2f}' for x in f['ms_per_page'])} |")
    lines += ["", "| ratio at the margin | of minima | of medians |", "|---|---|---|"]
    for a, b, name in (("nianbao", "scrapy", "WARC overhead: (a) / (b)"), ("nianbao", "wget", "(a) nianbao / (c) wget"),
                       ("floor8", "wget", "(d') plain Scrapy / (c) wget"), ("nianbao", "floor8", "(a) nianbao / (d') plain Scrapy")):
        if a in figures and b in figures:
            lines.append(f"| {name} | {figures[a]['min'] / figures[b]['min']:.2f} | "
                         f"{figures[a]['median'] / figures[b]['median']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="CPU per page of the crawl, repeated")
    parser.add_argument("--pages", default="2000",
                        help="pages of the generated site; two sizes (e.g. 2000,8000) add the marginal CPU per page")
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tools", default="nianbao,scrapy,floor,floor8,wget")
    parser.add_argument("--work", type=Path, default=RESULTS / "work" / "crawl-cost")
    parser.add_argument("--out", type=Path, default=RESULTS / "crawl-cost.json")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another checkout (e.g. `git archive` of main): its nianbao and WARC-off crawls "
                             "run beside these, in the same repeats, as `nianbao@base` and `scrapy@base`")
    args = parser.parse_args(argv)
    try:
        body = run_cost_benchmark(tuple(int(p) for p in args.pages.split(",") if p), args.hosts, args.repeats,
                                  tuple(t for t in args.tools.split(",") if t), args.work, args.baseline)
    except ValueError as exc:
        parser.error(str(exc))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(body, indent=1, ensure_ascii=False), encoding="utf-8")
    print(table(body["summary"]))
    if body["marginal"]:
        print()
        print(marginal_table(body["marginal"], body["pages"]))
    return body


if __name__ == "__main__":
    main()
