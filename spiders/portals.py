"""The `portals` spider: find every annual OGI report on the portals of a registry.

    scrapy crawl portals [-a portals=FILE.csv] [-a only=ID,ID] [-s DATA_DIR=DIR] [-s JOBDIR=DIR]

From each registry row's URL (portal home, 政府信息公开 page or the 年报 column itself) the spider
finds the 年报 column by link text, walks every page of it through the adapter of the portal's CMS
family (crawler/adapters), keeps the items `crawler.classify` accepts as reports, and follows their
detail pages and attachments. Every document is handed on as a `DocumentItem`.
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
from crawler.adapters.jsrendered import LOAD_MORE_TEXTS
from crawler.charset import (
    as_html,
    clean_filename,
    filename_from_disposition,
    looks_like_html,
    repair_encoding,
)
from crawler.conditional import CONDITIONAL_META, archived_response, unconditional
from crawler.fetch_failures import note_failure
from crawler.items import DocumentItem
from crawler.journal import JOURNAL_FILE, CrawlJournal, journal_key, replay, serialise
from crawler.registry import Portal, Registry, load_registry
from crawler.scope import same_government, same_site

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REGISTRY = PROJECT_ROOT / "portals.csv"

ATTACHMENT_EXTENSIONS = (".pdf", ".doc", ".docx", ".wps", ".ofd", ".zip", ".rar", ".7z", ".xls", ".xlsx",
                         ".et", ".jpg", ".jpeg", ".png", ".gif", ".tif", ".tiff", ".bmp", ".txt", ".rtf")
_DOWNLOAD_HREF = re.compile(r"download|downfile|getfile|attach|fileid=|filename=|/upload/|/uploadfile/", re.I)
_HTML_TYPES = (b"text/html", b"application/xhtml")
_VIEWER_FILE = re.compile(r"[?&](?:file|url|src)=([^&#]+)", re.I)
_SCRIPT_REDIRECT = re.compile(r"""(?:location\.href|window\.location|location)\s*=\s*['"]([^'"]+)['"]|"""
                              r"""location\.replace\(\s*['"]([^'"]+)['"]""")
MAX_DISCOVERY_HOPS = 3
MAX_DISCOVERY_RENDERS = 2
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
# a label at the start of a text or after a space, its value after the colon
_LABEL_PATTERNS = {key: re.compile(rf"(?:^|\s)(?:{labels})\s*[:：]\s*(.*)$")
                   for key, labels in _LABELS.items()}
_ANY_LABEL = re.compile("|".join(f"(?:{labels})" for labels in _LABELS.values()))


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

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        # an unusable registry file is bad input: fail before anything starts
        spider.registry = load_registry(spider.portals_file)
        jobdir = crawler.settings.get("JOBDIR")
        if jobdir:
            spider.journal = CrawlJournal(Path(jobdir) / JOURNAL_FILE)
        crawler.signals.connect(spider._closed, signal=scrapy.signals.spider_closed)
        return spider

    def _closed(self, spider: scrapy.Spider, reason: str) -> None:
        if self.journal is not None:
            if reason == "finished":
                self.journal.finish()
            self.journal.close()

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
        for portal in selected:
            meta: dict[str, Any] = {"portal_id": portal.id, "hops": 0}
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

    def _request(self, url: str, callback, portal: Portal, referer: str | None, **meta: Any) -> scrapy.Request:
        meta = {"portal_id": portal.id, "referer_url": referer, **meta}
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta=meta)

    def _page_request(self, page: PageRequest, portal: Portal, referer: str, adapter: str) -> scrapy.Request:
        meta: dict[str, Any] = {"portal_id": portal.id, "referer_url": referer, "adapter": adapter, **page.meta}
        if page.browser:
            meta.update(self._browser_meta())
        if page.method == "POST":
            return scrapy.FormRequest(page.url, formdata=page.formdata or {}, headers=page.headers,
                                      callback=self.parse_list, errback=self.on_error, meta=meta)
        return scrapy.Request(page.url, headers=page.headers, callback=self.parse_list,
                              errback=self.on_error, meta=meta)

    @staticmethod
    def _prepare(response: Response) -> Response:
        return repair_encoding(as_html(response))

    # ------------------------------------------------------------------ discovery

    def parse_entry(self, response: Response):
        """A registry URL, or a page on the way to the 年报 column."""
        return self._journaled(response, self._entry(response))

    def _entry(self, response: Response) -> Iterator[Any]:
        portal = self._portal(response)
        response = self._prepare(response)
        if portal is None or not isinstance(response, TextResponse):
            return
        self._count(portal.id, "pages")
        columns, sections = [], []
        for anchor in response.xpath("//a[@href]"):
            text = link_title(anchor)
            url = absolute(response.url, anchor.attrib.get("href"))
            if not url or not same_site(url, portal.url) or url == response.url:
                continue
            if classify.is_column_link(text):
                columns.append(url)
            elif classify.is_disclosure_section_link(text):
                sections.append(url)
        for url in columns:
            yield self._request(url, self.parse_list, portal, response.url, hops=response.meta.get("hops", 0))
        adapter = select_adapter(response)
        # a platform shell names its 年报 column in its own data, not in a link
        column_pages = [p for p in adapter.column_pages(response) if same_site(p.url, portal.url)]
        for page in column_pages:
            yield self._page_request(page, portal, response.url, adapter.name)
        entries = adapter.entries(response)
        has_reports = any(classify.is_annual_report(e.title) for e in entries)
        if has_reports:  # the registry URL is the 年报 column itself (or also lists reports)
            yield from self._list(response, portal, adapter)
            return
        if columns or column_pages:
            return
        if adapter.needs_browser(response, entries) and self._discovery_renders.get(portal.id, 0) < MAX_DISCOVERY_RENDERS:
            # portal pages often carry some list script; a browser only for the first few
            self._discovery_renders[portal.id] = self._discovery_renders.get(portal.id, 0) + 1
            yield self._rendered_again(response, portal, self.parse_entry)
            return
        hops = response.meta.get("hops", 0)
        if hops >= MAX_DISCOVERY_HOPS:
            return
        if not sections:
            # a shell page: frames, or a script that sends the browser on (location.href = …)
            sections = [u for u in self._frames_and_script_redirects(response) if same_site(u, portal.url)]
        for url in sections:
            yield self._request(url, self.parse_entry, portal, response.url, hops=hops + 1)

    @staticmethod
    def _frames_and_script_redirects(response: Response) -> list[str]:
        targets = response.xpath("//frame/@src | //iframe/@src").getall()
        for script in response.xpath("//script[not(@src)]/text()").getall():
            targets += [m.group(1) or m.group(2) for m in _SCRIPT_REDIRECT.finditer(script)]
        urls = [absolute(response.url, t) for t in targets]
        return [u for u in dict.fromkeys(urls) if u and u != response.url]

    def _rendered_again(self, response: Response, portal: Portal, callback) -> scrapy.Request:
        meta = {"portal_id": portal.id, "referer_url": response.meta.get("referer_url"),
                "hops": response.meta.get("hops", 0), **self._browser_meta()}
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
        for entry in entries:
            request = self._follow_entry(entry, response, portal)
            if request is not None:
                followed += 1
                yield request
        if not followed and adapter.needs_browser(response, entries):
            yield self._rendered_again(response, portal, self.parse_list)
            return
        yield self._document(response, portal, "list_page", title=self._page_title(response))
        for page in adapter.next_pages(response):
            if same_site(page.url, portal.url):
                yield self._page_request(page, portal, response.url, adapter.name)

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
            yield self._request(url, self.parse_attachment, portal, response.url, link_text=text,
                                report_attachment=kind == "detail_page", **{CONDITIONAL_META: True}, **context)

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
        candidates = [
            response.xpath("//meta[@name='ArticleTitle']/@content").get(),
            *response.xpath("//h1//text() | //h2//text() | //*[contains(@class,'title')]//text()").getall(),
            response.xpath("//title/text()").get(),
        ]
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
        # its parent element) per text node made this the crawl's costliest step.
        texts = [clean_text(t.replace("\u3000", " ")) for t in _BODY_TEXT(response.selector.root)]
        texts = [t for t in texts if t]
        found: dict[str, str] = {}
        for key, pattern in _LABEL_PATTERNS.items():
            for i, text in enumerate(texts):
                match = pattern.search(text)
                if not match:
                    continue
                value = match.group(1) or (texts[i + 1] if i + 1 < len(texts) else "")
                value = iso_date(value) if key == "published" else value.split()[0] if value.split() else ""
                if value and not _ANY_LABEL.match(value):
                    found[key] = value
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
        )
        for key, value in fields.items():
            item[key] = value
        for key in ("title", "year", "published", "index_no", "publisher", "filename"):
            item.setdefault(key, None)
        return item

    # ------------------------------------------------------------------ errors

    def on_error(self, failure: Failure):
        """A request that failed for good (after retries): count it for its portal, keep going."""
        request = failure.request
        portal_id = request.meta.get("portal_id")
        note_failure(self.crawler, failure)  # a fetch_failures row with its reason
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            return  # robots.txt, blocked portal, private address: counted where decided
        self._count(portal_id, "errors")
        if failure.check(HttpError):
            response = failure.value.response
            self.logger.warning("%s: HTTP %s (portal %s)", response.url, response.status, portal_id)
            if self.journal is not None:
                self.journal.record(journal_key(self, request), request.url, [])
        else:
            self.logger.warning("%s: %s (portal %s)", request.url, failure.getErrorMessage(), portal_id)
