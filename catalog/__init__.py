"""The SQLite catalog: what every run learns, and what Datasette serves.

Portals, crawls, WARC captures, documents, parsed reports with their cells and findings, and parse
failures. `open_catalog` creates or upgrades a catalog (`migrations.py`); the `record_*` functions
(`records.py`) write it; `views.py` holds the printed tables and summaries; `search.py` the full-text
search; `cell_keys.py` the labelled cell keys.
"""

from catalog.agencies import rebuild_agencies, refresh_bodies
from catalog.cell_keys import _ensure_cell_keys, _split_key, _split_label, refresh_cell_labels
from catalog.connection import migrate, open_catalog
from catalog.migrations import MIGRATIONS, SCHEMA_VERSION, schema_version
from catalog.records import (
    _update_current,
    documents_to_parse,
    latest_complete_capture,
    load_portals,
    mark_interrupted_crawls,
    recompute_current,
    record_capture,
    record_captures,
    record_crawl_end,
    record_crawl_start,
    record_document,
    record_documents,
    record_fetch_failure,
    record_parse_failure,
    record_portal_diagnosis,
    record_report,
    replace_findings,
    report_cells,
)
from catalog.schema import (
    CAPTURE_KEYS,
    CELL_PROVENANCE,
    DIAGNOSIS_STATUSES,
    DOCUMENT_KEYS,
    FETCH_FAILURE_REASONS,
    PARSEABLE_KINDS,
    SECTION_NAMES,
    T3_COLUMNS,
    T4_COLUMNS,
    TOTAL_CELLS,
    CatalogError,
    now_iso,
)
from catalog.search import search_condition, search_reports, search_sql, text_grams
from catalog.views import _ensure_views

__all__ = [
    "CAPTURE_KEYS", "CELL_PROVENANCE", "DIAGNOSIS_STATUSES", "FETCH_FAILURE_REASONS", "DOCUMENT_KEYS", "MIGRATIONS", "PARSEABLE_KINDS", "SCHEMA_VERSION", "SECTION_NAMES",
    "T3_COLUMNS", "T4_COLUMNS", "TOTAL_CELLS", "CatalogError", "_ensure_cell_keys", "_ensure_views",
    "_split_key", "_split_label", "_update_current", "documents_to_parse", "latest_complete_capture",
    "load_portals", "migrate", "now_iso", "open_catalog", "record_capture", "record_captures",
    "record_crawl_end", "record_crawl_start", "record_document", "record_documents", "record_fetch_failure", "record_portal_diagnosis", "record_parse_failure", "record_report",
    "mark_interrupted_crawls", "rebuild_agencies", "recompute_current", "refresh_bodies", "refresh_cell_labels", "replace_findings", "report_cells", "schema_version", "search_condition",
    "search_reports", "search_sql", "text_grams",
]
