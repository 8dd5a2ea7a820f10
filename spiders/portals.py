"""The `portals` spider: find every annual OGI report on the portals of a registry.

    scrapy crawl portals [-a portals=FILE.csv] [-a only=ID,ID] [-s DATA_DIR=DIR] [-s JOBDIR=DIR]

From each registry row's URL (portal home, 政府信息公开 page or the 年报 column itself) the spider
asks the portal's `crawler.discovery.PortalDiscovery` which page to fetch next (a bounded best-first
search over ranked links), walks the column it finds through the adapter of the portal's CMS family
(crawler/adapters), keeps the items `crawler.classify` accepts as reports, and follows their detail
pages and attachments. Every document is handed on as a `DocumentItem`; every portal's search and
walk stay within its budgets (crawler/budget.py) and end in a diagnosis (crawler/diagnosis.py).
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import scrapy
from lxml import etree
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from archive.reader import ArchiveLookupError
from crawler import classify
from crawler.adapters import Entry, PageRequest, select_adapter
from crawler.adapters.base import absolute, clean_text, iso_date, link_title
from crawler.adapters.jsrendered import LOAD_MORE_TEXTS, script_builds_list
from crawler.budget import PortalBudgets
from crawler.charset import (
    as_html,
    clean_filename,
    filename_from_disposition,
    looks_like_html,
    repair_encoding,
)
from crawler.conditional import CONDITIONAL_META, archived_response, unconditional
from crawler.discovery import (
    BLOCKED,
    COLUMN,
    FAILED,
    NO_REPORTS,
    NOT_A_LIST,
    ROBOTS,
    TIER_COLUMN,
    TIER_SHELL,
    PortalDiscovery,
    clearly_a_list,
    linked_scripts,
    list_look,
)
from crawler.fetch_failures import note_failure
from crawler.items import DocumentItem
from crawler.journal import JOURNAL_FILE, CrawlJournal, journal_key, replay, serialise
from crawler.registry import Portal, Registry, load_registry
from crawler.scope import same_government, same_site
from nianbao.lock import hold_for_crawl

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REGISTRY = PROJECT_ROOT / "portals.csv"

ATTACHMENT_EXTENSIONS = (".pdf", ".doc", ".docx", ".wps", ".ofd", ".zip", ".rar", ".7z", ".xls", ".xlsx",
                         ".et", ".jpg", ".jpeg", ".png", ".gif", ".tif", ".tiff", ".bmp", ".txt", ".rtf")
_DOWNLOAD_HREF = re.compile(r"download|downfile|getfile|attach|fileid=|filename=|/upload/|/uploadfile/", re.I)
_HTML_TYPES = (b"text/html", b"application/xhtml")
_VIEWER_FILE = re.compile(r"[?&](?:file|url|src)=([^&#]+)", re.I)
_SCRIPT_REDIRECT = re.compile(r"""(?:location\.href|window\.location|location)\s*=\s*['"]([^'"]+)['"]|"""
                              r"""location\.replace\(\s*['"]([^'"]+)['"]""")
# browser renders a portal may spend on pages that are not (yet) known to be its column
MAX_DISCOVERY_RENDERS = 3
# the first bytes of a linked script read to see whether it builds the list
SCRIPT_SNIFF_BYTES = 512 * 1024
# below this much running text a report page with attachments only introduces them
REPORT_TEXT_MIN = 600

# clicks every visible "load more" control until there is none left (bounded)
LOAD_MORE_SCRIPT = r"""async (texts) => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  for (let round = 0; round < 60; round++) {
    // controls only: a link with a real href would navigate away from the list
    const controls = [...document.querySelectorAll('a, button, span, div')].filter((el) =>
      el.offsetParent !== null && el.children.length === 0 &&
      !/^(https?:|\/|\.)/.test(el.getAttribute('href') || '') &&
      texts.some((t) => (el.textContent || '').trim().toLowerCase() === t));
    if (!controls.length) break;
    controls[0].click();
    await sleep(400);
  }
}"""

_LABELS = {
    "index_no": r"索\s*引\s*号",
    "publisher": r"发\s*布\s*机\s*构|发文机关|发布单位|发布机关|信息来源|来\s*源",
    "published": r"发布日期|发布时间|发文日期|成文日期|公开日期|生成日期|添加时间|时\s*间",
}
# the page text a detail page's labels are read from
_BODY_TEXT = etree.XPath("//body//text()[not(ancestor::script or ancestor::style)]", smart_strings=False)
# where a detail page prints its title, in the order they are trusted
_META_TITLE = etree.XPath("//meta[@name='ArticleTitle']/@content", smart_strings=False)
_HEADING_TEXT = etree.XPath("//h1//text() | //h2//text() | //*[contains(@class,'title')]//text()",
                            smart_strings=False)
_TITLE_TEXT = etree.XPath("//title/text()", smart_strings=False)
# a label at the start of a text or after a space, its value after the colon
_LABEL_PATTERNS = {key: re.compile(rf"(?:^|\s)(?:{labels})\s*[:：]\s*(.*)$")
                   for key, labels in _LABELS.items()}
_ANY_LABEL = re.compile("|".join(f"(?:{labels})" for labels in _LABELS.values()))


def _next_text(texts: list[str], i: int) -> str:
    """The first text after texts[i] that is not blank, cleaned (a label's value in the next cell)."""
    for j in range(i + 1, len(texts)):
        if text := clean_text(texts[j]):
            return text
    return ""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_attachment_url(url: str) -> bool:
    """True when the URL's path names a document file (pdf, doc, docx, wps, ofd, zip, images …)."""
    path = unquote(urlsplit(url).path).lower()
    return path.endswith(ATTACHMENT_EXTENSIONS)


class PortalsSpider(scrapy.Spider):
    """Crawl the 年报 columns of the portals of a registry."""

    name = "portals"
    custom_settings = {"SCHEDULER": "crawler.journal.JournalScheduler"}

    def __init__(self, portals: str | None = None, only: str | None = None, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.portals_file = str(portals or DEFAULT_REGISTRY)
        self.only = only
        self.portals: dict[str, Portal] = {}
        self.registry: Registry | None = None
        self.blocked_portals: set[str] = set()
        self._discovery_renders: dict[str, int] = {}
        self.journal: CrawlJournal | None = None
        self.crawl_id: int | None = None
        self.discoveries: dict[str, PortalDiscovery] = {}
        self.budgets = PortalBudgets()
        self._robot_parsers: dict[str, Any] = {}
        self._script_checks: dict[str, dict[str, Any]] = {}
        self._script_verdicts: dict[str, bool] = {}  # linked script URL → builds a list

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        # an unusable registry file is bad input: fail before anything starts
        spider.registry = load_registry(spider.portals_file)
        hold_for_crawl(crawler)  # one writer of DATA_DIR at a time (a refresh's own crawl runs under its lock)
        spider.budgets = PortalBudgets.from_settings(crawler.settings)
        jobdir = crawler.settings.get("JOBDIR")
        if jobdir:
            spider.journal = CrawlJournal(Path(jobdir) / JOURNAL_FILE)
        crawler.signals.connect(spider._closed, signal=scrapy.signals.spider_closed)
        crawler.signals.connect(spider._robots_parsed, signal=scrapy.signals.robots_parsed)
        return spider

    def _closed(self, spider: scrapy.Spider, reason: str) -> None:
        if self.journal is not None:
            if reason == "finished":
                self.journal.finish()
            self.journal.close()

    def _robots_parsed(self, robotparser, request: scrapy.Request) -> None:
        """Keep the parser RobotsTxtMiddleware built, so candidates it disallows are never requested."""
        self._robot_parsers[urlsplit(request.url).netloc] = robotparser

    def robots_allow(self, url: str) -> bool:
        """False when the robots.txt already read for the URL's host disallows it (unknown hosts: True;
        RobotsTxtMiddleware still checks those before sending)."""
        parser = self._robot_parsers.get(urlsplit(url).netloc)
        if parser is None or not self.settings.getbool("ROBOTSTXT_OBEY"):
            return True
        agent = self.settings.get("ROBOTSTXT_USER_AGENT") or self.settings.get("USER_AGENT")
        return bool(parser.allowed(url, agent))

    # ------------------------------------------------------------------ start

    def load_portals(self) -> list[Portal]:
        """The registry's valid rows (restricted by `only`); bad rows are logged with their line."""
        registry = self.registry
        for error in registry.errors:
            self.logger.error("bad registry row, skipped: %s", error)
            self.crawler.stats.inc_value("registry/bad_rows")
        selected, unknown = registry.select(self.only)
        for portal_id in unknown:
            self.logger.error("%s: no portal with id %r (from -a only)", self.portals_file, portal_id)
        self.crawler.stats.set_value("registry/portals", len(selected))
        return selected

    async def start(self):
        selected = self.load_portals()
        self.portals = {p.id: p for p in selected}
        if self.journal is not None and self.journal.resumed:
            self.logger.info("resuming the job in %s: %d pages already done are not fetched again",
                             self.journal.path.parent, self.journal.count())
        requests = []
        max_pages = self.settings.getint("DISCOVERY_MAX_PAGES", 25)
        max_depth = self.settings.getint("DISCOVERY_MAX_DEPTH", 3)
        for portal in selected:
            discovery = PortalDiscovery(portal.id, portal.url, max_pages=max_pages, max_depth=max_depth)
            self.discoveries[portal.id] = discovery
            discovery.pages += 1
            discovery.in_flight = portal.url
            meta: dict[str, Any] = {"portal_id": portal.id, "link_depth": 0, "discovery": True,
                                    "candidate": {"text": "", "tier": -1}}
            if portal.needs_browser:
                meta.update(self._browser_meta())
            requests.append(scrapy.Request(portal.url, callback=self.parse_entry, errback=self.on_error,
                                           meta=meta, dont_filter=True))
        for value in replay(self, self.journal, requests):
            yield value

    # ------------------------------------------------------------------ plumbing

    def _journaled(self, response: Response, outputs: Iterable[Any]) -> Iterator[Any]:
        """Run a callback to its end, journal what it produced, then hand that on."""
        produced = list(outputs)
        if self.journal is not None and response.request is not None:
            recorded = serialise(self, produced)
            self.journal.record(journal_key(self, response.request), response.url, recorded)
            # the listed address that redirected here is done too
            for url in response.meta.get("redirect_urls", []):
                self.journal.record(journal_key(self, scrapy.Request(url)), url, recorded)
        yield from replay(self, self.journal, produced)

    def _portal(self, response: Response) -> Portal | None:
        return self.portals.get(response.meta.get("portal_id"))

    def _count(self, portal_id: str | None, what: str, n: int = 1) -> None:
        if portal_id:
            self.crawler.stats.inc_value(f"portal/{portal_id}/{what}", n)

    def _browser_meta(self) -> dict[str, Any]:
        from scrapy_playwright.page import PageMethod

        return {
            "playwright": True,
            "playwright_page_methods": [
                PageMethod("wait_for_load_state", "networkidle"),
                PageMethod("evaluate", LOAD_MORE_SCRIPT, list(LOAD_MORE_TEXTS)),
                PageMethod("wait_for_load_state", "networkidle"),
            ],
        }

    def _request(self, url: str, callback, portal: Portal, referer: str | None,
                 **meta: Any) -> scrapy.Request | None:
        """A request of the portal's walk; None once the portal's budget is spent."""
        if not self.budgets.may_schedule(portal.id):
            return None
        meta = {"portal_id": portal.id, "referer_url": referer, **meta}
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta=meta)

    def _page_request(self, page: PageRequest, portal: Portal, referer: str, adapter: str) -> scrapy.Request | None:
        if not self.budgets.may_schedule(portal.id):
            return None
        meta: dict[str, Any] = {"portal_id": portal.id, "referer_url": referer, "adapter": adapter, **page.meta}
        if page.browser:
            meta.update(self._browser_meta())
        if page.method == "POST":
            return scrapy.FormRequest(page.url, formdata=page.formdata or {}, headers=page.headers,
                                      callback=self.parse_list, errback=self.on_error, meta=meta)
        return scrapy.Request(page.url, headers=page.headers, callback=self.parse_list,
                              errback=self.on_error, meta=meta)

    def _prepare(self, response: Response) -> Response:
        crawler = getattr(self, "crawler", None)
        return repair_encoding(as_html(response), crawler.stats if crawler is not None else None)

    # ------------------------------------------------------------------ discovery

    def parse_entry(self, response: Response):
        """A registry URL, or a candidate page on the way to the 年报 column."""
        return self._journaled(response, self._entry(response))

    @staticmethod
    def _candidate_fields(request: scrapy.Request) -> dict[str, Any]:
        candidate = request.meta.get("candidate") or {}
        return {"text": candidate.get("text", ""), "tier": candidate.get("tier", -1),
                "depth": request.meta.get("link_depth", 0)}

    def _entry(self, response: Response) -> Iterator[Any]:
        portal = self._portal(response)
        response = self._prepare(response)
        if portal is None:
            return
        discovery = self.discoveries[portal.id]
        fields = self._candidate_fields(response.request) if response.request is not None else {}
        if not isinstance(response, TextResponse):
            discovery.record(response.url, NOT_A_LIST, "not an HTML page", **fields)
            yield from self._next_discovery(portal)
            return
        self._count(portal.id, "pages")
        depth = response.meta.get("link_depth", 0)
        rendered = bool(response.meta.get("playwright"))
        adapter = select_adapter(response)
        # a platform shell names its 年报 column in its own data, not in a link
        column_pages = [p for p in adapter.column_pages(response) if same_site(p.url, portal.url)]
        for page in column_pages:
            yield self._page_request(page, portal, response.url, adapter.name)
        entries = adapter.entries(response)
        reports = [e for e in entries if classify.is_annual_report(e.title)]
        year_tabs = [e for e in entries if classify.is_year_tab(e.title) and same_site(e.url, portal.url)]
        named = fields.get("tier") == TIER_COLUMN or (fields.get("tier") == -1 and adapter.name != "generic")
        # a 年报-named page (or a start page of a known CMS family) whose items come from further
        # pages or data endpoints of its family (a JSON API, a record proxy) is the column too
        data_pages = named and not reports and not adapter.needs_browser(response, entries) \
            and bool(adapter.next_pages(response))
        if reports or (year_tabs and fields.get("tier") in (TIER_COLUMN, -1)) or data_pages:
            look = list_look(response, adapter.name, entries, rendered)
            what = (f"{len(reports)} report items" if reports else f"{len(year_tabs)} year tabs" if year_tabs
                    else "items on further pages")
            discovery.record(response.url, COLUMN, f"the 年报 column: {what} ({adapter.name} list)", look, **fields)
            yield from self._list(response, portal, adapter)
            discovery.offer_links(response, depth + 1)
            yield from self._next_discovery(portal)
            return
        if column_pages:
            # the platform's own data named the 年报 column: its pages are walked, the search ends here
            look = list_look(response, adapter.name, entries, rendered)
            discovery.record(response.url, COLUMN,
                             f"the 年报 column named in the {adapter.name} platform's data ({len(column_pages)} pages)",
                             look, **fields)
            return
        if not rendered:
            if adapter.needs_browser(response, entries) and self._may_render(portal):
                yield self._rendered_again(response, portal, self.parse_entry, why="inline script builds the list")
                return
            scripts = [u for u in linked_scripts(response, portal.url) if self.robots_allow(u)]
            builder = next((u for u in scripts if self._script_verdicts.get(u)), None)
            if builder is not None and self._may_render(portal):
                yield self._rendered_again(response, portal, self.parse_entry,
                                           why=f"linked script {builder} builds the list")
                return
            unknown = [u for u in scripts if u not in self._script_verdicts]
            if unknown:
                self._script_checks[response.url] = {
                    "pending": len(unknown), "done": False,
                    "clearly_a_list": clearly_a_list(response),
                    "look": list_look(response, adapter.name, entries, rendered), "fields": fields,
                    "referer": response.meta.get("referer_url"),
                }
                discovery.offer_links(response, depth + 1)
                for url in unknown:
                    # not filtered: the verdict is kept, but a script may be asked for by two pages at once
                    yield scrapy.Request(url, callback=self.parse_script, errback=self.on_error, dont_filter=True,
                                         meta={"portal_id": portal.id, "script_for": response.url,
                                               "referer_url": response.url})
                return
            if clearly_a_list(response) and self._may_render(portal):
                yield self._rendered_again(response, portal, self.parse_entry,
                                           why="an empty list beside a pager or count")
                return
        look = list_look(response, adapter.name, entries, rendered)
        self._no_list(discovery, response.url, look, fields)
        if not discovery.offer_links(response, depth + 1):
            # a shell page: frames, or a script that sends the browser on (location.href = …)
            for url in self._frames_and_script_redirects(response):
                discovery.offer(url, "", depth + 1, response.url, tier=TIER_SHELL)
        yield from self._next_discovery(portal)

    @staticmethod
    def _no_list(discovery: PortalDiscovery, url: str, look: dict, fields: dict) -> None:
        """Record a candidate that showed no report items: a list without reports, or no list at all."""
        listish = look["items"] and (look["pager"] or look["count_text"] or fields.get("tier") == TIER_COLUMN)
        if listish or look["empty_container"] and (look["pager"] or look["count_text"]):
            how = "rendered in the browser, " if look["rendered"] else ""
            discovery.record(url, NO_REPORTS, f"{how}{look['items']} items, none a report", look, **fields)
        else:
            discovery.record(url, NOT_A_LIST, f"no report items ({look['items']} links)", look, **fields)

    def parse_script(self, response: Response):
        """A page's linked script: render the page in the browser when the script builds its list."""
        return self._journaled(response, self._script(response))

    def _script(self, response: Response) -> Iterator[Any]:
        check = self._script_checks.get(response.meta.get("script_for", ""))
        if check is None or check["done"]:
            return
        text = response.body[:SCRIPT_SNIFF_BYTES].decode("utf-8", "replace")
        self._script_verdicts[response.url] = script_builds_list(text)
        if self._script_verdicts[response.url]:
            check["done"] = True
            portal = self._portal(response)
            self.crawler.stats.inc_value("discovery/linked_script_lists")
            yield from self._render_checked(response.meta["script_for"], portal, check,
                                            f"linked script {response.url} builds the list")
            return
        yield from self._script_checked(response.meta["script_for"], self._portal(response))

    def _script_checked(self, page_url: str, portal: Portal | None) -> Iterator[Any]:
        """One linked script of `page_url` does not build a list; after the last, fall back or give up."""
        check = self._script_checks.get(page_url)
        if check is None or check["done"] or portal is None:
            return
        check["pending"] -= 1
        if check["pending"] > 0:
            return
        check["done"] = True
        if check["clearly_a_list"] and self._may_render(portal):
            yield from self._render_checked(page_url, portal, check, "an empty list beside a pager or count")
            return
        self._no_list(self.discoveries[portal.id], page_url, check["look"], check["fields"])
        yield from self._next_discovery(portal)

    def _render_checked(self, page_url: str, portal: Portal, check: dict, why: str) -> Iterator[Any]:
        meta = {"portal_id": portal.id, "referer_url": check["referer"], "link_depth": check["fields"].get("depth", 0),
                "discovery": True, "render_reason": why,
                "candidate": {"text": check["fields"].get("text", ""), "tier": check["fields"].get("tier", -1)},
                **self._browser_meta()}
        self.crawler.stats.inc_value("portals/browser_rendered")
        self._discovery_renders[portal.id] = self._discovery_renders.get(portal.id, 0) + 1
        self.logger.info("%s: rendered in the browser: %s (portal %s)", page_url, why, portal.id)
        yield scrapy.Request(page_url, callback=self.parse_entry, errback=self.on_error, meta=meta, dont_filter=True)

    def _may_render(self, portal: Portal) -> bool:
        return self._discovery_renders.get(portal.id, 0) < MAX_DISCOVERY_RENDERS

    def _next_discovery(self, portal: Portal) -> Iterator[scrapy.Request]:
        """The next candidate of the portal's search, unless one is in flight or the search is over."""
        discovery = self.discoveries.get(portal.id)
        if discovery is None or discovery.in_flight or portal.id in self.blocked_portals:
            return
        if self.budgets.spent(portal.id):
            return
        candidate = discovery.next_candidate(self.robots_allow)
        if candidate is None:
            return
        discovery.pages += 1
        meta = {"portal_id": portal.id, "referer_url": candidate.referer, "link_depth": candidate.depth,
                "discovery": True, "candidate": {"text": candidate.text, "tier": candidate.tier}}
        # not filtered: the search has its own once-per-portal set, and portals sharing a site (a city and
        # its bureaux) each need their own walk through the shared pages
        yield scrapy.Request(candidate.url, callback=self.parse_entry, errback=self.on_error, meta=meta,
                             dont_filter=True)

    @staticmethod
    def _frames_and_script_redirects(response: Response) -> list[str]:
        targets = response.xpath("//frame/@src | //iframe/@src").getall()
        for script in response.xpath("//script[not(@src)]/text()").getall():
            targets += [m.group(1) or m.group(2) for m in _SCRIPT_REDIRECT.finditer(script)]
        urls = [absolute(response.url, t) for t in targets]
        return [u for u in dict.fromkeys(urls) if u and u != response.url]

    def _rendered_again(self, response: Response, portal: Portal, callback, why: str = "") -> scrapy.Request:
        meta = {"portal_id": portal.id, "referer_url": response.meta.get("referer_url"),
                "link_depth": response.meta.get("link_depth", 0), **self._browser_meta()}
        for key in ("discovery", "candidate"):
            if key in response.meta:
                meta[key] = response.meta[key]
        if why:
            meta["render_reason"] = why
            self.logger.info("%s: rendered in the browser: %s (portal %s)", response.url, why, portal.id)
        if callback == self.parse_entry:
            self._discovery_renders[portal.id] = self._discovery_renders.get(portal.id, 0) + 1
        self.crawler.stats.inc_value("portals/browser_rendered")
        return scrapy.Request(response.url, callback=callback, errback=self.on_error, meta=meta, dont_filter=True)

    # ------------------------------------------------------------------ the 年报 column

    def parse_list(self, response: Response):
        """A page of the 年报 column (HTML list, data-endpoint XML, or a browser-rendered list)."""
        return self._journaled(response, self._list_page(response))

    def _list_page(self, response: Response) -> Iterator[Any]:
        portal = self._portal(response)
        response = self._prepare(response)
        if portal is None or not isinstance(response, TextResponse):
            return
        self._count(portal.id, "pages")
        adapter = select_adapter(response, response.meta.get("adapter"))
        yield from self._list(response, portal, adapter)

    def _list(self, response: Response, portal: Portal, adapter) -> Iterator[Any]:
        entries = adapter.entries(response)
        followed = 0
        for position, entry in enumerate(entries):
            if self.budgets.exhausted(portal.id):
                # the rest of a huge list is not even classified: the diagnosis counts what was left
                self.budgets.of(portal.id).not_scheduled += len(entries) - position
                break
            request = self._follow_entry(entry, response, portal)
            if request is not None:
                followed += 1
                yield request
        rendered = bool(response.meta.get("playwright"))
        spent = self.budgets.spent(portal.id)
        pages = adapter.next_pages(response)
        if not followed and not pages and not spent and not rendered and (
                adapter.needs_browser(response, entries) or clearly_a_list(response)):
            # a list page that shows nothing although it is one: the browser, once, before giving up
            yield self._rendered_again(response, portal, self.parse_list, why="list page shows no items")
            return
        yield self._document(response, portal, "list_page", title=self._page_title(response))
        for page in pages:
            if same_site(page.url, portal.url):
                request = self._page_request(page, portal, response.url, adapter.name)
                if request is not None:
                    yield request

    def _follow_entry(self, entry: Entry, response: Response, portal: Portal) -> scrapy.Request | None:
        verdict = classify.classify_title(entry.title)
        if verdict.is_report:
            return self._follow_report(entry, verdict.year, response, portal, verify=False)
        if classify.may_be_truncated_report(entry.title):
            return self._follow_report(entry, classify.statistical_year(entry.title), response, portal, verify=True)
        if classify.is_year_tab(entry.title) and same_site(entry.url, portal.url) and not is_attachment_url(entry.url):
            return self._request(entry.url, self.parse_list, portal, response.url)
        return None

    def _follow_report(self, entry: Entry, year: int | None, response: Response, portal: Portal,
                       verify: bool) -> scrapy.Request | None:
        if not same_government(entry.url, portal.url):
            self.logger.debug("report link off the portal's government, skipped: %s", entry.url)
            return None
        meta = {"title": entry.title, "year": year, "published": entry.published, "verify_title": verify,
                CONDITIONAL_META: True}
        callback = self.parse_attachment if is_attachment_url(entry.url) else self.parse_report
        return self._request(entry.url, callback, portal, response.url, **meta)

    # ------------------------------------------------------------------ reports and attachments

    def parse_report(self, response: Response):
        """A report's detail page: the report itself (HTML) and links to its attachments."""
        if response.status == 304:
            return self._not_modified(response, self._report)
        return self._journaled(response, self._report(response))

    def _report(self, response: Response) -> Iterator[Any]:
        portal = self._portal(response)
        if portal is None:
            return
        if not self._is_html(response):
            yield from self._attachment(response)  # the link led straight to a file
            return
        response = self._prepare(response)
        self._count(portal.id, "pages")
        meta = response.meta
        page_title = self._detail_title(response)
        title, year = meta.get("title"), meta.get("year")
        if page_title:
            verdict = classify.classify_title(page_title)
            if meta.get("verify_title") and not verdict.is_report:
                return
            if verdict.is_report:
                title, year = (page_title if len(page_title) >= len(title or "") else title), verdict.year
        elif meta.get("verify_title"):
            return
        labels = self._labels(response)
        published = meta.get("published") or labels.get("published") or self._meta_date(response)
        attachments = self._attachment_links(response, portal)
        # a page that only introduces its attachment ("详见附件") is not itself the report
        kind = "detail_page" if attachments and self._text_length(response) < REPORT_TEXT_MIN else "report_page"
        yield self._document(response, portal, kind, title=title, year=year, published=published,
                             index_no=labels.get("index_no"), publisher=labels.get("publisher"))
        if kind == "report_page":
            self._count(portal.id, "reports")
        context = {"title": title, "year": year, "published": published,
                   "index_no": labels.get("index_no"), "publisher": labels.get("publisher")}
        for url, text in attachments:
            request = self._request(url, self.parse_attachment, portal, response.url, link_text=text,
                                    report_attachment=kind == "detail_page", **{CONDITIONAL_META: True}, **context)
            if request is not None:
                yield request

    def parse_attachment(self, response: Response):
        """A file linked from a report page or a list (PDF, DOC(X), WPS, OFD, ZIP, image …)."""
        if response.status == 304:
            return self._not_modified(response, self._attachment)
        return self._journaled(response, self._attachment(response))

    def _not_modified(self, response: Response, handle) -> Iterable[Any]:
        """A 304 for a document: carry on with the archived copy the server confirmed, as if served.

        Its items still go out (the catalog records that the document was seen again), and a
        detail page still leads to its attachments. When the archive cannot give the copy back,
        the document is fetched again in full.
        """
        portal_id = response.meta.get("portal_id")
        self._count(portal_id, "not_modified")
        try:
            restored = archived_response(response, self.settings.get("DATA_DIR", "data"))
        except ArchiveLookupError as exc:
            self.logger.warning("%s: 304 Not Modified, but the archived copy cannot be used (%s); fetching it "
                                "again (portal %s)", response.url, exc, portal_id)
            self.crawler.stats.inc_value("conditional/refetched")
            # not journaled: the full fetch has the same fingerprint and finishes the page itself
            return [unconditional(response.request)]
        self.crawler.stats.inc_value("conditional/restored_from_archive")
        return self._journaled(restored, handle(restored))

    def _attachment(self, response: Response) -> Iterator[Any]:
        portal = self._portal(response)
        if portal is None:
            return
        meta = response.meta
        if self._is_html(response) and not response.headers.get("Content-Disposition"):
            if meta.get("link_text") is None:
                # a list entry that turned out to be a page after all
                yield from self._report(response)
            else:
                self.logger.debug("attachment link led to an HTML page, skipped: %s", response.url)
            return
        self._count(portal.id, "pages")
        filename = filename_from_disposition(response.headers.get("Content-Disposition"))
        if not filename:
            filename = clean_filename(unquote(posixpath.basename(urlsplit(response.url).path)))
        year = meta.get("year")
        if year is None:
            year = classify.statistical_year(filename or "") or classify.statistical_year(meta.get("link_text") or "")
        title = meta.get("title") or meta.get("link_text") or filename
        if meta.get("verify_title") and not classify.is_annual_report(filename or ""):
            return
        yield self._document(response, portal, "attachment", title=title, year=year,
                             published=meta.get("published"), index_no=meta.get("index_no"),
                             publisher=meta.get("publisher"), filename=filename)
        self._count(portal.id, "attachments")
        if meta.get("link_text") is None or meta.get("report_attachment"):
            self._count(portal.id, "reports")

    # ------------------------------------------------------------------ page reading

    @staticmethod
    def _is_html(response: Response) -> bool:
        """An HTML page (declared, or sniffed when the server declares nothing useful), not a file."""
        ctype = (response.headers.get("Content-Type") or b"").split(b";")[0].strip().lower()
        if any(t in ctype for t in _HTML_TYPES):
            return True
        if ctype and ctype not in (b"application/octet-stream", b"binary/octet-stream", b"text/plain"):
            return False
        return looks_like_html(response.body)

    @staticmethod
    def _text_length(response: Response) -> int:
        """Characters of running text on the page, leaving out links, scripts and styles."""
        texts = response.xpath("//body//text()[not(ancestor::script or ancestor::style or ancestor::a)]").getall()
        return sum(len(re.sub(r"\s+", "", t)) for t in texts)

    @staticmethod
    def _page_title(response: Response) -> str | None:
        try:
            return clean_text(response.xpath("//title/text()").get()) or None
        except ValueError:  # a JSON list page (a platform's list API) has no title
            return None

    @staticmethod
    def _detail_title(response: Response) -> str | None:
        """The report title as the detail page prints it (meta ArticleTitle, the heading, <title>)."""
        # compiled lxml XPath, plain strings: no parsel Selector per text node
        root = response.selector.root
        meta, title = _META_TITLE(root), _TITLE_TEXT(root)
        candidates = [meta[0] if meta else None, *_HEADING_TEXT(root), title[0] if title else None]
        fallback = None
        for raw in candidates:
            text = clean_text(raw)
            if not text:
                continue
            if classify.is_annual_report(text):
                return text
            fallback = fallback or text
        return fallback

    @staticmethod
    def _labels(response: Response) -> dict[str, str]:
        """索引号, 发布机构 and the publication date from a detail page's metadata table or lines.

        The value follows its label in the same text (``发布时间：2021-01-15　来源：…``) or sits in
        the next cell (``<th>索引号：</th><td>…</td>``).
        """
        # Compiled lxml XPath with plain strings: a parsel Selector (or a "smart" string that looks up
        # its parent element) per text node made this the crawl's costliest step. Every label ends in
        # a colon, so only text nodes with one are cleaned and searched; for each label the first
        # text, in page order, that gives a value wins.
        texts = _BODY_TEXT(response.selector.root)
        found: dict[str, str] = {}
        for i, raw in enumerate(texts):
            if ":" not in raw and "：" not in raw:
                continue
            text = clean_text(raw)
            for key, pattern in _LABEL_PATTERNS.items():
                if key in found or not (match := pattern.search(text)):
                    continue
                value = match.group(1) or _next_text(texts, i)
                value = iso_date(value) if key == "published" else value.split()[0] if value.split() else ""
                if value and not _ANY_LABEL.match(value):
                    found[key] = value
            if len(found) == len(_LABEL_PATTERNS):
                break
        return found

    @staticmethod
    def _meta_date(response: Response) -> str | None:
        for name in ("PubDate", "pubdate", "publishdate", "firstpublishedtime", "others"):
            value = response.xpath(f"//meta[@name='{name}']/@content").get()
            if iso_date(value):
                return iso_date(value)
        return None

    def _attachment_links(self, response: Response, portal: Portal) -> list[tuple[str, str]]:
        """Links on a report page to its files: by extension, link text, download-style URL, or the
        file an embedded viewer shows (``viewer.html?file=/upload/x.pdf``)."""
        found: dict[str, str] = {}
        for node in response.xpath("//a[@href] | //iframe[@src] | //embed[@src] | //object[@data]"):
            raw = node.attrib.get("href") or node.attrib.get("src") or node.attrib.get("data")
            url = absolute(response.url, raw)
            viewed = _VIEWER_FILE.search(url or "")
            if viewed and is_attachment_url(unquote(viewed.group(1))):
                url = absolute(url, unquote(viewed.group(1)))
            if not url or url == response.url or not same_government(url, portal.url):
                continue
            text = link_title(node) if node.root.tag == "a" else ""
            if is_attachment_url(url) or text.lower().endswith(ATTACHMENT_EXTENSIONS) or _DOWNLOAD_HREF.search(url):
                found.setdefault(url, text)
        return list(found.items())

    def _document(self, response: Response, portal: Portal, kind: str, **fields: Any) -> DocumentItem:
        meta = response.meta
        ctype = response.headers.get("Content-Type")
        item = DocumentItem(
            portal_id=portal.id, url=response.url, kind=kind, referer=meta.get("referer_url"),
            content_type=ctype.decode("latin-1") if ctype else None,
            sha256=meta.get("sha256") or hashlib.sha256(response.body).hexdigest(),
            status=response.status, warc_record_id=meta.get("warc_record_id"), fetched_at=_now(),
            truncated=meta.get("warc_truncated"),
        )
        for key, value in fields.items():
            item[key] = value
        for key in ("title", "year", "published", "index_no", "publisher", "filename"):
            item.setdefault(key, None)
        return item

    # ------------------------------------------------------------------ errors

    def on_error(self, failure: Failure):
        """A request that failed for good (after retries): count it for its portal, keep going.

        A discovery candidate that failed (robots.txt, HTTP error, connection) is recorded with its
        reason and the next candidate is tried; a linked script that failed counts as not building
        the list.
        """
        request = failure.request
        outputs = list(self._failed(failure, request))
        # a failed discovery candidate is done too: a resumed crawl replays what the search went on to
        if self.journal is not None and (failure.check(HttpError) or request.meta.get("discovery")):
            self.journal.record(journal_key(self, request), request.url, serialise(self, outputs))
        return outputs

    def _failed(self, failure: Failure, request: scrapy.Request) -> Iterator[Any]:
        portal_id = request.meta.get("portal_id")
        note_failure(self.crawler, failure)  # a fetch_failures row with its reason
        portal = self.portals.get(portal_id)
        message = failure.getErrorMessage()
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            # robots.txt, blocked portal, private address, budget: counted where decided
            if portal is not None and request.meta.get("discovery"):
                result = (ROBOTS if "robots" in message.lower() else
                          BLOCKED if portal_id in self.blocked_portals else FAILED)
                self.discoveries[portal_id].record(request.url, result, message, **self._candidate_fields(request))
                yield from self._next_discovery(portal)
            elif request.meta.get("script_for"):
                self._script_verdicts[request.url] = False
                yield from self._script_checked(request.meta["script_for"], portal)
            return
        if request.meta.get("script_for"):
            # a page's linked script is no report candidate: a missing one only means it builds no list
            self._script_verdicts[request.url] = False
            yield from self._script_checked(request.meta["script_for"], portal)
            return
        self._count(portal_id, "errors")
        if failure.check(HttpError):
            response = failure.value.response
            message = f"HTTP {response.status}"
            self.logger.warning("%s: HTTP %s (portal %s)", response.url, response.status, portal_id)
        else:
            self.logger.warning("%s: %s (portal %s)", request.url, message, portal_id)
        if portal is None:
            return
        if request.meta.get("discovery"):
            discovery = self.discoveries[portal_id]
            if (request.meta.get("candidate") or {}).get("tier") == -1:  # the registry URL itself
                discovery.start_error = f"{type(failure.value).__name__}: {message}"
            discovery.record(request.url, FAILED, message, **self._candidate_fields(request))
            yield from self._next_discovery(portal)
