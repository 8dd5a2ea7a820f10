"""A printed table value → number or None (blank/dash), with a warning for every conversion."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from nianbao.parse.messages import warning as message

# After NFKC: full-width digits, signs and separators are ASCII; the dashes below survive NFKC.
_DASHES = frozenset({"-", "—", "——", "–", "―", "‐", "−", "/", "\\", "--", "---", "－", "/-", "-/"})
_NUMBER = re.compile(
    r"^(?P<sign>[+\-−]|减少|增加|减|增|下降|上升)?"
    r"(?P<digits>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?P<unit>万元|亿元|千元|元|件|个|项|次|条|人次|人|家|份|宗)?$"
)
_CHINESE_NUMBER = re.compile(r"^(?P<sign>减少|增加)?(?P<digits>[零〇一二两三四五六七八九十百千万]+)(?P<unit>万元|元|件|个|项|次|条)?$")
_NEGATIVE = frozenset({"-", "−", "减少", "减", "下降"})
_NONE_WORDS = {"无": 0, "没有": 0}
_SPACE = re.compile(r"\s+")
# Digits on both sides of a space: one number with a stray space, or two numbers run together.
_SPLIT_DIGITS = re.compile(r"\d\s+\d")
# How many 万元 one of each printed money unit is.
MONEY_UNITS = {"元": 0.0001, "千元": 0.1, "万元": 1, "亿元": 10000}
# A speck beside a figure in a scan reads as a stray mark (".0", "3'"); no template figure starts with one.
_STRAY_MARKS = re.compile(r"^[.,'`·:;_]+(?=\d+$)|(?<=^\d)[.,'`·:;_]+$|(?<=^\d\d)[.,'`·:;_]+$")


@dataclass(frozen=True, slots=True)
class Number:
    """A printed value: `value` None means a printed blank or dash; `warning` names any conversion."""

    value: int | float | None
    warning: str | None = None


BLANK = Number(None)


def _to_number(digits: str) -> int | float:
    digits = digits.replace(",", "")
    return float(digits) if "." in digits else int(digits)


def _tidy(value: float) -> int | float:
    rounded = round(value, 6)
    return int(rounded) if rounded == int(rounded) and abs(rounded) < 1e15 else rounded


def _chinese(digits: str) -> int | None:
    import cn2an  # imported on first use: cn2an is slow to import and rarely needed

    try:
        return int(cn2an.cn2an(digits.replace("两", "二").replace("〇", "零"), "strict"))
    except (ValueError, KeyError, TypeError):
        return None


@functools.lru_cache(maxsize=8192)
def parse_number(text: str | None, *, money: bool = False, unit: str | None = None) -> Number | None:
    """Read one printed cell.

    Returns None when `text` is not a value at all (a label or prose); `Number(None)` for a blank or
    a dash, and for a figure that cannot be read with certainty ("1 2": one number or two?), with a
    warning; otherwise the number. A `money` cell is stored in 万元: its own unit wins, else `unit`
    (the unit its column header or the table caption states), else it is taken as 万元.
    """
    if text is None:
        return BLANK
    nfkc = unicodedata.normalize("NFKC", text)
    norm = _SPACE.sub("", nfkc)
    if _SPLIT_DIGITS.search(nfkc.strip()) and _NUMBER.match(norm):
        return Number(None, message("value.split_by_space", text=text.strip()))
    if not norm:
        return BLANK
    if norm in _DASHES or set(norm) <= {"-", "—", "–", "―", "/"}:
        return BLANK
    if norm in _NONE_WORDS:
        return Number(_NONE_WORDS[norm], message("value.read_as", text=text.strip(), value=_NONE_WORDS[norm]))
    warning = None
    stripped = norm if money and norm.startswith(".") else _STRAY_MARKS.sub("", norm)
    if stripped != norm:
        warning = message("value.stray_mark", text=text.strip(), value=stripped)
        norm = stripped
    match = _NUMBER.match(norm)
    if match:
        value: int | float = _to_number(match["digits"])
        if "," in match["digits"] and warning is None:
            warning = message("value.read_as", text=text.strip(), value=value)
    else:
        match = _CHINESE_NUMBER.match(norm)
        if not match:
            return None
        chinese = _chinese(match["digits"])
        if chinese is None:
            return None
        value, warning = chinese, message("value.chinese_numeral", text=text.strip(), value=chinese)
    sign, own_unit = match["sign"], match["unit"]
    if sign in _NEGATIVE:
        value = -value
        if sign not in ("-", "−"):
            warning = message("value.read_as", text=text.strip(), value=value)
    elif sign in ("增加", "增", "上升"):
        warning = message("value.read_as", text=text.strip(), value=value)
    if money and own_unit in MONEY_UNITS and own_unit != "万元":
        value = _tidy(value * MONEY_UNITS[own_unit])
        warning = message("value.to_wanyuan", text=text.strip(), value=value)
    elif money and own_unit is None and unit in MONEY_UNITS and unit != "万元":
        value = _tidy(value * MONEY_UNITS[unit])
        warning = message("value.to_wanyuan_by_header", text=text.strip(), unit=unit, value=value)
    return Number(value, warning)


def is_value(text: str) -> bool:
    """True when `text` is a printed value (a number, a blank or a dash), not a label."""
    return parse_number(text) is not None
