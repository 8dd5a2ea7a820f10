"""(e) A Guangdong 政府信息公开目录平台 (gkmlpt) portal under a department path: the disclosure page is an
empty Vue shell ``/nhwjj/gkmlpt/index`` whose ``window._CONFIG`` holds the site id and the catalogue tree;
the 年报 catalogue's items come only from ``/nhwjj/gkmlpt/api/all/{id}?page=N&sid=SID`` (JSON, a few a
page, ``classify.post_count``); details ``/nhwjj/gkmlpt/content/4/{n}/post_{id}.html`` link their
attachment as ``<a class="nfw-cms-attachment" alt="名称.pdf">点击下载</a>`` at ``/nhwjj/attachment/…/{id}.pdf``,
served with the name only in ``Content-Disposition: attachment; filename*=UTF-8''…``.
"""

from __future__ import annotations

import json
import re
from html import escape

from nianbao.sample_portals.families.common import (
    ATTACHMENT_EXT,
    SITE_BASE,
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
    publish_notices,
    publish_reports,
    stamp,
)

FAMILY = "gkmlpt"
SITE_NAME = "南海区卫生健康局"
PREFIX = "/nhwjj"
SHELL = f"{PREFIX}/gkmlpt/index"
# the platform's own 年报 route: the catalogue id is only in the address's fragment (annualreport#4101)
ANNUAL_REPORT_SHELL = f"{PREFIX}/gkmlpt/annualreport"
API = re.compile(rf"^{re.escape(PREFIX)}/gkmlpt/api/all/(\d+)$")
SID = "757011"
COLUMN_ID = 4101
PER_PAGE = 4
CREDIT_CODE = "11440605MB2D45678P"
TREE = [
    {"id": 4001, "name": "政府信息公开指南", "parent": 0, "post_count": 1, "children": []},
    {"id": 4002, "name": "政府信息公开制度", "parent": 0, "post_count": 0, "children": []},
    {"id": 4003, "name": "法定主动公开内容", "parent": 0, "post_count": 0, "children": [
        {"id": 4011, "name": "机构信息", "parent": 4003, "post_count": 0, "children": []},
        {"id": 4012, "name": "企业年报公示", "parent": 4003, "post_count": 0, "children": []},
    ]},
    {"id": COLUMN_ID, "name": "政府信息公开年报", "parent": 0, "post_count": 0, "children": []},
    {"id": 4005, "name": "依申请公开", "parent": 0, "post_count": 0, "jump_url": f"{PREFIX}/ysqgk/", "children": []},
]


def _chrome(title: str, body: str, head: str = "") -> str:
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<title>{escape(title)}</title>
{head}
</head>
<body>
<div class="header"><span class="site">{SITE_NAME}</span>
<a href="/index.html">首页</a> <a href="{SHELL}">政府信息公开</a></div>
{body}
<div class="footer">主办：佛山市南海区卫生健康局　粤ICP备12345678号</div>
</body>
</html>
"""


def shell_page(tree: list | None = None) -> str:
    """The platform shell: nothing but its config and the bundle that builds the page."""
    config = json.dumps(TREE if tree is None else tree, ensure_ascii=False)
    head = f"""<link href="{PREFIX}/gkmlpt/gkml/pc/css/app.5f0c2a1e.css" rel="stylesheet">
<script>
  window._CONFIG = {{
    SID: '{SID}',
    TREE: {config},
    SERVICE_AREA_ID: 2
  }};
</script>"""
    body = f"""<noscript><strong>请开启浏览器的JavaScript功能后访问本页面。</strong></noscript>
<div id="app"></div>
<script src="{PREFIX}/gkmlpt/gkml/pc/js/chunk-common.c1553651.js"></script>
<script src="{PREFIX}/gkmlpt/gkml/pc/js/app.0d9a4b77.js"></script>"""
    return _chrome(f"{SITE_NAME}政府信息公开", body, head)


def _post_id(key: str) -> int:
    return doc_number(key, base=5_100_000, span=800_000)


def _detail_path(number: int) -> str:
    return f"{PREFIX}/gkmlpt/content/4/{number // 1000}/post_{number}.html"


def _detail_page(title: str, day: str, article: str) -> str:
    index_no = f"{CREDIT_CODE}/{day[:4]}-{stamp(title, 5)}"
    body = f"""<div class="detail">
<div class="detail-head"><table class="table-info">
<tr><td class="td-label">索引号：</td><td class="td-value-xl"><span>{index_no}</span></td>
<td class="td-label">分类：</td><td class="td-value"><span>政府信息公开年报</span></td></tr>
<tr><td class="td-label">发布机构：</td><td class="td-value-xl"><span>{SITE_NAME}</span></td>
<td class="td-label">发布日期：</td><td class="td-value"><span>{day}</span></td></tr>
<tr><td class="td-label">名称：</td><td class="td-value" colspan="3"><span>{escape(title)}</span></td></tr>
</table></div>
<h1 class="content-title">{escape(title)}</h1>
<div class="content"><div class="article-content">
{article}
</div></div>
</div>"""
    return _chrome(title, body)


def _article(entry: Entry, number: int) -> dict:
    return {
        "id": number,
        "title": entry.title,
        "identifier": f"{CREDIT_CODE}/{entry.date[:4]}-{stamp(entry.title, 5)}",
        "publisher": SITE_NAME,
        "created_at": f"{entry.date} 09:30:00",
        "classify_main_name": "政府信息公开年报",
        "url": SITE_BASE + entry.href,
        "post_url": SITE_BASE + entry.href,
    }


def api_json(entries: list[Entry], page: int) -> str:
    """The catalogue API's answer for 1-based `page` (page 0 answers like page 1, as the platform does)."""
    chosen = paginate(entries, PER_PAGE, max(page, 1) - 1)
    articles = [_article(e, int(e.href.rsplit("_", 1)[1].split(".")[0])) for e in chosen]
    body = {"classify": {"id": COLUMN_ID, "name": "政府信息公开年报", "parent": 0,
                         "post_count": len(entries), "theme_count": len(entries)},
            "articles": articles}
    return json.dumps(body, ensure_ascii=False)


def _static_pages(writer: SiteWriter) -> None:
    home = f"""<div class="portal"><ul>
<li><a href="/zwdt/index.html">工作动态</a></li>
<li><a href="{SHELL}">政府信息公开</a></li>
</ul></div>"""
    writer.write(FAMILY, "/index.html", _chrome(SITE_NAME, home))
    writer.write(FAMILY, "/zwdt/index.html", _chrome("工作动态", "<h2>工作动态</h2><p>暂无内容。</p>"))
    writer.write(FAMILY, "/robots.txt", "User-agent: *\nDisallow: /nhwjj/gkmlpt/admin/\n")


def _post_path(key: str, day: str) -> str:
    return _detail_path(_post_id(key))


def _page(title: str, day: str, path: str, agency: str, article: str, attachment: str) -> str:
    return _detail_page(title, day, article + attachment)


def build(reports: list[dict], writer: SiteWriter) -> None:
    """Write the gkmlpt portal's static pages, details and attachments; the shell and API are served on the fly."""
    _static_pages(writer)
    dispositions: dict[str, str] = {}

    def attachment(r: dict, path: str) -> Attachment:
        # the name is only in the link's alt and the download's Content-Disposition
        attachment_id = doc_number(r["id"] + "/file", base=300_000, span=90_000)
        file_path = (f"{PREFIX}/attachment/0/{attachment_id // 1000}/{attachment_id}/"
                     f"{_post_id(r['id'])}.{ATTACHMENT_EXT[r['format']]}")
        dispositions[file_path] = attachment_name(r)
        link = (f'<p>附件：<a target="_blank" class="nfw-cms-attachment" attachment-id="{attachment_id}" '
                f'href="{file_path}" alt="{escape(attachment_name(r))}">点击下载</a></p>')
        return Attachment(FAMILY, file_path, link, "<p>现将年度报告予以公布。</p>")

    entries = publish_reports(writer, FAMILY, reports, _post_path, _page, attachment)
    entries += publish_notices(writer, FAMILY, notices(SITE_NAME, range(2019, 2025), seed=55, count=5), SITE_NAME,
                               _post_path, _page)
    entries.sort(key=lambda e: e.date, reverse=True)
    writer.save_manifest(FAMILY, entries, {"column": SHELL, "home": "/index.html", "dispositions": dispositions})


_SYNTHETIC_RE = re.compile(rf"^{re.escape(PREFIX)}/gkmlpt/content/4/\d+/post_(?P<number>\d+)\.html$")


class Dynamic(ScaledColumn):
    """The shell and the catalogue API (every scale), and with a scale the filler items' pages."""

    filler_re = _SYNTHETIC_RE

    def filler_path(self, number: int, day: str) -> str:
        return _detail_path(number)

    def filler_page(self, path: str, title: str, day: str) -> str:
        return _detail_page(title, day, notice_body(title, SITE_NAME, day))

    def data_reply(self, method: str, path: str, query: dict, form: dict) -> Reply | None:
        if path == SHELL:
            return Reply(200, shell_page().encode("utf-8"))
        if path == ANNUAL_REPORT_SHELL:
            return Reply(200, shell_page(tree=[]).encode("utf-8"))
        match = API.match(path)
        if match is None:
            return None
        json_type = "application/json;charset=UTF-8"
        if query.get("sid") != SID:
            return Reply(400, b'{"code":400,"msg":"sid error"}', json_type)
        if int(match.group(1)) != COLUMN_ID:
            body = {"classify": {"id": int(match.group(1)), "post_count": 0}, "articles": []}
            return Reply(200, json.dumps(body).encode("utf-8"), json_type)
        try:
            page = int(query.get("page", "1"))
        except ValueError:
            return Reply(400, b'{"code":400,"msg":"page error"}', json_type)
        if page > page_count(len(self.entries), PER_PAGE):
            return Reply(404, b'{"code":404,"msg":"not found"}', json_type)
        return Reply(200, api_json(self.entries, page).encode("utf-8"), json_type)

