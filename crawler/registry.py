"""Read and validate the portal registry (`portals.csv`).

A bad row is reported with its line number and skipped; the other rows still crawl. Only a file that
cannot be read at all (missing, no header, required columns absent) raises `RegistryFileError`.

Each row is checked: the id is unique and well-formed (`ID_PATTERN`: it is used in `--only ID,ID`
lists and in file names), the URL is http(s) with a host (and public unless `allow_private`), the
`level` is one of `LEVELS`, the `region` is a 6-digit 行政区划代码 consistent with that level (or a
place name without digits), `render` and the optional `family` hint are known values, and no two
rows name the same body at the same URL.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

# any spelling of an address (127.1, 0x7f000001, [::ffff:127.0.0.1]) is read as a connection would read it
from crawler.addresses import is_private_host  # noqa: F401 - also this module's public name

REQUIRED_COLUMNS = ("id", "agency", "url")
OPTIONAL_COLUMNS = ("region", "level", "render", "allow_private", "notes", "family")
RENDER_VALUES = ("", "js")
# CMS-family hints, named as the crawler's list adapters are: a hint lets the spider pick the
# adapter without waiting for a fingerprint; an empty value means "detect it".
FAMILY_VALUES = ("", "trs", "hanweb", "gkmlpt", "kaipuyun", "aspnet", "js", "generic")
LEVELS = ("", "国务院部门", "省", "省级部门", "市", "市级部门", "县", "县级部门", "乡")
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
NATIONAL_REGION = "100000"
# The two leading digits of the 31 provincial-level divisions (GB/T 2260).
PROVINCE_PREFIXES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65".split()
)
_DIGIT = re.compile(r"\d")
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n", ""}


class RegistryFileError(Exception):
    """The registry file as a whole cannot be used (names the file)."""


@dataclass(frozen=True)
class RowError:
    """One rejected row: where it is and why."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Portal:
    """One validated registry row."""

    id: str
    agency: str
    url: str
    region: str = ""
    level: str = ""
    render: str = ""
    allow_private: bool = False
    notes: str = ""
    family: str = ""
    line: int = 0

    @property
    def needs_browser(self) -> bool:
        return self.render == "js"

    def as_row(self) -> dict:
        """The row as the catalog's `load_portals` takes it."""
        return {
            "id": self.id, "agency": self.agency, "url": self.url, "region": self.region,
            "level": self.level, "render": self.render, "allow_private": self.allow_private,
            "notes": self.notes, "family": self.family,
        }


@dataclass
class Registry:
    """The portals that passed validation and the rows that did not."""

    path: str
    portals: list[Portal] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def by_id(self) -> dict[str, Portal]:
        return {p.id: p for p in self.portals}

    def select(self, only: str | list[str] | None) -> tuple[list[Portal], list[str]]:
        """The portals named in `only` ("ID,ID" or a list; None = all) and the ids not found."""
        if not only:
            return list(self.portals), []
        wanted = [s.strip() for s in (only.split(",") if isinstance(only, str) else only) if s.strip()]
        known = self.by_id()
        return [known[i] for i in wanted if i in known], [i for i in wanted if i not in known]


def _validate_url(url: str, allow_private: bool) -> str | None:
    """The problem with a start URL, or None when it is usable."""
    if not url:
        return "missing url"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"bad url scheme {parts.scheme or '(none)'!r} in {url!r}: only http and https"
    if not parts.hostname:
        return f"url {url!r} has no host"
    if is_private_host(parts.hostname) and not allow_private:
        return f"url {url!r} points at a private/loopback address; set allow_private=true to allow it"
    return None


def _validate_region(region: str, level: str) -> str | None:
    """The problem with a region for a body of `level`, or None when it is usable."""
    if not region:
        return None
    if not _DIGIT.search(region):
        return None  # a place name: nothing to check it against
    if len(region) != 6 or not region.isdigit():
        return f"region {region!r} must be a 6-digit 行政区划代码 (or a place name)"
    if region == NATIONAL_REGION:
        if level not in ("", "国务院部门"):
            return f"region {region} (national) does not fit level {level!r}"
        return None
    if region[:2] not in PROVINCE_PREFIXES:
        return f"region {region} names no province (unknown prefix {region[:2]})"
    province_wide, prefecture_wide = region.endswith("0000"), region.endswith("00")
    if level == "国务院部门":
        return f"region {region} does not fit level 国务院部门 (use {NATIONAL_REGION} or leave it empty)"
    if level in ("省", "省级部门") and not province_wide:
        return f"region {region} is not a province's code (XX0000) as level {level} needs"
    if level in ("市", "市级部门") and (province_wide or not prefecture_wide):
        return f"region {region} is not a prefecture's code (XXYY00) as level {level} needs"
    if level in ("县", "县级部门", "乡") and province_wide:
        return f"region {region} is a province's code, too wide for level {level}"
    return None


def _row_problem(values: dict[str, str], seen: dict[str, int], bodies: dict[tuple[str, str], int]) -> str | None:
    """Why a row (stripped values) cannot be used, or None."""
    pid = values["id"]
    if not pid:
        return "missing id"
    if pid in seen:
        return f"duplicate id {pid!r} (first on line {seen[pid]})"
    if not ID_PATTERN.fullmatch(pid):
        return (f"bad id {pid!r}: lower-case letters, digits, '-' and '_' only, "
                "starting with a letter or digit, at most 64")
    if not values["agency"]:
        return f"row {pid!r}: missing agency"
    allow_raw = values["allow_private"].lower()
    if allow_raw not in _TRUE | _FALSE:
        return f"row {pid!r}: allow_private must be true or false, not {values['allow_private']!r}"
    if values["render"].lower() not in RENDER_VALUES:
        return f"row {pid!r}: render must be empty or 'js', not {values['render']!r}"
    if values["family"].lower() not in FAMILY_VALUES:
        return (f"row {pid!r}: unknown family {values['family']!r} "
                f"(known: {', '.join(v for v in FAMILY_VALUES if v)})")
    if values["level"] not in LEVELS:
        return f"row {pid!r}: unknown level {values['level']!r} (known: {' / '.join(v for v in LEVELS if v)})"
    region_problem = _validate_region(values["region"], values["level"])
    if region_problem:
        return f"row {pid!r}: {region_problem}"
    url_problem = _validate_url(values["url"], allow_raw in _TRUE)
    if url_problem:
        return f"row {pid!r}: {url_problem}"
    body = (values["url"], values["agency"])
    if body in bodies:
        return f"row {pid!r}: same agency and url as line {bodies[body]}"
    return None


def load_registry(path: str | Path) -> Registry:
    """Read `path` (UTF-8 CSV with a header row) into a `Registry`; bad rows go to `errors`."""
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise RegistryFileError(f"{name}: no such registry file") from exc
    except UnicodeDecodeError as exc:
        raise RegistryFileError(f"{name}: not UTF-8 ({exc})") from exc
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise RegistryFileError(f"{name}:1: header lacks required column(s) {', '.join(missing)}")
    reader.fieldnames = header
    registry = Registry(path=name)
    seen: dict[str, int] = {}
    bodies: dict[tuple[str, str], int] = {}
    for row in reader:
        line = reader.line_num
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue  # blank line
        if None in row:
            registry.errors.append(RowError(name, line, "more fields than the header has columns"))
            continue
        values = {k: (row.get(k) or "").strip() for k in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}
        problem = _row_problem(values, seen, bodies)
        if problem:
            registry.errors.append(RowError(name, line, problem))
            continue
        seen[values["id"]] = line
        bodies[(values["url"], values["agency"])] = line
        registry.portals.append(Portal(
            id=values["id"], agency=values["agency"], url=values["url"], region=values["region"],
            level=values["level"], render=values["render"].lower(),
            allow_private=values["allow_private"].lower() in _TRUE, notes=values["notes"],
            family=values["family"].lower(), line=line,
        ))
    return registry
