"""(a) A TRS WCM-style portal: static column pages index.html, index_1.html, … whose page links exist
only inside a `createPageHTML(total, current, "index", "html")` call, detail pages
`./YYYYMM/tYYYYMMDD_NNNNNNN.html` with the 索引号/发布机构/发文日期 table, attachments `P0…` on the file host.
"""

from __future__ import annotations

import re
from datetime import date
from html import escape

from nianbao.sample_portals.families.common import (
    ATTACHMENT_EXT,
    FILES_BASE,
    Entry,
    ScaledColumn,
    SiteWriter,
    article_html,
    attachment_name,
    doc_number,
    notice_body,
    notices,
    page_count,
    paginate,
    stamp,
)

FAMILY = "trs"
SITE_NAME = "哈尔滨市卫生健康委员会"
COLUMN = "/xxgk/zfxxgknb/"
PER_PAGE = 8
CREDIT_CODE = "11230100MB0Y12345K"

PAGE_SCRIPT = """/* TRS WCM 分页 */
function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){
  if(_nPageCount == null || _nPageCount <= 1){ return; }
  var nCurrIndex = _nCurrIndex || 0;
  function href(i){ return i == 0 ? _sPageName + "." + _sPageExt : _sPageName + "_" + i + "." + _sPageExt; }
  document.write("<span class=\\"total\\">共" + _nPageCount + "页</span>");
  if(nCurrIndex == 0){ document.write("<span>首页</span><span>上一页</span>"); }
  else {
    document.write("<a href=\\"" + href(0) + "\\">首页</a>");
    document.write("<a href=\\"" + href(nCurrIndex - 1) + "\\">上一页</a>");
  }
  for(var i = 0; i < _nPageCount; i++){
    if(i == nCurrIndex){ document.write("<span class=\\"current\\">" + (i + 1) + "</span>"); }
    else { document.write("<a href=\\"" + href(i) + "\\">" + (i + 1) + "</a>"); }
  }
  if(nCurrIndex == _nPageCount - 1){ document.write("<span>下一页</span><span>尾页</span>"); }
  else {
    document.write("<a href=\\"" + href(nCurrIndex + 1) + "\\">下一页</a>");
    document.write("<a href=\\"" + href(_nPageCount - 1) + "\\">尾页</a>");
  }
}
"""


def _chrome(title: str, body: str, crumbs: str = "", column: str = "") -> str:
    meta = f'<meta name="ColumnName" content="{escape(column)}">' if column else ""
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<title>{escape(title)}</title>
<meta name="SiteName" content="{SITE_NAME}">
<meta name="SiteDomain" content="wsjkw.harbin.gov.cn">
{meta}
<link rel="stylesheet" href="/css/style.css">
<script src="/js/page.js"></script>
</head>
<body>
<div class="header"><div class="logo">{SITE_NAME}</div>
<ul class="nav">
<li><a href="/index.html">首页</a></li>
<li><a href="/zwdt/index.html">政务动态</a></li>
<li><a href="/xxgk/index.html">政府信息公开</a></li>
<li><a href="/bsfw/index.html">办事服务</a></li>
<li><a href="/hdjl/index.html">互动交流</a></li>
</ul></div>
<div class="position">当前位置：{crumbs}</div>
<div class="main">
{body}
</div>
<div class="footer">主办：{SITE_NAME}　网站标识码：2301000015　黑ICP备05001234号</div>
</body>
</html>
"""


def _detail_path(key: str, day: str, number: int | None = None) -> str:
    d = date.fromisoformat(day)
    number = number or doc_number(key)
    return f"{COLUMN}{d:%Y%m}/t{d:%Y%m%d}_{number}.html"


def _meta_table(title: str, day: str, publisher: str, index_no: str) -> str:
    return f"""<table class="xxgk-info" border="0" cellspacing="0" cellpadding="0">
<tr><th>索引号：</th><td>{escape(index_no)}</td><th>分类：</th><td>政府信息公开年报</td></tr>
<tr><th>发布机构：</th><td>{escape(publisher)}</td><th>发文日期：</th><td>{day}</td></tr>
<tr><th>名称：</th><td colspan="3">{escape(title)}</td></tr>
<tr><th>文号：</th><td></td><th>主题词：</th><td>政务公开</td></tr>
</table>"""


def _detail_page(title: str, day: str, publisher: str, article: str, attachment: str = "") -> str:
    crumbs = '<a href="/index.html">首页</a> &gt; <a href="/xxgk/index.html">政府信息公开</a> &gt; ' \
        f'<a href="{COLUMN}index.html">政府信息公开年报</a>'
    index_no = f"{CREDIT_CODE}/{day[:4]}-{stamp(title, 5)}"
    body = (
        _meta_table(title, day, publisher, index_no)
        + f'\n<div class="article"><h2>{escape(title)}</h2>\n<div class="TRS_Editor">\n{article}\n</div>\n'
        + attachment
        + "</div>"
    )
    return _chrome(f"{title}_{SITE_NAME}", body, crumbs, "政府信息公开年报")


def list_page(entries: list[Entry], page: int, pages: int) -> str:
    """Column page `page` (0-based): items, and the pagination only as a createPageHTML call."""
    items = []
    for e in entries:
        href = "./" + e.href[len(COLUMN) :] if e.href.startswith(COLUMN) else e.href
        items.append(
            f'<li><a href="{escape(href)}" target="_blank" title="{escape(e.title)}">{escape(e.title)}</a>'
            f"<span>{e.date}</span></li>"
        )
    crumbs = '<a href="/index.html">首页</a> &gt; <a href="/xxgk/index.html">政府信息公开</a> &gt; 政府信息公开年报'
    body = f"""<div class="list-title">政府信息公开年报</div>
<ul class="list">
{chr(10).join(items)}
</ul>
<div class="page">
<script type="text/javascript">
createPageHTML({pages}, {page}, "index", "html");
</script>
</div>"""
    return _chrome(f"政府信息公开年报_{SITE_NAME}", body, crumbs, "政府信息公开年报")


def _static_pages(writer: SiteWriter) -> None:
    home = """<div class="banner">健康哈尔滨</div>
<div class="block"><h3>政务动态</h3><ul><li><a href="/zwdt/index.html">全市卫生健康工作会议召开</a></li></ul></div>
<div class="block"><h3>专题专栏</h3><ul><li><a href="/xxgk/index.html">政府信息公开</a></li>
<li><a href="/hdjl/index.html">领导信箱</a></li></ul></div>"""
    writer.write(FAMILY, "/index.html", _chrome(SITE_NAME, home, "首页"))
    xxgk = f"""<div class="xxgk-nav"><h3>政府信息公开</h3><ul>
<li><a href="/xxgk/xxgkzn/index.html">政府信息公开指南</a></li>
<li><a href="/xxgk/xxgkzd/index.html">政府信息公开制度</a></li>
<li><a href="/xxgk/fdzdgknr/index.html">法定主动公开内容</a></li>
<li><a href="{COLUMN}index.html">政府信息公开年报</a></li>
<li><a href="/xxgk/ysqgk/index.html">依申请公开</a></li>
<li><a href="/xxgk/qynb/index.html">企业年报公示</a></li>
</ul></div>"""
    crumbs = '<a href="/index.html">首页</a> &gt; 政府信息公开'
    writer.write(FAMILY, "/xxgk/index.html", _chrome(f"政府信息公开_{SITE_NAME}", xxgk, crumbs))
    for path, name in (
        ("/xxgk/xxgkzn/index.html", "政府信息公开指南"),
        ("/xxgk/xxgkzd/index.html", "政府信息公开制度"),
        ("/xxgk/fdzdgknr/index.html", "法定主动公开内容"),
        ("/xxgk/ysqgk/index.html", "依申请公开"),
        ("/xxgk/qynb/index.html", "企业年报公示"),
        ("/zwdt/index.html", "政务动态"),
        ("/bsfw/index.html", "办事服务"),
        ("/hdjl/index.html", "互动交流"),
    ):
        writer.write(FAMILY, path, _chrome(f"{name}_{SITE_NAME}", f"<h3>{name}</h3><p>栏目建设中。</p>", name))
    writer.write(FAMILY, "/js/page.js", PAGE_SCRIPT)
    writer.write(FAMILY, "/css/style.css", "body{font-family:SimSun,serif}.list li span{float:right}\n")
    writer.write(
        FAMILY,
        "/robots.txt",
        f"User-agent: *\nDisallow: {COLUMN}preview/\nDisallow: /hdjl/\n",
    )


def build(reports: list[dict], writer: SiteWriter) -> None:
    """Write the whole TRS portal: pages, details, attachments, robots.txt and the column manifest."""
    _static_pages(writer)
    entries: list[Entry] = []
    redirects: dict[str, str] = {}
    for r in reports:
        day = r["published"]
        if r["variant"] == "draft":
            # a draft behind a robots.txt Disallow: listed, served, and never to be fetched
            d = date.fromisoformat(day)
            path = f"{COLUMN}preview/t{d:%Y%m%d}_{doc_number(r['id'])}.html"
            writer.publish(r, FAMILY, path, _detail_page(r["title"], day, r["agency"], article_html(r)))
            entries.append(Entry(r["title"], day, path, "disallowed", r["id"]))
            continue
        paths = [_detail_path(r["id"], day)]
        if r["year"] == 2020:
            # re-published a week later at a second address, same attachment bytes
            later = date.fromisoformat(day).replace(day=min(28, date.fromisoformat(day).day + 7)).isoformat()
            paths.append(_detail_path(r["id"] + "/again", later))
        for n, path in enumerate(paths):
            shown_day = path.split("/t")[-1][:8]
            shown_day = f"{shown_day[:4]}-{shown_day[4:6]}-{shown_day[6:]}"
            if r["format"] == "html":
                writer.publish(r, FAMILY, path, _detail_page(r["title"], day, r["agency"], article_html(r)))
            else:
                ext = ATTACHMENT_EXT[r["format"]]
                d = date.fromisoformat(day)
                # the re-published page links the attachment the first page uploaded
                file_path = f"/hrb{paths[0].rsplit('/', 1)[0]}/P0{d:%Y%m%d}{stamp(r['id'], 12)}.{ext}"
                link = (
                    f'<div class="fujian">附件：<a href="{FILES_BASE}{file_path}" '
                    f'OLDSRC="{escape(file_path)}">{escape(attachment_name(r))}</a></div>'
                )
                intro = (
                    f'<p style="text-indent:2em">现将《{escape(r["title"])}》予以公布，详见附件。</p>'
                )
                writer.publish(r, FAMILY, path, _detail_page(r["title"], day, r["agency"], intro, link), "detail_page")
                if n == 0:
                    writer.publish_attachment(r, "files", file_path)
            kind = "report" if n == 0 else "duplicate"
            if r["year"] == 2019 and r["agency"] == SITE_NAME:
                # the list still links the address the article had before the site moved it
                old = _detail_path(r["id"] + "/old", day)
                redirects[old] = path
                entries.append(Entry(r["title"], shown_day, old, "redirect", r["id"]))
                writer.place(r["id"], FAMILY, old, "redirect", "html")
            else:
                entries.append(Entry(r["title"], shown_day, path, kind, r["id"]))
    for title, day in notices(SITE_NAME, range(2016, 2025), seed=11):
        path = _detail_path(title, day)
        writer.write(FAMILY, path, _detail_page(title, day, SITE_NAME, notice_body(title, SITE_NAME, day)))
        entries.append(Entry(title, day, path, "notice"))
    dead_title = f"{SITE_NAME}2013年政府信息公开工作年度报告"
    entries.append(Entry(dead_title, "2014-03-20", _detail_path(dead_title, "2014-03-20"), "dead"))
    entries.sort(key=lambda e: e.date, reverse=True)
    pages = page_count(len(entries), PER_PAGE)
    for page in range(pages):
        name = "index.html" if page == 0 else f"index_{page}.html"
        writer.write(FAMILY, COLUMN + name, list_page(paginate(entries, PER_PAGE, page), page, pages))
    writer.save_manifest(
        FAMILY,
        entries,
        {"redirects": redirects, "gzip": True, "column": COLUMN + "index.html", "home": "/index.html"},
    )


_LIST_RE = re.compile(rf"^{re.escape(COLUMN)}index(?:_(\d+))?\.html$")
_SYNTHETIC_RE = re.compile(rf"^{re.escape(COLUMN)}(\d{{6}})/t(\d{{8}})_(?P<number>\d+)\.html$")


class Dynamic(ScaledColumn):
    """What the TRS host serves on the fly: a column scaled up with filler items, and their pages."""

    filler_re = _SYNTHETIC_RE

    def filler_path(self, number: int, day: str) -> str:
        return _detail_path("", day, number)

    def filler_page(self, path: str, title: str, day: str) -> str:
        return _detail_page(title, day, SITE_NAME, notice_body(title, SITE_NAME, day))

    def column_page(self, path: str) -> str | None:
        m = _LIST_RE.match(path)
        paged = self.page(int(m.group(1) or 0), PER_PAGE) if m else None
        return list_page(*paged) if paged else None
