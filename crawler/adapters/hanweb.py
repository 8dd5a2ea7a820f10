"""Hanweb (大汉) JCMS sites: the column page embeds the first records as XML
(``<datastore><recordset><record><![CDATA[<li>…</li>]]></record>…``) and a pager script that asks a
data endpoint (``/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=45&perpage=15``, form
parameters columnid/unitid/webid …, by POST or GET) for further records in the same XML."""

from __future__ import annotations

import re
from urllib.parse import urlencode, urljoin, urlsplit

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
    params: dict[str, str] = {}
    block = _PARAM_BLOCK.search(text)
    if block:
        for match in _PARAM.finditer(block.group(1)):
            params[match.group(1)] = next(g for g in match.groups()[1:] if g is not None)
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
            if config["params"]:
                url += "&" + urlencode(config["params"])
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
