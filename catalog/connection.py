"""Opening the catalog: WAL mode, foreign keys, migrations and views brought up to date."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from catalog.cell_keys import refresh_cell_labels
from catalog.migrations import migrate as _apply_migrations
from catalog.schema import CatalogError
from catalog.views import _ensure_views


def migrate(db: sqlite_utils.Database) -> int:
    """Bring a catalog up to date: migrations, views, and labels of keys the template has learnt."""
    version = _apply_migrations(db)
    _ensure_views(db)
    if db.execute("select 1 from cell_keys where label is null limit 1").fetchone():
        # Keys recorded before the template knew them get their labels once it does.
        refresh_cell_labels(db, only_missing=True)
    return version


def open_catalog(path: str | Path) -> sqlite_utils.Database:
    """Open (creating or upgrading as needed) the catalog at path: WAL mode, foreign keys on."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=30)
    db = sqlite_utils.Database(conn)
    db.execute("pragma journal_mode=wal")
    # In WAL mode NORMAL never corrupts the file; a power cut may lose the last commits, which the
    # WARC files (the evidence) still hold. FULL would sync the disk once per captured record.
    db.execute("pragma synchronous=normal")
    db.execute("pragma busy_timeout=30000")
    db.execute("pragma foreign_keys=on")
    try:
        migrate(db)
    except sqlite3.DatabaseError as exc:
        raise CatalogError(f"{path}: cannot open or migrate the catalog: {exc}") from exc
    return db

