"""`nianbao serve`: Datasette over DATA_DIR/catalog.db with the project's metadata, queries and plugin.

The catalog is served in mutable mode (Datasette reads it through `mode=ro` connections), so pages stay
current while the cron job writes to it; WAL mode lets those writes proceed without blocking readers.
Immutable mode is never used: it assumes the file does not change and serves stale or corrupt results
when it does. No write canned queries are configured and Datasette 0.65 has no write API.
"""

from __future__ import annotations

import copy
import socket
import sys
from pathlib import Path

import yaml

from catalog import open_catalog, search_sql

CONFIG_DIR = Path(__file__).resolve().parent / "datasette"
METADATA_FILE = CONFIG_DIR / "metadata.yml"
PLUGINS_DIR = CONFIG_DIR / "plugins"
TEMPLATES_DIR = CONFIG_DIR / "templates"
DATABASE_NAME = "catalog"
SETTINGS = {
    "sql_time_limit_ms": 3000,
    "facet_time_limit_ms": 500,
    "default_page_size": 50,
    "max_returned_rows": 2000,
    "allow_download": False,
    "suggest_facets": False,
    "truncate_cells_html": 120,
}


def _column_labels() -> dict[str, dict[str, str]]:
    """Chinese column labels for the printed-table views, from the template data when it offers them."""
    try:
        from nianbao.template import cell_labels

        labels = dict(cell_labels())
    except Exception:  # no template data yet: the labels in metadata.yml stand
        return {}
    from catalog import _split_key, _split_label

    views = {"t2": "table2", "t3": "table3", "t4": "table4"}
    out: dict[str, dict[str, str]] = {}
    for key, label in labels.items():
        table_no, _, column = _split_key(key)
        _, column_label = _split_label(label)
        if table_no in views and column and column_label:
            out.setdefault(views[table_no], {}).setdefault(column, column_label)
    return out


def build_metadata() -> dict:
    """metadata.yml plus what is computed: the shared search SQL and template column labels."""
    metadata = yaml.safe_load(METADATA_FILE.read_text(encoding="utf-8"))
    metadata = copy.deepcopy(metadata)
    database = metadata["databases"][DATABASE_NAME]
    database["queries"]["search"]["sql"] = search_sql()
    for view, columns in _column_labels().items():
        table = database["tables"].setdefault(view, {})
        table.setdefault("columns", {}).update(columns)
    return metadata


def build_datasette(data_dir: Path):
    """A configured Datasette instance over data_dir/catalog.db (created or migrated first)."""
    from datasette.app import Datasette

    path = Path(data_dir) / "catalog.db"
    # Opening as a writer once creates or upgrades the schema and switches the file to WAL mode.
    open_catalog(path).close()
    from nianbao.datasette.queries import add_catalog_queries

    return Datasette(
        [str(path)],
        metadata=add_catalog_queries(build_metadata(), path),
        plugins_dir=str(PLUGINS_DIR),
        template_dir=str(TEMPLATES_DIR),
        settings=SETTINGS,
        cors=False,
    )


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def serve(data_dir: Path, host: str = "127.0.0.1", port: int = 8001) -> int:
    """Serve the catalog until interrupted; prints the URL first. Returns the exit code."""
    import asyncio

    import uvicorn

    ds = build_datasette(Path(data_dir))
    port = port or _free_port(host)
    asyncio.run(ds.invoke_startup())
    print(f"http://{host}:{port}/{DATABASE_NAME}", flush=True)
    try:
        uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on", workers=1)
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"nianbao serve: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    return 0
