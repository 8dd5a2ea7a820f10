"""CPU per page of the crawl, repeated: nianbao, the same spider without WARC, plain Scrapy, wget.

    python -m bench.crawl_cost [--pages 2000] [--hosts 10] [--repeats 3] [--tools nianbao,scrapy,floor,wget]

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

Writes bench/results/crawl-cost.json (or --out) and prints a Markdown table.
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
        lines.append(f"| {name} | {ratio(a, b, 'min')} | {ratio(a, b, 'median')} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="CPU per page of the crawl, repeated")
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tools", default="nianbao,scrapy,floor,floor8,wget")
    parser.add_argument("--work", type=Path, default=RESULTS / "work" / "crawl-cost")
    parser.add_argument("--out", type=Path, default=RESULTS / "crawl-cost.json")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another checkout (e.g. `git archive` of main): its nianbao and WARC-off crawls "
                             "run beside these, in the same repeats, as `nianbao@base` and `scrapy@base`")
    args = parser.parse_args(argv)
    tools = [t for t in args.tools.split(",") if t]
    if args.baseline:
        tools += [f"{t}@base" for t in tools if t in ("nianbao", "scrapy")]
    unknown = {t.split("@")[0] for t in tools} - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")
    plan = CrawlPlan(pages=args.pages, hosts=args.hosts, latencies_ms=(0.0,), window_s=600.0)
    runs = []
    with BigPortal(args.hosts, items_for_pages(args.pages, args.hosts)) as portal:
        for repeat in range(args.repeats):
            for tool in tools:
                name, _, base = tool.partition("@")
                result = run_tool(name, portal, args.work, 0.0, plan, label=f"{name}{base}-{repeat}",
                                  checkout=args.baseline if base else None)
                result["tool"] = tool
                result.pop("rss_samples", None)
                result["repeat"] = repeat
                runs.append(result)
                print(f"{tool} #{repeat}: {result['pages']} pages, {result['cpu_s']} CPU s, "
                      f"{result['cpu_s_per_1000_pages']} CPU s/1000 pages, {result['wall_s']} s wall", flush=True)
                shutil.rmtree(args.work / f"{name}{base}-{repeat}", ignore_errors=True)
    summary = summarise(runs)
    body = {"pages": args.pages, "hosts": args.hosts, "repeats": args.repeats,
            "load_average_at_end": os.getloadavg(), "runs": runs, "summary": summary}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(body, indent=1, ensure_ascii=False), encoding="utf-8")
    print(table(summary))
    return body


if __name__ == "__main__":
    main()
