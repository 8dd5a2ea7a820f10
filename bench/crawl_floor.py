"""Plain Scrapy's own per-page floor: a minimal spider over the benchmark portals, nothing of nianbao's.

    python -m bench.crawl_floor --portals FILE.csv --stats OUT.json [--window S]

Scrapy's default settings (its default middlewares, the asyncio reactor, robots.txt obeyed) with the
politeness of the comparison (one connection per portal via bench.slots, no delay) and a spider that
follows every same-portal link of each HTML page with one XPath and stores nothing. What nianbao's
crawler costs per page above this is its own; what this costs is Scrapy's, and no change to nianbao
can take it below.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from urllib.parse import urlsplit


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="a minimal Scrapy spider over the benchmark portals")
    parser.add_argument("--portals", required=True, help="the registry CSV bench.bigportal writes")
    parser.add_argument("--stats", required=True, help="write the crawl's Scrapy stats here (JSON)")
    parser.add_argument("--window", type=float, default=None, help="stop after this many seconds")
    parser.add_argument("--concurrent-items", type=int, default=100,
                        help="Scrapy's CONCURRENT_ITEMS (its default 100; nianbao's settings use 8)")
    args = parser.parse_args(argv)

    import scrapy
    from scrapy.crawler import CrawlerProcess

    with open(args.portals, encoding="utf-8") as fh:
        starts = [row["url"] for row in csv.DictReader(fh) if row.get("url")]

    class FloorSpider(scrapy.Spider):
        name = "floor"
        start_urls = starts

        def parse(self, response):  # noqa: ANN001, ANN201 - Scrapy's callback
            if not isinstance(response, scrapy.http.TextResponse):
                return
            here = urlsplit(response.url).netloc
            for href in response.xpath("//a/@href").getall():
                url = response.urljoin(href)
                if urlsplit(url).netloc == here:
                    yield scrapy.Request(url, callback=self.parse)

    settings = {
        "ROBOTSTXT_OBEY": True,
        "CONCURRENT_REQUESTS": 64,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "DOWNLOAD_DELAY": 0,
        "DOWNLOADER_MIDDLEWARES": {"bench.slots.PortSlotMiddleware": 50},
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "INFO",
        "LOGSTATS_INTERVAL": 30,
        "USER_AGENT": "nianbao-bench-floor",
        "CLOSESPIDER_TIMEOUT": args.window or 0,
        "CONCURRENT_ITEMS": args.concurrent_items,
    }
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(FloorSpider)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    Path(args.stats).write_text(json.dumps(stats, default=str, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
