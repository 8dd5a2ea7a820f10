"""A portal whose column page serves an empty list container (`<ul class="news-list">`) beside a
pager that says 共N条: the items are written in the browser from a data script (`nb_data.js`, a
plain array) by an inline loop. No script fetches anything, so nothing in the page's scripts says
"builds a list"; only the empty list beside its count does. The browser fills it.
"""

from __future__ import annotations

import json

from nianbao.sample_portals.families.common import SiteWriter
from nianbao.sample_portals.families.plain import chrome, dated_path, publish

FAMILY = "emptylist"
SITE_NAME = "哈尔滨市香坊区卫生健康局"
COLUMN = "/xxgk/nb/index.html"
DATA_SCRIPT = "/xxgk/nb/nb_data.js"
NAV = '<li><a href="/index.html">首页</a></li><li><a href="/xxgk/index.html">政府信息公开</a></li>'

FILL_SCRIPT = """<script>
(function () {
  var ul = document.getElementById("nb-list");
  for (var i = 0; i < NB_DATA.length; i++) {
    var d = NB_DATA[i];
    ul.innerHTML += '<li><a href="' + d.u + '" title="' + d.t + '">' + d.t + '</a><span>' + d.d + '</span></li>';
  }
})();
</script>"""


def _detail_path(key: str, day: str) -> str:
    return dated_path("/xxgk/nb", key, day)


def build(reports: list[dict], writer: SiteWriter) -> None:
    """Home, disclosure page, the empty column page with its pager, its data script, the reports."""
    entries = publish(FAMILY, reports, writer, SITE_NAME, NAV, "香坊区卫健局", _detail_path, range(2018, 2025), 63)
    writer.write(FAMILY, "/index.html", chrome(SITE_NAME, SITE_NAME, "<p>欢迎访问。</p>", NAV))
    xxgk = f'<ul class="menu"><li><a href="{COLUMN}">政府信息公开年报</a></li></ul>'
    writer.write(FAMILY, "/xxgk/index.html", chrome(SITE_NAME, f"政府信息公开-{SITE_NAME}", xxgk, NAV))
    column = f"""<h2 class="column-title">政府信息公开年报</h2>
<ul class="news-list" id="nb-list"></ul>
<div class="page-box">共 {len(entries)} 条　第 1/1 页</div>"""
    scripts = f'<script src="{DATA_SCRIPT}"></script>\n{FILL_SCRIPT}'
    writer.write(FAMILY, COLUMN, chrome(SITE_NAME, f"政府信息公开年报-{SITE_NAME}", column, NAV, scripts))
    data = [{"t": e.title, "u": e.href, "d": e.date} for e in entries]
    writer.write(FAMILY, DATA_SCRIPT, "var NB_DATA = " + json.dumps(data, ensure_ascii=False, indent=1) + ";\n")
    writer.write(FAMILY, "/robots.txt", "User-agent: *\nDisallow: /admin/\n")
    writer.write(FAMILY, "/css/site.css", "body{font-size:14px}\n")
    writer.save_manifest(FAMILY, entries, {"column": COLUMN, "home": "/index.html"})
