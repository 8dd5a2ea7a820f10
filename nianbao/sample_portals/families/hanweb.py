"""(b) A Hanweb (大汉)-style portal: `col/colNNNN/index.html` carries its first records as XML in a
`<script type="text/xml"><datastore>` block; further records come from
`/module/web/jpage/dataproxy.jsp?startrecord=&endrecord=&perpage=` (POST form or GET query, col,
webid, columnid, unitid…), sent with chunked transfer; a request that names no (or another) column
and unit gets the same XML with no record in it. Details at `/art/Y/M/D/art_COL_ID.html`,
attachments through `downfile.jsp` on the file host with an RFC 5987 Content-Disposition.
"""

from __future__ import annotations

import re
from datetime import date
from html import escape
from urllib.parse import quote

from nianbao.sample_portals.families.common import (
    ATTACHMENT_EXT,
    FILES_BASE,
    Attachment,
    Entry,
    Reply,
    ScaledColumn,
    SiteWriter,
    attachment_name,
    doc_number,
    notice_body,
    notices,
    plain_page,
    publish_notices,
    publish_reports,
    stamp,
)

FAMILY = "hanweb"
SITE_NAME = "海阳市卫生健康局"
COLUMN_ID = 1229
UNIT_ID = 4567
WEB_ID = 1
PER_PAGE = 5
GROUP_SIZE = 3  # pages of records embedded in the column page
COLUMN = f"/col/col{COLUMN_ID}/index.html"
PROXY = "/module/web/jpage/dataproxy.jsp"
DOWNLOAD = "/module/download/downfile.jsp"


def _chrome(title: str, body: str) -> str:
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<title>{escape(title)}</title>
<meta name="SiteName" content="{SITE_NAME}" />
<script type="text/javascript" src="/module/jslib/jquery/jquery.js"></script>
</head>
<body>
<div class="top"><span class="sitename">{SITE_NAME}</span></div>
<div class="nav"><a href="/index.html">首页</a><a href="/col/col1001/index.html">政府信息公开</a>
<a href="/col/col1002/index.html">新闻中心</a><a href="/col/col1003/index.html">公众参与</a></div>
<div class="container">
{body}
</div>
<div class="bottom">{SITE_NAME}主办　技术支持：大汉网络</div>
</body>
</html>
"""


def _detail_path(key: str, day: str, number: int | None = None) -> str:
    d = date.fromisoformat(day)
    return f"/art/{d.year}/{d.month}/{d.day}/art_{COLUMN_ID}_{number or doc_number(key)}.html"


def _detail_page(title: str, day: str, article: str, attachment: str = "") -> str:
    body = f"""<div class="bt-position">您当前的位置：<a href="/index.html">首页</a> &gt;
<a href="/col/col1001/index.html">政府信息公开</a> &gt; <a href="{COLUMN}">政府信息公开年报</a></div>
<table class="xxgk_table" width="100%" border="1" cellspacing="0">
<tr><td>索引号：</td><td>113706870041234567/{day[:4]}-{stamp(title, 5)}</td><td>主题分类：</td><td>其他</td></tr>
<tr><td>发布机构：</td><td>{SITE_NAME}</td><td>成文日期：</td><td>{day}</td></tr>
<tr><td>名称：</td><td colspan="3">{escape(title)}</td></tr>
<tr><td>文号：</td><td></td><td>发布日期：</td><td>{day}</td></tr>
</table>
<div class="article-title">{escape(title)}</div>
<div id="zoom">
{article}
</div>
{attachment}"""
    return _chrome(f"{title}", body)


def record_html(entry: Entry) -> str:
    """One record as the CMS stores it inside CDATA."""
    return (
        f'<li><a href="{escape(entry.href)}" target="_blank" title="{escape(entry.title)}">'
        f"{escape(entry.title)}</a><span class=\"bt-data-time\">{entry.date}</span></li>"
    )


def _proxy_query() -> str:
    return (
        f"appid=1&webid={WEB_ID}&path=/&columnid={COLUMN_ID}&unitid={UNIT_ID}"
        f"&webname={quote(SITE_NAME)}&permissiontype=0"
    )


def column_page(entries: list[Entry]) -> str:
    """The column page: the first GROUP_SIZE pages of records embedded, the rest behind the proxy."""
    first = entries[: PER_PAGE * GROUP_SIZE]
    records = "\n".join(f"<record><![CDATA[\n{record_html(e)}\n]]></record>" for e in first)
    body = f"""<div class="bt-position">您当前的位置：<a href="/index.html">首页</a> &gt;
<a href="/col/col1001/index.html">政府信息公开</a> &gt; 政府信息公开年报</div>
<div class="lanmu">政府信息公开年报</div>
<div id="{UNIT_ID}"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="{PROXY}?page=1&{_proxy_query()}"></a>]]></nextgroup>
<recordset>
{records}
</recordset>
</datastore></script></div>
<script language="javascript" src="/module/web/jpage/jpage.js"></script>
<script type="text/javascript">
$(document).ready(function(){{
  $('#{UNIT_ID}').jpage({{
    dataStore: '#{UNIT_ID}', totalRecord: {len(entries)}, perPage: {PER_PAGE}, groupSize: {GROUP_SIZE},
    proxyUrl: '{PROXY}', ajaxParam: {{col: 1, appid: 1, webid: {WEB_ID}, path: '/', columnid: {COLUMN_ID},
      sourceContentType: 1, unitid: {UNIT_ID}, webname: '{SITE_NAME}', permissiontype: 0}},
    barPosition: 'bottom', showMode: 'full'
  }});
}});
</script>"""
    return _chrome(f"政府信息公开年报 {SITE_NAME}", body)


def proxy_xml(entries: list[Entry], start: int, end: int, per_page: int) -> str:
    """The data endpoint's answer: records start..end (1-based, inclusive) in CDATA."""
    chosen = entries[max(0, start - 1) : max(0, end)]
    records = "\n".join(f"<record><![CDATA[\n{record_html(e)}\n]]></record>" for e in chosen)
    pages = max(1, -(-len(entries) // max(1, per_page)))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<datastore>\n'
        f"<totalrecord>{len(entries)}</totalrecord>\n<totalpage>{pages}</totalpage>\n"
        f"<recordset>\n{records}\n</recordset>\n</datastore>\n"
    )


def _static_pages(writer: SiteWriter) -> None:
    home = """<div class="focus">健康海阳</div>
<ul class="links"><li><a href="/col/col1001/index.html">政府信息公开</a></li>
<li><a href="/col/col1003/index.html">公众参与</a></li></ul>"""
    writer.write(FAMILY, "/index.html", _chrome(SITE_NAME, home))
    xxgk = f"""<div class="xxgk-left"><ul>
<li><a href="/col/col1011/index.html">政府信息公开指南</a></li>
<li><a href="/col/col1012/index.html">政府信息公开制度</a></li>
<li><a href="/col/col1013/index.html">法定主动公开内容</a></li>
<li><a href="{COLUMN}">政府信息公开年报</a></li>
<li><a href="/col/col1014/index.html">统计年报</a></li>
</ul></div>"""
    writer.write(FAMILY, "/col/col1001/index.html", _chrome(f"政府信息公开 {SITE_NAME}", xxgk))
    for col, name in ((1002, "新闻中心"), (1003, "公众参与"), (1011, "政府信息公开指南"),
                      (1012, "政府信息公开制度"), (1013, "法定主动公开内容"), (1014, "统计年报")):
        writer.write(FAMILY, f"/col/col{col}/index.html", _chrome(name, f"<h3>{name}</h3><p>暂无信息。</p>"))
    writer.write(FAMILY, "/module/web/jpage/jpage.js", "/* jpage: paging through dataproxy.jsp */\n")
    writer.write(FAMILY, "/module/jslib/jquery/jquery.js", "/* jQuery placeholder */\n")
    writer.write(FAMILY, "/robots.txt", "User-agent: *\nDisallow: /module/jslib/\n")


_page = plain_page(_detail_page)


def build(reports: list[dict], writer: SiteWriter) -> None:
    """Write the Hanweb portal, its attachments on the file host, and its manifest."""
    _static_pages(writer)
    downloads: dict[str, dict] = {}

    def attachment(r: dict, path: str) -> Attachment:
        # stored under a number on the file host, served by the download script under its title
        d = date.fromisoformat(r["published"])
        stored = f"{d:%y%m%d}{stamp(r['id'], 10)}.{ATTACHMENT_EXT[r['format']]}"
        file_path = f"/hywjj/downfile/{stored}"
        downloads[stored] = {"path": file_path, "name": attachment_name(r)}
        url = f"{DOWNLOAD}?classid=0&filename={stored}"
        link = ('<div class="fj">附件：<a href="' + FILES_BASE + escape(url) + '" target="_blank">'
                f"{escape(attachment_name(r))}</a></div>")
        return Attachment("files", file_path, link, f"<p>《{escape(r['title'])}》全文见附件。</p>", url)

    entries = publish_reports(writer, FAMILY, reports, _detail_path, _page, attachment)
    entries += publish_notices(writer, FAMILY, notices(SITE_NAME, range(2014, 2025), seed=22, count=7), SITE_NAME,
                               _detail_path, _page)
    slow = [_detail_path(r["id"], r["published"]) for r in reports if r["year"] == 2016]
    flaky = [_detail_path(r["id"], r["published"]) for r in reports if r["year"] == 2020]
    entries.sort(key=lambda e: e.date, reverse=True)
    writer.write(FAMILY, COLUMN, column_page(entries))
    writer.save_manifest(
        FAMILY,
        entries,
        {
            "downloads": downloads,
            "slow": slow,
            "flaky": flaky,
            "cookies": [COLUMN],
            "column": COLUMN,
            "home": "/index.html",
        },
    )


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


_SYNTHETIC_RE = re.compile(rf"^/art/(\d+)/(\d+)/(\d+)/art_{COLUMN_ID}_(?P<number>\d+)\.html$")


class Dynamic(ScaledColumn):
    """The data endpoint, and with a scale the column grown with filler items."""

    filler_re = _SYNTHETIC_RE

    def filler_path(self, number: int, day: str) -> str:
        return _detail_path("", day, number)

    def filler_page(self, path: str, title: str, day: str) -> str:
        return _detail_page(title, day, notice_body(title, SITE_NAME, day))

    def column_page(self, path: str) -> str | None:
        return column_page(self.entries) if path == COLUMN else None

    def data_reply(self, method: str, path: str, query: dict, form: dict) -> Reply | None:
        """dataproxy.jsp, by GET or POST."""
        if path != PROXY:
            return None
        params = {**query, **form}
        if str(params.get("columnid", "")) != str(COLUMN_ID) or str(params.get("unitid", "")) != str(UNIT_ID):
            # no record for another (or no) column or unit: the same XML, empty (see tests/fixtures/README.md)
            return Reply(200, proxy_xml([], 1, 0, PER_PAGE).encode("utf-8"), "text/xml;charset=UTF-8", chunked=True)
        per_page = _int(params.get("perpage"), PER_PAGE)
        start = _int(params.get("startrecord"), 1)
        end = _int(params.get("endrecord"), start + per_page * GROUP_SIZE - 1)
        xml = proxy_xml(self.entries, start, end, per_page)
        return Reply(200, xml.encode("utf-8"), "text/xml;charset=UTF-8", chunked=True)
