"""The national annual-report template as data: versions, labels and their variants, cell keys, rules.

`template.json` is the single place that knows the template; this module loads it once and offers
typed views plus the label normalisation every matcher shares.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

TEMPLATE_FILE = Path(__file__).with_name("template.json")
VERSIONS = ("2019", "2021")

_SPACE = re.compile(r"\s+")
# Leading enumeration as printed (after NFKC): 一、 (三) 3. 3、 — kept apart so "3.其他" differs from "其他".
_PAREN_NUMBER = re.compile(r"^\(([0-9一二三四五六七八九十]+)\)")
_BARE_NUMBER = re.compile(r"^([0-9]{1,2}|[一二三四五六七八九十]{1,2})[,.:)]")
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "，": ",", "、": ",", "；": ";", "．": ".",
                         "〔": "(", "〕": ")", "【": "(", "】": ")", "［": "(", "］": ")", "[": "(", "]": ")"})
# Circled numbers (①…⑳) would lose their number-ness under NFKC ("①属于" → "1属于"): they become "1.".
_CIRCLED = str.maketrans({chr(0x2460 + i): f"{i + 1}." for i in range(20)})
_INNER_BRACKETS = re.compile(r"\([^()]*\)")


@functools.lru_cache(maxsize=16384)
def to_simplified(text: str) -> str:
    """Traditional characters → simplified, character by character (no regional vocabulary swaps)."""
    if text.isascii():
        return text
    import zhconv  # imported on first use: most runs never meet a non-ASCII cell before parsing

    return zhconv.convert(text, "zh-hans")


@functools.lru_cache(maxsize=16384)
def normalize(text: str) -> str:
    """Fold a printed label for matching: traditional → simplified, NFKC (full-width → ASCII),
    ① → 1., no whitespace, plain quotes and round brackets."""
    text = to_simplified(text.translate(_CIRCLED))
    return _SPACE.sub("", unicodedata.normalize("NFKC", text).translate(_QUOTES))


def strip_brackets(norm: str) -> str:
    """A normalised label without its bracketed asides, nested ones included:
    "行政许可(第二十条第(五)项)" → "行政许可". A label that is nothing but brackets is kept."""
    out = norm
    while True:
        stripped = _INNER_BRACKETS.sub("", out)
        if stripped == out:
            break
        out = stripped
    out = out.replace("(", "").replace(")", "") if ")" in out or "(" in out else out
    return out or norm


def split_numbering(text: str) -> tuple[str | None, str]:
    """`normalize(text)` split into its leading enumeration (or None) and the rest."""
    norm = normalize(text)
    match = _PAREN_NUMBER.match(norm) or _BARE_NUMBER.match(norm)
    if not match:
        return None, norm
    return match.group(1), norm[match.end():]


@dataclass(frozen=True)
class RowSpec:
    """One table row of the template: its key, printed label and the ways real reports print it."""

    key: str
    label: str
    fragments: tuple[str, ...] = ()
    numbered: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    versions: tuple[str, ...] = VERSIONS
    outcome: bool = False


@dataclass(frozen=True)
class SectionSpec:
    """One of the six sections: key, canonical heading and the heading phrases that identify it."""

    key: str
    number: int
    label: str
    phrases: tuple[str, ...]


@dataclass
class Template:
    """Typed views over template.json; build with `load_template()`."""

    raw: dict
    sections: list[SectionSpec] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sections = [
            SectionSpec(s["key"], s["number"], s["label"], tuple(normalize(p) for p in s["phrases"]))
            for s in self.raw["sections"]
        ]
        t3 = self.raw["table3"]
        self._t3_rows = [
            RowSpec(
                key=r["key"], label=r["label"],
                fragments=tuple(normalize(f) for f in r.get("fragments", [])),
                numbered=tuple(normalize(f) for f in r.get("numbered", [])),
                versions=tuple(r.get("versions", VERSIONS)), outcome=bool(r.get("outcome")),
            )
            for r in t3["rows"]
        ]
        self._t2_rows = {
            version: [
                RowSpec(key=r["key"], label=r["label"], variants=tuple(normalize(v) for v in r["variants"]),
                        columns=tuple(r["columns"]), versions=(version,))
                for r in self.raw["table2"][version]["rows"]
            ]
            for version in VERSIONS
        }
        self.t3_groups = [
            RowSpec(key=g["key"], label=g["label"], fragments=tuple(normalize(f) for f in g["fragments"]))
            for g in t3["groups"]
        ]
        self.t3_columns = [c["key"] for c in t3["columns"]]
        self.t3_applicants = self.t3_columns[:-1]
        self.t3_header_fragments = tuple(normalize(f) for f in t3["header_fragments"])
        t4 = self.raw["table4"]
        self.t4_groups = [g["key"] for g in t4["groups"]]
        self.t4_columns = [c["key"] for c in t4["columns"]]
        self.t4_header_fragments = tuple(normalize(f) for f in t4["header_fragments"])
        self.money_columns = frozenset(self.raw["table2"]["money_columns"])
        self.signed_columns = frozenset(self.raw["table2"]["signed_columns"])
        self.rules = {r["id"]: r for r in self.raw["rules"]}
        self.version_markers = {
            v: tuple(normalize(m) for m in spec["markers"]) for v, spec in self.raw["versions"].items()
        }
        # Words only one version's table 3 prints on its rows: they settle a report that mixes templates.
        self.table3_markers = {
            v: tuple(normalize(m) for m in spec.get("table3_markers", ())) for v, spec in self.raw["versions"].items()
        }

    def t2_rows(self, version: str) -> list[RowSpec]:
        """Table 2 rows of `version`, in template order."""
        return self._t2_rows[version]

    def t3_rows(self, version: str) -> list[RowSpec]:
        """Table 3 rows of `version`, in template order."""
        return [r for r in self._t3_rows if version in r.versions]

    def t2_column_label(self, version: str, column: str) -> str:
        return self.raw["table2"][version]["columns"][column]

    def cell_keys(self, version: str) -> list[str]:
        """Every canonical cell key of `version`, in template order (tables 2, 3, 4)."""
        if version not in VERSIONS:
            return []
        keys = [f"t2.{r.key}.{c}" for r in self.t2_rows(version) for c in r.columns]
        keys += [f"t3.{r.key}.{c}" for r in self.t3_rows(version) for c in self.t3_columns]
        keys += [f"t4.{g}.{c}" for g in self.t4_groups for c in self.t4_columns]
        return keys

    def expected_version(self, year: int | None) -> str | None:
        """The template version a report on statistical `year` should use."""
        if year is None:
            return None
        for version, spec in self.raw["versions"].items():
            last = spec["last_year"]
            if year >= spec["first_year"] and (last is None or year <= last):
                return version
        return None

    def cell_labels(self) -> dict[str, str]:
        """Chinese label of every cell key of both versions (2021 wording wins where keys coincide)."""
        labels: dict[str, str] = {}
        t3_col_labels = {c["key"]: c["label"] for c in self.raw["table3"]["columns"]}
        t4 = self.raw["table4"]
        t4_group_labels = {g["key"]: g["label"] for g in t4["groups"]}
        t4_col_labels = {c["key"]: c["label"] for c in t4["columns"]}
        for version in ("2019", "2021"):
            for row in self.t2_rows(version):
                for col in row.columns:
                    labels[f"t2.{row.key}.{col}"] = f"{row.label} · {self.t2_column_label(version, col)}"
            for row in self.t3_rows(version):
                for col in self.t3_columns:
                    labels[f"t3.{row.key}.{col}"] = f"{row.label} · {t3_col_labels[col]}"
        for group in self.t4_groups:
            for col in self.t4_columns:
                labels[f"t4.{group}.{col}"] = f"{t4_group_labels[group]} · {t4_col_labels[col]}"
        labels.update(self.raw.get("prose2008", {}).get("keys", {}))  # pre-2019 prose figures
        return labels


@functools.cache
def load_template() -> Template:
    """The template, loaded once per process."""
    try:
        raw = json.loads(TEMPLATE_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RuntimeError(f"{TEMPLATE_FILE}: cannot load the report template: {exc}") from exc
    return Template(raw)


def cell_labels() -> dict[str, str]:
    """Chinese label for every canonical cell key (what the Datasette metadata shows)."""
    return load_template().cell_labels()


def cell_keys(version: str) -> list[str]:
    """Every canonical cell key of template `version` ("2019" or "2021")."""
    return load_template().cell_keys(version)
