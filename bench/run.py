"""Run every benchmark and write the results table: `.venv/bin/python -m bench.run`.

Writes bench/results/latest.json (every figure, with the machine) and bench/results/latest.md (the
table bench/README.md links), plus a dated copy of the JSON. Sizes default to the project's targets;
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
ALL = ("parse", "catalog", "crawl", "memory", "profile")


def _log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--only", default=",".join(ALL), help=f"comma-separated subset of {','.join(ALL)}")
    p.add_argument("--crawl-pages", type=int, default=20_000, help="pages of the crawl benchmark's portals")
    p.add_argument("--hosts", type=int, default=20, help="portals (one 127.0.0.1 port each)")
    p.add_argument("--latencies", default="0,100", help="injected per-response latencies, ms")
    p.add_argument("--wget-window", type=float, default=60.0, help="seconds wget runs at latency > 0")
    p.add_argument("--memory-pages", type=int, default=50_000, help="pages of the memory-over-time crawl")
    p.add_argument("--catalog-sizes", default="10000,100000", help="synthetic catalog sizes, reports")
    p.add_argument("--parse-seconds", type=float, default=3.0, help="CPU seconds per type and tool, at least")
    p.add_argument("--profile-pages", type=int, default=3_000, help="pages of the profiled crawl")
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
                         wget_window_s=args.wget_window)
        return run_crawl_benchmark(plan, work / "crawl", log=_log)

    def memory() -> dict:
        from bench.memory import run_memory_benchmark

        return run_memory_benchmark(args.memory_pages, args.hosts, work / "crawl", log=_log)

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
    step("memory", memory)
    step("profile", profile)

    results["finished"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    results["total_s"] = round(time.monotonic() - start, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    body = json.dumps(results, ensure_ascii=False, indent=1, default=str)
    (args.out / "latest.json").write_text(body, encoding="utf-8")
    stamp = results["started"].replace(":", "").replace("-", "")
    (args.out / f"run-{stamp}.json").write_text(body, encoding="utf-8")
    (args.out / "latest.md").write_text(markdown(results), encoding="utf-8")
    _log(f"done in {results['total_s']} s: {args.out / 'latest.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
