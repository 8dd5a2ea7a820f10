"""How long loading and validating the portal registry takes: `.venv/bin/python -m bench.registry`.

Loads `portals.csv` (or the file given) repeatedly and prints the rows, the rejected rows and the
median and slowest load time in milliseconds. The crawler and `nianbao refresh` load it once per run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from crawler.registry import load_registry

DEFAULT_REGISTRY = Path(__file__).resolve().parent.parent / "portals.csv"


def measure(path: Path, rounds: int) -> dict:
    """Load `path` `rounds` times; the figures of the runs."""
    timings, registry = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        registry = load_registry(path)
        timings.append((time.perf_counter() - start) * 1000)
    return {
        "registry": str(path), "rows": len(registry.portals), "rejected": len(registry.errors),
        "rounds": rounds, "median_ms": round(statistics.median(timings), 2), "max_ms": round(max(timings), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("registry", nargs="?", type=Path, default=DEFAULT_REGISTRY)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    figures = measure(args.registry, args.rounds)
    print(" ".join(f"{key}={value}" for key, value in figures.items()))


if __name__ == "__main__":
    main()
