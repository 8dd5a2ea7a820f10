"""Datasette plugin for the catalog: Chinese-aware search on the reports table, links, units.

- The search box on `reports` runs catalog's search condition: trigram FTS for three characters
  or more, a substring fallback for one or two (a trigram index cannot match those).
- `reports.source_url` shows the original URL and a link to the archived copy in the replay server.
- Amounts (万元) are shown with their unit.
- `/report/<id>`: a report as printed (nianbao.datasette.report_page); every report id links to it.
- Chinese headings, statuses, rule names and region names in the HTML pages (the JSON keeps English).
- The printed-table views open on one report (the newest) in printed order.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.filters import FilterArguments
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

from catalog import search_condition
from nianbao.datasette.labels import (
    FILTER_OPERATORS,
    QUERY_COLUMNS,
    UI_TEXT,
    VEGA_PHRASES,
    VIEW_COLUMNS,
    region_label,
    table_description,
    ui,
    value_label,
)

REPLAY_BASE = os.environ.get("NIANBAO_REPLAY_URL", "http://127.0.0.1:8080/nianbao").rstrip("/")
SEARCH_TABLES = {"reports"}
AMOUNT_COLUMNS = {("table2", "amount")}


def replay_url(timestamp: str | None, url: str) -> str | None:
    """The pywb replay URL of url as archived at timestamp (ISO WARC-Date → 14 digits)."""
    if not timestamp:
        return None
    digits = re.sub(r"\D", "", timestamp)[:14]
    return f"{REPLAY_BASE}/{digits}/{url}" if len(digits) >= 8 else None


@hookimpl(trylast=True)
def filters_from_request(request, database, table, datasette):
    """`?_search=` on reports: trigram FTS, or substring for short phrases. Runs after the built-in
    search filter so its extra_context (supports_search) wins; the FTS table is deliberately not
    linked to `reports` so Datasette's own escape_fts() match (which finds nothing for 2 characters)
    never runs."""
    if table not in SEARCH_TABLES:
        return None
    query = (request.args.get("_search") or "").strip()
    extra = {"supports_search": True, "search": query, "search_descriptions": []}
    if not query:
        return FilterArguments([], {}, [], extra)
    where = [search_condition("nianbao_search")]
    human = [f'text contains "{query}"']  # Datasette's human_description_en (the JSON)
    shown = [f"{ui('text contains')}“{query}”"]  # the table page's Chinese description (table.html)
    if not any(key.startswith("is_current") for key in request.args):
        # Superseded versions only when asked for (the is_current facet).
        where.append("is_current = 1")
        human.append("current versions only")
        shown.append(ui("current versions only"))
    extra["search_descriptions"] = shown
    return FilterArguments(where, {"nianbao_search": query}, human, extra)


def _report_link(value) -> Markup:
    if isinstance(value, dict):  # a foreign key Datasette expanded to {"value", "label"}
        label = value.get("label") or value.get("value")
        return Markup(f'<a class="report-link" href="/report/{escape(value.get("value"))}">{escape(label)}</a>'
                      f' <small>#{escape(value.get("value"))}</small>')
    return Markup(f'<a class="report-link" href="/report/{escape(value)}">{escape(value)}</a>')


@hookimpl
def render_cell(value, column, table, row, database):
    """Links to original and archived copy and to report pages; 万元 after amounts; Chinese labels."""
    if value is not None and value != "" and (column == "report_id" or (table == "reports" and column == "id")):
        return _report_link(value)
    if value and column == "region" and str(value).isdigit():
        label = region_label(str(value))
        if label:
            return Markup(f"{escape(value)} <span class=\"region-name\">{escape(label)}</span>")
    if value and column == "snippet" and "matched" in row.keys() and row["matched"]:
        return mark_snippet(str(value), str(row["matched"]), width=60)
    coded = value_label(table, column, value)
    if coded:
        # The stored code stays in the title (and in SQL, JSON and exports); rules show it too, for queries.
        code = escape(value)
        extra = f' <small class="rule-code">{code}</small>' if column in ("rule", "rules") else ""
        css = f"coded {column}-{str(value).replace('.', '-')}" + (" status" if column == "status" else "")
        return Markup(f'<span class="{escape(css)}" title="{code}">{escape(coded)}</span>{extra}')
    if table == "reports" and column == "source_url" and value:
        url = str(value)
        archived = replay_url(row["archived_at"] if "archived_at" in row.keys() else None, url)
        parts = [f'<a href="{escape(url)}" rel="nofollow">{escape(url)}</a>']
        if archived:
            parts.append(f'<a class="archived-copy" href="{escape(archived)}">存档副本</a>')
        return Markup(" · ".join(parts))
    if value is not None and value != "" and (table, column) in AMOUNT_COLUMNS:
        return Markup(f"{escape(value)} 万元")
    if table == "cells" and column == "value" and value is not None:
        key = row["key"] if "key" in row.keys() else None
        if isinstance(key, str) and key.endswith(".amount"):
            return Markup(f"{escape(value)} 万元")
    return None


# --------------------------------------------------------------------------- the report page


async def report_page(datasette, request):
    """`/report/<id>`: one report laid out as the national template prints it."""
    from nianbao.datasette.report_page import report_context

    report_id = int(request.url_vars["id"])
    db = datasette.get_database("catalog")
    context = await db.execute_fn(lambda conn: report_context(conn, report_id))
    if context is None:
        return Response.html(f"<h1>没有编号为 {report_id} 的报告 (no report {report_id})</h1>", status=404)
    report = context["report"]
    context["archived_url"] = replay_url(report.get("archived_at"), report.get("source_url") or "")
    return Response.html(await datasette.render_template("report.html", context, request=request))


@hookimpl
def register_routes():
    return [(r"^/report/(?P<id>\d+)$", report_page)]


# --------------------------------------------------------------------------- Chinese headings


@hookimpl
def prepare_jinja2_environment(env):
    """ui() for every template, error pages too (they render without extra_template_vars)."""
    env.globals["ui"] = ui
    env.globals["vega_text"] = {phrase: ui(phrase) for phrase in VEGA_PHRASES}


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    """column_labels (for _table.html headings) and search snippets on the reports table."""
    labels = VIEW_COLUMNS.get(table or "", {}) if table else QUERY_COLUMNS

    async def inner():
        extra = {"column_labels": labels, "value_label": value_label, "filter_operators": FILTER_OPERATORS,
                 "table_description": table_description, "crumb_label": _crumb_labeller(datasette)}
        if table is None and database == "catalog" and template.startswith("query"):
            # A query's columns named by cell key (the panel) are headed by the cell's template label.
            extra["column_labels"] = {**await _cell_labels(datasette), **labels}
        query = (request.args.get("_search") or "").strip() if request is not None else ""
        if table == "reports" and query:
            extra["snippets"] = await _snippets(datasette, query)
        return extra

    return inner


def _crumb_labeller(datasette):
    """label → its Chinese: 'home' from the vocabulary, a database or table by its metadata title."""
    def crumb_label(label: str) -> str:
        if label in UI_TEXT:
            return UI_TEXT[label]
        if label in datasette.databases:
            return datasette.metadata("title", database=label, fallback=False) or label
        for database in datasette.databases:
            title = datasette.metadata("title", database=database, table=label, fallback=False)
            if title:
                return title
        return label

    return crumb_label


async def _cell_labels(datasette) -> dict[str, str]:
    """Cell key → its template label (cell_keys), for query columns named by key."""
    try:
        rows = (await datasette.get_database("catalog").execute("select key, label from cell_keys")).rows
    except Exception:  # a catalog without cell_keys: the keys stay as headings
        return {}
    return {key: label for key, label in rows if label}


async def _snippets(datasette, query: str) -> dict[int, Markup]:
    """Report id → a passage around the first match, the match marked (for up to 200 reports)."""
    db = datasette.get_database("catalog")
    result = await db.execute(
        f"select r.id, s.title, s.sections from reports r join reports_search s on s.rowid = r.id "
        f"where r.{search_condition('q')} limit 200", {"q": query})
    return {row["id"]: mark_snippet(row["sections"] or row["title"] or "", query) for row in result.rows}


def mark_snippet(text: str, query: str, width: int = 40) -> Markup:
    """The passage of text around query's first occurrence, with every occurrence in <mark>."""
    flat = re.sub(r"\s+", " ", text)
    at = flat.find(query)
    if at < 0:
        return Markup(escape(flat[: width * 2]))
    start, end = max(0, at - width), min(len(flat), at + len(query) + width)
    passage = flat[start:end]
    marked = escape(passage).replace(escape(query), Markup(f"<mark>{escape(query)}</mark>"))
    return Markup(("…" if start else "") + marked + ("…" if end < len(flat) else ""))


# --------------------------------------------------------------------------- printed-table defaults

PRINTED_VIEWS = {"table2", "table3", "table4"}


@hookimpl
def asgi_wrapper(datasette):
    """A bare printed-table view (no query string) opens on the newest report, in printed order."""

    def wrap(app):
        async def wrapped(scope, receive, send):
            if scope.get("type") == "http" and not scope.get("query_string"):
                parts = scope.get("path", "").strip("/").split("/")
                if len(parts) == 2 and parts[0] == "catalog" and parts[1] in PRINTED_VIEWS:
                    target = await _newest_report(datasette)
                    if target is not None:
                        args = urlencode({"report_id": target, "_sort": "position"})
                        location = f"/{parts[0]}/{parts[1]}?{args}"
                        await send({"type": "http.response.start", "status": 302,
                                    "headers": [(b"location", location.encode()),
                                                (b"content-type", b"text/plain; charset=utf-8")]})
                        await send({"type": "http.response.body", "body": location.encode()})
                        return
            await app(scope, receive, send)

        return wrapped

    return wrap


async def _newest_report(datasette) -> int | None:
    try:
        db = datasette.get_database("catalog")
        rows = (await db.execute(
            "select r.id from reports r where r.is_current = 1 and exists "
            "(select 1 from cells c where c.report_id = r.id) order by r.year desc, r.id desc limit 1")).rows
    except Exception:  # no catalog database: the view answers as usual
        return None
    return rows[0][0] if rows else None
