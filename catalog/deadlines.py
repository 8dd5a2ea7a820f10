"""Publication deadlines of the annual reports, and the `publish.late` finding.

The 2008 条例 (art. 31) required each year's report by 3月31日 of the following year; the 2019
revision (art. 49, in force from 15 May 2019, first applied to the 2019 reports) requires it by
1月31日. A report is late when the body's first version for that year was published after the
deadline: a corrected re-issue (更正版) of an on-time report is not late.
"""

from __future__ import annotations

from datetime import date

import sqlite_utils

LATE_RULE = "publish.late"


def deadline(year: int) -> date:
    """The last day a report on statistical year `year` may be published."""
    return date(year + 1, 3, 31) if year <= 2018 else date(year + 1, 1, 31)


def deadline_sql(year_expr: str) -> str:
    """SQL for deadline(year) as an ISO date string, for views."""
    return f"(case when {year_expr} <= 2018 then ({year_expr} + 1) || '-03-31' else ({year_expr} + 1) || '-01-31' end)"


def days_late(year: int | None, published: str | None) -> int | None:
    """Days after the deadline a report published on `published` (ISO date) came; None when unknown."""
    if not year or not published:
        return None
    try:
        day = date.fromisoformat(published[:10])
    except ValueError:
        return None
    return (day - deadline(year)).days


def record_late_findings(db: sqlite_utils.Database) -> int:
    """Rewrite every report's `publish.late` finding; returns the number of reports flagged.

    A version is flagged when it is the first published of its body's year and came after the
    deadline, or when it is a later version of a year whose first version was already late.
    """
    rows = list(db.execute(
        "select id, coalesce(agency_id, 'report:' || id), year, published from reports where year is not null"))
    first: dict[tuple[str, int], str] = {}
    for _, body, year, published in rows:
        if published and ((body, year) not in first or published < first[(body, year)]):
            first[(body, year)] = published
    from nianbao.parse.messages import finding_detail  # the findings' one message table

    findings = []
    for report_id, body, year, _ in rows:
        earliest = first.get((body, year))
        late = days_late(year, earliest)
        if late is not None and late > 0:
            findings.append({
                "report_id": report_id, "rule": LATE_RULE, "delta": float(late), "cells": "[]",
                "detail": finding_detail(LATE_RULE, published=earliest, deadline=deadline(year).isoformat(),
                                         days=late),
            })
    with db.atomic():
        db.execute("delete from findings where rule = ?", [LATE_RULE])
        if findings:
            db["findings"].insert_all(findings)
    return len(findings)
