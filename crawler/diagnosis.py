"""Every portal's diagnosis at the end of a crawl: what happened, in one status and one line.

    ok            reports found (how many)
    no_column     no 年报 column found: the candidates tried and why each failed
    empty_column  a column found, no reports in it: what it looked like
    blocked       an anti-bot answer (瑞数-style challenge)
    robots        robots.txt disallows the start page or every 年报 candidate
    unreachable   the start page could not be fetched (DNS, connection, TLS, HTTP error)

A budget that was hit (crawler/budget.py, or discovery's own page budget) is added to the reason
and the detail whatever the status. The detail is JSON for the catalog (`portal_diagnoses.detail`).
"""

from __future__ import annotations

from crawler.budget import PortalBudgets
from crawler.discovery import BLOCKED, COLUMN, FAILED, NO_REPORTS, ROBOTS, TIER_COLUMN, PortalDiscovery

_REASON_MAX = 600
_CANDIDATES_IN_REASON = 4


def diagnose(portal_id: str, discovery: PortalDiscovery | None, counters: dict[str, int],
             blocked: bool = False, budget: dict | None = None) -> dict:
    """The diagnosis of one portal: {portal_id, status, reports, errors, reason, detail}."""
    reports = int(counters.get("reports", 0))
    errors = int(counters.get("errors", 0))
    pages = int(counters.get("pages", 0))
    outcomes = discovery.outcomes if discovery is not None else []
    detail: dict = {"pages": pages, "candidates": discovery.tried() if discovery else [],
                    "columns": list(discovery.columns) if discovery else []}
    if budget:
        detail["budget"] = budget
    if discovery is not None and discovery.budget_hit:
        detail.setdefault("budget", {})["discovery"] = discovery.budget_hit
    start = next((o for o in outcomes if o.tier == -1), None)  # the registry URL's own outcome

    if blocked or any(o.result == BLOCKED for o in outcomes):
        why = next((o.reason for o in outcomes if o.result == BLOCKED), "anti-bot answer")
        status, reason = "blocked", f"anti-bot answer: {why}"
    elif reports:
        status, reason = "ok", f"{reports} reports"
    elif counters.get("report_documents"):
        # a resumed crawl: the reports came back from the journal, not from pages walked again
        reports = int(counters["report_documents"])
        status, reason = "ok", f"{reports} report documents (resumed from the journal)"
    elif start is not None and start.result == ROBOTS:
        status, reason = "robots", f"robots.txt disallows the start page {start.url}"
    elif pages == 0 and start is not None and start.result == FAILED:
        status, reason = "unreachable", f"{start.url}: {discovery.start_error or start.reason}"
    elif not detail["columns"] and _only_robots(outcomes):
        refused = [o.url for o in outcomes if o.result == ROBOTS and o.tier == TIER_COLUMN]
        status, reason = "robots", f"robots.txt disallows every 年报 candidate: {', '.join(refused[:3])}"
    else:
        column = _column_look(outcomes)
        if column is not None:
            look = column.look or {}
            detail["column"] = {"url": column.url, **look}
            shown = "; ".join(look.get("sample_titles") or []) or "no titles"
            rendered = ", rendered in the browser" if look.get("rendered") else ""
            extra = [f"pager {'yes' if look.get('pager') else 'no'}"]
            if look.get("count_text"):
                extra.append(look["count_text"])
            status = "empty_column"
            reason = (f"column {column.url} ({look.get('adapter', '?')} list{rendered}, {', '.join(extra)}): "
                      f"{look.get('items', 0)} items, {look.get('report_items', 0)} report-titled, no report archived "
                      f"({shown})")
        else:
            tried = [o for o in outcomes if o.result != "not_tried"]
            parts = [f"{o.url} [{o.result}: {o.reason}]" for o in tried[:_CANDIDATES_IN_REASON]]
            more = f" and {len(tried) - _CANDIDATES_IN_REASON} more" if len(tried) > _CANDIDATES_IN_REASON else ""
            status = "no_column"
            reason = f"no 年报 column among {len(tried)} pages tried: {'; '.join(parts)}{more}"
    hit = (budget or {}).get("hit") or (discovery.budget_hit if discovery else None)
    if hit:
        reason += f"; budget: {hit}"
    if discovery is not None and discovery.robots_txt:
        detail["robots_txt"] = list(discovery.robots_txt)
        reason += f"; robots.txt: {discovery.robots_txt[0]}"
    return {"portal_id": portal_id, "status": status, "reports": reports, "errors": errors,
            "reason": reason[:_REASON_MAX], "detail": detail}


def _only_robots(outcomes: list) -> bool:
    """Every 年报-named candidate was disallowed, and there was at least one."""
    named = [o for o in outcomes if o.tier == TIER_COLUMN]
    return bool(named) and all(o.result == ROBOTS for o in named)


def _column_look(outcomes: list):
    """The page that was the column (or looked most like it): a column found, else a 年报-named list."""
    found = [o for o in outcomes if o.result == COLUMN]
    if found:
        return found[-1]
    lists = [o for o in outcomes if o.result == NO_REPORTS and o.tier in (TIER_COLUMN, -1)]
    return lists[-1] if lists else None


def diagnose_crawl(spider, stats: dict) -> list[dict]:
    """The diagnosis of every portal the spider crawled, from its discovery state and closing stats."""
    portals = getattr(spider, "portals", {}) or {}
    discoveries = getattr(spider, "discoveries", {}) or {}
    budgets = getattr(spider, "budgets", None)
    blocked = getattr(spider, "blocked_portals", set()) or set()
    # a distributed worker (crawler/distributed.py) diagnoses only the portals it finished, from the
    # counters of every worker that crawled them
    cluster = getattr(spider, "cluster", None)
    out = []
    for portal_id in sorted(portals):
        if cluster is not None and not cluster.diagnoses(portal_id):
            continue
        if cluster is not None:
            counters = cluster.portal_counters(portal_id)
        else:
            counters = {what: stats.get(f"portal/{portal_id}/{what}", 0)
                        for what in ("pages", "reports", "errors", "report_documents", "blocked")}
        budget = budgets.report(portal_id) if isinstance(budgets, PortalBudgets) else None
        out.append(diagnose(portal_id, discoveries.get(portal_id), counters,
                            blocked=portal_id in blocked or bool(counters["blocked"]),
                            budget=budget))
        if cluster is not None:
            cluster.record_diagnosis(out[-1])
    return out
