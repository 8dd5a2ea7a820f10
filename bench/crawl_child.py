"""One benchmark crawl: the `portals` spider with the project's settings and the benchmark's overrides.

Run as a child process by bench.crawl so its CPU and memory are measured alone:

    python -m bench.crawl_child --portals FILE.csv --data DIR [--no-warc] [--window S] --stats OUT.json

It is `scrapy crawl portals -a portals=FILE.csv -s DATA_DIR=DIR` with politeness set to what every tool
of the comparison can keep: one connection per portal, no delay (wget's defaults), and per-port slots
(bench.slots) because the benchmark portals share the address 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def overrides(data_dir: Path, warc: bool, per_host: int, window_s: float | None) -> dict:
    """The settings the benchmark changes; everything else is the project's settings.py."""
    from scrapy.utils.project import get_project_settings

    project = get_project_settings()
    middlewares = dict(project.getdict("DOWNLOADER_MIDDLEWARES"))
    middlewares["bench.slots.PortSlotMiddleware"] = 50
    spider_middlewares = dict(project.getdict("SPIDER_MIDDLEWARES"))
    spider_middlewares["bench.slots.PortSlotSpiderMiddleware"] = 5
    return {
        "SPIDER_MIDDLEWARES": spider_middlewares,
        "DATA_DIR": str(data_dir),
        "WARC_ENABLED": warc,
        "CONCURRENT_REQUESTS": 64,
        "CONCURRENT_REQUESTS_PER_DOMAIN": per_host,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOADER_MIDDLEWARES": middlewares,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "INFO",
        "LOGSTATS_INTERVAL": 30,
        "CLOSESPIDER_TIMEOUT": window_s or 0,
    }


def _catalog_synchronous(mode: str) -> None:
    """Make every catalog connection of this crawl use `pragma synchronous=mode` (measures what the
    per-record fsync of WAL commits costs; must run before the crawl's components are imported)."""
    import catalog

    original = catalog.open_catalog

    def open_catalog(path):
        db = original(path)
        db.execute(f"pragma synchronous={mode}")
        return db

    catalog.open_catalog = open_catalog


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="one benchmark crawl of the portals spider")
    parser.add_argument("--portals", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--no-warc", action="store_true", help="WARC_ENABLED=False: plain Scrapy")
    parser.add_argument("--per-host", type=int, default=1)
    parser.add_argument("--window", type=float, default=None, help="stop after this many seconds")
    parser.add_argument("--stats", required=True, help="write the crawl's Scrapy stats here (JSON)")
    parser.add_argument("--catalog-synchronous", choices=("full", "normal", "off"), default=None,
                        help="what-if: open the catalog with this SQLite synchronous mode (not the project's)")
    args = parser.parse_args(argv)
    if args.catalog_synchronous:
        _catalog_synchronous(args.catalog_synchronous)

    os.chdir(REPO)  # settings.py and scrapy.cfg are found from the repository root
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "settings")
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.setdict(overrides(Path(args.data), not args.no_warc, args.per_host, args.window), priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler("portals")
    process.crawl(crawler, portals=args.portals)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    Path(args.stats).write_text(json.dumps(stats, default=str, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
