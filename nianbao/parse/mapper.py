"""Layout → the template's canonical cells, for both template versions.

Real documents flatten their tables in many ways (tab runs, one value per line, labels split, fused,
truncated or moved, a column lost on some rows, headers repeated after a page break); the mapper reads
rows as "label, then values" and places values by the template's column order.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from nianbao.parse.layout import Layout
from nianbao.parse.numbers import parse_number
from nianbao.template import RowSpec, Template, load_template, normalize, split_numbering

EMPTY, VALUE, TEXT = 0, 1, 2
# A label cell longer than this is prose, not a table row label.
MAX_LABEL_CHARS = 60
MAX_HEADER_CHARS = 16
_PARENTHESIS = re.compile(r"\([^)]*\)")
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
    """The template version the tables are printed on, from their headers (never from the year)."""
    template = template or load_template()
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
        self.t3_rows = template.t3_rows(version)
        self.t3_prefixes = [(split_numbering(r.label.split(" ")[-1])[1], r) for r in self.t3_rows]
        self.t2_rows = template.t2_rows(version)
        self.t3_headers = template.t3_header_fragments
        self.t4_headers = template.t4_header_fragments

    def t3_row(self, text: str) -> RowSpec | None:
        number, rest = split_numbering(text)
        if not rest or len(rest) > MAX_LABEL_CHARS:
            return None
        for row in self.t3_rows:
            if number and rest in row.numbered:
                return row
            if any(f in rest for f in row.fragments):
                return row
        if len(rest) >= 4:  # a truncated label: a long enough prefix of exactly one template label
            hits = [r for label, r in self.t3_prefixes if label.startswith(rest)]
            if len(hits) == 1:
                return hits[0]
        return None

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
        rest = _PARENTHESIS.sub("", rest)
        if not rest or len(rest) > 20:
            return None
        for row in self.t2_rows:
            if rest in row.variants:
                return row
        return None

    def is_t4_header(self, line: Line) -> bool:
        return any(f in norm for norm in line.norms if 0 < len(norm) <= MAX_HEADER_CHARS for f in self.t4_headers)


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
                  last_key: str | None = None) -> tuple[list[RawRow], int]:
    """Rows of one table from lines[start:stop]: a label starts a row, values on later lines extend it.

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
            if spec is None and line.has_values and current is not None and not filled(current):
                # The rest of a label split over lines, now with the row's values.
                current.cells = line.region_after_labels()
                current.label += "".join(texts)
                continue
            if spec is None or (finished and not line.has_values):
                if rows and (finished or (is_end and is_end(line))):
                    return rows, index
                if line.has_values:
                    warnings.append(f"line {line.number}: table row label {''.join(texts)[:30]!r} not recognised")
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


def _values(cells: list[str], money: list[bool], where: str, warnings: list[str]) -> list[int | float | None]:
    out = []
    for cell, is_money in zip(cells, money, strict=True):
        number = parse_number(cell, money=is_money)
        if number is None:
            warnings.append(f"{where}: {cell!r} is not a number; left blank")
            out.append(None)
            continue
        if number.warning:
            warnings.append(f"{where}: {number.warning}")
        out.append(number.value)
    return out


def _candidates(known: list[int | float], total: int | float, missing: int, slots: int) -> list[list]:
    """Every placement of `missing` lost cells among `slots` applicant columns that the row total allows."""
    rest = total - sum(known)
    if rest < 0 or (missing > 1 and rest != 0):
        return []
    fill = [rest] if missing == 1 else [0] * missing
    placements = []
    for positions in itertools.combinations(range(slots), missing):
        it_known, it_fill = iter(known), iter(fill)
        row = [next(it_fill) if i in positions else next(it_known) for i in range(slots)]
        if row not in placements:
            placements.append(row)
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


class _Ambiguous:
    """A row with a lost cell whose position only the column totals can settle."""

    def __init__(self, key: str, label: str, candidates: list[list]) -> None:
        self.key, self.label, self.candidates = key, label, candidates


def _map_table2(ctx: _Context, start: int, stop: int) -> bool:
    """Table 2: each row label, then its values in the version's column order."""
    matcher, template, cells, warnings = ctx.matcher, ctx.template, ctx.cells, ctx.warnings
    widths = {r.key: len(r.columns) for r in matcher.t2_rows}

    def match(texts: list[str], _pending: str) -> RowSpec | None:
        for text in reversed(texts):
            row = matcher.t2_row(text)
            if row:
                return row
        return None

    rows, _ = _collect_rows(ctx.lines, start, stop, match, warnings, widths=widths)
    artifact = _trailing_artifact(rows, widths)
    seen = set()
    for row in rows:
        spec = row.spec
        if spec.key in seen:
            continue
        seen.add(spec.key)
        fitted, missing = _fit(row, len(spec.columns), artifact)
        where = f"line {row.line} (table 2 {spec.label})"
        money = [c in template.money_columns for c in spec.columns]
        if missing:
            warnings.append(f"{where}: {len(fitted)} values for {len(spec.columns)} columns; "
                            f"cannot tell which is missing, row left blank")
            continue
        for column, value in zip(spec.columns, _values(fitted, money, where, warnings), strict=True):
            cells[f"t2.{spec.key}.{column}"] = value
    return bool(rows)


def _map_table3(ctx: _Context, start: int, stop: int) -> tuple[bool, int]:
    """Table 3: rows by label meaning, lost cells inferred only where the totals make them certain.

    Returns whether rows were found and the index of the first line after the table.
    """
    lines, matcher, template, cells, warnings = ctx.lines, ctx.matcher, ctx.template, ctx.cells, ctx.warnings
    width = len(template.t3_columns)
    widths = {r.key: width for r in matcher.t3_rows}
    carried_forward = "carried_forward"

    def is_end(line: Line) -> bool:
        return matcher.is_t4_header(line) or _is_section_heading(line, template)

    rows, end = _collect_rows(lines, start, stop, matcher.t3_row_of_line, warnings, widths=widths,
                              is_header=matcher.is_t3_header, is_end=is_end, last_key=carried_forward)
    # Keep the first table: a second run of rows after 结转下年度 belongs to a second report.
    first_end = next((i for i, r in enumerate(rows) if r.spec.key == carried_forward), None)
    if first_end is not None and first_end + 1 < len(rows):
        extra = rows[first_end + 1:]
        warnings.append(f"line {extra[0].line}: table 3 continues after its last row (another report in the "
                        f"file?); kept the first table")
        end = next((i for i, line in enumerate(lines) if line.number == extra[0].line), end)
        rows = rows[:first_end + 1]
    artifact = _trailing_artifact(rows, widths)
    ambiguous: list[_Ambiguous] = []
    seen: set[str] = set()
    columns = template.t3_columns
    for row in rows:
        key = row.spec.key
        where = f"line {row.line} (table 3 {row.label[:24]})"
        if key in seen:
            warnings.append(f"{where}: row printed twice; kept the first")
            continue
        seen.add(key)
        fitted, missing = _fit(row, width, artifact)
        values = _values(fitted, [False] * len(fitted), where, warnings)
        if not missing:
            for column, value in zip(columns, values, strict=True):
                cells[f"t3.{key}.{column}"] = value
            continue
        total, known = (values[-1], values[:-1]) if values else (None, [])
        placements = [] if total is None or None in known else _candidates(known, total, missing, width - 1)
        if not placements:
            warnings.append(f"{where}: {len(values)} values for {width} columns and the row total does not "
                            f"settle the lost one; applicant cells left blank")
            cells[f"t3.{key}.total"] = total
            continue
        cells[f"t3.{key}.total"] = total
        if len(placements) == 1:
            warnings.append(f"{where}: {len(values)} values for {width} columns; inferred the lost cell from "
                            f"the row total")
            for column, value in zip(columns, placements[0], strict=False):
                cells[f"t3.{key}.{column}"] = value
        else:
            ambiguous.append(_Ambiguous(key, where, placements))
    for item in ambiguous:
        _settle_by_columns(item, cells, template, ctx.version, warnings)
    return bool(rows), end


def _settle_by_columns(item: _Ambiguous, cells: dict, template: Template, version: str,
                       warnings: list[str]) -> None:
    """Choose the one placement of a lost cell that keeps every column's sums consistent, if unique."""
    from nianbao.parse.rules import check_cells

    columns = template.t3_applicants
    differing = [c for i, c in enumerate(columns) if len({p[i] for p in item.candidates}) > 1]
    fitting = []
    for placement in item.candidates:
        trial = dict(cells)
        for column, value in zip(columns, placement, strict=True):
            trial[f"t3.{item.key}.{column}"] = value
        findings = check_cells(trial, version, rules=("t3.balance", "t3.outcomes_sum"))
        if not any(f"t3.{item.key}.{c}" in f["cells"] for f in findings for c in differing):
            fitting.append(placement)
    chosen = fitting[0] if len(fitting) == 1 else None
    if chosen is None:
        warnings.append(f"{item.label}: a cell was lost and neither the row total nor the column totals "
                        f"settle where; cells {', '.join(differing)} left blank")
    else:
        warnings.append(f"{item.label}: a cell was lost; placed it where the row and column totals agree")
    for i, column in enumerate(columns):
        if chosen is not None or column not in differing:
            cells[f"t3.{item.key}.{column}"] = (chosen or item.candidates[0])[i]


def _map_table4(ctx: _Context, start: int, stop: int) -> bool:
    """Table 4: after its header (often spread over several lines), 15 values in template order."""
    lines, matcher, template, cells, warnings = ctx.lines, ctx.matcher, ctx.template, ctx.cells, ctx.warnings
    header = next((i for i in range(start, stop) if matcher.is_t4_header(lines[i])), None)
    if header is None:
        return False
    width = len(template.t4_groups) * len(template.t4_columns)
    collected: list[str] = []
    first_line = None
    for index in range(header, stop):
        line = lines[index]
        if line.is_blank:
            continue
        if not line.has_values:
            if collected and line.texts and len(line.region_after_labels()) == len(template.t4_columns):
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
        warnings.append(f"line {lines[header].number}: table 4 header without values")
        return True
    row = RawRow(RowSpec(key="t4", label="table 4"), "table 4", first_line or 0, collected)
    fitted, missing = _fit(row, width, trailing_artifact=False)
    where = f"line {row.line} (table 4)"
    if missing:
        warnings.append(f"{where}: {len(fitted)} values for {width} columns; table 4 left blank")
        return True
    values = _values(fitted, [False] * width, where, warnings)
    keys = [f"t4.{g}.{c}" for g in template.t4_groups for c in template.t4_columns]
    cells.update(zip(keys, values, strict=True))
    return True


def _first(lines: list[Line], predicate: Callable[[Line], bool], start: int = 0) -> int | None:
    return next((i for i in range(start, len(lines)) if predicate(lines[i])), None)


def map_layout(layout: Layout, version: str | None = None) -> MappedTables:
    """Read the template's three tables from `layout` into canonical cells.

    `version` forces a template version; by default it is detected from the table headers. Returns
    version None (and no cells) when no template table is found.
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
            warnings.append(f"line {lines[second].number}: a second table 3 (another report in the file?); "
                            f"kept the first report's tables")
            stop4 = second
    if _map_table4(ctx, end3, stop4):
        found.append("t4")
    for table in ("t2", "t3", "t4"):
        if table not in found:
            warnings.append(f"table {table[1]} not found; its cells are blank")
    return MappedTables(version, cells, warnings, found)


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
