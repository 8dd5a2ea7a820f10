"""The researcher's panel: one row per reporting body (agency) × statistical year, one column per cell.

Rows are the `coverage` view's body-years (published, late, missing or unknown), with the body's
region columns; a published year carries its current report's cells. A cell printed blank, or not
printed at all, stays blank (CSV: empty field; Parquet: null) — never 0. A data dictionary goes beside
the panel: every column's key, Chinese label, table, unit.
"""

from __future__ import annotations

import csv
import fnmatch
import re
from pathlib import Path

import sqlite_utils

FORMATS = ("csv", "parquet")
ID_COLUMNS = {
    "agency_id": "报告机关编号 stable id of the reporting body (agencies.id)",
    "agency": "报告机关 the body's canonical name",
    "region": "行政区划代码",
    "province": "省级",
    "city": "地市级",
    "county": "县级",
    "level": "层级 国务院部门/省/市/县/乡",
    "year": "统计年度",
    "status": "发布情况 published 按时发布 / late 逾期发布 / missing 未发布 / unknown 无法获取",
    "published": "发布日期 (the first version's)",
    "days_late": "逾期天数 after the deadline (negative: days early)",
    "report_id": "reports.id of the current version",
    "format_version": "模板版本 2019 (2019版) / 2021 (2021版) / pre2019 (2019年前)",
}


class PanelError(ValueError):
    """A bad --years or --cells selection; the message says which."""


def parse_years(text: str | None) -> list[int] | None:
    """'2019-2024', '2019,2021' or a mix → the years; None (all years) for an empty selection."""
    if not text:
        return None
    years: set[int] = set()
    for part in re.split(r"[,\s]+", text.strip()):
        if not part:
            continue
        match = re.fullmatch(r"(\d{4})(?:[-–](\d{4}))?", part)
        if not match:
            raise PanelError(f"--years: {part!r} is not a year or a range such as 2019-2024")
        lo, hi = int(match[1]), int(match[2] or match[1])
        if hi < lo:
            raise PanelError(f"--years: {part!r} ends before it starts")
        years.update(range(lo, hi + 1))
    return sorted(years)


def panel_keys(db: sqlite_utils.Database, patterns: list[str] | None = None) -> list[dict]:
    """The cell_keys rows the panel has columns for, in the template's order (patterns: fnmatch globs)."""
    rows = list(db.query(
        "select key, label, table_no, row_label, column_label, unit from cell_keys "
        "where key in (select distinct key from cells) order by position, key"))
    if patterns:
        rows = [r for r in rows if any(fnmatch.fnmatchcase(r["key"], p) for p in patterns)]
        if not rows:
            raise PanelError(f"--cells: no cell key matches {', '.join(patterns)}")
    return rows


def panel_sql(keys: list[str], years: list[int] | None = None, year_param: bool = False) -> str:
    """SQL for the panel over coverage and cells, with one column per key (quoted as the key).

    year_param: filter on an optional `:year` parameter instead (the Datasette canned query).
    """
    pivot = "".join(
        f",\n  max(case when c.key = '{k}' then c.value end) as \"{k}\"" for k in keys
    )
    where = f"where cv.year in ({', '.join(str(int(y)) for y in years)})" if years else ""
    if year_param:
        where = "where (:year = '' or cv.year = cast(:year as integer))"
    return f"""select cv.agency_id, cv.agency, cv.region, cv.province, cv.city, cv.county, cv.level, cv.year,
  cv.status, cv.published, cv.days_late, cv.report_id, r.format_version{pivot}
from coverage cv
left join reports r on r.id = cv.report_id
left join cells c on c.report_id = cv.report_id
{where}
group by cv.agency_id, cv.year
order by cv.region, cv.agency, cv.year"""


def build_panel(db: sqlite_utils.Database, years: list[int] | None = None,
                patterns: list[str] | None = None) -> tuple[list[str], list[dict], list[dict]]:
    """(columns, rows, dictionary rows) of the panel."""
    keys = panel_keys(db, patterns)
    rows = list(db.query(panel_sql([k["key"] for k in keys], years)))
    columns = list(ID_COLUMNS) + [k["key"] for k in keys]
    dictionary = [{"column": c, "label": label, "table": "", "row_label": "", "column_label": "", "unit": ""}
                  for c, label in ID_COLUMNS.items()]
    dictionary += [{"column": k["key"], "label": k["label"] or "", "table": k["table_no"] or "",
                    "row_label": k["row_label"] or "", "column_label": k["column_label"] or "",
                    "unit": k["unit"] or _unit(k["key"])} for k in keys]
    return columns, rows, dictionary


def _unit(key: str) -> str:
    if key.endswith(".yuan"):
        return "元"
    if key.startswith("p08.proactive"):
        return "条"
    return "" if key.startswith("t2.") else "件"


def dictionary_path(out: Path) -> Path:
    """Where the data dictionary of a panel written to out goes: OUT.dictionary.csv."""
    return out.with_name(out.stem + ".dictionary.csv")


def export_panel(data_dir: Path, out: Path, fmt: str = "csv", years: list[int] | None = None,
                 patterns: list[str] | None = None) -> dict:
    """Write the panel (csv or parquet) and its data dictionary; returns paths and counts."""
    if fmt not in FORMATS:
        raise PanelError(f"unknown panel format {fmt!r}: one of {', '.join(FORMATS)}")
    path = Path(data_dir) / "catalog.db"
    if not path.is_file():
        raise PanelError(f"{path}: no catalog to export (run `nianbao refresh` or `nianbao parse --data` first)")
    from catalog import open_catalog

    db = open_catalog(path)
    try:
        columns, rows, dictionary = build_panel(db, years, patterns)
    finally:
        db.close()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        with out.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows({c: ("" if r.get(c) is None else r[c]) for c in columns} for r in rows)
    else:
        _write_parquet(out, columns, rows)
    with dictionary_path(out).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["column", "label", "table", "row_label", "column_label", "unit"])
        writer.writeheader()
        writer.writerows(dictionary)
    return {"panel": str(out), "dictionary": str(dictionary_path(out)), "rows": len(rows),
            "cell_columns": len(columns) - len(ID_COLUMNS)}


def _write_parquet(out: Path, columns: list[str], rows: list[dict]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = {}
    for column in columns:
        values = [r.get(column) for r in rows]
        present = [v for v in values if v is not None]
        if column in ID_COLUMNS and column not in ("year", "days_late", "report_id"):
            kind = pa.string()
            values = [None if v is None else str(v) for v in values]
        elif any(isinstance(v, str) for v in present):
            kind = pa.string()
            values = [None if v is None else str(v) for v in values]
        elif present and all(isinstance(v, int) or (isinstance(v, float) and v.is_integer()) for v in present):
            kind = pa.int64()
            values = [None if v is None else int(v) for v in values]
        else:
            kind = pa.float64()
        arrays[column] = pa.array(values, type=kind)
    pq.write_table(pa.table(arrays), out)
