"""TRS columns that publish only their first list pages statically and serve the rest from a search
service (Fujian's 集约化 TRS sites, and others built on the same list script).

The column page loads ``list2.trsapi`` and calls ``listModel({maxStaticIndex: 7, pagebar: {prepage: 10,
recordCount: '213'}, …})``: pages 0…maxStaticIndex exist as ``index.htm``, ``index_1.htm`` …; the pager
asks the search service for the others. The service (``/fjdzapp/search``) takes a POST form —
``channelid``, ``classsql=chnlid=…`` (the column), ``sortfield``, ``classcol``, ``classnum``,
``classsort``, ``cache``, ``page`` (1-based), ``prepage`` — and answers JSON
``{data: [{doctitle, docpuburl, chnldocurl, docreltime}], pageCount}``.

Where the page script names the service and its fields is read from the ``listModel`` call: any quoted
address ending in ``/search``, any ``key: 'value'`` pair whose key is one of the service's form fields.
Observations and their sources: docs/portal-families.md.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urljoin, urlsplit

from scrapy.http import Response

from crawler.adapters import ListAdapter, register
from crawler.adapters.base import Entry, PageRequest, clean_text, iso_date, link_entries
from crawler.adapters.jsondata import response_json

_MAX_STATIC = re.compile(r"\bmaxStaticIndex\s*:\s*['\"]?(\d+)")
_RECORD_COUNT = re.compile(r"\brecordCount\s*:\s*['\"]?(\d+)")
_PREPAGE = re.compile(r"\bprepage\s*:\s*['\"]?(\d+)")
_SERVICE = re.compile(r"""['"]((?:https?://[^'"\s]+)?/[^'"\s]*?/search)['"]""")
_FIELD = re.compile(r"""['"]?\b(channelid|chnlid|classsql|sortfield|classcol|classnum|classsort|cache|searchword)\b['"]?"""
                    r"""\s*:\s*['"]([^'"]*)['"]""")
_CHANNEL = re.compile(r"""\bchnlid\s*[:=]\s*['"]?(\d+)""")
# what every Fujian site's list script was seen to ask, when the page does not spell it out
_TRSAPI_SERVICE = "/fjdzapp/search"
_TRSAPI_FIELDS = {"channelid": "229105", "sortfield": "-docorderpri,-docreltime", "classcol": "publishyear",
                  "classnum": "100", "classsort": "0", "cache": "true"}
_PAGE_NAME = re.compile(r"^(?P<stem>index)(?:_(?P<n>\d+))?\.(?P<ext>s?html?)$")
_STATIC_LINK = re.compile(r"index_\d+\.(s?html?)\b")
_MAX_PAGES = 500
logger = logging.getLogger(__name__)


def pager_config(text: str) -> dict | None:
    """{max_static, record_count, prepage, service, fields} from the page's listModel call; None without one."""
    static, count, prepage = _MAX_STATIC.search(text), _RECORD_COUNT.search(text), _PREPAGE.search(text)
    if not (static and count and prepage) or int(prepage.group(1)) <= 0:
        return None
    service = _SERVICE.search(text[max(0, static.start() - 4000): static.end() + 4000])
    fields = dict(_FIELD.findall(text))
    channel = _CHANNEL.search(text)
    if "classsql" not in fields and channel:
        fields["classsql"] = f"chnlid={channel.group(1)}"
    fields.pop("chnlid", None)
    service_url = service.group(1) if service else None
    if service_url is None and "list2.trsapi" in text and "classsql" in fields:
        # the list script's own defaults: the site's search service, the channel set of its sites
        service_url = _TRSAPI_SERVICE
        fields = {**_TRSAPI_FIELDS, **fields}
    return {
        "max_static": int(static.group(1)),
        "record_count": int(count.group(1)),
        "prepage": int(prepage.group(1)),
        "service": service_url,
        "fields": fields,
    }


def static_pages(page_url: str, config: dict, text: str = "") -> list[str]:
    """Addresses of the static pages 0…maxStaticIndex, named after the page's own (index.htm, index_1.htm …)."""
    match = _PAGE_NAME.match(_file_name(page_url))
    mentioned = _STATIC_LINK.search(text)
    ext = match.group("ext") if match else mentioned.group(1) if mentioned else "html"
    last = min(config["max_static"], _pages(config) - 1)
    return [urljoin(page_url, "index." + ext if n == 0 else f"index_{n}.{ext}") for n in range(last + 1)]


def service_pages(page_url: str, config: dict) -> list[PageRequest]:
    """The search-service requests for the pages past maxStaticIndex (1-based ``page``, same ``prepage``)."""
    if not config["service"]:
        if _pages(config) > config["max_static"] + 1:
            # records the static pages do not hold, and no way to ask for them: say so
            logger.warning("%s: %d records past maxStaticIndex %d, but the page names no search service or "
                           "channel; only the static pages are walked", page_url, config["record_count"],
                           config["max_static"])
        return []
    url = urljoin(page_url, config["service"])
    out = []
    for page in range(config["max_static"] + 2, _pages(config) + 1):
        form = {**config["fields"], "page": str(page), "prepage": str(config["prepage"])}
        out.append(PageRequest(url, method="POST", formdata=form,
                               headers={"Accept": "application/json, text/javascript, */*; q=0.01",
                                        "X-Requested-With": "XMLHttpRequest", "Referer": page_url},
                               meta={"trs_service": True}))
    return out


def _pages(config: dict) -> int:
    return min(max(1, -(-config["record_count"] // config["prepage"])), _MAX_PAGES)


@register
class TrsSearchAdapter(ListAdapter):
    name = "trs-search"
    priority = 15  # before the plain TRS adapter: these pages may also carry createPageHTML

    def matches(self, response: Response) -> bool:
        return bool(response.meta.get("trs_service")) or pager_config(getattr(response, "text", "")) is not None

    def entries(self, response: Response) -> list[Entry]:
        if not response.meta.get("trs_service"):
            return link_entries(response.selector, response.url)
        body = response_json(response)
        records = body.get("data") if isinstance(body, dict) else None
        found = []
        for record in records if isinstance(records, list) else []:
            if not isinstance(record, dict):
                continue
            href = record.get("docpuburl") or record.get("chnldocurl") or record.get("url")
            title = clean_text(str(record.get("doctitle") or record.get("title") or ""))
            if href and title:
                found.append(Entry(urljoin(response.url, str(href)), title, iso_date(str(record.get("docreltime") or ""))))
        return found

    def next_pages(self, response: Response) -> list[PageRequest]:
        if response.meta.get("trs_service"):
            return []  # every service page was planned from the column page
        config = pager_config(response.text)
        if config is None:
            return []
        statics = [PageRequest(u) for u in static_pages(response.url, config, response.text) if u != response.url]
        match = _PAGE_NAME.match(_file_name(response.url))
        if match is not None and match.group("n"):
            return statics  # a later static page: the first one planned the service pages
        return statics + service_pages(response.url, config)


def _file_name(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1]
