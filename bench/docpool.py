"""The report documents the benchmarks use: every sample-portal report rendered in its format, with truth.

The documents come from the sample portals' own corpus and renderers (`build_corpus`, `article_html`,
`attachment_bytes`), so they are the same bytes the sample portals publish. Rendering PDF/DOC needs
LibreOffice and takes seconds each, so the pool is rendered once and cached under WORK_DIR/docpool.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

WORK_DIR = Path(__file__).resolve().parent / "results" / "work"
POOL_DIR = WORK_DIR / "docpool"
# bump when the rendering below changes, so stale caches are rebuilt
POOL_VERSION = 3

PAGE_HEAD = (
    '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>'
    '<meta name="ArticleTitle" content="{title}"><meta name="PubDate" content="{published}">'
    '</head><body>'
    '<div class="header"><a href="/col/ndbg/index.html">政府信息公开</a> &gt; <a href="/col/ndbg/index.html">年度报告</a></div>'
    '<div class="main"><div class="info">发布时间：{published}　来源：{agency}</div>'
)
PAGE_FOOT = (
    '</div><div class="footer"><p>主办单位：{agency}　网站标识码：2301000000　ICP备案号：黑ICP备00000000号</p>'
    "<p>建议使用1280×768以上分辨率浏览本网站</p></div></body></html>"
)


@dataclass
class PoolDocument:
    """One rendered report: its bytes, format (html, pdf, docx, doc, pdf-scan, ofd) and ground truth."""

    report_id: str
    format: str
    path: Path
    truth: dict

    def data(self) -> bytes:
        return self.path.read_bytes()


def detail_page(article: str, title: str, agency: str, published: str) -> str:
    """An article fragment wrapped in portal page chrome, as a detail page serves it."""
    fields = {"title": title, "agency": agency, "published": published}
    return PAGE_HEAD.format(**fields) + article + PAGE_FOOT.format(**fields)


def _render(pool_dir: Path) -> list[dict]:
    from nianbao.sample_portals.corpus import build_corpus
    from nianbao.sample_portals.families.common import article_html, attachment_bytes

    entries = []
    for report in build_corpus():
        if not report.get("expected", True):
            continue
        fmt = report["format"]
        if fmt == "html":
            data = detail_page(article_html(report), report["title"], report["agency"],
                               report["published"]).encode("utf-8")
            ext = "html"
        else:
            data = attachment_bytes(report)
            ext = {"pdf-scan": "scan.pdf"}.get(fmt, fmt)
        name = f"{report['id']}.{ext}"
        (pool_dir / name).write_bytes(data)
        truth = {k: report[k] for k in ("agency", "year", "format_version", "cells", "failing_rules", "title",
                                        "published", "portal_id")}
        entries.append({"report_id": report["id"], "format": fmt, "file": name, "truth": truth})
    return entries


def load_pool(pool_dir: Path = POOL_DIR) -> list[PoolDocument]:
    """Every sample report as a PoolDocument, rendering the pool first when it is not cached."""
    index = pool_dir / "index.json"
    entries = None
    if index.exists():
        body = json.loads(index.read_text(encoding="utf-8"))
        if body.get("version") == POOL_VERSION:
            entries = body["documents"]
    if entries is None:
        pool_dir.mkdir(parents=True, exist_ok=True)
        entries = _render(pool_dir)
        index.write_text(json.dumps({"version": POOL_VERSION, "documents": entries}, ensure_ascii=False),
                         encoding="utf-8")
    return [PoolDocument(e["report_id"], e["format"], pool_dir / e["file"], e["truth"]) for e in entries]
