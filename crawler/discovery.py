"""Finding a portal's 年报 column: candidate links ranked, walked best-first within a budget.

From whatever the registry row gives (home, 政府信息公开 page, the column itself) the spider asks a
`PortalDiscovery` which page to fetch next. Candidates are ranked by what their link says:

    0  the 年报 column by name (政府信息公开年报, 年度报告 …)
    1  the disclosure platform (政府信息公开, 信息公开目录, 法定主动公开内容)
    2  the site's own disclosure sections (政务公开, 部门信息公开, xxgk/zwgk paths …)
    3  frames and script redirects of a shell page

and walked one at a time, best first, up to a number of pages and a link depth from the start.
Every candidate tried ends with an outcome (the column, not a list, a list without reports,
disallowed by robots.txt, failed) that the portal's diagnosis reports. Once the column is found
only the remaining column-named candidates are tried.

The module also holds the page tests discovery needs: what a list page looks like (`list_look`),
whether a page is clearly a list although it shows no items (`clearly_a_list`), and which of its
linked scripts could build its list (`linked_scripts`).
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from scrapy.http import Response, TextResponse

from crawler import classify
from crawler.adapters.base import Entry, absolute, clean_text
from crawler.scope import same_site

TIER_COLUMN = 0
TIER_DISCLOSURE = 1
TIER_SECTION = 2
TIER_SHELL = 3
TIER_NAMES = {TIER_COLUMN: "年报 column link", TIER_DISCLOSURE: "disclosure platform link",
              TIER_SECTION: "disclosure section link", TIER_SHELL: "frame or script redirect"}

# outcomes of a candidate
COLUMN = "column"                # a list with report items: walked
NO_REPORTS = "list_without_reports"
NOT_A_LIST = "not_a_list"
ROBOTS = "robots"
FAILED = "failed"
BLOCKED = "blocked"
UNREACHED = "not_tried"          # left in the frontier when the budget ran out

_SECTION_TEXT = re.compile(r"(政府|政务|部门|信息)公开|公开(目录|专栏|平台)|主动公开|信息公开")
_SECTION_PATH = re.compile(r"/(xxgk|zwgk|gkml|zfxxgk|xxgkml|zfgk|govinfo|openness|gk)(/|\.|$|_)", re.I)
# sections of a disclosure platform that never hold the 年报 column
_NOT_A_SECTION = re.compile(r"指南|申请|依申请|意见|互动|留言|信箱|统计|登录|注册|English", re.I)
_INDEX_PATH = re.compile(r"(/|/index\.s?html?|/index\.jsp|/default\.s?html?)$", re.I)
_A_YEAR = re.compile(r"(19|20)\d{2}")
_COUNT_TEXT = re.compile(r"共\s*\d+\s*(条|篇|页|项|记录)")
_PAGER_TEXT = re.compile(r"下一页|上一页|尾页|末页|首页\s*上一页|第\s*\d+\s*页")
_PAGER_CLASS = "contains(@class,'page') or contains(@id,'page') or contains(@class,'pager') or contains(@class,'pagination')"
_LIST_CONTAINER = re.compile(r"list|news|article|xxgk|gkml|items|content-box|doc", re.I)
# common libraries a page links that never build a column list
_LIBRARY_SCRIPT = re.compile(r"jquery|bootstrap|layui|swiper|vue(\.min)?\.js|echarts|polyfill|analytics|"
                             r"baidu|cnzz|hm\.js|jiathis|common\.js$|wza|font|require(\.min)?\.js$|sea(\.min)?\.js$", re.I)
MAX_LINKED_SCRIPTS = 3


def rank_link(text: str, url: str) -> int | None:
    """The tier of a link as a way to the 年报 column (lower is better), None when it is no candidate."""
    if classify.is_column_link(text):
        return TIER_COLUMN
    if classify.is_disclosure_section_link(text):
        return TIER_DISCLOSURE
    norm = classify.normalise_title(text)
    # a section is named by what it holds, never by a year (that is an item: a report, a notice)
    if norm and len(norm) <= 20 and not _NOT_A_SECTION.search(norm) and not _A_YEAR.search(norm):
        if _SECTION_TEXT.search(norm):
            return TIER_SECTION
        # a short navigation label leading to a column index under a disclosure path (not an item in it)
        path = urlsplit(url).path
        if len(norm) <= 10 and not norm.isdigit() and _SECTION_PATH.search(path) and _INDEX_PATH.search(path):
            return TIER_SECTION
    return None


@dataclass(order=True)
class Candidate:
    """A page that may lead to (or be) the 年报 column. Ordered by rank, then by host (the start
    URL's own host before the site's other hosts: a bureau's 年报 before its city's), then depth."""

    tier: int
    off_host: bool
    depth: int
    seq: int
    url: str = field(compare=False)
    text: str = field(compare=False, default="")
    referer: str | None = field(compare=False, default=None)


@dataclass
class Outcome:
    """What trying one candidate showed."""

    url: str
    text: str
    tier: int
    depth: int
    result: str
    reason: str
    look: dict | None = None

    def as_dict(self) -> dict:
        row = {"url": self.url, "link": self.text, "rank": TIER_NAMES.get(self.tier, "start"),
               "depth": self.depth, "result": self.result, "reason": self.reason}
        if self.look:
            row["look"] = self.look
        return row


class PortalDiscovery:
    """The bounded best-first search for one portal's 年报 column."""

    def __init__(self, portal_id: str, start_url: str, max_pages: int = 25, max_depth: int = 3):
        self.portal_id = portal_id
        self.start_url = start_url
        self.max_pages = max_pages
        self.max_depth = max_depth
        self._frontier: list[Candidate] = []
        self._seen: set[str] = {start_url}
        self._seq = 0
        self.pages = 0            # discovery pages fetched (the start page included)
        self.outcomes: list[Outcome] = []
        self.columns: list[str] = []
        self.in_flight: str | None = None
        self.budget_hit: str | None = None
        self.start_error: str | None = None
        self.robots_txt: list[str] = []  # why a robots.txt the portal needed could not be read (crawler/robots.py)

    # -- the frontier

    def offer(self, url: str, text: str, depth: int, referer: str | None, tier: int | None = None) -> bool:
        """Add a link as a candidate (once, within the portal's site and the depth limit)."""
        if tier is None:
            tier = rank_link(text, url)
        if tier is None or url in self._seen or not same_site(url, self.start_url):
            return False
        if depth > self.max_depth:
            return False
        self._seen.add(url)
        self._seq += 1
        off_host = urlsplit(url).netloc != urlsplit(self.start_url).netloc
        heapq.heappush(self._frontier, Candidate(tier, off_host, depth, self._seq, url, clean_text(text)[:60], referer))
        return True

    def offer_links(self, response: Response, depth: int) -> int:
        """Every ranked link of a discovery page; returns how many were new."""
        added = 0
        if not is_html_page(response):
            return added
        for anchor in response.xpath("//a[@href]"):
            url = absolute(response.url, anchor.attrib.get("href"))
            if not url or url == response.url:
                continue
            text = clean_text(" ".join(anchor.xpath(".//text()").getall())) or clean_text(anchor.attrib.get("title"))
            added += self.offer(url, text, depth, response.url)
        return added

    def next_candidate(self, allowed: Callable[[str], bool]) -> Candidate | None:
        """The best candidate still worth fetching; those robots.txt disallows are recorded and skipped.

        None when the frontier is empty, only lower-ranked candidates remain after the column was
        found, or the page budget is spent (the candidates left are recorded as not tried).
        """
        while self._frontier:
            if self.columns and (self._frontier[0].tier != TIER_COLUMN or self._frontier[0].off_host):
                return None  # the column is found: only further 年报 columns of the same host are worth a try
            if self.pages >= self.max_pages:
                self.budget_hit = f"discovery pages {self.max_pages} reached"
                for left in sorted(self._frontier):
                    self.outcomes.append(Outcome(left.url, left.text, left.tier, left.depth, UNREACHED,
                                                 "discovery budget spent"))
                self._frontier.clear()
                return None
            candidate = heapq.heappop(self._frontier)
            if not allowed(candidate.url):
                self.record(candidate.url, ROBOTS, "disallowed by robots.txt (not requested)",
                            text=candidate.text, tier=candidate.tier, depth=candidate.depth)
                continue
            self.in_flight = candidate.url
            return candidate
        return None

    # -- outcomes

    def record(self, url: str, result: str, reason: str, look: dict | None = None, text: str = "",
               tier: int = -1, depth: int = 0) -> None:
        """The outcome of a candidate (or of the start page); the search may go on with the next.

        One candidate is in flight at a time, so an outcome is always the in-flight one's, whatever
        URL it ended at (redirects)."""
        self.in_flight = None
        if result == COLUMN and url not in self.columns:
            self.columns.append(url)
        self.outcomes.append(Outcome(url, text, tier, depth, result, reason, look))

    def tried(self) -> list[dict]:
        """Every outcome, in the order they happened."""
        return [o.as_dict() for o in self.outcomes]

    def result_of(self, url: str) -> str | None:
        for outcome in reversed(self.outcomes):
            if outcome.url == url:
                return outcome.result
        return None


# ---------------------------------------------------------------------- what a page looks like

def is_html_page(response: Response) -> bool:
    """A page with markup to look at: a data answer (JSON, XML) has no pager or list container."""
    return isinstance(response, TextResponse) and response.selector.type == "html"


def _visible_text(response: Response) -> str:
    if not is_html_page(response):
        return ""
    return " ".join(response.xpath("//body//text()[not(ancestor::script or ancestor::style)]").getall())


def list_look(response: Response, adapter_name: str, entries: list[Entry], rendered: bool) -> dict:
    """A short description of a would-be list page, for the diagnosis."""
    count = _COUNT_TEXT.search(_visible_text(response))
    reports = [e for e in entries if classify.is_annual_report(e.title)]
    look = {
        "adapter": adapter_name,
        "items": len(entries),
        "report_items": len(reports),
        # item-like titles first: navigation links (首页, 政府信息公开) say nothing about the list
        "sample_titles": [e.title[:40] for e in sorted(entries, key=lambda e: len(e.title) <= 8)[:3]],
        "pager": has_pager(response),
        "count_text": clean_text(count.group(0)) if count else None,
        "empty_container": has_empty_container(response),
        "rendered": rendered,
        "render_reason": response.meta.get("render_reason"),
    }
    return look


def has_pager(response: Response) -> bool:
    """A pager: an element named page/pager/pagination, or 下一页/尾页/第N页 text."""
    if not is_html_page(response):
        return False
    if response.xpath(f"//*[{_PAGER_CLASS}]"):
        return True
    return bool(_PAGER_TEXT.search(_visible_text(response)))


def has_empty_container(response: Response) -> bool:
    """An element named like a list (list, news, xxgk …) holding no link at all."""
    if not is_html_page(response):
        return False
    for node in response.xpath("//ul | //ol | //tbody | //div[@id or @class] | //table[@id or @class]"):
        name = f"{node.attrib.get('id', '')} {node.attrib.get('class', '')}"
        if not _LIST_CONTAINER.search(name):
            continue
        if not node.xpath(".//a[@href]") and len(clean_text(" ".join(node.xpath(".//text()").getall()))) < 20:
            return True
    return False


def clearly_a_list(response: Response) -> bool:
    """A page that is a list although it shows no items: an empty list container beside a pager
    or a 共N条 count."""
    if not is_html_page(response):
        return False
    counted = bool(_COUNT_TEXT.search(_visible_text(response)))
    return has_empty_container(response) and (has_pager(response) or counted)


def linked_scripts(response: Response, site_url: str) -> list[str]:
    """The page's own linked scripts (same site, not a known library) that may build its list."""
    urls: list[str] = []
    if not is_html_page(response):
        return urls
    for src in response.xpath("//script[@src]/@src").getall():
        url = absolute(response.url, src)
        if not url or not same_site(url, site_url):
            continue
        if _LIBRARY_SCRIPT.search(urlsplit(url).path.rsplit("/", 1)[-1]):
            continue
        urls.append(url)
    return list(dict.fromkeys(urls))[:MAX_LINKED_SCRIPTS]
