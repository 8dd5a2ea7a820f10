"""What every portal family shares: column entries, the site writer, noise items, report bodies."""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from html import escape
from pathlib import Path

# Stands for the attachment file server's base URL (scheme://host:port) in generated pages; the
# server puts the running address in its place, since ports are only known when it starts.
FILES_BASE = "__FILES_BASE__"
# Stands for the serving host's own base URL in generated data (a list API's absolute item URLs).
SITE_BASE = "__SITE_BASE__"

ATTACHMENT_EXT = {"pdf": "pdf", "pdf-scan": "pdf", "docx": "docx", "doc": "doc", "ofd": "ofd"}
ATTACHMENT_MIME = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword",
    "ofd": "application/ofd",
}


@dataclass
class Entry:
    """One item of a column list, as its list page shows it."""

    title: str
    date: str  # ISO date shown beside the title
    href: str  # path on the portal's own host, or FILES_BASE + path
    kind: str  # report | notice | dead | redirect | disallowed | duplicate
    report_id: str | None = None


class SiteWriter:
    """Writes one build's files under site/<host>/ and records where each report is published."""

    def __init__(self, root: Path):
        self.root = root
        self.placements: dict[str, list[dict]] = {}
        self.files: dict[tuple[str, str], bytes] = {}

    def write(self, host: str, path: str, data: bytes | str, encoding: str = "utf-8") -> None:
        """Queue the bytes of `path` (absolute, on `host`)."""
        if isinstance(data, str):
            data = data.encode(encoding)
        self.files[(host, path)] = data

    def place(self, report_id: str, host: str, path: str, role: str, fmt: str) -> None:
        """Record that `report_id` is published at host+path as a report_page, detail_page or attachment."""
        self.placements.setdefault(report_id, []).append(
            {"host": host, "path": path, "role": role, "format": fmt}
        )

    def publish(self, report: dict, host: str, path: str, page: bytes | str, role: str = "report_page") -> None:
        """Write an HTML page of `report` at host+path and record it as its report_page or detail_page."""
        self.write(host, path, page)
        self.place(report["id"], host, path, role, "html")

    def publish_attachment(self, report: dict, host: str, path: str, url: str | None = None) -> None:
        """Write `report` in its attachment format at host+path, recorded at `url` when it is fetched elsewhere."""
        self.write(host, path, attachment_bytes(report))
        self.place(report["id"], host, url or path, "attachment", report["format"])

    def save_manifest(self, family: str, entries: list[Entry], extra: dict | None = None) -> None:
        """The column's entries, which the server needs for data endpoints and scaled columns."""
        body = {"family": family, "entries": [asdict(e) for e in entries], **(extra or {})}
        self.write("_manifest", f"/{family}.json", json.dumps(body, ensure_ascii=False, indent=1))

    def flush(self) -> int:
        """Write every queued file to disk; returns the number of files."""
        for (host, path), data in self.files.items():
            target = self.root / host / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return len(self.files)


@dataclass(frozen=True)
class Attachment:
    """Where a report's attachment is written and how its detail page presents it."""

    host: str  # the SiteWriter host it is written under (the portal's own, or "files")
    path: str
    link: str  # the detail page's link to it
    intro: str  # the detail page's text above the link
    url: str | None = None  # where it is fetched, when not at host+path (a download script)


# (title, day, path, agency, article, attachment link) -> the page's HTML or encoded bytes
PageMaker = Callable[[str, str, str, str, str, str], "str | bytes"]


def plain_page(detail_page: Callable[[str, str, str, str], str]) -> PageMaker:
    """The PageMaker of a family whose pages print neither their own path nor the report's agency."""

    def page(title: str, day: str, path: str, agency: str, article: str, attachment: str) -> str:
        return detail_page(title, day, article, attachment)

    return page


def publish_reports(writer: SiteWriter, family: str, reports: list[dict], detail_path: Callable[[str, str], str],
                    page: PageMaker, attachment: Callable[[dict, str], Attachment]) -> list[Entry]:
    """Publish each report as its own page (HTML) or as a detail page linking its attachment; their entries."""
    entries: list[Entry] = []
    for r in reports:
        day = r["published"]
        path = detail_path(r["id"], day)
        if r["format"] == "html":
            writer.publish(r, family, path, page(r["title"], day, path, r["agency"], article_html(r), ""))
        else:
            file = attachment(r, path)
            writer.publish(r, family, path, page(r["title"], day, path, r["agency"], file.intro, file.link),
                           "detail_page")
            writer.publish_attachment(r, file.host, file.path, file.url)
        entries.append(Entry(r["title"], day, path, "report", r["id"]))
    return entries


def publish_notices(writer: SiteWriter, family: str, items: Iterable[tuple[str, str]], agency: str,
                    detail_path: Callable[[str, str], str], page: PageMaker) -> list[Entry]:
    """Publish the column's non-report items (title, day) as pages by `agency`; their entries."""
    entries: list[Entry] = []
    for title, day in items:
        path = detail_path(title, day)
        writer.write(family, path, page(title, day, path, agency, notice_body(title, agency, day), ""))
        entries.append(Entry(title, day, path, "notice"))
    return entries


def load_manifest(site_root: Path, family: str) -> dict:
    """A family's column manifest as the build wrote it, with Entry objects."""
    body = json.loads((site_root / "_manifest" / f"{family}.json").read_text(encoding="utf-8"))
    body["entries"] = [Entry(**e) for e in body["entries"]]
    return body


def doc_number(key: str, base: int = 3_000_000, span: int = 900_000) -> int:
    """A stable CMS article id derived from a key (same key, same id in every build)."""
    return base + int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % span


def stamp(key: str, digits: int) -> str:
    """A stable run of digits derived from a key (for upload file names and the like)."""
    return str(int(hashlib.sha1(key.encode()).hexdigest(), 16))[:digits]


_NOTICE_TITLES = (
    "关于做好{y}年政府信息公开工作年度报告编制发布工作的通知",
    "{agency}政府信息公开指南",
    "{agency}政府信息公开目录",
    "关于开展{y}年度企业年报公示工作的通知",
    "{y}年卫生健康统计年报填报说明",
    "关于个体工商户{y}年度年报公示的提醒",
    "{agency}{y}年政务公开工作要点",
    "{agency}{y}年部门决算公开",
)


def notices(agency: str, years: range, seed: int, count: int = 8) -> list[tuple[str, str]]:
    """Non-report items that share the 年报 column: (title, ISO date)."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        y = rng.choice(list(years))
        title = _NOTICE_TITLES[i % len(_NOTICE_TITLES)].format(y=y, agency=agency)
        day = date(y, 1, 1) + timedelta(days=rng.randint(20, 330))
        out.append((title, day.isoformat()))
    return out


def notice_body(title: str, agency: str, day: str) -> str:
    """The article fragment of a non-report item."""
    return (
        '<div class="article-content">'
        f'<h1 class="title">{escape(title)}</h1>'
        f'<p style="text-indent:2em">各有关单位：根据工作安排，现将{escape(title)}有关事项通知如下。'
        "请按照要求认真组织落实，确保按时完成。</p>"
        f'<p style="text-align:right">{escape(agency)}</p><p style="text-align:right">{escape(day)}</p></div>'
    )


def report_for_writers(report: dict) -> dict:
    """The dict the document writers take: the truth shape plus title, published, sections, figures, null_text."""
    keys = ("agency", "year", "format_version", "cells", "title", "published", "sections", "figures", "null_text")
    return {k: report[k] for k in keys if k in report}


def article_html(report: dict) -> str:
    """The report as the article fragment of a detail page."""
    from nianbao.sample_portals.documents import render_html, render_pre2019

    data = report_for_writers(report)
    return render_pre2019(data) if report["format_version"] == "pre2019" else render_html(data)


def attachment_bytes(report: dict) -> bytes:
    """The report rendered in its attachment format (pdf, pdf-scan, docx, doc, ofd)."""
    from nianbao.sample_portals import documents

    writer = {
        "pdf": documents.render_pdf,
        "pdf-scan": documents.render_scanned_pdf,
        "docx": documents.render_docx,
        "doc": documents.render_doc,
        "ofd": documents.render_ofd,
    }[report["format"]]
    return writer(report_for_writers(report))


def attachment_name(report: dict) -> str:
    """The file name a person sees for the attachment (the report title plus extension)."""
    return f"{report['title']}.{ATTACHMENT_EXT[report['format']]}"


SYNTHETIC_ID_BASE = 90_000_000


def synthetic_notice(i: int, start: date) -> tuple[str, str]:
    """Title and date of the i-th on-the-fly filler item of a scaled column (newest first)."""
    topics = ("工作动态", "通知公告", "政策解读", "人事信息", "财政资金", "公示公告", "建议提案办理")
    day = start - timedelta(days=i // 3)
    return f"{topics[i % len(topics)]}：第{i + 1}号信息", day.isoformat()


@dataclass
class Reply:
    """A response a family builds on the fly (data endpoints, scaled list pages, filler items)."""

    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] | None = None
    chunked: bool = False


class ScaledColumn:
    """A family's column as its host serves it on the fly: the manifest's entries grown by `scale` filler items.

    A family subclasses it as its `Dynamic`: it says where a filler item's page lives (`filler_path`,
    `filler_re` with a group `number`, the item's CMS id), how that page and a scaled column page look
    (`filler_page`, `column_page`), and answers its data endpoints, which exist at every scale (`data_reply`).
    """

    filler_re: re.Pattern[str]
    content_type = "text/html; charset=utf-8"

    def __init__(self, manifest: dict, scale: int):
        self.scale = scale
        self.entries: list[Entry] = list(manifest["entries"])
        self.start = date.fromisoformat(self.entries[0].date)
        if scale:
            for i in range(scale):
                title, day = synthetic_notice(i, self.start)
                self.entries.append(Entry(title, day, self.filler_path(SYNTHETIC_ID_BASE + i, day), "notice"))
            self.entries.sort(key=lambda e: e.date, reverse=True)

    def filler_path(self, number: int, day: str) -> str:
        """The path of the filler item whose CMS id is `number`, published on `day`."""
        raise NotImplementedError

    def filler_page(self, path: str, title: str, day: str) -> str:
        """The page of a filler item."""
        raise NotImplementedError

    def column_page(self, path: str) -> str | None:
        """The scaled column's page at `path`; None when `path` is not one of them."""
        return None

    def data_reply(self, method: str, path: str, query: dict, form: dict) -> Reply | None:
        """The family's data endpoints; None when `path` is not one."""
        return None

    def filler(self, number: int) -> tuple[str, str] | None:
        """Title and date of the filler item with CMS id `number`; None when the column has no such item."""
        if SYNTHETIC_ID_BASE <= number < SYNTHETIC_ID_BASE + self.scale:
            return synthetic_notice(number - SYNTHETIC_ID_BASE, self.start)
        return None

    def page(self, page: int, per_page: int) -> tuple[list[Entry], int, int] | None:
        """(entries, page, pages) of 0-based `page` of the scaled column; None when there is no such page."""
        pages = page_count(len(self.entries), per_page)
        return (paginate(self.entries, per_page, page), page, pages) if 0 <= page < pages else None

    def handle(self, method: str, path: str, query: dict, form: dict) -> Reply | None:
        """A reply for what only exists on the fly; None: serve the static tree."""
        reply = self.data_reply(method, path, query, form)
        if reply is not None or not self.scale:
            return reply
        html = self.column_page(path)
        if html is None:
            m = self.filler_re.match(path)
            filler = self.filler(int(m.group("number"))) if m else None
            if filler is None:
                return None
            html = self.filler_page(path, *filler)
        return Reply(200, self.encode(html), self.content_type)

    def encode(self, html: str) -> bytes:
        """A page's bytes as the host sends them."""
        return html.encode("utf-8")


def paginate(entries: list, per_page: int, page: int) -> list:
    """Entries of 0-based page `page`."""
    return entries[page * per_page : (page + 1) * per_page]


def page_count(total: int, per_page: int) -> int:
    """Pages needed for `total` entries (at least one, an empty column still has its page)."""
    return max(1, -(-total // per_page))
