"""Tolerant label matching: a printed label against the template's labels when no exact form matches.

Published reports misprint labels: a character dropped (行政规范文件), a homophone (上年节转), a stray
space, a traditional-character copy. After normalisation (`nianbao.template.normalize`: traditional →
simplified, NFKC, ①→1., no whitespace; numbering and bracketed asides stripped) the printed label is
compared with every template label by edit distance. A match must lie within a bound that grows with
the label's length, and must be unambiguous: when two template labels are equally close, the caller
gets the candidates and warns instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from nianbao.parse.messages import names
from nianbao.parse.messages import warning as message
from nianbao.template import normalize, split_numbering, strip_brackets

# An enumeration inside a fused label: "(三)不予公开1.属于国家秘密" → the item after "1.".
_INNER_NUMBER = re.compile(r"(?:\([0-9一二三四五六七八九十]{1,2}\)|[0-9]{1,2}[.,:])")


def max_distance(length: int) -> int:
    """The largest edit distance accepted for a template label of `length` characters.

    Two-character labels (规章, 总计) must match exactly: one edit would make them any word.
    """
    if length <= 2:
        return 0
    if length <= 5:
        return 1
    if length <= 10:
        return 2
    return min(5, length // 5)


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of `a` and `b`, or `limit + 1` as soon as it must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def label_core(text: str) -> str:
    """A printed label reduced to what is compared: normalised, numbering and bracketed asides removed."""
    _, rest = split_numbering(normalize(text))
    return strip_brackets(rest)


@dataclass(frozen=True)
class FuzzyMatch:
    """The outcome of a fuzzy look-up: the key matched (None when ambiguous) and how close it was."""

    key: str | None
    printed: str
    label: str
    distance: int
    ambiguous: tuple[str, ...] = ()

    def warning(self, where: str) -> str:
        """The report warning that records this match (or the refusal to guess)."""
        if self.key is None:
            return message("label.ambiguous", where, printed=self.printed, candidates=names(self.ambiguous))
        return message("label.fuzzy", where, printed=self.printed, label=self.label, distance=self.distance)


class LabelIndex:
    """The template labels of one table, for fuzzy look-ups: (key, label as printed in the template)."""

    def __init__(self, labels: Iterable[tuple[str, str]]) -> None:
        self.entries = [(key, label, label_core(label)) for key, label in labels]
        self.entries = [(k, label, core) for k, label, core in self.entries if core]

    def match(self, printed: str) -> FuzzyMatch | None:
        """The closest template label within bounds, None when none is close enough.

        An ambiguous look-up (two keys at the best distance) returns a FuzzyMatch whose key is None.
        """
        cores = [label_core(printed)]
        inner = list(_INNER_NUMBER.finditer(normalize(printed)))
        if inner:  # a group label fused in front of the item label
            cores.append(strip_brackets(normalize(printed)[inner[-1].end():]))
        best: dict[str, tuple[int, str]] = {}
        for core in cores:
            if not core:
                continue
            for key, label, target in self.entries:
                bound = max_distance(len(target))
                distance = edit_distance(core, target, bound)
                if distance <= bound and (key not in best or distance < best[key][0]):
                    best[key] = (distance, label)
        if not best:
            return None
        ranked = sorted(best.items(), key=lambda item: item[1][0])
        (key, (distance, label)) = ranked[0]
        tied = tuple(k for k, (d, _) in ranked if d == distance)
        if len(tied) > 1:
            return FuzzyMatch(None, printed.strip(), label, distance, tied)
        return FuzzyMatch(key, printed.strip(), label, distance)
