"""Datasette plugin for the catalog: Chinese-aware search on the reports table, links, units.

- The search box on `reports` runs catalog's search condition: trigram FTS for three characters
  or more, a substring fallback for one or two (a trigram index cannot match those).
- `reports.source_url` shows the original URL and a link to the archived copy in the replay server.
- Amounts (万元) are shown with their unit.
"""

from __future__ import annotations

import os
import re

from datasette import hookimpl
from datasette.filters import FilterArguments
from markupsafe import Markup, escape

from catalog import search_condition

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
    extra = {"supports_search": True, "search": query}
    if not query:
        return FilterArguments([], {}, [], extra)
    return FilterArguments(
        [search_condition("nianbao_search")],
        {"nianbao_search": query},
        [f'text contains "{query}"'],
        extra,
    )


@hookimpl
def render_cell(value, column, table, row, database):
    """Links to original and archived copy on reports; 万元 after amounts."""
    if table == "reports" and column == "source_url" and value:
        url = str(value)
        archived = replay_url(row["archived_at"] if "archived_at" in row.keys() else None, url)
        parts = [f'<a href="{escape(url)}" rel="nofollow">{escape(url)}</a>']
        if archived:
            parts.append(f'<a class="archived-copy" href="{escape(archived)}">archived copy</a>')
        return Markup(" · ".join(parts))
    if value is not None and value != "" and (table, column) in AMOUNT_COLUMNS:
        return Markup(f"{escape(value)} 万元")
    if table == "cells" and column == "value" and value is not None:
        key = row["key"] if "key" in row.keys() else None
        if isinstance(key, str) and key.endswith(".amount"):
            return Markup(f"{escape(value)} 万元")
    return None
