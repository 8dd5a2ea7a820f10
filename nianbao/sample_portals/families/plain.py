"""What the discovery portals share: a plain district-bureau site layout, its detail pages and the
publishing of its reports (HTML pages, one per report) and of the column's non-report items.

The discovery portals (robotsnav, linkedjs, emptylist, nocolumn) differ in how the 年报 column is
reached or built, not in how a report page looks, so they share this layout.
"""

from __future__ import annotations

from html import escape

from nianbao.sample_portals.families.common import (
    Entry,
    SiteWriter,
    article_html,
    doc_number,
    notice_body,
    notices,
    stamp,
)


def chrome(site_name: str, title: str, body: str, nav: str, scripts: str = "") -> str:
    """A page of the site: header with its navigation, the body, the footer, trailing scripts."""
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{escape(title)}</title>
<link rel="stylesheet" href="/css/site.css">
</head>
<body>
<div class="header"><div class="logo">{escape(site_name)}</div>
<ul class="nav">{nav}</ul></div>
<div class="main">
{body}
</div>
<div class="footer">主办：{escape(site_name)}　黑ICP备05001234号</div>
{scripts}
</body>
</html>
"""


def detail_page(site_name: str, nav: str, title: str, day: str, article: str) -> str:
    """A report or notice page with the 索引号/发布机构/发布日期 lines."""
    body = f"""<div class="article">
<h1 class="article-title">{escape(title)}</h1>
<div class="article-info"><span>索引号：{stamp(title, 9)}/{day[:4]}-{stamp(title + day, 5)}</span>
<span>发布机构：{escape(site_name)}</span><span>发布日期：{day}</span></div>
{article}
</div>"""
    return chrome(site_name, title, body, nav)


def publish(family: str, reports: list[dict], writer: SiteWriter, site_name: str, nav: str, short: str,
            detail_path, notice_years: range, seed: int) -> list[Entry]:
    """Write every report's page and the column's notices; return the column's entries, newest first."""
    entries: list[Entry] = []
    for r in reports:
        path = detail_path(r["id"], r["published"])
        writer.publish(r, family, path, detail_page(site_name, nav, r["title"], r["published"], article_html(r)))
        entries.append(Entry(r["title"], r["published"], path, "report", r["id"]))
    for title, day in notices(short, notice_years, seed=seed, count=3):
        path = detail_path(title, day)
        writer.write(family, path, detail_page(site_name, nav, title, day, notice_body(title, site_name, day)))
        entries.append(Entry(title, day, path, "notice"))
    entries.sort(key=lambda e: e.date, reverse=True)
    return entries


def dated_path(prefix: str, key: str, day: str) -> str:
    """``{prefix}/YYYYMM/tYYYYMMDD_N.html``: the usual CMS article address."""
    return f"{prefix}/{day[:4]}{day[5:7]}/t{day.replace('-', '')}_{doc_number(key)}.html"


def list_items(entries: list[Entry]) -> str:
    """The `<li>` rows of a static list."""
    return "\n".join(f'<li><a href="{e.href}" title="{escape(e.title)}" target="_blank">{escape(e.title)}</a>'
                     f'<span class="date">{e.date}</span></li>' for e in entries)
