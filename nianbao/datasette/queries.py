"""Canned queries whose SQL depends on the catalog being served (the panel's cell columns)."""

from __future__ import annotations

from pathlib import Path

PANEL_QUERY = "panel"


def add_catalog_queries(metadata: dict, catalog_path: Path, database: str = "catalog") -> dict:
    """metadata with the `panel` canned query's SQL filled in from the catalog's cell keys."""
    import sqlite3

    from nianbao.panel import panel_sql

    queries = metadata["databases"][database].setdefault("queries", {})
    query = queries.setdefault(PANEL_QUERY, {"title": "面板数据 panel", "params": ["year"]})
    conn = sqlite3.connect(f"file:{catalog_path}?mode=ro", uri=True)
    try:
        keys = [row[0] for row in conn.execute(
            "select key from cell_keys where key in (select distinct key from cells) order by position, key")]
    finally:
        conn.close()
    query["sql"] = panel_sql(keys, year_param=True)
    return metadata
