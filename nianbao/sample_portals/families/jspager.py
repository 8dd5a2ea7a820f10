"""(g) A JSP column paged by script: ``<a href="javascript:goPage(3)">`` writes the page number into a
hidden form (``pageForm``: columnId, pageNo, pageSize) and submits it by POST to ``list.jsp``; no page
has an address of its own. Details ``/zwgk/ndbg/{yyyy}/{mmdd}/{n}.html`` with 索引号/发布机构/发布日期;
attachments under ``/uploadfiles/``.
"""

from __future__ import annotations

import re
from datetime import date
from html import escape

from nianbao.sample_portals.families.common import (
    ATTACHMENT_EXT,
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

FAMILY = "jspager"
SITE_NAME = "绵竹市卫生健康局"
LIST = "/zwgk/ndbg/list.jsp"
COLUMN_ID = "1207"
COLUMN = f"{LIST}?columnId={COLUMN_ID}"
PER_PAGE = 4
CREDIT_CODE = "11510683MB1G34567R"


def _chrome(title: str, body: str) -> str:
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>{escape(title)}</title>
</head>
<body>
<div id="top">{SITE_NAME}　<a href="/index.html">首页</a>　<a href="/zwgk/index.html">政府信息公开</a></div>
{body}
<div id="foot">版权所有：{SITE_NAME}　蜀ICP备05012345号</div>
</body>
</html>
"""


def _detail_path(key: str, day: str, number: int | None = None) -> str:
    d = date.fromisoformat(day)
    return f"/zwgk/ndbg/{d.year}/{d:%m%d}/{number or doc_number(key, base=7_100_000)}.html"


def _detail_page(title: str, day: str, article: str, attachment: str = "") -> str:
    body = f"""<table class="info" width="100%">
<tr><td>索引号：{CREDIT_CODE}/{day[:4]}-{stamp(title, 5)}</td><td>发布机构：{SITE_NAME}</td></tr>
<tr><td>发布日期：{day}</td><td>分类：政府信息公开年报</td></tr>
</table>
<h1 class="title">{escape(title)}</h1>
<div class="content">
{article}
{attachment}
</div>"""
    return _chrome(title, body)


def list_page(entries: list[Entry], page: int, pages: int) -> str:
    """Page `page` (1-based) as list.jsp answers it: rows, and a pager made only of goPage calls."""
    rows = "\n".join(
        f'<tr><td><a href="{escape(e.href)}" target="_blank" title="{escape(e.title)}">{escape(e.title)}</a></td>'
        f"<td>{e.date}</td></tr>"
        for e in entries
    )
    nav = [f"共 {pages} 页 当前第 {page} 页"]
    if page > 1:
        nav.append(f'<a href="javascript:goPage(1)">首页</a> <a href="javascript:goPage({page - 1})">上一页</a>')
    if page < pages:
        nav.append(f'<a href="javascript:goPage({page + 1})">下一页</a> <a href="javascript:goPage({pages})">尾页</a>')
    body = f"""<script type="text/javascript">
  function goPage(pageNo) {{
    document.pageForm.pageNo.value = pageNo;
    document.pageForm.submit();
  }}
</script>
<form name="pageForm" id="pageForm" action="{LIST}" method="post">
  <input type="hidden" name="columnId" value="{COLUMN_ID}">
  <input type="hidden" name="pageNo" value="{page}">
  <input type="hidden" name="pageSize" value="{PER_PAGE}">
</form>
<div class="lm_tit">政府信息公开年报</div>
<table class="list" width="100%">
{rows}
</table>
<div class="pager">{' '.join(nav)}</div>"""
    return _chrome(f"政府信息公开年报--{SITE_NAME}", body)


def _static_pages(writer: SiteWriter) -> None:
    home = """<div class="nav"><a href="/zwgk/index.html">政府信息公开</a> <a href="/hdjl/index.html">互动交流</a></div>"""
    writer.write(FAMILY, "/index.html", _chrome(SITE_NAME, home))
    gk = f"""<ul class="gk">
<li><a href="/zwgk/zn/index.html">政府信息公开指南</a></li>
<li><a href="{COLUMN}">政府信息公开年报</a></li>
<li><a href="/zwgk/tjsj/index.html">卫生统计年报</a></li>
</ul>"""
    writer.write(FAMILY, "/zwgk/index.html", _chrome(f"政府信息公开--{SITE_NAME}", gk))
    for path, name in (("/zwgk/zn/index.html", "政府信息公开指南"), ("/zwgk/tjsj/index.html", "卫生统计年报"),
                       ("/hdjl/index.html", "互动交流")):
        writer.write(FAMILY, path, _chrome(name, f"<h2>{name}</h2><p>暂无信息。</p>"))
    writer.write(FAMILY, "/robots.txt", "User-agent: *\nDisallow: /manage/\n")


_page = plain_page(_detail_page)


def _attachment(r: dict, path: str) -> Attachment:
    d = date.fromisoformat(r["published"])
    file_path = f"/uploadfiles/{d:%Y%m}/{stamp(r['id'], 10)}.{ATTACHMENT_EXT[r['format']]}"
    link = f'<p>附件：<a href="{file_path}">{escape(attachment_name(r))}</a></p>'
    return Attachment(FAMILY, file_path, link, "<p>详见附件。</p>")


def build(reports: list[dict], writer: SiteWriter) -> None:
    """Write the details and attachments; the list pages exist only as answers of list.jsp."""
    _static_pages(writer)
    entries = publish_reports(writer, FAMILY, reports, _detail_path, _page, _attachment)
    entries += publish_notices(writer, FAMILY, notices(SITE_NAME, range(2019, 2025), seed=77, count=6), SITE_NAME,
                               _detail_path, _page)
    entries.sort(key=lambda e: e.date, reverse=True)
    writer.save_manifest(FAMILY, entries, {"column": COLUMN, "home": "/index.html"})


_SYNTHETIC_RE = re.compile(r"^/zwgk/ndbg/\d{4}/\d{4}/(?P<number>\d+)\.html$")


class Dynamic(ScaledColumn):
    """list.jsp (GET for the first page, the goPage form's POST for any), and with a scale the filler pages."""

    filler_re = _SYNTHETIC_RE

    def filler_path(self, number: int, day: str) -> str:
        return _detail_path("", day, number)

    def filler_page(self, path: str, title: str, day: str) -> str:
        return _detail_page(title, day, notice_body(title, SITE_NAME, day))

    def data_reply(self, method: str, path: str, query: dict, form: dict) -> Reply | None:
        if path != LIST:
            return None
        params = {**query, **form}
        if params.get("columnId") != COLUMN_ID:
            return Reply(404, _chrome("404", "<h1>栏目不存在</h1>").encode("utf-8"))
        try:
            page = int(params.get("pageNo") or 1)
        except ValueError:
            page = 1
        pages = page_count(len(self.entries), PER_PAGE)
        page = min(max(page, 1), pages)
        return Reply(200, list_page(paginate(self.entries, PER_PAGE, page - 1), page, pages).encode("utf-8"))
