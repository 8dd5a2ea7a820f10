"""Layout → the template's canonical cells, for both template versions.

Real documents flatten their tables in many ways (tab runs, one value per line, labels split, fused,
truncated or moved, a column lost on some rows, headers repeated after a page break); the mapper reads
rows as "label, then values" and places values under their printed column headers (table 2's
sub-table headers, table 3's applicant columns, table 4's groups and columns, or table 4's groups
printed as rows), the template's column order breaking ties.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from nianbao.parse.headers import (
    PrintedColumns,
    Table3Columns,
    Table4Order,
    money_unit,
    table2_columns,
    table3_columns,
    table4_group_of_label,
    table4_order,
    table4_row_columns,
)
from nianbao.parse.labels import LabelIndex, label_core
from nianbao.parse.layout import Layout
from nianbao.parse.messages import TABLE_NAMES, names, t4_column_name, t4_group_name
from nianbao.parse.messages import warning as W
from nianbao.parse.messages import where as place
from nianbao.parse.numbers import parse_number
from nianbao.template import (
    VERSIONS,
    RowSpec,
    Template,
    load_template,
    normalize,
    split_numbering,
    strip_brackets,
)

EMPTY, VALUE, TEXT = 0, 1, 2
# A label cell longer than this is prose, not a table row label.
MAX_LABEL_CHARS = 60
MAX_HEADER_CHARS = 16
_PAGE_NUMBER = re.compile(r"^(?:[-—–]\s*\d{1,3}\s*[-—–]|第\d{1,3}页(?:[,，]?共\d{1,3}页)?|\d{1,3}/\d{1,3})$")


@dataclass
class Line:
    """One layout line with each cell classified once."""

    number: int
    cells: list[str]
    kinds: list[int]
    norms: list[str]

    @property
    def texts(self) -> list[str]:
        return [c for c, k in zip(self.cells, self.kinds, strict=True) if k == TEXT]

    def region_after_labels(self) -> list[str]:
        """The cells after the last label cell (all cells when there is no label)."""
        last = max((i for i, k in enumerate(self.kinds) if k == TEXT), default=-1)
        return self.cells[last + 1:]

    @property
    def has_values(self) -> bool:
        return VALUE in self.kinds

    @property
    def is_blank(self) -> bool:
        return all(k == EMPTY for k in self.kinds)


@dataclass
class RawRow:
    """A table row as found: its template row, the label as printed and the cells after it."""

    spec: RowSpec
    label: str
    line: int
    cells: list[str] = field(default_factory=list)

    def core(self) -> list[str]:
        """The printed cells without blank cells at either end."""
        cells = self.cells
        start = next((i for i, c in enumerate(cells) if c.strip()), len(cells))
        end = len(cells)
        while end > start and not cells[end - 1].strip():
            end -= 1
        return cells[start:end]


@dataclass
class MappedTables:
    """What the mapper found: the template version, every cell of it, and what it had to guess."""

    version: str | None
    cells: dict[str, int | float | None]
    warnings: list[str]
    tables_found: list[str]
    # key → "printed" | "inferred:<rule>" | "blank" (no printed value was found for the cell)
    provenance: dict[str, str] = field(default_factory=dict)


def classify(layout: Layout) -> list[Line]:
    """Classify every cell of `layout` once: empty, value or text."""
    lines = []
    for number, cells in enumerate(layout.lines, start=1):
        kinds, norms = [], []
        for cell in cells:
            if not cell.strip():
                kinds.append(EMPTY)
                norms.append("")
            elif parse_number(cell) is not None:
                kinds.append(VALUE)
                norms.append("")
            else:
                kinds.append(TEXT)
                norms.append(normalize(cell))
        lines.append(Line(number, cells, kinds, norms))
    return lines


def detect_version(lines: list[Line], template: Template | None = None) -> str | None:
    """The template version the tables are printed on, from their headers and row labels (never from the
    year)."""
    template = template or load_template()
    # Table 3 decides for a report that mixes the templates: its rows carry the template's sums.
    for version, markers in template.table3_markers.items():
        if markers and any(m in norm for line in lines if line.has_values for norm in line.norms
                           if 0 < len(norm) <= MAX_LABEL_CHARS for m in markers):
            return version
    scores = {}
    for version in ("2019", "2021"):
        markers = template.version_markers[version]
        seen = {m for line in lines for norm in line.norms if 0 < len(norm) <= MAX_LABEL_CHARS
                for m in markers if m in norm}
        scores[version] = len(seen)
    if scores["2019"] == scores["2021"]:
        return None
    return max(scores, key=scores.get)


class _Matcher:
    """Row-label matching for one template version, built once per version."""

    def __init__(self, template: Template, version: str) -> None:
        self.version = version
        self.t3_rows = template.t3_rows(version)
        own = {r.key for r in self.t3_rows}
        other = next(v for v in VERSIONS if v != version)
        # Rows only the other template version has: a report mixing the templates prints them.
        self.foreign_rows = [r for r in template.t3_rows(other) if r.key not in own]
        self.t3_prefixes = [(split_numbering(r.label.split(" ")[-1])[1], r) for r in self.t3_rows]
        self.t2_rows = template.t2_rows(version)
        self.t3_headers = template.t3_header_fragments
        self.t4_headers = template.t4_header_fragments
        self.t2_index = LabelIndex((r.key, v) for r in self.t2_rows for v in (r.label, *r.variants))
        self.t3_index = LabelIndex(
            [(r.key, r.label.split(" ")[-1]) for r in self.t3_rows]
            + [(f"group:{g.key}", g.label) for g in template.t3_groups]
        )
        self.t2_by_key = {r.key: r for r in self.t2_rows}
        self.t3_by_key = {r.key: r for r in self.t3_rows}

    def t3_row(self, text: str) -> RowSpec | None:
        number, rest = split_numbering(text)
        if not rest or len(rest) > MAX_LABEL_CHARS:
            return None
        for rows in (self.t3_rows, self.foreign_rows):
            for row in rows:
                if number and rest in row.numbered:
                    return row
                if any(f in rest for f in row.fragments):
                    return row
        if len(rest) >= 4:  # a truncated label: a long enough prefix of exactly one template label
            hits = [r for label, r in self.t3_prefixes if label.startswith(rest)]
            if len(hits) == 1:
                return hits[0]
        return None

    def is_foreign(self, row: RowSpec) -> bool:
        """A row of the other template version (a report mixing the two templates)."""
        return self.version not in row.versions

    def t3_row_fuzzy(self, texts: list[str]) -> tuple[RowSpec | None, str | None]:
        """A misprinted table 3 label: (row, warning), (None, warning) when ambiguous, (None, None)."""
        return _fuzzy(self.t3_index, self.t3_by_key, texts, "表三")

    def t2_row_fuzzy(self, texts: list[str]) -> tuple[RowSpec | None, str | None]:
        """A misprinted table 2 label: (row, warning), (None, warning) when ambiguous, (None, None)."""
        return _fuzzy(self.t2_index, self.t2_by_key, texts, "表二")

    def t3_row_of_line(self, texts: list[str], pending: str) -> RowSpec | None:
        # The rightmost label is the most specific (group labels print to the left of item labels).
        for text in reversed(texts):
            row = self.t3_row(text)
            if row:
                return row
        if len(texts) > 1:
            row = self.t3_row("".join(texts))
            if row:
                return row
        if pending and texts:
            return self.t3_row(pending + "".join(texts))
        return None

    def is_t3_header(self, line: Line) -> bool:
        return any(f in norm for norm in line.norms if 0 < len(norm) <= 40 for f in self.t3_headers)

    def t2_row(self, text: str) -> RowSpec | None:
        _, rest = split_numbering(text)
        rest = strip_brackets(rest)
        if not rest or len(rest) > 20:
            return None
        for row in self.t2_rows:
            if rest in row.variants:
                return row
        return None

    def is_t4_header(self, line: Line) -> bool:
        return any(f in norm for norm in line.norms if 0 < len(norm) <= MAX_HEADER_CHARS for f in self.t4_headers)


def _fuzzy(index: LabelIndex, rows: dict[str, RowSpec], texts: list[str],
           table: str) -> tuple[RowSpec | None, str | None]:
    """The rightmost label of a line (then all its labels joined) looked up by edit distance."""
    candidates = [texts[-1]] + (["".join(texts)] if len(texts) > 1 else [])
    for text in candidates:
        if not label_core(text) or len(label_core(text)) > MAX_LABEL_CHARS:
            continue
        found = index.match(text)
        if found is None:
            continue
        if found.key is None:
            return None, found.warning(table)
        if found.key.startswith("group:"):
            return None, None  # a group label (不予公开, 其他处理 …) heads no row of its own
        return rows[found.key], found.warning(table)
    return None, None


_MATCHERS: dict[str, _Matcher] = {}


def _matcher(template: Template, version: str) -> _Matcher:
    if version not in _MATCHERS:
        _MATCHERS[version] = _Matcher(template, version)
    return _MATCHERS[version]


def _is_section_heading(line: Line, template: Template) -> bool:
    texts = [n for n in line.norms if n]
    if len(texts) != 1 or line.has_values or len(texts[0]) > 40:
        return False
    _, rest = split_numbering(texts[0])
    return any(rest.startswith(p) or rest.endswith(p) for s in template.sections for p in s.phrases)


def _collect_rows(lines: list[Line], start: int, stop: int, match: Callable[[list[str], str], RowSpec | None],
                  warnings: list[str], *, widths: dict[str, int],
                  is_header: Callable[[Line], bool] | None = None, is_end: Callable[[Line], bool] | None = None,
                  last_key: str | None = None,
                  fuzzy: Callable[[list[str]], tuple[RowSpec | None, str | None]] | None = None,
                  ) -> tuple[list[RawRow], int]:
    """Rows of one table from lines[start:stop]: a label starts a row, values on later lines extend it.

    A line with values whose label matches no template label exactly is looked up by `fuzzy`
    (a misprinted label); every fuzzy match and every refusal to guess is a warning.

    The table ends at `stop`, at a line `is_end` accepts, or once the `last_key` row is complete and a
    line follows that starts no row. Returns the rows and the index of the first line after the table.
    """
    rows: list[RawRow] = []
    current: RawRow | None = None
    pending = ""

    def filled(row: RawRow) -> int:
        return len([c for c in row.cells if c.strip()])

    for index in range(start, stop):
        line = lines[index]
        if line.is_blank:
            continue
        texts = line.texts
        if len(texts) == 1 and _PAGE_NUMBER.match(normalize(texts[0])):
            continue
        finished = current is not None and current.spec.key == last_key and filled(current) >= widths[last_key]
        if texts:
            if is_header and is_header(line):
                pending = ""
                continue
            spec = match(texts, pending)
            if spec is None and fuzzy is not None and line.has_values \
                    and (current is None or filled(current)):
                spec, warning = fuzzy(texts)
                if warning:
                    warnings.append(f"{place('line', line=line.number)}：{warning}")
                    if spec is None:
                        current, pending = None, ""
                        continue
            if spec is None and line.has_values and current is not None and not filled(current):
                # The rest of a label split over lines, now with the row's values.
                current.cells = line.region_after_labels()
                current.label += "".join(texts)
                continue
            if spec is None or (finished and not line.has_values):
                if rows and (finished or (is_end and is_end(line))):
                    return rows, index
                if line.has_values:
                    warnings.append(W("label.unrecognised", place("line", line=line.number),
                                      label="".join(texts)[:30]))
                    current = None
                    pending = ""
                else:
                    pending = (pending + "".join(normalize(t) for t in texts))[-MAX_LABEL_CHARS:]
                continue
            pending = ""
            current = RawRow(spec, " ".join(t.strip() for t in texts), line.number, line.region_after_labels())
            rows.append(current)
            continue
        # A line of values only: the rest of the current row when one value is printed per line.
        if current is not None and filled(current) < widths[current.spec.key]:
            current.cells.extend(c for c in line.cells if c.strip())
        elif finished:
            return rows, index
    return rows, stop


def _fit(row: RawRow, width: int, trailing_artifact: bool) -> tuple[list[str], int]:
    """Place a row's printed cells into `width` columns.

    Returns the cells and how many are missing (printed fewer values than columns and no blank
    cells to account for them). Blank cells at the ends are ambiguous; the total column sits at the
    right edge, so surplus leading blanks are taken for merged-label cells.
    """
    core = row.core()
    if len(core) == width:
        return core, 0
    if len(core) > width:
        return core[-width:], 0
    cells = list(row.cells)
    if trailing_artifact and cells and not cells[-1].strip():
        cells.pop()
    if len(cells) >= width:
        return cells[-width:], 0
    return core, width - len(core)


def _trailing_artifact(rows: list[RawRow], widths: dict[str, int]) -> bool:
    """Whether this table's complete rows end with an empty cell (a tab after the last value)."""
    complete = [r for r in rows if len(r.core()) == widths[r.spec.key]]
    ending_blank = [r for r in complete if r.cells and not r.cells[-1].strip()]
    return bool(complete) and len(ending_blank) * 2 >= len(complete)


def _values(cells: list[str], money: list[bool], where: str, warnings: list[str],
            unit: str | None = None) -> list[int | float | None]:
    out = []
    for cell, is_money in zip(cells, money, strict=True):
        number = parse_number(cell, money=is_money, unit=unit if is_money else None)
        if number is None:
            warnings.append(W("value.not_number", where, cell=cell))
            out.append(None)
            continue
        if number.warning:
            warnings.append(f"{where}：{number.warning}")
        out.append(number.value)
    return out


def _candidates(known: list[int | float], total: int | float, missing: int,
                slots: int) -> list[tuple[list, tuple[int, ...]]]:
    """Every placement of `missing` lost cells among `slots` applicant columns that the row total allows,
    with the positions the lost cells take."""
    rest = total - sum(known)
    if rest < 0 or (missing > 1 and rest != 0):
        return []
    fill = [rest] if missing == 1 else [0] * missing
    placements: list[tuple[list, tuple[int, ...]]] = []
    for positions in itertools.combinations(range(slots), missing):
        it_known, it_fill = iter(known), iter(fill)
        row = [next(it_fill) if i in positions else next(it_known) for i in range(slots)]
        if row not in [p for p, _ in placements]:
            placements.append((row, positions))
    return placements


@dataclass
class _Context:
    """What every table reader of one document shares."""

    lines: list[Line]
    template: Template
    version: str
    matcher: _Matcher
    cells: dict[str, int | float | None]
    warnings: list[str]
    provenance: dict[str, str] = field(default_factory=dict)

    def put(self, key: str, value: int | float | None, provenance: str = "printed") -> None:
        self.cells[key] = value
        self.provenance[key] = provenance


class _Ambiguous:
    """A row with a lost cell whose position only the column totals can settle."""

    def __init__(self, key: str, label: str, candidates: list[tuple[list, tuple[int, ...]]]) -> None:
        self.key, self.label, self.candidates = key, label, candidates


def _table2_version(ctx: _Context, start: int, stop: int) -> str:
    """The template version table 2's own column headers are printed on (a report may mix templates)."""
    region = ctx.lines[start:stop]
    version = detect_version(region, ctx.template) or ctx.version
    if version != ctx.version:
        ctx.warnings.append(W("t2.other_template", version=version, own=ctx.version))
    return version


def _map_table2(ctx: _Context, start: int, stop: int) -> bool:
    """Table 2: each row label, then its values in the version's column order; money in the unit of its
    header or caption."""
    template, warnings = ctx.template, ctx.warnings
    matcher = _matcher(template, _table2_version(ctx, start, stop))
    widths = {r.key: len(r.columns) for r in matcher.t2_rows}

    def match(texts: list[str], _pending: str) -> RowSpec | None:
        for text in reversed(texts):
            row = matcher.t2_row(text)
            if row:
                return row
        return matcher.t2_row("".join(texts)) if len(texts) > 1 else None  # a label split by a stray space

    rows, _ = _collect_rows(ctx.lines, start, stop, match, warnings, widths=widths, fuzzy=matcher.t2_row_fuzzy)
    # The money unit stated by the nearest header or caption above each row.
    units: list[tuple[int, str]] = []
    for line in ctx.lines[start:stop]:
        for text in line.texts:
            unit = money_unit(text) if ("金额" in text or "单位" in text) and len(text) <= 40 else None
            if unit:
                units.append((line.number, unit))
    artifact = _trailing_artifact(rows, widths)
    headers = _t2_headers(ctx, start, rows, matcher.version)
    seen = set()
    for row, header in zip(rows, headers, strict=True):
        spec = row.spec
        if spec.key in seen:
            continue
        seen.add(spec.key)
        where = place("t2_row", line=row.line, label=spec.label)
        columns = _t2_row_columns(ctx, row, header, matcher.version, artifact, where)
        if columns is None:
            continue
        fitted, _ = _fit(row, len(columns), artifact)
        money = [c in template.money_columns for c in columns]
        unit = next((u for number, u in reversed(units) if number < row.line), None)
        for column, value in zip(columns, _values(fitted, money, where, warnings, unit), strict=True):
            if column is not None:
                ctx.put(f"t2.{spec.key}.{column}", value)
    return bool(rows)


def _t2_headers(ctx: _Context, start: int, rows: list[RawRow], version: str) -> list[PrintedColumns | None]:
    """Each table 2 row's sub-table header as printed above it (None: none readable, template order).

    The header is the run of lines without values right above the row's label; a row with values
    right above it continues the sub-table of the row before.
    """
    out: list[PrintedColumns | None] = []
    current: PrintedColumns | None = None
    floor = start
    for row in rows:
        texts: list[str] = []
        index = row.line - 2  # the line above the label (line numbers count from 1)
        while index >= floor:
            line = ctx.lines[index]
            if line.has_values or any(len(n) > MAX_LABEL_CHARS for n in line.norms):
                break
            texts[:0] = [c for c in line.cells if c.strip()]
            index -= 1
        # a sub-table starts at its caption (第二十条第（五）项), its 信息内容 header cell or its column labels
        found = table2_columns(texts, ctx.template, version) if texts else None
        if found is not None or any("信息内容" in normalize(t) or normalize(t).startswith("第二十条") for t in texts):
            current = found
            if current is not None:
                ctx.warnings.extend(f"line {row.line}: {w}" for w in current.warnings)
        out.append(current)
        floor = row.line  # the previous row's label line bounds the next header
    return out


def _t2_row_columns(ctx: _Context, row: RawRow, header: PrintedColumns | None, version: str, artifact: bool,
                    where: str) -> list[str | None] | None:
    """The columns one table 2 row's values are read into, by its printed header; None: row left blank.

    The printed header decides when the row holds as many values as it names columns; a column it
    does not print stays blank, a printed column the row's template lacks is ignored. When the values
    do not fit the printed header, the template order breaks the tie.
    """
    spec, labels = row.spec, ctx.template.raw["table2"][version]["columns"]
    template_columns: list[str | None] = list(spec.columns)
    if header is not None and None in header.columns:
        # Labels misread beyond fuzzy reach (OCR) standing exactly where the template's unnamed
        # columns belong are those columns; anywhere else they stay unknown.
        unnamed = iter(c for c in spec.columns if c not in header.columns)
        trial = [c if c is not None else next(unnamed, None) for c in header.columns]
        if trial == template_columns:
            unknown = [t for c, t in zip(header.columns, header.labels, strict=True) if c is None]
            ctx.warnings.append(W("t2.header_stand_in", where, labels=names(unknown)))
            header = None
    if header is not None and header.columns != template_columns:
        fitted, missing = _fit(row, len(header.columns), artifact)
        if not missing and len(row.core()) <= len(header.columns):
            lost = [c for c in spec.columns if c not in header.columns]
            if lost:
                ctx.warnings.append(W("t2.column_missing", where, columns=names(labels[c] for c in lost)))
            ignored = [label for key, label in zip(header.columns, header.labels, strict=True)
                       if key is not None and key not in spec.columns]
            if ignored:
                ctx.warnings.append(W("t2.columns_ignored", where, columns=names(ignored)))
            if [c for c in header.columns if c in spec.columns] != [c for c in spec.columns if c in header.columns]:
                ctx.warnings.append(W("t2.columns_reordered", where, columns=names(header.labels)))
            return [c if c in spec.columns else None for c in header.columns]
        fitted, missing = _fit(row, len(spec.columns), artifact)
        if not missing:
            ctx.warnings.append(W("t2.header_count", where, count=len(header.columns), labels=names(header.labels),
                                  values=len(fitted)))
            return template_columns
    fitted, missing = _fit(row, len(spec.columns), artifact)
    if missing:
        ctx.warnings.append(W("t2.values_unsettled", where, values=len(fitted), columns=len(spec.columns)))
        return None
    return template_columns


def _table3_header(ctx: _Context, start: int, stop: int) -> Table3Columns | None:
    """Table 3's printed applicant columns, from the header rows before its first row."""
    header_lines = []
    for line in ctx.lines[start:stop]:
        if line.has_values:
            break
        header_lines.append(line.cells)
    return table3_columns(header_lines, ctx.template) if header_lines else None


def _choose_columns(ctx: _Context, header: Table3Columns | None, rows: list[RawRow]) -> list[str | None] | None:
    """The printed column order to read rows by, or None for the template order.

    The header's order is used when the rows hold as many values as it has columns (with or without
    the columns the template lacks); otherwise a header row was lost in extraction and the template
    order breaks the tie.
    """
    template = ctx.template
    if header is None:
        return None
    if header.known == template.t3_columns and None not in header.columns:
        return None
    widths = Counter(len(r.core()) for r in rows)
    options = [header.columns, header.known]
    chosen = max(options, key=lambda o: (widths.get(len(o), 0), o is header.columns))
    if widths.get(len(chosen), 0) == 0 or chosen == template.t3_columns:
        if header.known != template.t3_columns:
            ctx.warnings.append(W("t3.header_count", count=len(header.columns), labels=names(header.labels)))
        return None
    missing = [c for c in template.t3_columns if c not in chosen]
    labels = {c["key"]: c["label"] for c in template.raw["table3"]["columns"]}
    if missing:
        ctx.warnings.append(W("t3.header_missing", columns=names(labels[c] for c in missing)))
    extra = [label for key, label in zip(header.columns, header.labels, strict=True) if key is None]
    if None in chosen and extra:
        ctx.warnings.append(W("t3.header_extra", columns=names(extra)))
    if [c for c in chosen if c] != [c for c in template.t3_columns if c in chosen]:
        ctx.warnings.append(W("t3.columns_reordered", columns=names(header.labels)))
    return chosen


def _map_table3(ctx: _Context, start: int, stop: int) -> tuple[bool, int]:
    """Table 3: rows by label meaning, columns by their printed headers, lost cells inferred only where
    the totals make them certain.

    Returns whether rows were found and the index of the first line after the table.
    """
    lines, matcher, template, warnings = ctx.lines, ctx.matcher, ctx.template, ctx.warnings
    header = _table3_header(ctx, start, stop)
    warnings.extend(header.fuzzy if header else [])
    carried_forward = "carried_forward"

    def is_end(line: Line) -> bool:
        return matcher.is_t4_header(line) or _is_section_heading(line, template)

    width = len(template.t3_columns)
    all_rows = matcher.t3_rows + matcher.foreign_rows
    widths = {r.key: width for r in all_rows}
    rows, end = _collect_rows(lines, start, stop, matcher.t3_row_of_line, warnings, widths=widths,
                              is_header=matcher.is_t3_header, is_end=is_end, last_key=carried_forward,
                              fuzzy=matcher.t3_row_fuzzy)
    # A group label of the other template version alone on its line ((六)其他处理 over three items) heads
    # no row.
    rows = [r for r in rows if not (matcher.is_foreign(r.spec) and not r.core())]
    # Keep the first table: a second run of rows after 结转下年度 belongs to a second report.
    first_end = next((i for i, r in enumerate(rows) if r.spec.key == carried_forward), None)
    if first_end is not None and first_end + 1 < len(rows):
        extra = rows[first_end + 1:]
        warnings.append(W("t3.continues", place("line", line=extra[0].line)))
        end = next((i for i, line in enumerate(lines) if line.number == extra[0].line), end)
        rows = rows[:first_end + 1]
    columns = _choose_columns(ctx, header, rows)
    if columns is not None:
        widths = {r.key: len(columns) for r in all_rows}
    artifact = _trailing_artifact(rows, widths)
    ambiguous: list[_Ambiguous] = []
    seen: set[str] = set()
    for row in rows:
        key = row.spec.key
        where = place("t3_row", line=row.line, label=row.label[:24])
        if key in seen:
            warnings.append(W("t3.row_twice", where))
            continue
        seen.add(key)
        if matcher.is_foreign(row.spec):
            other = next(v for v in VERSIONS if v != ctx.version)
            warnings.append(W("t3.foreign_row", where, version=ctx.version, other=other, key=key))
        if columns is not None:
            _map_row_by_header(ctx, row, columns, artifact, where)
            continue
        fitted, missing = _fit(row, width, artifact)
        if len(row.core()) > width:
            warnings.append(W("t3.extra_values", where, values=len(row.core()), columns=width,
                              extra=len(row.core()) - width))
        values = _values(fitted, [False] * len(fitted), where, warnings)
        if not missing:
            for column, value in zip(template.t3_columns, values, strict=True):
                ctx.put(f"t3.{key}.{column}", value)
            continue
        total, known = (values[-1], values[:-1]) if values else (None, [])
        placements = [] if total is None or None in known else _candidates(known, total, missing, width - 1)
        ctx.put(f"t3.{key}.total", total)
        if not placements:
            warnings.append(W("t3.lost_cell_unsettled", where, values=len(values), columns=width))
            continue
        if len(placements) == 1:
            warnings.append(W("t3.lost_cell_inferred", where, values=len(values), columns=width))
            placement, positions = placements[0]
            for i, (column, value) in enumerate(zip(template.t3_applicants, placement, strict=True)):
                ctx.put(f"t3.{key}.{column}", value, "inferred:t3.row_total" if i in positions else "printed")
        else:
            ambiguous.append(_Ambiguous(key, where, placements))
    for item in ambiguous:
        _settle_by_columns(item, ctx)
    return bool(rows), end


def _map_row_by_header(ctx: _Context, row: RawRow, columns: list[str | None], artifact: bool, where: str) -> None:
    """One table 3 row read in the printed column order; no inference (the layout is not the template's)."""
    fitted, missing = _fit(row, len(columns), artifact)
    if missing:
        ctx.warnings.append(W("row.values_count", where, values=len(fitted), columns=len(columns)))
        return
    values = _values(fitted, [False] * len(fitted), where, ctx.warnings)
    for column, value in zip(columns, values, strict=True):
        if column is not None:
            ctx.put(f"t3.{row.spec.key}.{column}", value)


def _settle_by_columns(item: _Ambiguous, ctx: _Context) -> None:
    """Choose the one placement of a lost cell that keeps every column's sums consistent, if unique."""
    from nianbao.parse.rules import check_cells

    columns = ctx.template.t3_applicants
    differing = [c for i, c in enumerate(columns) if len({p[i] for p, _ in item.candidates}) > 1]
    fitting = []
    for placement, positions in item.candidates:
        trial = dict(ctx.cells)
        for column, value in zip(columns, placement, strict=True):
            trial[f"t3.{item.key}.{column}"] = value
        findings = check_cells(trial, ctx.version, rules=("t3.balance", "t3.outcomes_sum"))
        if not any(f"t3.{item.key}.{c}" in f["cells"] for f in findings for c in differing):
            fitting.append((placement, positions))
    chosen = fitting[0] if len(fitting) == 1 else None
    if chosen is None:
        ctx.warnings.append(W("t3.lost_cell_no_place", item.label, cells=names(differing)))
    else:
        ctx.warnings.append(W("t3.lost_cell_placed", item.label))
    values, positions = chosen or item.candidates[0]
    for i, column in enumerate(columns):
        if chosen is not None or column not in differing:
            inferred = chosen is not None and i in positions
            ctx.put(f"t3.{item.key}.{column}", values[i],
                    "inferred:t3.row_total+t3.balance+t3.outcomes_sum" if inferred else "printed")


def _table4_order(ctx: _Context, header: int, stop: int) -> Table4Order | None:
    """Table 4's printed group and column order, from its header rows."""
    header_lines = []
    for line in ctx.lines[header:stop]:
        if line.has_values:
            break
        header_lines.append(line.cells)
    order = table4_order(header_lines, ctx.template)
    if order is None:
        return None
    ctx.warnings.extend(order.warnings)
    if order.groups == ctx.template.t4_groups and order.columns == ctx.template.t4_columns:
        return None
    missing = [g for g in ctx.template.t4_groups if g not in order.groups]
    if missing:
        ctx.warnings.append(W("t4.group_missing", groups=names(t4_group_name(g) for g in missing)))
    if [g for g in order.groups if g] != [g for g in ctx.template.t4_groups if g in order.groups] \
            or order.columns != ctx.template.t4_columns:
        ctx.warnings.append(W("t4.reordered"))
    return order


def _map_table4(ctx: _Context, start: int, stop: int) -> bool:
    """Table 4: after its header (often spread over several lines), its values in the printed group and
    column order (the template's when the header does not settle it)."""
    lines, matcher, template, warnings = ctx.lines, ctx.matcher, ctx.template, ctx.warnings
    header = next((i for i in range(start, stop) if matcher.is_t4_header(lines[i])), None)
    if header is None:
        return False
    # When the groups are rows, the header is the column labels above the first group label.
    header_lines = [line.cells for line in itertools.takewhile(
        lambda li: not li.has_values and not table4_group_of_label("".join(li.texts)), lines[header:stop])]
    by_rows = table4_row_columns(header_lines, template) if header_lines else None
    if by_rows is not None and _map_table4_rows(ctx, header, stop, by_rows):
        return True
    order = _table4_order(ctx, header, stop)
    groups = order.groups if order else template.t4_groups
    columns = order.columns if order else template.t4_columns
    width = len(groups) * len(columns)
    collected: list[str] = []
    first_line = None
    for index in range(header, stop):
        line = lines[index]
        if line.is_blank:
            continue
        if not line.has_values:
            if collected and line.texts and len(line.region_after_labels()) == len(columns):
                collected.extend(line.region_after_labels())  # a group printed as a row, all blank
                continue
            if collected or _is_section_heading(line, template) \
                    or any(len(n) > MAX_HEADER_CHARS for n in line.norms):
                break
            continue  # more header
        region = line.region_after_labels() if line.texts else line.cells
        first_line = first_line or line.number
        if not collected and len(region) >= width:
            collected = region
            break
        # One value per line: a lone empty cell beside a value is layout, not a blank value.
        collected.extend(region if len(region) > 2 else [c for c in region if c.strip()])
        if len([c for c in collected if c.strip()]) >= width:
            break
    if not collected:
        warnings.append(W("t4.header_without_values", place("line", line=lines[header].number)))
        return True
    row = RawRow(RowSpec(key="t4", label="table 4"), "table 4", first_line or 0, collected)
    fitted, missing = _fit(row, width, trailing_artifact=False)
    where = place("t4", line=row.line)
    if missing:
        warnings.append(W("t4.values_count", where, values=len(fitted), columns=width))
        return True
    values = iter(_values(fitted, [False] * width, where, warnings))
    for group in groups:
        for column in columns:
            value = next(values)
            if group is not None:
                ctx.put(f"t4.{group}.{column}", value)
    return True


def _map_table4_rows(ctx: _Context, header: int, stop: int, printed: PrintedColumns) -> bool:
    """Table 4 printed one group per row (行政复议 / 行政诉讼·未经复议直接起诉 / 行政诉讼·复议后起诉 as row
    labels under one header of result columns): each row's values go to the group its label names,
    under the columns its header prints. False when no row label names a group (not this layout)."""
    lines, template, warnings = ctx.lines, ctx.template, ctx.warnings
    width = len(printed.columns)
    rows: list[RawRow] = []
    pending: str | None = None
    current: RawRow | None = None
    for index in range(header, stop):
        line = lines[index]
        if line.is_blank:
            continue
        label = "".join(line.texts)
        group = table4_group_of_label(label) if label and len(normalize(label)) <= MAX_LABEL_CHARS else None
        if not line.has_values:
            if group is not None:
                pending = group  # a label on its own line, its values on the lines after it
                continue
            if rows and (_is_section_heading(line, template) or any(len(n) > MAX_HEADER_CHARS for n in line.norms)):
                break
            continue
        if not label and current is not None and len([c for c in current.cells if c.strip()]) < width:
            current.cells.extend(c for c in line.cells if c.strip())  # one value per line
            continue
        group = group or (pending if not label else None)
        pending = None
        if group is None:
            if rows:
                break
            continue
        current = RawRow(RowSpec(key=group, label=label or group), label, line.number, line.region_after_labels())
        rows.append(current)
    if not any(r.spec.key in template.t4_groups for r in rows) or any(len(r.core()) > width for r in rows):
        return False  # no group labels its row, or a row holds more values than the header has columns
    warnings.extend(printed.warnings)
    seen: list[str] = []
    for row in rows:
        where = place("t4_row", line=row.line, label=row.label[:20] or row.spec.key)
        group = row.spec.key
        if group not in template.t4_groups:
            warnings.append(W("t4.not_split", where))
            continue
        if group in seen:
            warnings.append(W("t4.group_twice", where))
            continue
        fitted, missing = _fit(row, width, trailing_artifact=False)
        if missing:
            warnings.append(W("row.values_count", where, values=len(fitted), columns=width))
            continue
        seen.append(group)
        for column, value in zip(printed.columns, _values(fitted, [False] * width, where, warnings), strict=True):
            if column is not None:
                ctx.put(f"t4.{group}.{column}", value)
    lost = [g for g in template.t4_groups if g not in seen]
    if lost:
        warnings.append(W("t4.row_missing", groups=names(t4_group_name(g) for g in lost)))
    absent = [c for c in template.t4_columns if c not in printed.columns]
    if absent:
        warnings.append(W("t4.column_missing", columns=names(t4_column_name(c) for c in absent)))
    warnings.append(W("t4.group_per_row"))
    return True


def _first(lines: list[Line], predicate: Callable[[Line], bool], start: int = 0) -> int | None:
    return next((i for i in range(start, len(lines)) if predicate(lines[i])), None)


def map_layout(layout: Layout, version: str | None = None) -> MappedTables:
    """Read the template's three tables from `layout` into canonical cells.

    `version` forces a template version; by default it is detected from the table headers. Returns
    version None (and no cells) when no template table is found. Every cell's provenance says whether
    it was printed, inferred (and by which rule), or left blank because nothing printed reached it.
    """
    template = load_template()
    lines = classify(layout)
    warnings: list[str] = []
    version = version or detect_version(lines, template)
    if version is None:
        version = _version_from_table3(lines, template)
    if version is None:
        return MappedTables(None, {}, warnings, [])
    matcher = _matcher(template, version)
    cells: dict[str, int | float | None] = dict.fromkeys(template.cell_keys(version))
    ctx = _Context(lines, template, version, matcher, cells, warnings)
    found = []

    def t3_start(line: Line) -> bool:
        if matcher.is_t3_header(line):
            return True
        texts = line.texts
        return bool(texts) and line.has_values and matcher.t3_row_of_line(texts, "") is not None

    start3 = _first(lines, t3_start)
    stop2 = start3 if start3 is not None else len(lines)
    if _map_table2(ctx, 0, stop2):
        found.append("t2")
    end3 = stop2
    if start3 is not None:
        has3, end3 = _map_table3(ctx, start3, len(lines))
        if has3:
            found.append("t3")
    stop4 = len(lines)
    if start3 is not None:
        def starts_table3(line: Line) -> bool:
            row = matcher.t3_row_of_line(line.texts, "") if line.texts and line.has_values else None
            return row is not None and row.key == "new_received"

        second = _first(lines, starts_table3, end3)
        if second is not None:
            warnings.append(W("t3.second_table", place("line", line=lines[second].number)))
            stop4 = second
    if _map_table4(ctx, end3, stop4):
        found.append("t4")
    for table in ("t2", "t3", "t4"):
        if table not in found:
            warnings.append(W("table.not_found", table=TABLE_NAMES[table[1]]))
    provenance = {key: ctx.provenance.get(key, "blank") for key in cells}
    return MappedTables(version, cells, warnings, found, provenance)


def _version_from_table3(lines: list[Line], template: Template) -> str | None:
    """Without table 2 headers: 2021 splits （六）其他处理 into three items, 2019 gives it values."""
    m2021, m2019 = _matcher(template, "2021"), _matcher(template, "2019")
    for line in lines:
        texts = line.texts
        if not texts or not line.has_values:
            continue
        row = m2021.t3_row_of_line(texts, "")
        if row and row.key.startswith("other_handling."):
            return "2021"
        row = m2019.t3_row_of_line(texts, "")
        if row and row.key == "other_handling":
            return "2019"
    return None
