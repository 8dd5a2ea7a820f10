"""Full-text search over reports: a trigram index, plus a character/pair index for short queries."""

from __future__ import annotations

import re

import sqlite_utils

from catalog.schema import SECTION_NAMES


def text_grams(*texts: str | None) -> str:
    """Every distinct character and adjacent pair within runs of letters/digits, space-separated.

    Indexed by `reports_grams` (unicode61 tokenizer), this answers one- and two-character queries
    such as 复议 or 报告, which a trigram index cannot match.
    """
    grams: dict[str, None] = {}
    for text in texts:
        for run in _ALNUM_RUN.findall((text or "").lower()):
            for i, char in enumerate(run):
                grams[char] = None
                if i + 1 < len(run):
                    grams[run[i:i + 2]] = None
    return " ".join(grams)


_ALNUM_RUN = re.compile(r"[^\W_]+")


def _sections_text(row: dict) -> str:
    return "\n".join(row.get(f"section_{s}") or "" for s in SECTION_NAMES)


def _index_report_text(db: sqlite_utils.Database, row: dict) -> None:
    sections = _sections_text(row)
    old = db.execute("select title, agency, sections from reports_search where rowid = ?", [row["id"]]).fetchone()
    if old:
        # reports_grams is contentless: a row is removed by repeating exactly what was indexed.
        db.execute("insert into reports_grams (reports_grams, rowid, grams) values ('delete', ?, ?)",
                   [row["id"], text_grams(*old)])
        db.execute("delete from reports_search where rowid = ?", [row["id"]])
    title, agency = row.get("title") or "", row.get("agency") or ""
    db.execute(
        "insert into reports_search (rowid, title, agency, sections) values (?, ?, ?, ?)",
        [row["id"], title, agency, sections],
    )
    db.execute("insert into reports_grams (rowid, grams) values (?, ?)",
               [row["id"], text_grams(title, agency, sections)])


def search_reports(db: sqlite_utils.Database, query: str, limit: int = 50) -> list[dict]:
    """Current reports whose title, agency or section texts contain query (see search_sql)."""
    return list(db.query(search_sql(limit), {"q": query.strip()}))


def search_condition(param: str = "q") -> str:
    """SQL true for reports.id values whose indexed text contains :param.

    Queries of three characters or more use the trigram index (reports_search); shorter ones (报告,
    复议) cannot match trigrams and use the character/pair index (reports_grams) instead. Shared by
    the search box plugin, the canned query and search_reports().
    """
    p = f":{param}"
    quoted = f"""'"' || replace({p}, '"', '""') || '"'"""
    return f"""id in (
  select rowid from reports_search where length({p}) >= 3 and reports_search match {quoted}
  union all
  select rowid from reports_grams where length({p}) between 1 and 2 and reports_grams match {quoted}
)"""


def search_sql(limit: int = 200) -> str:
    """The search query over current reports, parameter :q; the canned query `search` runs it.

    `snippet` is the passage around the first match in the section texts (or the title), `matched` the
    phrase, so the page can mark it.
    """
    return f"""select r.id, r.id as report_id, r.agency, r.year, r.title, r.format_version,
  case when instr(s.sections, :q) > 0
       then substr(s.sections, max(1, instr(s.sections, :q) - 30), length(:q) + 60)
       else s.title end as snippet,
  :q as matched
from reports r join reports_search s on s.rowid = r.id
where r.is_current = 1 and r.{search_condition()}
order by r.year desc, r.id desc
limit {int(limit)}"""

