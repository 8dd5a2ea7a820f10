"""The catalog's views: the printed tables, the per-report summary and coverage. They hold no data
and are rebuilt whenever their definition changes."""

from __future__ import annotations

import functools
from collections.abc import Iterable

import sqlite_utils

from catalog.deadlines import deadline_sql
from catalog.schema import T3_COLUMNS, T4_COLUMNS


def _pivot(columns: Iterable[str]) -> str:
    return ",\n  ".join(
        f"max(case when k.column_key = '{c}' then c.value end) as {c}" for c in columns
    )


# Which cells of a printed-table row were not printed: "column=inferred:<rule>" / "column=blank", or null.
_PROVENANCE = ("group_concat(case when c.provenance != 'printed' then k.column_key || '=' || c.provenance end, "
               "'; ') as provenance")


def _printed_position(table_no: str) -> str:
    """SQL for a row's place in the printed table (the template's row order), from k.row_key."""
    try:
        from nianbao.template import cell_keys

        keys = cell_keys("2021") + cell_keys("2019")
    except Exception:  # no template data: the catalog's key order stands
        return "min(k.position)"
    order: dict[str, int] = {}
    for key in keys:
        parts = key.split(".")
        if parts[0] == table_no:
            order.setdefault(".".join(parts[1:-1]), len(order) + 1)
    if not order:
        return "min(k.position)"
    cases = " ".join(f"when '{row}' then {i}" for row, i in order.items())
    return f"coalesce(case k.row_key {cases} end, 1000 + min(k.position))"


@functools.lru_cache(maxsize=1)  # built from the template once per process, not per connection
def _view_sql() -> dict[str, str]:
    """The views, by name: the printed tables, the per-report summary and coverage.

    The printed tables put the row label and the figures first, so 总计 is in sight without scrolling.
    """
    # A report's region and level are its body's (agencies), not its portal's: a district's report found
    # on the city's portal is the district's. The portal's stand in when no agency was resolved.
    report_cols = ("r.agency_id, r.agency, coalesce(a.region, r.region) as region, coalesce(a.level, r.level) as level, "
                   "r.year, r.format_version")
    by_agency = "left join agencies a on a.id = r.agency_id"
    return {
        "table2": f"""
select r.id as report_id, k.row_label,
  {_pivot(("issued", "repealed", "in_force", "made", "published", "total_public", "prior_items",
           "change", "decisions", "items", "amount"))},
  {report_cols}, k.row_key, {_printed_position("t2")} as position,
  {_PROVENANCE}
from reports r join cells c on c.report_id = r.id join cell_keys k on k.key = c.key {by_agency}
where k.table_no = 't2' and r.is_current = 1
group by r.id, k.row_key""",
        "table3": f"""
select r.id as report_id, k.row_label,
  {_pivot(T3_COLUMNS)},
  {report_cols}, k.row_key, {_printed_position("t3")} as position,
  {_PROVENANCE}
from reports r join cells c on c.report_id = r.id join cell_keys k on k.key = c.key {by_agency}
where k.table_no = 't3' and r.is_current = 1
group by r.id, k.row_key""",
        "table4": f"""
select r.id as report_id, k.row_label,
  {_pivot(T4_COLUMNS)},
  {report_cols}, k.row_key as grp, {_printed_position("t4")} as position,
  {_PROVENANCE}
from reports r join cells c on c.report_id = r.id join cell_keys k on k.key = c.key {by_agency}
where k.table_no = 't4' and r.is_current = 1
group by r.id, k.row_key""",
        "report_summary": """
select r.id as report_id, r.portal_id, r.agency_id, r.agency, coalesce(a.region, r.region) as region,
  coalesce(a.level, r.level) as level, r.year, r.format_version, r.title,
  t.new_requests, t.carried_over, t.total_processed, t.carried_forward, t.granted, t.partially_granted,
  round(1.0 * t.granted / nullif(t.total_processed, 0), 4) as granted_share,
  t.reviews, t.reviews_corrected, t.lawsuits, t.lawsuits_corrected,
  (select count(*) from findings f where f.report_id = r.id) as findings_count
from reports r left join report_totals t on t.report_id = r.id left join agencies a on a.id = r.agency_id
where r.is_current = 1""",
        "portal_status": """
select p.id as portal_id, p.agency, p.region, coalesce(
  (select d.status from portal_diagnoses d where d.portal_id = p.id order by d.crawl_id desc limit 1),
  (select case when json_extract(c.stats, '$."portal/' || p.id || '/blocked"') then 'blocked' end
   from crawls c where c.stats is not null and json_valid(c.stats) order by c.id desc limit 1),
  case when exists (select 1 from captures c where c.portal_id = p.id and c.status between 200 and 299)
       then 'ok' end,
  'not_crawled') as status
from portals p""",
        "coverage": f"""
with recursive bounds(lo, hi) as (
  select coalesce(min(year), 2019), coalesce(max(year), 2019)
  from (select year from reports where year is not null
        union all select year from documents where year is not null)
), years(year) as (
  select lo from bounds union all select year + 1 from years, bounds where year < hi
), cells as (
  select a.id as agency_id, a.name as agency, a.region, a.province, a.city, a.county, a.level, a.portals,
    y.year,
    (select r.id from reports r where r.agency_id = a.id and r.year = y.year and r.is_current = 1
     order by r.id desc limit 1) as report_id,
    (select min(r.published) from reports r where r.agency_id = a.id and r.year = y.year) as published,
    exists (select 1 from agency_portals ap join portal_status s on s.portal_id = ap.portal_id
            where ap.agency_id = a.id and s.status in ('ok', 'empty_column')) as portal_read
  from agencies a join years y
  where y.year >= case when a.own_portals is null then coalesce(a.first_year, 0) else 0 end
)
select agency_id, agency, region, province, city, county, level, portals,
  (select ap.portal_id from agency_portals ap where ap.agency_id = cells.agency_id
   order by ap.own desc, ap.portal_id limit 1) as portal_id,
  year, report_id, published, {deadline_sql('year')} as deadline,
  cast(julianday(published) - julianday({deadline_sql('year')}) as integer) as days_late,
  case when report_id is not null then
         case when julianday(published) > julianday({deadline_sql('year')}) then 'late' else 'published' end
       when portal_read then 'missing'
       else 'unknown' end as status
from cells""",
    }


def _ensure_views(db: sqlite_utils.Database) -> None:
    """(Re)create the views whose definition changed; untouched views stay as they are."""
    existing = {name: sql for name, sql in db.execute("select name, sql from sqlite_master where type = 'view'")}
    for name, body in _view_sql().items():
        sql = f"create view {name} as {body.strip()}"
        if existing.get(name) == sql:
            continue
        with db.atomic():
            db.execute(f"drop view if exists {name}")
            db.execute(sql)

