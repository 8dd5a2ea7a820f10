"""A portal with no 年报 column at all: its 政府信息公开 page offers a guide, a 信息公开目录 link that
answers 404, 法定主动公开内容 (a list of policy items) and 依申请公开. A crawl must end with the
diagnosis `no_column` and the candidates it tried.

It also serves, linked from nowhere, an old 年报 column that lists only a notice
(`EMPTY_COLUMN`): a registry row starting there must end with the diagnosis `empty_column`.
"""

from __future__ import annotations

from nianbao.sample_portals.families.common import Entry, SiteWriter
from nianbao.sample_portals.families.plain import chrome, dated_path, detail_page, list_items

FAMILY = "nocolumn"
SITE_NAME = "哈尔滨市呼兰区卫生健康局"
EMPTY_COLUMN = "/gk/ndbg2015/index.html"
DEAD = "/gk/ml/index.html"
NAV = '<li><a href="/index.html">首页</a></li><li><a href="/gk/index.html">政府信息公开</a></li>'
POLICY_ITEMS = (("呼兰区卫生健康局机构职能", "2023-02-10"), ("呼兰区基层医疗卫生机构名录", "2023-05-18"),
                ("关于印发呼兰区家庭医生签约服务实施方案的通知", "2024-03-06"))


def build(reports: list[dict], writer: SiteWriter) -> None:
    """The site without a 年报 column, and the unlinked empty one."""
    writer.write(FAMILY, "/index.html", chrome(SITE_NAME, SITE_NAME, "<p>欢迎访问。</p>", NAV))
    gk = f"""<ul class="gk-menu">
<li><a href="/gk/zn/index.html">政府信息公开指南</a></li>
<li><a href="{DEAD}">信息公开目录</a></li>
<li><a href="/gk/fdzdgknr/index.html">法定主动公开内容</a></li>
<li><a href="/gk/ysqgk/index.html">依申请公开</a></li>
</ul>"""
    writer.write(FAMILY, "/gk/index.html", chrome(SITE_NAME, f"政府信息公开-{SITE_NAME}", gk, NAV))
    for path, name in (("/gk/zn/index.html", "政府信息公开指南"), ("/gk/ysqgk/index.html", "依申请公开")):
        writer.write(FAMILY, path, chrome(SITE_NAME, name, f"<h2>{name}</h2><p>暂无内容。</p>", NAV))
    entries = []
    for title, day in POLICY_ITEMS:
        path = dated_path("/gk/fdzdgknr", title, day)
        writer.write(FAMILY, path, detail_page(SITE_NAME, NAV, title, day, f"<p>{title}。</p>"))
        entries.append(Entry(title, day, path, "notice"))
    listing = f'<h2>法定主动公开内容</h2><ul class="list">{list_items(entries)}</ul><div class="page">共 3 条</div>'
    writer.write(FAMILY, "/gk/fdzdgknr/index.html", chrome(SITE_NAME, "法定主动公开内容", listing, NAV))
    notice = ("关于做好2015年政府信息公开工作年度报告编制发布工作的通知", "2016-01-08")
    path = dated_path("/gk/ndbg2015", notice[0], notice[1])
    writer.write(FAMILY, path, detail_page(SITE_NAME, NAV, notice[0], notice[1], "<p>各科室：请按要求报送。</p>"))
    entries.append(Entry(notice[0], notice[1], path, "notice"))
    old = Entry(*notice, path, "notice")
    column = f'<h2>政府信息公开年报</h2><ul class="list">{list_items([old])}</ul><div class="page">共 1 条</div>'
    writer.write(FAMILY, EMPTY_COLUMN, chrome(SITE_NAME, f"政府信息公开年报-{SITE_NAME}", column, NAV))
    entries.append(Entry("信息公开目录", "2024-01-01", DEAD, "dead"))
    writer.write(FAMILY, "/robots.txt", "User-agent: *\nDisallow: /admin/\n")
    writer.write(FAMILY, "/css/site.css", "body{font-size:14px}\n")
    writer.save_manifest(FAMILY, entries, {"home": "/index.html", "empty_column": EMPTY_COLUMN})
