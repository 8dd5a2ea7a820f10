"""What the discovery portals share: a plain district-bureau site layout, its detail pages and the
publishing of its reports (HTML pages, one per report) and of the column's non-report items.

The discovery portals (robotsnav, linkedjs, emptylist, nocolumn) differ in how the 年报 column is
reached or built, not in how a report page looks, so they share this layout.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from nianbao.sample_portals.families.common import (
    Attachment,
    Entry,
    SiteWriter,
    doc_number,
    notices,
    publish_notices,
    publish_reports,
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
            detail_path: Callable[[str, str], str], notice_years: range, seed: int) -> list[Entry]:
    """Write every report's page and the column's notices; return the column's entries, newest first."""

    def page(title: str, day: str, path: str, agency: str, article: str, attachment: str) -> str:
        return detail_page(site_name, nav, title, day, article)

    def no_attachment(report: dict, path: str) -> Attachment:
        raise ValueError(f"{family} publishes every report as a page, not {report['format']} ({report['id']})")

    entries = publish_reports(writer, family, reports, detail_path, page, no_attachment)
    entries += publish_notices(writer, family, notices(short, notice_years, seed=seed, count=3), site_name,
                               detail_path, page)
    entries.sort(key=lambda e: e.date, reverse=True)
    return entries


def dated_path(prefix: str, key: str, day: str) -> str:
    """``{prefix}/YYYYMM/tYYYYMMDD_N.html``: the usual CMS article address."""
    return f"{prefix}/{day[:4]}{day[5:7]}/t{day.replace('-', '')}_{doc_number(key)}.html"


def list_items(entries: list[Entry]) -> str:
    """The `<li>` rows of a static list."""
    return "\n".join(f'<li><a href="{e.href}" title="{escape(e.title)}" target="_blank">{escape(e.title)}</a>'
                     f'<span class="date">{e.date}</span></li>' for e in entries)
