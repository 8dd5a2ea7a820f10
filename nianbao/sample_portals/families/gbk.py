"""(d) An old municipal site: GBK bytes declared as gb2312 (with GBK-only characters such as 堃, 喆),
table layout, `.htm` pages, plain 下一页 links `list_2.htm`, and relative links (`../../`) everywhere.
"""

from __future__ import annotations

import posixpath
import re
from datetime import date
from html import escape

from nianbao.sample_portals.families.common import (
    ATTACHMENT_EXT,
    Attachment,
    Entry,
    ScaledColumn,
    SiteWriter,
    attachment_name,
    notice_body,
    notices,
    page_count,
    paginate,
    publish_notices,
    publish_reports,
    stamp,
)

FAMILY = "gbk"
SITE_NAME = "鹤岗市卫生健康委员会"
COLUMN_DIR = "/zwgk/ndbg/"
COLUMN = COLUMN_DIR + "list.htm"
PER_PAGE = 10
ENCODING = "gbk"
# Characters outside GB2312 that old sites still print under a gb2312 declaration.
GBK_ONLY_FOOTER = "技术支持：鹤岗市信息中心　网站维护：王堃　联系电话：0468-3456789"


def encode(html: str) -> bytes:
    """Page bytes as the old server sends them (GBK; anything beyond GBK as a character reference)."""
    return html.encode(ENCODING, errors="xmlcharrefreplace")


def rel(from_page: str, target: str) -> str:
    """A relative link from one page's path to another path, as the old CMS wrote them."""
    return posixpath.relpath(target, posixpath.dirname(from_page))


def _chrome(page: str, title: str, body: str) -> str:
    home = rel(page, "/index.htm")
    gk = rel(page, "/zwgk/index.htm")
    return f"""<HTML>
<HEAD>
<META http-equiv="Content-Type" content="text/html; charset=gb2312">
<TITLE>{escape(title)}</TITLE>
<LINK href="{rel(page, '/css/style.css')}" type="text/css" rel="stylesheet">
</HEAD>
<BODY leftMargin="0" topMargin="0">
<TABLE width="980" border="0" align="center" cellPadding="0" cellSpacing="0">
<TR><TD height="90" background="{rel(page, '/images/top.jpg')}"><FONT size="5"><B>{SITE_NAME}</B></FONT></TD></TR>
<TR><TD class="nav"><A href="{home}">网站首页</A> | <A href="{gk}">政府信息公开</A> | <A href="{rel(page, '/bsdt/index.htm')}">办事大厅</A></TD></TR>
</TABLE>
<TABLE width="980" border="0" align="center" cellPadding="6" cellSpacing="0">
<TR><TD valign="top">
{body}
</TD></TR>
</TABLE>
<TABLE width="980" border="0" align="center"><TR><TD align="center" class="foot">
版权所有：{SITE_NAME}　{GBK_ONLY_FOOTER}
</TD></TR></TABLE>
</BODY>
</HTML>
"""


def _detail_path(key: str, day: str, number: int | None = None) -> str:
    d = date.fromisoformat(day)
    return f"/news/html/{d.year}/{d:%m%d}/{d:%Y%m%d}{number or stamp(key, 6)}.htm"


def _detail_page(path: str, title: str, day: str, agency: str, article: str, attachment: str = "") -> str:
    body = f"""<TABLE width="100%" border="0" cellpadding="4">
<TR><TD align="center"><FONT size="4" color="#cc0000"><B>{escape(title)}</B></FONT></TD></TR>
<TR><TD align="center" bgcolor="#eeeeee">发布时间：{day}　　来源：{escape(agency)}　　浏览次数：<SPAN id="hits">0</SPAN></TD></TR>
<TR><TD class="content">
{article}
{attachment}
</TD></TR></TABLE>"""
    return _chrome(path, title, body)


def list_page(entries: list[Entry], page: int, pages: int) -> str:
    """Column page `page` (0-based), linking items relatively and paging with 上一页/下一页."""
    here = COLUMN if page == 0 else f"{COLUMN_DIR}list_{page + 1}.htm"
    rows = "\n".join(
        f'<TR><TD width="20">·</TD><TD><A href="{escape(rel(here, e.href))}" target="_blank">{escape(e.title)}</A></TD>'
        f'<TD width="90">[{e.date}]</TD></TR>'
        for e in entries
    )

    def name(i: int) -> str:
        return "list.htm" if i == 0 else f"list_{i + 1}.htm"

    nav = [f"共{pages}页　第{page + 1}页"]
    if page > 0:
        nav.append(f'<A href="{name(0)}">首页</A> <A href="{name(page - 1)}">上一页</A>')
    if page < pages - 1:
        nav.append(f'<A href="{name(page + 1)}">下一页</A> <A href="{name(pages - 1)}">尾页</A>')
    body = f"""<TABLE width="100%" border="0"><TR><TD class="lm"><B>政府信息公开年报</B></TD></TR></TABLE>
<TABLE width="100%" border="0" cellpadding="3">
{rows}
</TABLE>
<TABLE width="100%"><TR><TD align="center">{'　'.join(nav)}</TD></TR></TABLE>"""
    return _chrome(here, f"政府信息公开年报-{SITE_NAME}", body)


def _static_pages(writer: SiteWriter) -> None:
    home = """<TABLE width="100%"><TR>
<TD width="50%"><B>通知公告</B><BR><A href="zwgk/index.htm">政府信息公开</A></TD>
<TD><B>便民服务</B><BR><A href="bsdt/index.htm">办事大厅</A></TD></TR></TABLE>"""
    writer.write(FAMILY, "/index.htm", encode(_chrome("/index.htm", SITE_NAME, home)))
    gk_page = "/zwgk/index.htm"
    gk = f"""<TABLE width="100%" border="1" cellspacing="0">
<TR><TD><A href="{rel(gk_page, '/zwgk/znml/index.htm')}">政府信息公开指南和目录</A></TD></TR>
<TR><TD><A href="{rel(gk_page, COLUMN)}">政府信息公开年报</A></TD></TR>
<TR><TD><A href="{rel(gk_page, '/zwgk/tjnb/index.htm')}">卫生统计年报</A></TD></TR>
</TABLE>"""
    writer.write(FAMILY, gk_page, encode(_chrome(gk_page, f"政府信息公开-{SITE_NAME}", gk)))
    for path, name in (("/zwgk/znml/index.htm", "政府信息公开指南和目录"), ("/zwgk/tjnb/index.htm", "卫生统计年报"),
                       ("/bsdt/index.htm", "办事大厅")):
        writer.write(FAMILY, path, encode(_chrome(path, name, f"<B>{name}</B><P>暂无信息</P>")))
    writer.write(FAMILY, "/css/style.css", b"body{font-size:12px}\n")


def _page(title: str, day: str, path: str, agency: str, article: str, attachment: str) -> bytes:
    return encode(_detail_page(path, title, day, agency, article, attachment))


def _attachment(r: dict, path: str) -> Attachment:
    d = date.fromisoformat(r["published"])
    file_path = f"/uploadfile/{d.year}/{d:%m%d}/{d:%Y%m%d}{stamp(r['id'], 8)}.{ATTACHMENT_EXT[r['format']]}"
    link = f'<P>附件：<A href="{rel(path, file_path)}">{escape(attachment_name(r))}</A></P>'
    return Attachment(FAMILY, file_path, link, "<P>详见附件。</P>")


def build(reports: list[dict], writer: SiteWriter) -> None:
    """Write the GBK site with its attachments on its own host."""
    _static_pages(writer)
    entries = publish_reports(writer, FAMILY, reports, _detail_path, _page, _attachment)
    items = notices("鹤岗市卫健委", range(2009, 2021), seed=44, count=6)
    items.append(("关于表彰王喆等优秀政务公开工作者的通报", "2016-06-12"))
    entries += publish_notices(writer, FAMILY, items, SITE_NAME, _detail_path, _page)
    entries.sort(key=lambda e: e.date, reverse=True)
    pages = page_count(len(entries), PER_PAGE)
    for page in range(pages):
        name = COLUMN if page == 0 else f"{COLUMN_DIR}list_{page + 1}.htm"
        writer.write(FAMILY, name, encode(list_page(paginate(entries, PER_PAGE, page), page, pages)))
    writer.save_manifest(
        FAMILY,
        entries,
        {"column": COLUMN, "home": "/index.htm", "content_type": "text/html", "encoding": ENCODING},
    )


_LIST_RE = re.compile(rf"^{re.escape(COLUMN_DIR)}list(?:_(\d+))?\.htm$")
_SYNTHETIC_RE = re.compile(r"^/news/html/\d{4}/\d{4}/\d{8}(?P<number>\d+)\.htm$")


class Dynamic(ScaledColumn):
    """With a scale: the column's pages grown with filler items, and their pages."""

    filler_re = _SYNTHETIC_RE
    content_type = "text/html"

    def filler_path(self, number: int, day: str) -> str:
        return _detail_path("", day, number)

    def filler_page(self, path: str, title: str, day: str) -> str:
        return _detail_page(path, title, day, SITE_NAME, notice_body(title, SITE_NAME, day))

    def column_page(self, path: str) -> str | None:
        m = _LIST_RE.match(path)
        paged = self.page(int(m.group(1) or 1) - 1, PER_PAGE) if m else None
        return list_page(*paged) if paged else None

    def encode(self, html: str) -> bytes:
        return encode(html)
