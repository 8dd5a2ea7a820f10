"""Catalog constants: the column sets of captures and documents, the headline cells, the error type."""

from __future__ import annotations

import re
from datetime import UTC, datetime

SECTION_NAMES = ("overview", "proactive", "requests", "reviews", "problems", "other")
PARSEABLE_KINDS = ("report_page", "attachment")
CAPTURE_KEYS = (
    "crawl_id", "url", "timestamp", "warc_type", "record_id", "status", "content_type", "payload_digest",
    "sha256", "warc_file", "offset", "length", "revisit_of", "refers_to_uri", "refers_to_date", "truncated",
    "portal_id", "etag", "last_modified",
)
DOCUMENT_KEYS = (
    "portal_id", "url", "kind", "title", "year", "published", "index_no", "publisher", "referer",
    "content_type", "filename", "sha256", "status", "warc_record_id", "fetched_at",
)
T3_COLUMNS = (
    "natural_person", "commercial_enterprise", "research_institution", "social_welfare_org",
    "legal_services_org", "other_org", "total",
)
T4_COLUMNS = ("upheld", "corrected", "other", "pending", "total")
# Why a URL ended without a stored document (fetch_failures.reason).
FETCH_FAILURE_REASONS = (
    "redirect_loop", "too_many_redirects", "size_cap", "decode_error", "timeout", "connection", "dns", "tls",
    "address_refused", "http_status", "robots", "truncated", "budget", "other",
)
# What a crawl concluded about a portal (portal_diagnoses.status).
DIAGNOSIS_STATUSES = ("ok", "no_column", "empty_column", "blocked", "robots", "unreachable")
# Where a stored cell's value came from (cells.provenance): printed, inferred:<rule>, or blank (nothing printed reached it).
CELL_PROVENANCE = ("printed", "inferred", "blank")
_KEY_RE = re.compile(r"^(t[234])\.(.+)\.([a-z_]+)$")
# The headline numbers of a report, stored per report in report_totals so that summaries and
# year-over-year joins over every report need no pivot of the cells table.
TOTAL_CELLS = {
    "new_requests": "t3.new_received.total",
    "carried_over": "t3.carried_over.total",
    "granted": "t3.granted.total",
    "partially_granted": "t3.partially_granted.total",
    "total_processed": "t3.total_processed.total",
    "carried_forward": "t3.carried_forward.total",
    "reviews": "t4.review.total",
    "reviews_corrected": "t4.review.corrected",
    "lawsuits_direct": "t4.litigation_direct.total",
    "lawsuits_after_review": "t4.litigation_after_review.total",
    "lawsuits_direct_corrected": "t4.litigation_direct.corrected",
    "lawsuits_after_review_corrected": "t4.litigation_after_review.corrected",
}


class CatalogError(Exception):
    """A record could not be written: the message names the document, URL or key."""


def now_iso() -> str:
    """The current UTC time as an ISO string (seconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
