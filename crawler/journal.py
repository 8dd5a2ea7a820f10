"""Resuming a killed crawl: a journal of finished pages in JOBDIR.

Scrapy's own JOBDIR state (pickled queue, `requests.seen`) is only consistent after a clean
shutdown: after SIGKILL the queue index is stale and `requests.seen` holds fingerprints of requests
that were scheduled but never fetched, which would then never be fetched. So the crawl keeps its
own journal instead: one SQLite row per finished page with what the page produced (further requests
and items), committed atomically once the page's callback has run. A restarted crawl begins again at
the registry's start URLs; every request whose page is in the journal is answered from the journal
(its requests and items replayed) instead of being fetched, so only unfinished pages are fetched.
"""

from __future__ import annotations

import pickle
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from scrapy import Request, Spider
from scrapy.core.scheduler import Scheduler
from scrapy.dupefilters import RFPDupeFilter
from scrapy.utils.misc import build_from_crawler, load_object
from scrapy.utils.request import request_from_dict

JOURNAL_FILE = "journal.sqlite"


class CrawlJournal:
    """The finished pages of one job (JOBDIR), with their outputs."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS pages (key TEXT PRIMARY KEY, url TEXT, outputs BLOB)")
        self.db.execute("CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, value TEXT)")
        if self.state("status") == "finished":
            # the job ran to its end before: this run is a new crawl, not a resumption
            self.db.execute("DELETE FROM pages")
        self.set_state("status", "running")
        self.resumed = self.count() > 0

    def state(self, name: str) -> str | None:
        row = self.db.execute("SELECT value FROM state WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def set_state(self, name: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO state (name, value) VALUES (?, ?)", (name, value))

    def count(self) -> int:
        return self.db.execute("SELECT count(*) FROM pages").fetchone()[0]

    def done_urls(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT url FROM pages")}

    def outputs(self, key: str) -> list[tuple[str, Any]] | None:
        row = self.db.execute("SELECT outputs FROM pages WHERE key = ?", (key,)).fetchone()
        return pickle.loads(row[0]) if row else None

    def record(self, key: str, url: str, outputs: list[tuple[str, Any]]) -> None:
        self.db.execute("INSERT OR REPLACE INTO pages (key, url, outputs) VALUES (?, ?, ?)",
                        (key, url, pickle.dumps(outputs)))

    def finish(self) -> None:
        self.set_state("status", "finished")

    def close(self) -> None:
        self.db.close()


def journal_key(spider: Spider, request: Request) -> str:
    """The request fingerprint; a browser-rendered request is a different page from the plain one."""
    fingerprint = spider.crawler.request_fingerprinter.fingerprint(request).hex()
    return fingerprint + ("+browser" if request.meta.get("playwright") else "")


def serialise(spider: Spider, outputs: Iterable[Any]) -> list[tuple[str, Any]]:
    """Callback outputs in a form that survives the process: requests as dicts, items as dicts."""
    out = []
    for value in outputs:
        if isinstance(value, Request):
            out.append(("request", value.to_dict(spider=spider)))
        else:
            out.append(("item", (type(value), dict(value))))
    return out


def replay(spider: Spider, journal: CrawlJournal | None, outputs: Iterable[Any]) -> Iterator[Any]:
    """`outputs` with every request already finished in the journal replaced by what it produced."""
    if journal is None:
        yield from outputs
        return
    stack = list(outputs)[::-1]
    seen: set[str] = set()
    while stack:
        value = stack.pop()
        if not isinstance(value, Request):
            yield value
            continue
        key = journal_key(spider, value)
        recorded = journal.outputs(key) if key not in seen else []
        if recorded is None:
            yield value
            continue
        seen.add(key)
        spider.crawler.stats.inc_value("journal/replayed_pages")
        restored = []
        for kind, data in recorded:
            if kind == "request":
                restored.append(request_from_dict(data, spider=spider))
            else:
                item_class, fields = data
                restored.append(item_class(**fields))
        stack.extend(reversed(restored))


class JournalScheduler(Scheduler):
    """Scrapy's scheduler with memory queues and an unpersisted dupefilter even under JOBDIR:
    the journal, not the pickled queue, carries a crawl across a kill."""

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        from crawler.distributed import SharedFrontierScheduler, distributed_enabled

        if distributed_enabled(settings):  # the shared Redis frontier stands in for the journal
            return SharedFrontierScheduler.from_crawler(crawler)
        dupefilter_cls = load_object(settings["DUPEFILTER_CLASS"])
        if issubclass(dupefilter_cls, RFPDupeFilter):
            dupefilter = dupefilter_cls(debug=settings.getbool("DUPEFILTER_DEBUG"),
                                        fingerprinter=crawler.request_fingerprinter)
        else:
            dupefilter = build_from_crawler(dupefilter_cls, crawler)
        return cls(
            dupefilter=dupefilter,
            jobdir=None,
            dqclass=load_object(settings["SCHEDULER_DISK_QUEUE"]),
            mqclass=load_object(settings["SCHEDULER_MEMORY_QUEUE"]),
            logunser=settings.getbool("SCHEDULER_DEBUG"),
            stats=crawler.stats,
            pqclass=load_object(settings["SCHEDULER_PRIORITY_QUEUE"]),
            crawler=crawler,
        )
