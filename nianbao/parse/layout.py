"""The Layout: what every format reader returns and the mapper reads."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Layout:
    """A document as lines of cells, in reading order.

    A paragraph is a one-cell line; a table row is a multi-cell line. Merged
    cells carry their text in the first position and "" in every position they
    cover, as tab-separated text extracted from a PDF does.
    """

    lines: list[list[str]]
    kind: str
    warnings: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The whole document as plain text, cells joined by tabs."""
        return "\n".join("\t".join(cells) for cells in self.lines)
