"""Read and validate the portal registry (`portals.csv`).

A bad row is reported with its line number and skipped; the other rows still crawl. Only a file that
cannot be read at all (missing, no header, required columns absent) raises `RegistryFileError`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

# any spelling of an address (127.1, 0x7f000001, [::ffff:127.0.0.1]) is read as a connection would read it
from crawler.addresses import is_private_host  # noqa: F401 - also this module's public name

REQUIRED_COLUMNS = ("id", "agency", "url")
OPTIONAL_COLUMNS = ("region", "level", "render", "allow_private", "notes")
RENDER_VALUES = ("", "js")
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
    line: int = 0

    @property
    def needs_browser(self) -> bool:
        return self.render == "js"

    def as_row(self) -> dict:
        """The row as the catalog's `load_portals` takes it."""
        return {
            "id": self.id, "agency": self.agency, "url": self.url, "region": self.region,
            "level": self.level, "render": self.render, "allow_private": self.allow_private,
            "notes": self.notes,
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
    for row in reader:
        line = reader.line_num
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue  # blank line
        if None in row:
            registry.errors.append(RowError(name, line, "more fields than the header has columns"))
            continue
        values = {k: (row.get(k) or "").strip() for k in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}
        problem = None
        allow_raw = values["allow_private"].lower()
        if not values["id"]:
            problem = "missing id"
        elif values["id"] in seen:
            problem = f"duplicate id {values['id']!r} (first on line {seen[values['id']]})"
        elif not values["agency"]:
            problem = f"row {values['id']!r}: missing agency"
        elif allow_raw not in _TRUE | _FALSE:
            problem = f"row {values['id']!r}: allow_private must be true or false, not {values['allow_private']!r}"
        elif values["render"].lower() not in RENDER_VALUES:
            problem = f"row {values['id']!r}: render must be empty or 'js', not {values['render']!r}"
        else:
            url_problem = _validate_url(values["url"], allow_raw in _TRUE)
            if url_problem:
                problem = f"row {values['id']!r}: {url_problem}"
        if problem:
            registry.errors.append(RowError(name, line, problem))
            continue
        seen[values["id"]] = line
        registry.portals.append(Portal(
            id=values["id"], agency=values["agency"], url=values["url"], region=values["region"],
            level=values["level"], render=values["render"].lower(), allow_private=allow_raw in _TRUE,
            notes=values["notes"], line=line,
        ))
    return registry
