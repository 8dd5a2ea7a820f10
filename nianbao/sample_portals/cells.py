"""Canonical cell keys of the two template versions, and the single-report consistency checks.

The sample corpus uses these to build figures that satisfy (or deliberately break) the
template's rules, and to state in the ground truth exactly which rules a report fails.
"""

from __future__ import annotations

APPLICANT_COLUMNS = (
    "natural_person",
    "commercial_enterprise",
    "research_institution",
    "social_welfare_org",
    "legal_services_org",
    "other_org",
)
T3_COLUMNS = (*APPLICANT_COLUMNS, "total")

_OUTCOMES_COMMON = (
    "granted",
    "partially_granted",
    "withheld.state_secret",
    "withheld.prohibited_by_law",
    "withheld.security_stability",
    "withheld.third_party_rights",
    "withheld.internal_affairs",
    "withheld.deliberative",
    "withheld.enforcement_files",
    "withheld.administrative_query",
    "unable.not_held",
    "unable.needs_compilation",
    "unable.unclear_after_correction",
    "not_processed.complaint",
    "not_processed.duplicate",
    "not_processed.publication",
    "not_processed.excessive",
    "not_processed.confirmation",
)
OUTCOME_ROWS = {
    "2019": (*_OUTCOMES_COMMON, "other_handling"),
    "2021": (
        *_OUTCOMES_COMMON,
        "other_handling.no_correction",
        "other_handling.fee_unpaid",
        "other_handling.other",
    ),
}

T2_KEYS = {
    "2021": (
        "t2.regulations.issued",
        "t2.regulations.repealed",
        "t2.regulations.in_force",
        "t2.normative_documents.issued",
        "t2.normative_documents.repealed",
        "t2.normative_documents.in_force",
        "t2.licensing.decisions",
        "t2.penalty.decisions",
        "t2.coercion.decisions",
        "t2.fees.amount",
    ),
    "2019": (
        "t2.regulations.made",
        "t2.regulations.published",
        "t2.regulations.total_public",
        "t2.normative_documents.made",
        "t2.normative_documents.published",
        "t2.normative_documents.total_public",
        "t2.licensing.prior_items",
        "t2.licensing.change",
        "t2.licensing.decisions",
        "t2.other_services.prior_items",
        "t2.other_services.change",
        "t2.other_services.decisions",
        "t2.penalty.prior_items",
        "t2.penalty.change",
        "t2.penalty.decisions",
        "t2.coercion.prior_items",
        "t2.coercion.change",
        "t2.coercion.decisions",
        "t2.fees.prior_items",
        "t2.fees.change",
        "t2.procurement.items",
        "t2.procurement.amount",
    ),
}

T4_GROUPS = ("review", "litigation_direct", "litigation_after_review")
T4_COLUMNS = ("upheld", "corrected", "other", "pending", "total")

SINGLE_REPORT_RULES = ("t3.balance", "t3.outcomes_sum", "t3.row_total", "t4.group_total")


def t3_rows(version: str) -> tuple[str, ...]:
    """Table 3 row keys of a template version, in template order."""
    return ("new_received", "carried_over", *OUTCOME_ROWS[version], "total_processed", "carried_forward")


def cell_keys(version: str) -> list[str]:
    """Every canonical cell key of a template version ("2019" or "2021"), in template order."""
    keys = list(T2_KEYS[version])
    keys += [f"t3.{row}.{col}" for row in t3_rows(version) for col in T3_COLUMNS]
    keys += [f"t4.{group}.{col}" for group in T4_GROUPS for col in T4_COLUMNS]
    return keys


def _v(cells: dict, key: str) -> float:
    # Blank cells count as zero when checking sums, as the template's readers do.
    value = cells.get(key)
    return 0 if value is None else value


def failing_rules(cells: dict, version: str) -> list[str]:
    """The single-report rules (t3.balance, t3.outcomes_sum, t3.row_total, t4.group_total) these cells break."""
    failed = []
    if any(
        _v(cells, f"t3.new_received.{c}") + _v(cells, f"t3.carried_over.{c}")
        != _v(cells, f"t3.total_processed.{c}") + _v(cells, f"t3.carried_forward.{c}")
        for c in T3_COLUMNS
    ):
        failed.append("t3.balance")
    if any(
        _v(cells, f"t3.total_processed.{c}") != sum(_v(cells, f"t3.{row}.{c}") for row in OUTCOME_ROWS[version])
        for c in T3_COLUMNS
    ):
        failed.append("t3.outcomes_sum")
    if any(
        _v(cells, f"t3.{row}.total") != sum(_v(cells, f"t3.{row}.{c}") for c in APPLICANT_COLUMNS)
        for row in t3_rows(version)
    ):
        failed.append("t3.row_total")
    if any(
        _v(cells, f"t4.{g}.total") != sum(_v(cells, f"t4.{g}.{c}") for c in T4_COLUMNS[:-1]) for g in T4_GROUPS
    ):
        failed.append("t4.group_total")
    return failed


def carry_link_holds(previous: dict, current: dict) -> bool:
    """Whether this year's 上年结转 equals the previous report's 结转下年度 in every column."""
    return all(
        _v(current, f"t3.carried_over.{c}") == _v(previous, f"t3.carried_forward.{c}") for c in T3_COLUMNS
    )
