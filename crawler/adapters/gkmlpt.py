"""Guangdong's 集约化 政府信息公开目录平台 (``/gkmlpt/``): every body of the province publishes through it.

Its pages are a Vue shell (``/gkmlpt/index``, ``/gkmlpt/annualreport#ID``, ``/gkmlpt/policy``) whose inline
``window._CONFIG = {SID: '755041', TREE: [...], ...}`` carries the site id and the whole catalogue tree
(nodes ``{id, name, parent, post_count, children, jump_url}``); the bundle (``/gkmlpt/gkml/pc/js/…``)
fetches each catalogue's items from ``/gkmlpt/api/all/{id}?page={n}&sid={SID}``, a JSON object
``{classify: {id, name, post_count}, articles: [{id, title, url, post_url, created_at, date, identifier,
publisher, attachment: [...]}]}`` of up to 100 items a page. Items are detail pages
``/gkmlpt/content/{a}/{b}/post_{id}.html`` whose attachments (``/attachment/0/{x}/{y}/{id}.pdf``) are
``<a class="nfw-cms-attachment" alt="名称.pdf">`` links. The platform may sit under a department's path
(``/zqhjj/gkmlpt/…``). Observations and their sources: docs/portal-families.md.

The 年报 catalogue is found from the platform's own data (not by rendering): the TREE node named like a
年报 column, or the id in an ``annualreport#ID`` address.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin, urlsplit

from scrapy.http import Response

from crawler import classify
from crawler.adapters import ListAdapter, register
from crawler.adapters.base import Entry, PageRequest, clean_text, iso_date
from crawler.adapters.jsondata import as_int, response_json

_SHELL_PATH = re.compile(r"^(?P<prefix>(?:/[^/]+)*?)/gkmlpt(?:/|$)")
_API_PATH = re.compile(r"/gkmlpt/api/all/(?P<column>\d+)")
_CONFIG = re.compile(r"window\._CONFIG\s*=\s*\{")
_SID = re.compile(r"""\bSID\s*:\s*['"]?(\d+)""")
_TREE = re.compile(r"\bTREE\s*:\s*(?=\[)")
_APP_URL = re.compile(r"""\bAPP_URL\s*:\s*['"]([^'"]*)['"]""")
_ANNUAL_REPORT_ID = re.compile(r"annualreport#(\d+)")
_MAX_PAGES = 1000  # 100 items a page on real sites: 100,000 items
_MAX_COLUMNS = 10
_CHINA = timedelta(hours=8)
logger = logging.getLogger(__name__)


def is_shell(response: Response) -> bool:
    """A gkmlpt page: a ``/gkmlpt/`` address or ``/gkmlpt/`` script, with its ``window._CONFIG``."""
    text = getattr(response, "text", "")
    on_platform = "/gkmlpt/" in urlsplit(response.url).path + "/" or "/gkmlpt/" in text
    return on_platform and bool(_CONFIG.search(text)) and bool(_SID.search(text))


def is_api(url: str) -> bool:
    return bool(_API_PATH.search(urlsplit(url).path))


def site_config(text: str) -> dict:
    """SID, TREE and APP_URL from the shell's ``window._CONFIG`` (missing parts are None / [])."""
    sid = _SID.search(text)
    app_url = _APP_URL.search(text)
    return {"sid": sid.group(1) if sid else None, "tree": _tree(text),
            "app_url": app_url.group(1) if app_url else None}


def _tree(text: str) -> list[dict]:
    match = _TREE.search(text)
    if not match:
        return []
    try:
        tree, _ = json.JSONDecoder().raw_decode(text, match.end())
    except ValueError:
        return []
    return tree if isinstance(tree, list) else []


def _nodes(tree: list, depth: int = 0):
    for node in tree:
        if not isinstance(node, dict) or depth > 8:
            continue
        yield node
        yield from _nodes(node.get("children") or [], depth + 1)


def report_columns(response: Response, config: dict) -> list[int]:
    """Ids of the 年报 catalogues: an ``annualreport#ID`` address or link, else TREE nodes named as a 年报 column."""
    ids: list[int] = []
    # the fragment is never sent: the downloaded response's address lacks it, its request's keeps it
    asked = response.request.url if response.request is not None else ""
    for match in _ANNUAL_REPORT_ID.finditer(" ".join((asked, response.url, response.text))):
        ids.append(int(match.group(1)))
    for node in _nodes(config["tree"]):
        column = as_int(node.get("id"))
        # a node that jumps away is not a catalogue here, unless it jumps to the platform's own 年报 route
        jump = str(node.get("jump_url") or "")
        if column is None or (jump and "annualreport" not in jump):
            continue
        if classify.is_column_link(str(node.get("name", ""))):
            ids.append(column)
    return list(dict.fromkeys(ids))[:_MAX_COLUMNS]


def api_url(page_url: str, config: dict, column: int, page: int) -> str:
    """The catalogue API address for `column`, page `page`, of the platform `page_url` belongs to."""
    if config.get("app_url"):
        base = urljoin(page_url, config["app_url"].rstrip("/") + "/")
    else:
        match = _SHELL_PATH.match(urlsplit(page_url).path)
        base = urljoin(page_url, (match.group("prefix") if match else "") + "/")
    sid = f"&sid={config['sid']}" if config.get("sid") else ""
    return urljoin(base, f"gkmlpt/api/all/{column}?page={page}{sid}")


def article_date(article: dict) -> str | None:
    """An article's publication date: ``created_at`` as printed, else the ``date`` timestamp in China time."""
    printed = iso_date(str(article.get("created_at") or article.get("publish_time") or ""))
    if printed:
        return printed
    stamp = as_int(article.get("date")) or as_int(article.get("display_publish_time"))
    if stamp and 0 < stamp < 10_000_000_000:
        return (datetime.fromtimestamp(stamp, UTC) + _CHINA).strftime("%Y-%m-%d")
    return None


@register
class GkmlptAdapter(ListAdapter):
    name = "gkmlpt"
    priority = 5  # its shell carries scripts the JavaScript fallback would otherwise claim

    def matches(self, response: Response) -> bool:
        return is_api(response.url) or is_shell(response)

    def column_pages(self, response: Response) -> list[PageRequest]:
        if not is_shell(response):
            return []
        config = site_config(response.text)
        columns = report_columns(response, config)
        if not columns:
            logger.warning("%s: a gkmlpt shell whose catalogue tree (%d nodes) has no 年报 catalogue",
                           response.url, sum(1 for _ in _nodes(config["tree"])))
        return [PageRequest(api_url(response.url, config, column, 1),
                            headers={"Accept": "application/json, text/plain, */*"},
                            meta={"gkmlpt": {"sid": config["sid"], "column": column, "page": 1}})
                for column in columns]

    def entries(self, response: Response) -> list[Entry]:
        if not is_api(response.url):
            return []  # the shell lists nothing before its script runs
        body = response_json(response)
        articles = body.get("articles") if isinstance(body, dict) else None
        found = []
        for article in articles if isinstance(articles, list) else []:
            if not isinstance(article, dict):
                continue
            href = article.get("url") or article.get("post_url")
            title = clean_text(str(article.get("title") or ""))
            if not href or not title:
                continue
            found.append(Entry(url=urljoin(response.url, str(href)), title=title, published=article_date(article)))
        return found

    def next_pages(self, response: Response) -> list[PageRequest]:
        if not is_api(response.url):
            return self.column_pages(response)  # a shell reached as the column itself
        state = response.meta.get("gkmlpt") or {}
        page = state.get("page", 1)
        body = response_json(response)
        if not isinstance(body, dict) or not isinstance(body.get("articles"), list) or not body["articles"]:
            return []
        per_page = len(body["articles"])
        classify_info = body.get("classify") if isinstance(body.get("classify"), dict) else {}
        total = as_int(classify_info.get("post_count")) or as_int(body.get("total"))
        column = state.get("column") or int(_API_PATH.search(urlsplit(response.url).path).group("column"))
        if total is not None:
            if page != 1:
                return []  # every page was planned from the first
            last = min(-(-total // per_page), _MAX_PAGES)
            pages = range(2, last + 1)
        else:
            pages = range(page + 1, page + 2) if page < _MAX_PAGES else range(0)
        config = {"sid": state.get("sid") or _sid_of(response.url), "app_url": None}
        base = response.url.split("/gkmlpt/api/")[0] + "/gkmlpt/index"
        return [PageRequest(api_url(base, config, column, n), headers={"Accept": "application/json, text/plain, */*"},
                            meta={"gkmlpt": {"sid": config["sid"], "column": column, "page": n}})
                for n in pages]


def _sid_of(url: str) -> str | None:
    match = re.search(r"[?&]sid=(\d+)", url)
    return match.group(1) if match else None
