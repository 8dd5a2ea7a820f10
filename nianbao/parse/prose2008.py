"""Headline figures the reports of the 2008 条例 period (statistical years 2008–2018) give in prose.

Before the national template of 2019 a report had no fixed tables; most state a few figures in their
sentences: how many items were proactively disclosed (主动公开政府信息…条), how many requests were
received (受理/收到…申请…件) and how they ended (同意公开 / 部分公开 / 不予公开 …件), how many
administrative reviews and lawsuits followed (行政复议…件, 行政诉讼…件), and the fees charged
(收取…费用…元). They are stored under their own `p08.` keys (listed with their labels in template.json under `prose2008`),
never under the template's cells, so nobody mistakes them for table figures.

A statement that there were none (未收到…申请, 未发生…行政复议和行政诉讼, 未收取…费用) gives 0; a
figure the report does not state stays absent. The first statement in reading order wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_N = r"(\d[\d,，]*(?:\.\d+)?)"
_GAP = r"[^。；;！!？?\d]{0,%d}?"
_COUNT = r"\s*(?:件|宗|起|次|个|份)"
_PATTERNS: tuple[tuple[str, re.Pattern], ...] = (
    ("p08.proactive.items", re.compile(r"主动公开" + _GAP % 16 + _N + r"\s*(?:条|件|项)")),
    ("p08.requests.received", re.compile(
        r"(?:受理|收到|接到|接收|办理)" + _GAP % 16 + r"申请" + _GAP % 4 + _N + _COUNT)),
    ("p08.requests.granted", re.compile(r"(?<!部分)(?:同意公开|予以公开|全部公开)" + _GAP % 4 + _N + _COUNT)),
    ("p08.requests.partially_granted", re.compile(r"部分公开" + _GAP % 4 + _N + _COUNT)),
    ("p08.requests.withheld", re.compile(r"不予公开" + _GAP % 4 + _N + _COUNT)),
    ("p08.reviews.total", re.compile(r"行政复议" + _GAP % 6 + _N + _COUNT)),
    ("p08.litigation.total", re.compile(r"行政诉讼" + _GAP % 6 + _N + _COUNT)),
)
_FEE = re.compile(r"收取" + _GAP % 24 + r"费" + _GAP % 6 + _N + r"\s*(万元|元)")
_NONE: tuple[tuple[tuple[str, ...], re.Pattern], ...] = (
    (("p08.requests.received",), re.compile(r"(?:未|没有)(?:收到|受理|接到|接收)" + _GAP % 16 + r"申请")),
    (("p08.reviews.total", "p08.litigation.total"),
     re.compile(r"(?:未|没有|无)(?:发生|产生|出现|收到|涉及)?" + r"[^。；;\d]{0,30}行政复议[和与及、或]行政诉讼")),
    (("p08.reviews.total",), re.compile(r"(?:未|没有|无)(?:发生|产生|出现|收到)?[^。；;\d]{0,30}行政复议(?![和与及、或]行政诉讼)")),
    (("p08.litigation.total",), re.compile(r"(?:未|没有|无)(?:发生|产生|出现|收到)?[^。；;\d]{0,30}行政诉讼")),
    (("p08.fees.yuan",), re.compile(r"(?:未|没有|不)收取" + _GAP % 24 + r"费")),
)


def _number(text: str) -> float | int:
    value = float(re.sub(r"[,，]", "", text))
    return int(value) if value.is_integer() else value


def _sentences(texts: Iterable[str]) -> list[str]:
    out: list[str] = []
    for text in texts:
        out += [s for s in re.split(r"(?<=[。；;！!？?\n])", re.sub(r"[ \t\u3000]+", "", text or "")) if s.strip()]
    return out


def extract_prose_figures(texts: Iterable[str]) -> dict[str, float | int]:
    """The `p08.` figures the texts state (see module doc); empty when they state none."""
    found: dict[str, float | int] = {}
    for sentence in _sentences(texts):
        for key, pattern in _PATTERNS:
            if key not in found and (match := pattern.search(sentence)):
                found[key] = _number(match.group(1))
        if "p08.fees.yuan" not in found and (fee := _FEE.search(sentence)):
            amount = _number(fee.group(1))
            found["p08.fees.yuan"] = amount * 10000 if fee.group(2) == "万元" else amount
        for keys, pattern in _NONE:
            if pattern.search(sentence):
                for key in keys:
                    found.setdefault(key, 0)
    return found


def prose_figures(layout) -> dict[str, float | int]:
    """The `p08.` figures of a read document (a Layout): every line in reading order."""
    return extract_prose_figures(" ".join(c for c in line if c) for line in layout.lines)
