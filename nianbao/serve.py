"""`nianbao serve`: Datasette over DATA_DIR/catalog.db with the project's metadata, queries and plugin.

The catalog is served in mutable mode (Datasette reads it through `mode=ro` connections), so pages stay
current while the cron job writes to it; WAL mode lets those writes proceed without blocking readers.
Immutable mode is never used: it assumes the file does not change and serves stale or corrupt results
when it does. No write canned queries are configured and Datasette 0.65 has no write API.

Safe to share: every SQLite connection Datasette opens gets a heap ceiling (`hard_heap_limit` /
`soft_heap_limit`, process-wide) and a ceiling on the size of one string or blob, so a query such as
`select length(hex(zeroblob(499999999)))` fails with an error instead of taking the server's memory;
`fts3_tokenizer()` (which hands out a memory pointer) and `load_extension()` are replaced by functions
that refuse. The server process itself runs under an address-space limit (`NIANBAO_SERVE_MEMORY_MB`
above what it needs at start) so that nothing outside SQLite can take it past the ceiling either.
`public=True` (`nianbao serve --public`) denies arbitrary SQL: table views, the printed tables and the
canned queries only.
"""

from __future__ import annotations

import copy
import os
import resource
import socket
import sqlite3
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


# SQLite's heap ceiling for all of the server's connections together (bytes); queries that need more fail.
SQL_HEAP_LIMIT = int(os.environ.get("NIANBAO_SQL_HEAP_MB") or 256) * 1024 * 1024
# The longest string or blob one SQL value may be (bytes): bounds what a row can hold in Python too.
SQL_MAX_VALUE = 16 * 1024 * 1024
# How far the serve process may grow past its size at start (MB): a ceiling on everything else.
SERVE_MEMORY_MB = int(os.environ.get("NIANBAO_SERVE_MEMORY_MB") or 1024)
# SQL functions a shared server must not offer: name → the argument counts SQLite registers.
REFUSED_FUNCTIONS = {"fts3_tokenizer": (1, 2), "load_extension": (1, 2)}


def _refuse(name: str):
    def refused(*args: object) -> None:
        raise sqlite3.OperationalError(f"{name}() is disabled on this server")
    return refused


def harden_connection(conn: sqlite3.Connection) -> None:
    """Bound a connection's memory and switch off the functions a shared server must not offer."""
    conn.execute(f"pragma hard_heap_limit = {SQL_HEAP_LIMIT}")
    conn.execute(f"pragma soft_heap_limit = {SQL_HEAP_LIMIT * 3 // 4}")
    if hasattr(conn, "setlimit"):  # Python ≥ 3.11
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, SQL_MAX_VALUE)
    if hasattr(conn, "enable_load_extension"):  # absent when Python's sqlite3 was built without it
        conn.enable_load_extension(False)
    for name, arities in REFUSED_FUNCTIONS.items():
        for arity in arities:
            conn.create_function(name, arity, _refuse(name))
    # the authorizer refuses them by name at prepare time ("not authorized"), before any call
    conn.set_authorizer(_deny_refused_functions)


def _deny_refused_functions(action: int, arg1: str | None, arg2: str | None, *_: object) -> int:
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in REFUSED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


class _ConnectionHardening:
    """Datasette plugin: `harden_connection` on every connection Datasette prepares."""

    __name__ = "nianbao_connection_hardening"

    @staticmethod
    def prepare_connection(conn, database, datasette):  # noqa: ANN001, ANN205 - Datasette's hook signature
        harden_connection(conn)


def _register_hardening() -> None:
    from datasette import hookimpl
    from datasette.plugins import pm

    if pm.get_plugin(_ConnectionHardening.__name__) is None:
        hookimpl(_ConnectionHardening.prepare_connection)
        pm.register(_ConnectionHardening, name=_ConnectionHardening.__name__)


def limit_process_memory(extra_mb: int = SERVE_MEMORY_MB) -> int | None:
    """Cap this process's address space at its current size plus extra_mb; the cap in bytes, or None."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
        limit = pages * resource.getpagesize() + extra_mb * 1024 * 1024
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        return limit
    except (OSError, ValueError, IndexError):
        return None  # no /proc or a refused limit: SQLite's own ceiling still holds


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


def build_datasette(data_dir: Path, public: bool = False):
    """A configured Datasette instance over data_dir/catalog.db (created or migrated first).

    Every connection is hardened (`harden_connection`); `public` denies arbitrary SQL.
    """
    from datasette.app import Datasette

    path = Path(data_dir) / "catalog.db"
    # Opening as a writer once creates or upgrades the schema and switches the file to WAL mode.
    open_catalog(path).close()
    _register_hardening()
    from nianbao.datasette.queries import add_catalog_queries

    metadata = add_catalog_queries(build_metadata(), path)
    if public:
        # Datasette's execute-sql permission: no /catalog?sql=, no _where=; canned queries still run
        metadata["allow_sql"] = False
    return Datasette(
        [str(path)],
        metadata=metadata,
        plugins_dir=str(PLUGINS_DIR),
        template_dir=str(TEMPLATES_DIR),
        settings=SETTINGS,
        cors=False,
    )


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def serve(data_dir: Path, host: str = "127.0.0.1", port: int = 8001, public: bool = False) -> int:
    """Serve the catalog until interrupted; prints the URL first. Returns the exit code."""
    import asyncio

    import uvicorn

    ds = build_datasette(Path(data_dir), public=public)
    port = port or _free_port(host)
    asyncio.run(ds.invoke_startup())
    limit_process_memory()
    print(f"http://{host}:{port}/{DATABASE_NAME}", flush=True)
    try:
        uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on", workers=1)
    except KeyboardInterrupt:
        pass
    except SystemExit as exc:  # uvicorn exits 3 when it cannot start (a port in use): the run failed
        if exc.code not in (None, 0):
            print(f"nianbao serve: cannot serve on {host}:{port} (server exit {exc.code})", file=sys.stderr)
            return 1
    except OSError as exc:
        print(f"nianbao serve: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    return 0
