"""A portal whose column page is an empty application shell (`<div id="app">`): the list is built
by a *linked* script (`<script src="/static/js/ndbg-list.js">`) that fetches `data.json` and inserts
the items. Nothing in the page itself says list; only the linked script does.
"""

from __future__ import annotations

import json

from nianbao.sample_portals.families.common import SiteWriter, doc_number
from nianbao.sample_portals.families.plain import chrome, publish

FAMILY = "linkedjs"
SITE_NAME = "哈尔滨市平房区卫生健康局"
COLUMN = "/zwgk/ndbg/index.html"
DATA = "/zwgk/ndbg/data.json"
SCRIPT = "/static/js/ndbg-list.js"
NAV = '<li><a href="/index.html">首页</a></li><li><a href="/zwgk/index.html">政务公开</a></li>' \
      '<li><a href="/hdjl/index.html">互动交流</a></li>'

LIST_SCRIPT = """(function () {
  var app = document.getElementById("app");
  var xhr = new XMLHttpRequest();
  xhr.open("GET", "%(data)s");
  xhr.onload = function () {
    var body = JSON.parse(xhr.responseText);
    var ul = document.createElement("ul");
    ul.className = "doc-list";
    body.items.forEach(function (doc) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = doc.link; a.title = doc.name; a.textContent = doc.name;
      var span = document.createElement("span"); span.textContent = doc.time;
      li.appendChild(a); li.appendChild(span); ul.appendChild(li);
    });
    app.appendChild(ul);
  };
  xhr.send();
})();
"""


def _detail_path(key: str, day: str) -> str:
    return f"/zwgk/ndbg/content/{doc_number(key)}.html"


def build(reports: list[dict], writer: SiteWriter) -> None:
    """Home, 政务公开 page, the column shell, its linked script and data, and the reports."""
    entries = publish(FAMILY, reports, writer, SITE_NAME, NAV, "平房区卫健局", _detail_path, range(2020, 2025), 62)
    writer.write(FAMILY, "/index.html", chrome(SITE_NAME, SITE_NAME, "<p>欢迎访问。</p>", NAV))
    zwgk = f'<ul class="menu"><li><a href="{COLUMN}">政府信息公开年度报告</a></li>' \
           '<li><a href="/zwgk/zcwj/index.html">政策文件</a></li></ul>'
    writer.write(FAMILY, "/zwgk/index.html", chrome(SITE_NAME, f"政务公开-{SITE_NAME}", zwgk, NAV))
    for path, name in (("/zwgk/zcwj/index.html", "政策文件"), ("/hdjl/index.html", "互动交流")):
        writer.write(FAMILY, path, chrome(SITE_NAME, name, f"<h2>{name}</h2><p>暂无内容。</p>", NAV))
    scripts = f'<script src="/static/js/jquery.min.js"></script>\n<script src="{SCRIPT}"></script>'
    shell = '<h2 class="column-title">政府信息公开年度报告</h2>\n<div id="app"></div>'
    writer.write(FAMILY, COLUMN, chrome(SITE_NAME, f"政府信息公开年度报告-{SITE_NAME}", shell, NAV, scripts))
    writer.write(FAMILY, SCRIPT, LIST_SCRIPT % {"data": DATA})
    writer.write(FAMILY, "/static/js/jquery.min.js", "/* a library the page loads; it builds nothing */\n")
    data = {"total": len(entries), "items": [{"name": e.title, "link": e.href, "time": e.date} for e in entries]}
    writer.write(FAMILY, DATA, json.dumps(data, ensure_ascii=False, indent=1))
    writer.write(FAMILY, "/robots.txt", "User-agent: *\nDisallow: /admin/\n")
    writer.write(FAMILY, "/css/site.css", "body{font-size:14px}\n")
    writer.save_manifest(FAMILY, entries, {"column": COLUMN, "home": "/index.html", "script": SCRIPT})
