"""Run every benchmark and write the results table: `.venv/bin/python -m bench.run`.

Writes bench/results/latest.json (every figure, with the machine) and bench/results/latest.md (the
table), a dated copy of the JSON, and puts the table into bench/README.md between its results markers. Sizes default to the project's targets;
smaller ones (`--crawl-pages 2000 --memory-pages 5000 --catalog-sizes 1000,5000`) make a smoke run.
A benchmark that fails is recorded with its error and the others still run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench.machine import describe_machine
from bench.report import markdown

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
ALL = ("parse", "catalog", "crawl", "cost", "cluster", "memory", "profile")
README_START = "<!-- results:start -->"
README_END = "<!-- results:end -->"


def _log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def embed_in_readme(table: str, readme: Path = BENCH_DIR / "README.md") -> bool:
    """Put the results table between the README's results markers; False when it has none."""
    if not readme.exists():
        return False
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        return False
    # the table's own title is the README's section heading
    body = table.split("\n", 1)[1].replace("\n## ", "\n### ")
    readme.write_text(text[: start + len(README_START)] + "\n" + body.strip() + "\n" + text[end:], encoding="utf-8")
    return True


def carry_over(results: dict, only: list[str], previous: Path) -> None:
    """Keep the figures of benchmarks this run left out from the previous run, with that run's date,
    so a run of one benchmark updates its section without emptying the others'."""
    if not previous.exists():
        return
    try:
        before = json.loads(previous.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    for name in ALL:
        if name in only or name not in before:
            continue
        results[name] = before[name]
        when = (before.get("carried_from") or {}).get(name) or before.get("started")
        results.setdefault("carried_from", {})[name] = when


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--only", default=",".join(ALL), help=f"comma-separated subset of {','.join(ALL)}")
    p.add_argument("--crawl-pages", type=int, default=20_000, help="pages of the crawl benchmark's portals")
    p.add_argument("--hosts", type=int, default=20, help="portals (one 127.0.0.1 port each)")
    p.add_argument("--latencies", default="0,100", help="injected per-response latencies, ms")
    p.add_argument("--crawl-window", type=float, default=240.0,
                   help="seconds after which a 0 ms crawl is stopped if it has not finished")
    p.add_argument("--slow-window", type=float, default=40.0, help="seconds every tool runs at latency > 0")
    p.add_argument("--memory-pages", type=int, default=50_000, help="pages of the memory-over-time crawl")
    p.add_argument("--memory-window", type=float, default=360.0,
                   help="seconds after which the memory crawl is stopped if it has not finished")
    p.add_argument("--catalog-sizes", default="10000,100000", help="synthetic catalog sizes, reports")
    p.add_argument("--parse-seconds", type=float, default=3.0, help="CPU seconds per type and tool, at least")
    p.add_argument("--profile-pages", type=int, default=1_500, help="pages of the profiled crawl")
    p.add_argument("--cost-pages", default="2000,8000",
                   help="pages of the repeated CPU-cost crawls; two sizes give the marginal CPU per page")
    p.add_argument("--cost-repeats", type=int, default=3, help="repeats of the CPU-cost crawls")
    p.add_argument("--cluster-hosts", type=int, default=30, help="portals of the distributed benchmark")
    p.add_argument("--cluster-items", type=int, default=200, help="reports per portal, distributed benchmark")
    p.add_argument("--cluster-latency", type=float, default=100.0, help="latency of the distributed benchmark, ms")
    p.add_argument("--cluster-window", type=float, default=40.0, help="seconds each worker count crawls")
    p.add_argument("--cluster-workers", default="0,1,2,4", help="worker counts (0: one process without Redis)")
    p.add_argument("--out", type=Path, default=RESULTS_DIR)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    only = [x.strip() for x in args.only.split(",") if x.strip()]
    unknown = set(only) - set(ALL)
    if unknown:
        print(f"bench.run: unknown benchmark(s) {', '.join(sorted(unknown))}; choose from {', '.join(ALL)}",
              file=sys.stderr)
        return 2
    work = args.out / "work"
    work.mkdir(parents=True, exist_ok=True)
    results: dict = {
        "command": "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:]),
        "started": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": describe_machine(),
        "sizes": {k: v for k, v in vars(args).items() if k != "out"},
    }
    start = time.monotonic()

    def step(name: str, fn) -> None:
        if name not in only:
            return
        t0 = time.monotonic()
        try:
            results[name] = fn()
        except Exception as exc:  # one failed benchmark must not lose the others' figures
            _log(f"{name} failed: {type(exc).__name__}: {exc}")
            results[name] = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        results.setdefault("durations_s", {})[name] = round(time.monotonic() - t0, 1)

    def parse() -> dict:
        from bench.parse import run_parse_benchmark

        return run_parse_benchmark(min_seconds=args.parse_seconds, log=_log)

    def catalog() -> dict:
        from bench.catalog import run_catalog_benchmark

        sizes = tuple(int(s) for s in args.catalog_sizes.split(",") if s.strip())
        out = run_catalog_benchmark(sizes, work / "catalog", log=_log)
        shutil.rmtree(work / "catalog", ignore_errors=True)
        return out

    def crawl() -> dict:
        from bench.crawl import CrawlPlan, run_crawl_benchmark

        plan = CrawlPlan(pages=args.crawl_pages, hosts=args.hosts,
                         latencies_ms=tuple(float(x) for x in args.latencies.split(",")),
                         window_s=args.crawl_window or None, slow_window_s=args.slow_window)
        return run_crawl_benchmark(plan, work / "crawl", log=_log)

    def cost() -> dict:
        from bench.crawl_cost import run_cost_benchmark

        pages = tuple(int(x) for x in args.cost_pages.split(",") if x.strip())
        out = run_cost_benchmark(pages, min(args.hosts, 10), args.cost_repeats, work=work / "cost", log=_log)
        shutil.rmtree(work / "cost", ignore_errors=True)
        return out

    def cluster() -> dict:
        from bench.distributed import run

        return run(args.cluster_hosts, args.cluster_items, args.cluster_latency, args.cluster_window,
                   [int(x) for x in args.cluster_workers.split(",") if x.strip()])

    def memory() -> dict:
        from bench.memory import run_memory_benchmark

        return run_memory_benchmark(args.memory_pages, args.hosts, work / "crawl",
                                    window_s=args.memory_window or None, log=_log)

    def what_if_synchronous() -> dict:
        """The same crawl as the project runs it (catalog synchronous=NORMAL) and as it ran before that
        fix (synchronous=FULL: an fsync per captured record), beside plain Scrapy."""
        from bench.bigportal import BigPortal, items_for_pages
        from bench.crawl import CrawlPlan, run_tool

        plan = CrawlPlan(pages=args.profile_pages, hosts=args.hosts, window_s=args.crawl_window or None)
        runs = {}
        with BigPortal(args.hosts, items_for_pages(args.profile_pages, args.hosts)) as portal:
            full = ["--catalog-synchronous", "full"]
            for name, tool, extra in (("(a) nianbao before the fix (synchronous=FULL)", "nianbao", full),
                                      ("(a) nianbao as is (synchronous=NORMAL)", "nianbao", []),
                                      ("(b) WARC off (synchronous=NORMAL)", "scrapy", [])):
                _log(f"profile: what-if crawl, {name}")
                run = run_tool(tool, portal, work / "crawl", 0.0, plan, label="what-if", child_args=extra)
                run.pop("rss_samples", None)
                runs[name] = {k: run.get(k) for k in ("pages", "wall_s", "pages_per_s", "cpu_s_per_1000_pages")}
        shutil.rmtree(work / "crawl" / "what-if", ignore_errors=True)
        return {"what_if": runs}

    def profile() -> dict:
        from bench.bigportal import BigPortal, items_for_pages
        from bench.parse import profile_parse
        from bench.profile import profile_crawl

        out = {}
        try:
            with BigPortal(args.hosts, items_for_pages(args.profile_pages, args.hosts)) as portal:
                _log(f"profile: crawl of {portal.expected_pages()} pages")
                where = work / "profile-crawl"
                shutil.rmtree(where, ignore_errors=True)
                out["crawl (nianbao, full archive, 0 ms)"] = profile_crawl(portal.write_registry(work / "p.csv"),
                                                                           where)
                shutil.rmtree(where / "data", ignore_errors=True)
        except Exception as exc:
            out["crawl (nianbao, full archive, 0 ms)"] = {"error": f"{type(exc).__name__}: {exc}"}
        try:
            out["catalog synchronous: FULL (before) vs NORMAL (as is)"] = what_if_synchronous()
        except Exception as exc:
            out["catalog synchronous: FULL (before) vs NORMAL (as is)"] = {"error": f"{type(exc).__name__}: {exc}"}
        _log("profile: parse")
        try:
            out["parse (HTML, PDF, DOCX, DOC)"] = profile_parse(work / "profile-parse")
        except Exception as exc:
            out["parse (HTML, PDF, DOCX, DOC)"] = {"error": f"{type(exc).__name__}: {exc}"}
        return out

    # quick ones first, so a long crawl cannot starve them
    step("parse", parse)
    step("catalog", catalog)
    step("crawl", crawl)
    step("cost", cost)
    step("cluster", cluster)
    step("memory", memory)
    step("profile", profile)

    carry_over(results, only, args.out / "latest.json")
    results["finished"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    results["total_s"] = round(time.monotonic() - start, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    body = json.dumps(results, ensure_ascii=False, indent=1, default=str)
    (args.out / "latest.json").write_text(body, encoding="utf-8")
    stamp = results["started"].replace(":", "").replace("-", "")
    (args.out / f"run-{stamp}.json").write_text(body, encoding="utf-8")
    table = markdown(results)
    (args.out / "latest.md").write_text(table, encoding="utf-8")
    if args.out.resolve() == RESULTS_DIR.resolve():
        embed_in_readme(table)
    _log(f"done in {results['total_s']} s: {args.out / 'latest.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
