"""Reporting bodies (agencies) as first-class rows: one per body, whatever its name in a given year.

A report is credited to the body its own title names (not to the portal it was found on). Names are
merged into one agency by these rules, applied in order:

1. **Aliases pinned by the user** (`agency_aliases.csv`): `merge` maps a name onto a target name's
   agency; `split` gives a name an agency of its own that no rule merges with anything.
2. **Region**: the place names in the name (省/市/区/县, read with the `cpca` region-code package)
   become a 行政区划代码; a name without a place takes its portal's region, unless it is a national
   body (国家…, 国务院…, …部). A district name shared by several cities (朝阳区) is read in the
   portal's province when that resolves it.
3. **Body**: what is left after the place names, with short forms written out (卫健局 → 卫生健康局,
   卫健委 → 卫生健康委员会, 发改委 → 发展和改革委员会 …), renamed bodies under their present name
   (卫生和计划生育委员会 / 卫计委 → 卫生健康委员会, 卫生和计划生育局 / 卫计局 → 卫生健康局), and a
   government's office read as the government (人民政府办公室 / 办公厅 → 人民政府), since the office
   compiles the government's own report.

Two names with the same region code and body are one agency. Its id is a digest of that pair, so it
stays stable across rebuilds; its canonical name is the newest variant with short forms written out.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import sqlite_utils

REPO_ROOT = Path(__file__).resolve().parents[1]
ALIASES_FILE = REPO_ROOT / "agency_aliases.csv"
ALIAS_ACTIONS = ("merge", "split")

# Short forms and former names → the present full name (longest first, so 卫健委 is not read as 卫健).
_BODY_FORMS: tuple[tuple[str, str], ...] = (
    (r"卫生和计划生育委员会|卫生计生委|卫计委|卫健委|卫生健康委(?!员会)", "卫生健康委员会"),
    (r"卫生和计划生育局|卫生计生局|卫计局|卫健局", "卫生健康局"),
    (r"发改委|发展改革委(?!员会)", "发展和改革委员会"),
    (r"发改局|发展改革局", "发展和改革局"),
    (r"人社局|人力社保局", "人力资源和社会保障局"),
    (r"住建局|住房城乡建设局", "住房和城乡建设局"),
    (r"市监局|市场监管局", "市场监督管理局"),
    (r"人民政府办公[室厅]$", "人民政府"),
    (r"政府办公[室厅]$", "人民政府"),
)
_NATIONAL = re.compile(r"^(国家|国务院|中华人民共和国|中国)|(部|总局|总署)$")
_TOWNSHIP = re.compile(r"(街道|乡|镇)(办事处|人民政府)?")
_ADCODE = re.compile(r"^\d{6}$")


def expand_body(name: str) -> str:
    """name with short forms and former names written out (卫健局 → 卫生健康局)."""
    out = re.sub(r"\s+", "", name or "")
    for pattern, full in _BODY_FORMS:
        out = re.sub(pattern, full, out)
    return out


# --------------------------------------------------------------------------- regions


@dataclass(frozen=True)
class Region:
    """A 行政区划代码 with its province, city and county names (empty where the code is above them)."""

    code: str = ""
    province: str = ""
    city: str = ""
    county: str = ""

    @property
    def level(self) -> str:
        """省 / 市 / 县 by the code's shape, "" when there is no code."""
        if not self.code:
            return ""
        if self.code[4:] != "00":
            return "县"
        if self.code[2:4] != "00":
            return "市"
        return "省"


@cache
def _addr_names() -> dict[str, str]:
    import cpca

    return {code[:6]: info.name for code, info in cpca.ad_2_addr_dict.items()}


def region_of_code(code: str | None) -> Region:
    """The names of a six-digit 行政区划代码 (an unknown or missing code gives an empty Region)."""
    code = (code or "").strip()
    if not _ADCODE.match(code):
        return Region()
    names = _addr_names()
    if code not in names:
        return Region()
    province = names.get(code[:2] + "0000", "")
    city = names.get(code[:4] + "00", "") if code[2:4] != "00" else ""
    county = names.get(code, "") if code[4:] != "00" else ""
    return Region(code, province, city, county)


@cache
def _read_place(text: str) -> tuple[str, str]:
    """(adcode, the text after the place names) as cpca reads text; ("", text) when it names no place."""
    import cpca

    row = cpca.transform([text]).iloc[0]
    code = row.get("adcode")
    rest = row.get("地址")
    if not isinstance(code, str) or not _ADCODE.match(code):
        return "", text
    return code, rest if isinstance(rest, str) and rest else ""


def locate(name: str, portal_region: str | None = None) -> tuple[Region, str]:
    """The region a body's name places it in, and the body's name without the place (see module doc)."""
    code, rest = _read_place(name)
    portal = region_of_code(portal_region)
    if code and portal.code and code[:2] != portal.code[:2]:
        # A district name several cities share is read as the portal's when the portal's province has one.
        prefix = portal.province + (portal.city if portal.city and not name.startswith(portal.city) else "")
        local_code, local_rest = _read_place(prefix + name)
        if local_code and local_code[:2] == portal.code[:2] and local_rest == rest and local_code != portal.code:
            code = local_code
    if not code and portal.code and not _NATIONAL.search(name):
        return portal, name
    return region_of_code(code), rest or name


# --------------------------------------------------------------------------- aliases


@dataclass
class Aliases:
    """The user's pins: name → target name (merge), and names that stand alone (split)."""

    merge: dict[str, str] = field(default_factory=dict)
    split: set[str] = field(default_factory=set)


def aliases_path() -> Path:
    """NIANBAO_AGENCY_ALIASES, else agency_aliases.csv at the repository root."""
    return Path(os.environ.get("NIANBAO_AGENCY_ALIASES") or ALIASES_FILE)


def load_aliases(path: str | Path | None = None) -> Aliases:
    """The aliases CSV as read now (re-read whenever the file changes); see _read_aliases."""
    path = Path(path) if path else aliases_path()
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return Aliases()
    return _read_aliases(path, stamp)


@cache
def _read_aliases(path: Path, _stamp: int) -> Aliases:
    """Read the aliases CSV (columns name, action, target, notes; lines starting with # are comments).

    A row with an unknown action or a merge without target raises ValueError naming its line.
    """
    aliases = Aliases()
    with path.open(encoding="utf-8-sig", newline="") as fh:
        lines = [line for line in fh if line.strip() and not line.lstrip().startswith("#")]
    for number, row in enumerate(csv.DictReader(lines), start=2):
        name = (row.get("name") or "").strip()
        action = (row.get("action") or "").strip().lower()
        target = (row.get("target") or "").strip()
        if not name:
            continue
        if action not in ALIAS_ACTIONS or (action == "merge" and not target):
            raise ValueError(f"{path}: row {number}: action must be merge (with a target) or split, got {row!r}")
        if action == "merge":
            aliases.merge[name] = target
        else:
            aliases.split.add(name)
    return aliases


# --------------------------------------------------------------------------- resolving


@dataclass(frozen=True)
class Identity:
    """What a name resolves to: the agency key, its id and region."""

    key: str
    id: str
    region: Region
    body: str


def identify(name: str, portal_region: str | None = None, aliases: Aliases | None = None) -> Identity:
    """The agency a body's name belongs to (rules in the module doc)."""
    aliases = aliases or Aliases()
    clean = re.sub(r"\s+", "", name or "")
    seen = {clean}
    while clean in aliases.merge and aliases.merge[clean] not in seen:
        clean = aliases.merge[clean]
        seen.add(clean)
    region, rest = locate(clean, portal_region)
    if clean in aliases.split:
        key = f"pin:{clean}"
    else:
        key = f"{region.code or '-'}:{expand_body(rest)}"
    return Identity(key, "a" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:10], region, expand_body(rest))


def level_of(name: str, region: Region) -> str:
    """国务院部门 / 省 / 市 / 县 / 乡 from the name and its region."""
    if _TOWNSHIP.search(name):
        return "乡"
    if not region.code:
        return "国务院部门" if _NATIONAL.search(name) else ""
    return region.level


def report_body_name(title: str | None, agency: str | None) -> str | None:
    """The body a report names in its own title, else the parser's agency."""
    if title:
        from nianbao.parse.metadata import agency_from_title

        named = agency_from_title(title)
        if named:
            return named
    return agency or None


def _years_text(years: Iterable[int]) -> str:
    ys = sorted(set(years))
    if not ys:
        return ""
    return f"{ys[0]}" if ys[0] == ys[-1] else f"{ys[0]}–{ys[-1]}"


def rebuild_agencies(db: sqlite_utils.Database, aliases: Aliases | None = None) -> dict:
    """Resolve every report and every registry body to its agency and rewrite the agency tables.

    Returns counts: agencies, reports linked, names. Run at the end of every parser stage, so an edit
    of the aliases CSV takes effect on the next run.
    """
    aliases = aliases if aliases is not None else load_aliases()
    reports = list(db.execute(
        "select r.id, r.title, r.agency, r.year, r.portal_id, p.region, r.is_current, r.published "
        "from reports r left join portals p on p.id = r.portal_id"))
    portals = list(db.execute("select id, agency, region, level from portals"))
    agencies: dict[str, dict] = {}
    names: dict[tuple[str, str], set[int]] = {}
    links: dict[int, str] = {}
    own_portals: dict[str, set[str]] = {}

    def touch(name: str, portal_id: str | None, region_code: str | None) -> dict:
        ident = identify(name, region_code, aliases)
        entry = agencies.setdefault(ident.id, {
            "id": ident.id, "key": ident.key, "region": ident.region, "portals": set(), "latest": (-1, name),
        })
        if portal_id:
            entry["portals"].add(portal_id)
        return entry

    for portal_id, agency, region, level in portals:
        if not agency:
            continue
        entry = touch(agency, portal_id, region)
        own_portals.setdefault(entry["id"], set()).add(portal_id)
        entry.setdefault("portal_level", level)
        names.setdefault((entry["id"], re.sub(r"\s+", "", agency)), set())
    for report_id, title, agency, year, portal_id, region, _current, _published in reports:
        name = report_body_name(title, agency)
        if not name:
            continue
        entry = touch(name, portal_id, region)
        links[report_id] = entry["id"]
        clean = re.sub(r"\s+", "", name)
        names.setdefault((entry["id"], clean), set())
        if year:
            names[(entry["id"], clean)].add(year)
            if year >= entry["latest"][0]:
                entry["latest"] = (year, clean)
        entry.setdefault("first_year", year)
        if year and (entry["first_year"] is None or year < entry["first_year"]):
            entry["first_year"] = year
    rows = []
    for agency_id, entry in agencies.items():
        variants = {n: ys for (aid, n), ys in names.items() if aid == agency_id}
        latest_name = entry["latest"][1]
        canonical = expand_body(latest_name) if not entry["key"].startswith("pin:") else latest_name
        region: Region = entry["region"]
        rows.append({
            "id": agency_id, "name": canonical, "match_key": entry["key"],
            "variants": "; ".join(f"{n} ({_years_text(ys)})" if ys else n for n, ys in sorted(variants.items())),
            "region": region.code or None, "province": region.province or None, "city": region.city or None,
            "county": region.county or None,
            "level": level_of(canonical, region) or entry.get("portal_level") or None,
            "portals": ",".join(sorted(entry["portals"])) or None,
            "own_portals": ",".join(sorted(own_portals.get(agency_id, ()))) or None,
            "first_year": entry.get("first_year"),
            "reports": sum(1 for a in links.values() if a == agency_id),
        })
    name_rows = [
        {"agency_id": aid, "name": n, "years": json.dumps(sorted(ys)), "first_year": min(ys) if ys else None,
         "last_year": max(ys) if ys else None}
        for (aid, n), ys in names.items()
    ]
    portal_rows = [
        {"agency_id": aid, "portal_id": pid, "own": int(pid in own_portals.get(aid, ()))}
        for aid, entry in agencies.items() for pid in sorted(entry["portals"])
    ]
    with db.atomic():
        db.execute("update reports set agency_id = null")
        db.execute("delete from agency_portals")
        db.execute("delete from agency_names")
        db.execute("delete from agencies")
        db["agencies"].insert_all(rows, pk="id")
        db["agency_names"].insert_all(name_rows, pk=("agency_id", "name"))
        db["agency_portals"].insert_all(portal_rows, pk=("agency_id", "portal_id"))
        db.conn.executemany("update reports set agency_id = ? where id = ?",
                            [(aid, rid) for rid, aid in links.items()])
        # Versions are grouped by agency: a pin that joins or parts two names moves `is_current` too.
        from catalog.records import recompute_current

        changed = recompute_current(db)
    return {"agencies": len(rows), "reports_linked": len(links), "names": len(name_rows),
            "current_changed": len(changed)}


def assign_report_agency(db: sqlite_utils.Database, report_id: int, aliases: Aliases | None = None) -> str | None:
    """Link one newly recorded report to its agency, creating the agency row if it is new.

    The full rebuild (`rebuild_agencies`) refreshes names, variants and counts at the end of a run; this
    keeps `reports.agency_id` right in between, so cross-year checks can use it at once.
    """
    row = db.execute(
        "select r.title, r.agency, r.year, r.portal_id, p.region from reports r "
        "left join portals p on p.id = r.portal_id where r.id = ?", [report_id]).fetchone()
    if not row:
        return None
    title, agency, year, portal_id, region_code = row
    name = report_body_name(title, agency)
    if not name:
        return None
    ident = identify(name, region_code, aliases if aliases is not None else load_aliases())
    region = ident.region
    if not db.execute("select 1 from agencies where id = ?", [ident.id]).fetchone():
        db["agencies"].insert({
            "id": ident.id, "name": expand_body(name), "match_key": ident.key, "variants": name,
            "region": region.code or None, "province": region.province or None, "city": region.city or None,
            "county": region.county or None, "level": level_of(name, region) or None,
            "portals": portal_id, "own_portals": None, "first_year": year, "reports": 1,
        }, pk="id")
    if portal_id:
        db["agency_portals"].insert({"agency_id": ident.id, "portal_id": portal_id, "own": 0},
                                    pk=("agency_id", "portal_id"), ignore=True)
    db.execute("update reports set agency_id = ? where id = ?", [ident.id, report_id])
    return ident.id


def refresh_bodies(db: sqlite_utils.Database) -> dict:
    """After a parser run: agencies rebuilt with the current aliases, then late-publication findings."""
    from catalog.deadlines import record_late_findings

    counts = rebuild_agencies(db)
    counts["late_reports"] = record_late_findings(db)
    return counts
