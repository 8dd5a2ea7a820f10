"""Extensions: the crawl's row in the catalog with every portal's diagnosis (`CrawlRecorder`) and
per-portal closing stats (`PortalStats`)."""

from __future__ import annotations

import logging

from scrapy import signals

from crawler.pipelines import catalog_path

logger = logging.getLogger(__name__)

PORTAL_COUNTERS = ("pages", "reports", "attachments", "not_modified", "errors", "blocked")
# settings worth keeping with the crawl's record
RECORDED_SETTINGS = ("USER_AGENT", "ROBOTSTXT_OBEY", "CONCURRENT_REQUESTS_PER_DOMAIN", "DOWNLOAD_DELAY",
                     "AUTOTHROTTLE_ENABLED", "JOBDIR", "DATA_DIR", "RETRY_TIMES", "DOWNLOAD_MAXSIZE")


def portal_summary(stats: dict, portal_ids) -> dict[str, dict[str, int]]:
    """Per portal: pages fetched, reports found, attachments, errors, blocked (0/1)."""
    ids = set(portal_ids)
    ids.update(key.split("/")[1] for key in stats if key.startswith("portal/") and key.count("/") >= 2)
    return {pid: {what: int(stats.get(f"portal/{pid}/{what}", 0)) for what in PORTAL_COUNTERS}
            for pid in sorted(ids)}


class PortalStats:
    """At the close of a crawl: the per-portal counters, logged as a table and kept in the stats."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_error, signal=signals.spider_error)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_error(self, failure, response, spider) -> None:
        """A page whose processing failed counts as an error of its portal (Scrapy logs the URL)."""
        portal_id = response.meta.get("portal_id") if response is not None and response.request else None
        if portal_id:
            self.crawler.stats.inc_value(f"portal/{portal_id}/errors")

    def spider_closed(self, spider, reason: str) -> None:
        summary = portal_summary(self.crawler.stats.get_stats(), getattr(spider, "portals", {}))
        self.crawler.stats.set_value("portals/summary", summary)
        if not summary:
            return
        lines = [f"{'portal':<24} " + " ".join(f"{w:>11}" for w in PORTAL_COUNTERS)]
        lines += [f"{pid:<24} " + " ".join(f"{row[w]:>11}" for w in PORTAL_COUNTERS) for pid, row in summary.items()]
        logger.info("per-portal stats:\n%s", "\n".join(lines))


class CrawlRecorder:
    """The crawl in the catalog's crawls table: started (with its registry rows), ended (with stats)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.db = None
        self.crawl_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler):
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.item_scraped, signal=signals.item_scraped)
        return extension

    def item_scraped(self, item, response, spider) -> None:
        """Report documents handed on per portal, replayed ones of a resumed crawl included (the
        diagnosis of a resumed portal rests on them: its pages were not walked again)."""
        if item.get("kind") in ("report_page", "attachment") and item.get("portal_id"):
            self.crawler.stats.inc_value(f"portal/{item['portal_id']}/report_documents")

    def spider_opened(self, spider) -> None:
        from catalog import load_portals, open_catalog, record_crawl_start

        settings = self.crawler.settings
        self.db = open_catalog(catalog_path(settings))
        portals_file = getattr(spider, "portals_file", "")
        registry = getattr(spider, "registry", None)
        if registry is not None:
            selected, _ = registry.select(getattr(spider, "only", None))
            load_portals(self.db, [p.as_row() for p in selected])
        self.crawl_id = record_crawl_start(self.db, portals_file, {k: settings.get(k) for k in RECORDED_SETTINGS})
        spider.crawl_id = self.crawl_id
        self.crawler.stats.set_value("nianbao/crawl_id", self.crawl_id)

    def spider_closed(self, spider, reason: str) -> None:
        diagnoses = self._diagnose(spider)
        if self.db is None or self.crawl_id is None:
            return
        from catalog import record_crawl_end, record_portal_diagnosis

        for diagnosis in diagnoses:
            try:
                record_portal_diagnosis(self.db, {"crawl_id": self.crawl_id, **diagnosis})
            except Exception as exc:
                logger.error("%s: cannot record the diagnosis of portal %s: %s", catalog_path(self.crawler.settings),
                             diagnosis["portal_id"], exc)
        stats = dict(self.crawler.stats.get_stats())
        stats["portals/summary"] = portal_summary(stats, getattr(spider, "portals", {}))
        try:
            record_crawl_end(self.db, self.crawl_id, stats, reason)
        except Exception as exc:
            logger.error("%s: cannot record the end of crawl %s: %s", catalog_path(self.crawler.settings),
                         self.crawl_id, exc)
        self.db.close()
        self.db = None


    def _diagnose(self, spider) -> list[dict]:
        """Every portal's diagnosis; one WARNING line per portal that is not ok; kept in the stats."""
        from crawler.diagnosis import diagnose_crawl

        diagnoses = diagnose_crawl(spider, self.crawler.stats.get_stats())
        for d in diagnoses:
            if d["status"] != "ok":
                logger.warning("portal %s: %s: %s", d["portal_id"], d["status"], d["reason"])
        self.crawler.stats.set_value("portals/diagnoses", {
            d["portal_id"]: {k: d[k] for k in ("status", "reports", "errors", "reason")} for d in diagnoses})
        return diagnoses


class OfflinePublicSuffixList:
    """Give Scrapy's cookie handling the public-suffix list bundled with tldextract.

    CookiesMiddleware builds a module-level TLDExtract that downloads the list from the
    internet on first use; a crawler should not make requests its registry never asked for.
    """

    def __init__(self) -> None:
        from scrapy.downloadermiddlewares import cookies
        from tldextract import TLDExtract

        cookies._split_domain = TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)

    @classmethod
    def from_crawler(cls, crawler):  # noqa: ANN001, ANN206 - Scrapy's extension protocol
        return cls()
