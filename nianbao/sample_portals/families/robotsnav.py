"""A portal whose most 年报-looking link leads into a search service that robots.txt disallows
(`/search/`), while its ordinary navigation (首页 → 政府信息公开 → 年度报告) reaches the column.
A crawler that obeys robots.txt must never ask for `/search/…` and must still find every report.
"""

from __future__ import annotations

from nianbao.sample_portals.families.common import SiteWriter
from nianbao.sample_portals.families.plain import chrome, dated_path, list_items, publish

FAMILY = "robotsnav"
SITE_NAME = "哈尔滨市道里区卫生健康局"
COLUMN = "/zfxxgk/ndbg/index.html"
DISALLOWED = "/search/ndbg.html?channelid=2781"
ROBOTS = "User-agent: *\nDisallow: /search/\nDisallow: /private/\n"
NAV = '<li><a href="/index.html">首页</a></li><li><a href="/zfxxgk/index.html">政府信息公开</a></li>' \
      '<li><a href="/bsfw/index.html">办事服务</a></li>'


def _detail_path(key: str, day: str) -> str:
    return dated_path("/zfxxgk/ndbg", key, day)


def build(reports: list[dict], writer: SiteWriter) -> None:
    """Home with the disallowed search link, the disclosure page, the column and its reports."""
    entries = publish(FAMILY, reports, writer, SITE_NAME, NAV, "道里区卫健局", _detail_path, range(2019, 2025), 61)
    home = f"""<div class="banner"><a href="{DISALLOWED}" class="hot">政府信息公开年报</a></div>
<div class="block"><h3>通知公告</h3><ul><li><a href="/bsfw/index.html">便民服务指南</a></li></ul></div>"""
    writer.write(FAMILY, "/index.html", chrome(SITE_NAME, SITE_NAME, home, NAV))
    xxgk = f"""<ul class="gk-menu">
<li><a href="/zfxxgk/zn/index.html">政府信息公开指南</a></li>
<li><a href="/zfxxgk/fdzdgknr/index.html">法定主动公开内容</a></li>
<li><a href="{COLUMN}">年度报告</a></li>
</ul>"""
    writer.write(FAMILY, "/zfxxgk/index.html", chrome(SITE_NAME, f"政府信息公开-{SITE_NAME}", xxgk, NAV))
    for path, name in (("/zfxxgk/zn/index.html", "政府信息公开指南"), ("/zfxxgk/fdzdgknr/index.html", "法定主动公开内容"),
                       ("/bsfw/index.html", "办事服务")):
        writer.write(FAMILY, path, chrome(SITE_NAME, name, f"<h2>{name}</h2><p>暂无内容。</p>", NAV))
    column = f'<h2 class="column-title">年度报告</h2>\n<ul class="list">\n{list_items(entries)}\n</ul>'
    writer.write(FAMILY, COLUMN, chrome(SITE_NAME, f"年度报告-{SITE_NAME}", column, NAV))
    # the search service answers too, with the same list: a crawler that ignores robots.txt would use it
    writer.write(FAMILY, DISALLOWED.split("?")[0], chrome(SITE_NAME, "检索", f'<ul class="list">{list_items(entries)}</ul>', NAV))
    writer.write(FAMILY, "/robots.txt", ROBOTS)
    writer.write(FAMILY, "/css/site.css", "body{font-size:14px}\n")
    writer.save_manifest(FAMILY, entries, {"column": COLUMN, "home": "/index.html", "disallowed": [DISALLOWED]})
