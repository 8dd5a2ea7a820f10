"""(c) A 开普云-style portal whose column list exists only after JavaScript runs: the page fetches
`/api/content/list?channelId=…&pageNo=&pageSize=` (JSON) and builds the items, page links
(`?page=N`) and a 加载更多 button. Details at `/zwgk/zfxxgknb/content/post_NNNNNNN.html`.
"""

from __future__ import annotations

import json
import re
from datetime import date
from html import escape

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
    page_count,
    paginate,
    plain_page,
    publish_notices,
    publish_reports,
    stamp,
)

FAMILY = "jsapp"
SITE_NAME = "武汉市硚口区卫生健康局"
CHANNEL = "ndbg"
COLUMN = "/zwgk/zfxxgknb/index.html"
API = "/api/content/list"
PER_PAGE = 5

LIST_SCRIPT = """
(function () {
  var size = %(size)d;
  var params = new URLSearchParams(window.location.search);
  var page = parseInt(params.get("page") || "1", 10);
  var list = document.getElementById("news-list");
  var pager = document.getElementById("pager");
  var more = document.getElementById("load-more");
  function item(doc) {
    var li = document.createElement("li");
    var a = document.createElement("a");
    a.href = doc.url; a.title = doc.title; a.target = "_blank"; a.textContent = doc.title;
    var span = document.createElement("span"); span.className = "date"; span.textContent = doc.publishDate;
    li.appendChild(a); li.appendChild(span);
    return li;
  }
  function drawPager(total) {
    var pages = Math.max(1, Math.ceil(total / size));
    pager.innerHTML = "";
    for (var i = 1; i <= pages; i++) {
      var a = document.createElement("a");
      a.href = "?page=" + i; a.textContent = i;
      if (i === page) { a.className = "current"; }
      pager.appendChild(a);
    }
    more.style.display = page >= pages ? "none" : "";
  }
  function load(p, append) {
    fetch("%(api)s?channelId=%(channel)s&pageNo=" + p + "&pageSize=" + size, {headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (body) {
        if (!append) { list.innerHTML = ""; }
        body.data.list.forEach(function (doc) { list.appendChild(item(doc)); });
        drawPager(body.data.total);
        list.setAttribute("data-loaded", "true");
      });
  }
  more.addEventListener("click", function () { page += 1; load(page, true); });
  load(page, false);
})();
"""


def _chrome(title: str, body: str, scripts: str = "") -> str:
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="stylesheet" href="/static/css/main.css">
</head>
<body>
<header class="site-header"><h1>{SITE_NAME}</h1>
<nav><a href="/index.html">首页</a><a href="/zwgk/index.html">政府信息公开</a><a href="/hdjl/index.html">互动交流</a></nav>
</header>
<main>
{body}
</main>
<footer>主办单位：{SITE_NAME}　鄂ICP备12345678号</footer>
{scripts}
</body>
</html>
"""


def _detail_path(key: str, number: int | None = None) -> str:
    return f"/zwgk/zfxxgknb/content/post_{number or doc_number(key)}.html"


def _detail_page(title: str, day: str, article: str, attachment: str = "") -> str:
    body = f"""<div class="crumb"><a href="/index.html">首页</a> &gt; <a href="/zwgk/index.html">政府信息公开</a>
&gt; <a href="{COLUMN}">政府信息公开年报</a></div>
<div class="xxgk-head"><table>
<tr><td>索引号：</td><td>011021457/{day[:4]}-{stamp(title, 5)}</td><td>分类：</td><td>政府信息公开年报</td></tr>
<tr><td>发布机构：</td><td>{SITE_NAME}</td><td>发文日期：</td><td>{day}</td></tr>
<tr><td>标题：</td><td colspan="3">{escape(title)}</td></tr>
</table></div>
<article class="detail"><h2>{escape(title)}</h2>
{article}
{attachment}
</article>"""
    return _chrome(title, body)


def column_page() -> str:
    """The column shell: no items until the script has fetched them."""
    body = """<div class="crumb"><a href="/index.html">首页</a> &gt; <a href="/zwgk/index.html">政府信息公开</a>
&gt; 政府信息公开年报</div>
<h2 class="column-title">政府信息公开年报</h2>
<ul id="news-list" class="news-list"><li class="loading">加载中…</li></ul>
<div id="pager" class="pager"></div>
<button id="load-more" type="button">加载更多</button>
<noscript>请启用浏览器的JavaScript功能后浏览本栏目。</noscript>"""
    script = LIST_SCRIPT % {"size": PER_PAGE, "api": API, "channel": CHANNEL}
    return _chrome(f"政府信息公开年报-{SITE_NAME}", body, f"<script>{script}</script>")


def api_json(entries: list[Entry], page: int, size: int) -> str:
    """The list API's answer for 1-based `page`."""
    chosen = paginate(entries, size, page - 1) if page >= 1 else []
    docs = [{"title": e.title, "url": e.href, "publishDate": e.date} for e in chosen]
    body = {
        "code": 200,
        "msg": "success",
        "data": {"total": len(entries), "pageNo": page, "pageSize": size,
                 "pages": page_count(len(entries), size), "list": docs},
    }
    return json.dumps(body, ensure_ascii=False)


def _static_pages(writer: SiteWriter) -> None:
    home = """<section class="portal"><a href="/zwgk/index.html">政府信息公开</a>
<a href="/hdjl/index.html">互动交流</a></section>"""
    writer.write(FAMILY, "/index.html", _chrome(SITE_NAME, home))
    xxgk = f"""<ul class="gk-menu">
<li><a href="/zwgk/zfxxgkzn/index.html">政府信息公开指南</a></li>
<li><a href="/zwgk/fdzdgknr/index.html">法定主动公开内容</a></li>
<li><a href="{COLUMN}">政府信息公开年报</a></li>
<li><a href="/zwgk/tjxx/index.html">统计年报</a></li>
</ul>"""
    writer.write(FAMILY, "/zwgk/index.html", _chrome(f"政府信息公开-{SITE_NAME}", xxgk))
    for path, name in (("/zwgk/zfxxgkzn/index.html", "政府信息公开指南"), ("/zwgk/fdzdgknr/index.html", "法定主动公开内容"),
                       ("/zwgk/tjxx/index.html", "统计年报"), ("/hdjl/index.html", "互动交流")):
        writer.write(FAMILY, path, _chrome(name, f"<h2>{name}</h2><p>暂无内容。</p>"))
    writer.write(FAMILY, COLUMN, column_page())
    writer.write(FAMILY, "/static/css/main.css", ".news-list li .date{float:right}\n")
    writer.write(FAMILY, "/robots.txt", "User-agent: *\nDisallow: /admin/\n")


def _dated_detail_path(key: str, day: str) -> str:
    return _detail_path(key)


_page = plain_page(_detail_page)


def _attachment(r: dict, path: str) -> Attachment:
    d = date.fromisoformat(r["published"])
    file_path = f"/qkq/uploadfiles/{d:%Y%m}/{d:%Y%m%d}{stamp(r['id'], 9)}.{ATTACHMENT_EXT[r['format']]}"
    link = f'<p class="attach">附件：<a href="{FILES_BASE}{file_path}" download>{escape(attachment_name(r))}</a></p>'
    return Attachment("files", file_path, link, f"<p>详见附件：{escape(r['title'])}</p>")


def build(reports: list[dict], writer: SiteWriter) -> None:
    """Write the JavaScript portal's static pages and details; its list is served by the API."""
    _static_pages(writer)
    entries = publish_reports(writer, FAMILY, reports, _dated_detail_path, _page, _attachment)
    entries += publish_notices(writer, FAMILY, notices("硚口区卫健局", range(2018, 2025), seed=33, count=6),
                               SITE_NAME, _dated_detail_path, _page)
    entries.sort(key=lambda e: e.date, reverse=True)
    writer.save_manifest(FAMILY, entries, {"column": COLUMN, "home": "/index.html", "render": "js"})


_SYNTHETIC_RE = re.compile(r"^/zwgk/zfxxgknb/content/post_(?P<number>\d+)\.html$")


class Dynamic(ScaledColumn):
    """The list API, and with a scale the filler items' pages."""

    filler_re = _SYNTHETIC_RE

    def filler_path(self, number: int, day: str) -> str:
        return _detail_path("", number)

    def filler_page(self, path: str, title: str, day: str) -> str:
        return _detail_page(title, day, notice_body(title, SITE_NAME, day))

    def data_reply(self, method: str, path: str, query: dict, form: dict) -> Reply | None:
        """`/api/content/list`."""
        if path != API:
            return None
        if query.get("channelId") != CHANNEL:
            body = json.dumps({"code": 404, "msg": "栏目不存在", "data": None}, ensure_ascii=False)
            return Reply(404, body.encode("utf-8"), "application/json;charset=UTF-8")
        try:
            page = int(query.get("pageNo", "1"))
            size = min(100, max(1, int(query.get("pageSize", str(PER_PAGE)))))
        except ValueError:
            return Reply(400, b'{"code":400,"msg":"bad paging"}', "application/json;charset=UTF-8")
        return Reply(200, api_json(self.entries, page, size).encode("utf-8"), "application/json;charset=UTF-8")
