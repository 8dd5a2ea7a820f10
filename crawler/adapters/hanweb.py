"""Hanweb (大汉) JCMS sites: the column page embeds the first records as XML
(``<datastore><recordset><record><![CDATA[<li>…</li>]]></record>…``) and a pager script that asks a
data endpoint (``/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=45&perpage=15``, form
parameters columnid/unitid/webid …, by POST or GET) for further records in the same XML.

Every client of the endpoint seen in public scrapers sends the same form: ``col=1, appid=1, webid,
path=/, columnid, sourceContentType=1, unitid, webname, permissiontype=0``. When the page names only
some of them (a ``<nextgroup>`` link with webid/columnid/unitid, no ``ajaxParam`` block), the rest
are filled in: the fixed ones with those values, columnid from the column's own ``/col/colN/`` path,
unitid from the record container's id, webname from the page's ``SiteName`` meta.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, parse_qsl, urlencode, urljoin, urlsplit

from parsel import Selector
from scrapy.http import Response

from crawler.adapters import ListAdapter, register
from crawler.adapters.base import Entry, PageRequest, link_entries

_RECORD = re.compile(r"<record[^>]*>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)
_TOTAL = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>|totalRecord\s*[:=]\s*['\"]?(\d+)", re.I)
_PER_PAGE = re.compile(r"\bper_?page\s*[:=]\s*['\"]?(\d+)", re.I)
_ENDPOINT = re.compile(r"""(?:proxyUrl|dataUrl|url)\s*[:=]\s*['"]([^'"]+)['"]|['"]([^'"]*dataproxy\.jsp[^'"]*)['"]""", re.I)
_PARAM_BLOCK = re.compile(r"(?:ajaxParam|ajaxParams|params|param|data)\s*[:=]\s*\{([^{}]*)\}", re.I)
_PARAM = re.compile(r"""['"]?(\w+)['"]?\s*:\s*(?:'([^']*)'|"([^"]*)"|([\w./-]+))""")
_METHOD = re.compile(r"""\b(?:type|method)\s*[:=]\s*['"](get|post)['"]""", re.I)
# a lone assignment of a form field in the page's script: unitid = '4567'; var columnid="1229"
_SCRIPT_FIELD = re.compile(r"""\b(webid|columnid|unitid|webname)\s*[:=]\s*['"]?([^'"\s,;&<>}]+)""", re.I)
_COLUMN_PATH = re.compile(r"/col/col(\d+)/")
_CONTAINER = re.compile(r"""<div\s+id=['"](\d+)['"][^>]*>\s*<script\s+type=['"]text/xml['"]""", re.I)
_SITE_NAME = re.compile(r"""<meta\s+name=['"]SiteName['"]\s+content=['"]([^'"]+)['"]""", re.I)
# what every observed client sends beside the ids (see tests/fixtures/README.md)
FORM_DEFAULTS = {"col": "1", "appid": "1", "path": "/", "sourceContentType": "1", "permissiontype": "0"}
FORM_IDS = ("webid", "columnid", "unitid", "webname")
# window parameters: the adapter sets these itself
_WINDOW_KEYS = {"startrecord", "endrecord", "perpage", "page"}
_BATCH_PAGES = 3  # Hanweb asks for three pages of records per request
_MAX_RECORDS = 20_000


def records(text: str) -> list[str]:
    """The HTML fragments of the XML records in `text`."""
    return _RECORD.findall(text)


def endpoint_config(text: str, base_url: str) -> dict | None:
    """Where the pager asks for records and with what: {url, method, params, perpage, total}."""
    if "dataproxy" not in text and "<datastore" not in text.lower():
        return None
    # the pager's configured proxy URL first; a literal dataproxy.jsp link (nextgroup) otherwise
    named = [m.group(1) for m in _ENDPOINT.finditer(text) if m.group(1)]
    literal = [m.group(2) for m in _ENDPOINT.finditer(text) if m.group(2)]
    url = next((u for u in named if "dataproxy" in u or "jpage" in u or "data" in u.lower()), None)
    if url is None and literal:
        url = literal[0]
    if url is None:
        return None
    params = form_fields(text, base_url, urljoin(base_url, url))
    total = _TOTAL.search(text)
    per_page = _PER_PAGE.search(text)
    method = _METHOD.search(text)
    return {
        "url": urljoin(base_url, url),
        "method": (method.group(1) if method else "POST").upper(),
        "params": params,
        "perpage": int(per_page.group(1)) if per_page else 15,
        "total": int(next(g for g in total.groups() if g)) if total else None,
    }


def form_fields(text: str, page_url: str, endpoint: str) -> dict[str, str]:
    """The form a pager client sends: the page's ``ajaxParam`` block when it has one, the fixed fields
    and the ids (from the endpoint link, the page's script, its column path and record container)."""
    block = _PARAM_BLOCK.search(text)
    declared: dict[str, str] = {}
    if block:
        for match in _PARAM.finditer(block.group(1)):
            declared[match.group(1)] = next(g for g in match.groups()[1:] if g is not None)
    found: dict[str, str] = {}
    for match in _SCRIPT_FIELD.finditer(" ".join(_scripts(text))):
        found.setdefault(match.group(1).lower(), match.group(2))
    for key, value in parse_qsl(urlsplit(endpoint).query):
        if key not in _WINDOW_KEYS and value:
            found[key] = value  # the link's own query: what the server itself printed
    column = _COLUMN_PATH.search(urlsplit(page_url).path)
    if column:
        found.setdefault("columnid", column.group(1))
    container = _CONTAINER.search(text)
    if container:
        found.setdefault("unitid", container.group(1))
    site = _SITE_NAME.search(text)
    if site:
        found.setdefault("webname", html.unescape(site.group(1)))
    fields = dict(FORM_DEFAULTS)
    fields.update({k: v for k, v in found.items() if k in FORM_IDS or k in FORM_DEFAULTS})
    fields.update(declared)
    return fields


def _scripts(text: str) -> list[str]:
    """The page's inline scripts (where JCMS prints its pager's settings)."""
    return re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", text, re.S | re.I)


def window_requests(config: dict, first: int, last_record: int | None) -> list[PageRequest]:
    """Requests for record windows from `first` on (every window when the total is known, else one)."""
    per_page = max(1, config["perpage"])
    step = per_page * _BATCH_PAGES
    last = min(last_record if last_record is not None else first + step - 1, _MAX_RECORDS)
    out = []
    for start in range(first, last + 1, step):
        query = {"startrecord": start, "endrecord": start + step - 1, "perpage": per_page}
        joiner = "&" if urlsplit(config["url"]).query else "?"
        url = config["url"] + joiner + urlencode(query)
        if config["method"] == "GET":
            extra = {k: v for k, v in config["params"].items() if k not in parse_qs(urlsplit(url).query)}
            if extra:
                url += "&" + urlencode(extra)
            out.append(PageRequest(url))
        else:
            out.append(PageRequest(url, method="POST", formdata=dict(config["params"])))
    return out


@register
class HanwebAdapter(ListAdapter):
    name = "hanweb"
    priority = 10

    def matches(self, response: Response) -> bool:
        text = response.text
        return "dataproxy" in text or bool(_RECORD.search(text)) or "/module/web/jpage/" in text

    def entries(self, response: Response) -> list[Entry]:
        found = []
        for fragment in records(response.text):
            found.extend(link_entries(Selector(text=fragment), response.url))
        if not response.meta.get("hanweb_config"):  # the column page itself: its static links too
            found.extend(link_entries(response.selector, response.url))
        return found

    def next_pages(self, response: Response) -> list[PageRequest]:
        config = response.meta.get("hanweb_config")
        if config is None:  # the column page: plan the windows after the embedded records
            config = endpoint_config(response.text, response.url)
            if config is None:
                return []
            embedded = len(records(response.text))
            first = embedded + 1 if embedded else 1
            total = config["total"]
            if total is not None and first > total:
                return []
            return [_with_config(r, config) for r in window_requests(config, first, total)]
        if config.get("total") is not None:
            return []  # every window was planned from the column page
        got = len(records(response.text))
        step = config["perpage"] * _BATCH_PAGES
        if got < step:
            return []
        start = int(re.search(r"startrecord=(\d+)", response.url).group(1)) if "startrecord=" in response.url else 1
        return [_with_config(r, config) for r in window_requests(config, start + step, None)]


def _with_config(request: PageRequest, config: dict) -> PageRequest:
    request.meta["hanweb_config"] = config
    return request
