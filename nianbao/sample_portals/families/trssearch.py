"""(f) A TRS column that publishes only its first list pages statically: ``index.htm`` and ``index_1.htm``
(``maxStaticIndex: 1``) exist, and the ``list2.trsapi`` pager asks the search service
``POST /fjdzapp/search`` (form ``channelid``, ``classsql=chnlid=…``, ``page``, ``prepage`` …; JSON
``{data: [{doctitle, docpuburl, docreltime}], pageCount}``) for every later page. Details
``./YYYYMM/tYYYYMMDD_N.htm`` with 索引号/发布机构/发布日期; attachments ``P0…pdf`` on the portal's own host.
"""

from __future__ import annotations

import json
import re
from datetime import date
from html import escape

from nianbao.sample_portals.families.common import (
    ATTACHMENT_EXT,
    SITE_BASE,
    Attachment,
    Entry,
    Reply,
    ScaledColumn,
    SiteWriter,
    attachment_name,
    doc_number,
    notice_body,
    notices,
    page_count,
    paginate,
    plain_page,
    publish_notices,
    publish_reports,
    stamp,
)

FAMILY = "trssearch"
SITE_NAME = "鼓楼区卫生健康局"
COLUMN_DIR = "/zwgk/zfxxgknb/"
COLUMN = COLUMN_DIR + "index.htm"
SERVICE = "/fjdzapp/search"
CHANNEL_ID = "229105"
COLUMN_CHNLID = "40121"
PER_PAGE = 3
MAX_STATIC_INDEX = 1
CREDIT_CODE = "11350102MB1F23456Q"


def _chrome(title: str, body: str, column: str = "") -> str:
    meta = f'<meta name="ColumnName" content="{escape(column)}">' if column else ""
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>{escape(title)}</title>
<meta name="SiteName" content="{SITE_NAME}">
{meta}
<script src="/static/common/js/require.js"></script>
</head>
<body>
<div class="top"><div class="logo">{SITE_NAME}</div>
<ul class="nav"><li><a href="/index.htm">首页</a></li><li><a href="/zwgk/index.htm">政府信息公开</a></li></ul></div>
<div class="main">
{body}
</div>
<div class="foot">主办单位：{SITE_NAME}　闽ICP备10012345号</div>
</body>
</html>
"""


def _detail_path(key: str, day: str, number: int | None = None) -> str:
    d = date.fromisoformat(day)
    return f"{COLUMN_DIR}{d:%Y%m}/t{d:%Y%m%d}_{number or doc_number(key, base=6_100_000)}.htm"


def _detail_page(title: str, day: str, article: str, attachment: str = "") -> str:
    index_no = f"{CREDIT_CODE}/{day[:4]}-{stamp(title, 5)}"
    body = f"""<table class="xxgk_table">
<tr><th>索引号：</th><td>{index_no}</td><th>所属机构：</th><td>{SITE_NAME}</td></tr>
<tr><th>发布机构：</th><td>{SITE_NAME}</td><th>发布日期：</th><td>{day}</td></tr>
<tr><th>标题：</th><td colspan="3">{escape(title)}</td></tr>
</table>
<div class="article"><h2 class="title">{escape(title)}</h2>
<div class="TRS_Editor">
{article}
</div>
{attachment}
</div>"""
    return _chrome(title, body, "政府信息公开年报")


def list_page(entries: list[Entry], page: int, record_count: int) -> str:
    """Static page `page` (0-based): its items, and the list script that pages past maxStaticIndex."""
    items = "\n".join(
        f'<li><a href="./{escape(e.href[len(COLUMN_DIR):])}" target="_blank" title="{escape(e.title)}">'
        f"{escape(e.title)}</a><span>{e.date}</span></li>"
        for e in entries
    )
    body = f"""<div class="gl_tit">政府信息公开年报</div>
<ul class="list gl_list">
{items}
</ul>
<div class="pagebar" id="pagebar"></div>
<script>
  require(['list2.trsapi'], function () {{
    listModel({{
      el: '#pagebar',
      curPage: {page},
      maxStaticIndex: {MAX_STATIC_INDEX},
      searchUrl: '{SERVICE}',
      channelid: '{CHANNEL_ID}',
      sortfield: '-docorderpri,-docreltime',
      chnlid: '{COLUMN_CHNLID}',
      classcol: 'publishyear',
      classnum: '100',
      classsort: '0',
      cache: 'true',
      pagebar: {{ prepage: {PER_PAGE}, recordCount: '{record_count}' }}
    }});
  }});
</script>"""
    return _chrome(f"政府信息公开年报_{SITE_NAME}", body, "政府信息公开年报")


def search_json(entries: list[Entry], page: int, prepage: int) -> str:
    """The search service's answer for 1-based `page`."""
    chosen = paginate(entries, prepage, page - 1) if page >= 1 else []
    data = [{"doctitle": e.title, "docpuburl": SITE_BASE + e.href, "chnldocurl": SITE_BASE + e.href,
             "docreltime": f"{e.date} 10:00:00", "chnlid": int(COLUMN_CHNLID), "publishyear": e.date[:4]}
            for e in chosen]
    return json.dumps({"data": data, "page": page, "prepage": prepage,
                       "pageCount": page_count(len(entries), prepage)}, ensure_ascii=False)


def _static_pages(writer: SiteWriter) -> None:
    home = """<div class="block"><h3>政务公开</h3><ul><li><a href="/zwgk/index.htm">政府信息公开</a></li></ul></div>"""
    writer.write(FAMILY, "/index.htm", _chrome(SITE_NAME, home))
    gk = f"""<ul class="xxgk_nav">
<li><a href="/zwgk/zfxxgkzn/index.htm">政府信息公开指南</a></li>
<li><a href="/zwgk/fdzdgknr/index.htm">法定主动公开内容</a></li>
<li><a href="{COLUMN}">政府信息公开年报</a></li>
</ul>"""
    writer.write(FAMILY, "/zwgk/index.htm", _chrome(f"政府信息公开_{SITE_NAME}", gk))
    for path, name in (("/zwgk/zfxxgkzn/index.htm", "政府信息公开指南"), ("/zwgk/fdzdgknr/index.htm", "法定主动公开内容")):
        writer.write(FAMILY, path, _chrome(name, f"<h3>{name}</h3><p>栏目建设中。</p>"))
    writer.write(FAMILY, "/robots.txt", "User-agent: *\nDisallow: /was5/\n")


_page = plain_page(_detail_page)


def _attachment(r: dict, path: str) -> Attachment:
    # beside its detail page, linked relatively, with the CMS's OLDSRC
    d = date.fromisoformat(r["published"])
    file_name = f"P0{d:%Y%m%d}{stamp(r['id'], 12)}.{ATTACHMENT_EXT[r['format']]}"
    link = (f'<div class="fj">附件：<a href="./{file_name}" OLDSRC="/protect/{file_name}">'
            f"{escape(attachment_name(r))}</a></div>")
    return Attachment(FAMILY, path.rsplit("/", 1)[0] + "/" + file_name, link, "<p>详见附件。</p>")


def build(reports: list[dict], writer: SiteWriter) -> None:
    """Write the static pages 0…maxStaticIndex, details and attachments; later pages exist only in the service."""
    _static_pages(writer)
    entries = publish_reports(writer, FAMILY, reports, _detail_path, _page, _attachment)
    entries += publish_notices(writer, FAMILY, notices(SITE_NAME, range(2020, 2025), seed=66, count=6), SITE_NAME,
                               _detail_path, _page)
    entries.sort(key=lambda e: e.date, reverse=True)
    pages = page_count(len(entries), PER_PAGE)
    for page in range(min(pages, MAX_STATIC_INDEX + 1)):
        name = "index.htm" if page == 0 else f"index_{page}.htm"
        writer.write(FAMILY, COLUMN_DIR + name, list_page(paginate(entries, PER_PAGE, page), page, len(entries)))
    writer.save_manifest(FAMILY, entries, {"column": COLUMN, "home": "/index.htm", "content_type": "text/html; charset=utf-8"})


_LIST_RE = re.compile(rf"^{re.escape(COLUMN_DIR)}index(?:_(\d+))?\.htm$")
_SYNTHETIC_RE = re.compile(rf"^{re.escape(COLUMN_DIR)}\d{{6}}/t\d{{8}}_(?P<number>\d+)\.htm$")


class Dynamic(ScaledColumn):
    """The search service (every scale); with a scale, the static pages and filler items grown on the fly."""

    filler_re = _SYNTHETIC_RE

    def filler_path(self, number: int, day: str) -> str:
        return _detail_path("", day, number)

    def filler_page(self, path: str, title: str, day: str) -> str:
        return _detail_page(title, day, notice_body(title, SITE_NAME, day))

    def column_page(self, path: str) -> str | None:
        m = _LIST_RE.match(path)
        if m is None or int(m.group(1) or 0) > MAX_STATIC_INDEX:
            return None
        paged = self.page(int(m.group(1) or 0), PER_PAGE)
        return list_page(paged[0], paged[1], len(self.entries)) if paged else None

    def data_reply(self, method: str, path: str, query: dict, form: dict) -> Reply | None:
        """``POST /fjdzapp/search``: only for this column's channel, as the list script asks."""
        if path != SERVICE:
            return None
        json_type = "application/json;charset=UTF-8"
        params = form if method == "POST" else query
        if params.get("channelid") != CHANNEL_ID or params.get("classsql") != f"chnlid={COLUMN_CHNLID}":
            return Reply(400, json.dumps({"data": [], "msg": "参数错误"}, ensure_ascii=False).encode("utf-8"), json_type)
        try:
            page = int(params.get("page", "1"))
            prepage = min(100, max(1, int(params.get("prepage", str(PER_PAGE)))))
        except ValueError:
            return Reply(400, b'{"data":[],"msg":"bad paging"}', json_type)
        return Reply(200, search_json(self.entries, page, prepage).encode("utf-8"), json_type)
