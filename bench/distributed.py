"""Distributed crawl benchmark: pages/s for 1, 2 and 4 workers on one Redis frontier.

    .venv/bin/python -m bench.distributed [--hosts 40] [--items 300] [--latency-ms 100] [--window 40]

The generated portals (bench.bigportal) at the given latency, a redis-server on a loopback port, then
for each worker count: the frontier reset, the registry seeded, N `scrapy crawl portals` workers started
together in distributed mode (one connection per portal for the whole cluster, per-port slots as in
bench.crawl), each stopped after the window. Pages are the server's responses; CPU is every worker's
user+system time. Workers run on this machine, so they share its cores. Writes
bench/results/distributed.json and prints a Markdown table. Needs Debian's redis-server.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bigportal import BigPortal

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker_command(registry: Path, data: Path, redis_url: str, wid: str, window: float,
                    distributed: bool = True) -> list[str]:
    from scrapy.utils.project import get_project_settings

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "settings")
    project = get_project_settings()
    middlewares = dict(project.getdict("DOWNLOADER_MIDDLEWARES"))
    middlewares["bench.slots.PortSlotMiddleware"] = 50
    spider_middlewares = dict(project.getdict("SPIDER_MIDDLEWARES"))
    spider_middlewares["bench.slots.PortSlotSpiderMiddleware"] = 5
    settings = {
        "DATA_DIR": str(data), "DISTRIBUTED": str(distributed), "REDIS_URL": redis_url, "WORKER_ID": wid,
        "CONCURRENT_REQUESTS": 64, "CONCURRENT_REQUESTS_PER_DOMAIN": 1, "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": "False", "TELNETCONSOLE_ENABLED": "False", "LOG_LEVEL": "INFO",
        "CLOSESPIDER_TIMEOUT": window, "CLUSTER_PORTALS_PER_WORKER": 1000,
        "DOWNLOADER_MIDDLEWARES": json.dumps(middlewares), "SPIDER_MIDDLEWARES": json.dumps(spider_middlewares),
    }
    command = [sys.executable, "-m", "scrapy", "crawl", "portals", "-a", f"portals={registry}"]
    for key, value in settings.items():
        command += ["-s", f"{key}={value}"]
    return command


def run(hosts: int, items: int, latency_ms: float, window: float, counts: list[int]) -> dict:
    """Crawl with each worker count; returns the figures."""
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        raise RuntimeError("bench.distributed: redis-server is not installed (scripts/setup.sh installs it)")
    from crawler.distributed import redis_client, seed_frontier

    port = _free_port()
    work = Path(tempfile.mkdtemp(prefix="nianbao-bench-dist-"))
    redis = subprocess.Popen([redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", str(work)], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    rows = []
    try:
        time.sleep(0.5)
        with BigPortal(hosts, items, latency_ms) as portal:
            registry = portal.write_registry(work / "portals.csv")
            for count in counts:
                redis_client(url).flushdb()
                seed_frontier(url, registry)
                portal.reset()
                start = time.monotonic()
                env = {**os.environ, "PYTHONPATH": str(REPO), "SCRAPY_SETTINGS_MODULE": "settings"}
                # 0 workers: one ordinary process (no Redis), for comparison
                procs = [subprocess.Popen(_worker_command(registry, work / f"n{count}" / f"w{i}", url, f"w{i}",
                                                          window, distributed=count > 0),
                                          cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                          stderr=open(work / f"n{count}-w{i}.log", "wb"))  # noqa: SIM115
                         for i in range(max(count, 1))]
                cpu = 0.0
                for proc in procs:
                    try:
                        _, status, usage = os.wait4(proc.pid, 0)
                    except ChildProcessError:
                        continue
                    proc.returncode = os.waitstatus_to_exitcode(status)
                    cpu += usage.ru_utime + usage.ru_stime
                wall = time.monotonic() - start
                served = portal.stats()
                pages = int(served.get("responses", 0))
                rows.append({"workers": count, "pages": pages, "wall_s": round(wall, 1),
                             "pages_per_s": round(pages / wall, 1), "cpu_s": round(cpu, 1),
                             "cpu_s_per_1000_pages": round(1000 * cpu / pages, 2) if pages else None})
                print(json.dumps(rows[-1]), flush=True)
                shutil.rmtree(work / f"n{count}", ignore_errors=True)
    finally:
        redis.terminate()
        redis.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)
    return {"hosts": hosts, "items": items, "latency_ms": latency_ms, "window_s": window,
            "cpus": os.cpu_count(), "runs": rows}


def markdown(result: dict) -> str:
    """The results as a Markdown table."""
    lines = [f"{result['hosts']} portals × {result['items']} reports, {result['latency_ms']:.0f} ms latency, "
             f"one connection per portal for the whole cluster, {result['window_s']:.0f} s window, "
             f"{result['cpus']} CPUs", "",
             "| workers | pages | wall s | pages/s | CPU s | CPU s / 1000 pages |", "|---|---|---|---|---|---|"]
    for row in result["runs"]:
        lines.append(f"| {row['workers'] or 'single process, no Redis'} | {row['pages']:,} | {row['wall_s']} | {row['pages_per_s']} | "
                     f"{row['cpu_s']} | {row['cpu_s_per_1000_pages']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=40)
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--window", type=float, default=40.0)
    parser.add_argument("--workers", default="0,1,2,4", help="worker counts; 0 is one process without Redis")
    args = parser.parse_args(argv)
    result = run(args.hosts, args.items, args.latency_ms, args.window,
                 [int(x) for x in args.workers.split(",")])
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "distributed.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(markdown(result))


if __name__ == "__main__":
    main()
