"""The cell_keys table: each canonical cell key with its table, row, column, Chinese labels and order."""

from __future__ import annotations

from collections.abc import Iterable

import sqlite_utils

from catalog.schema import _KEY_RE


def _template_labels() -> dict[str, str]:
    """Chinese labels of the cell keys from the template data, or {} while it is unavailable."""
    try:
        from nianbao.template import cell_labels
    except ImportError:
        return {}
    try:
        return dict(cell_labels())
    except Exception:  # a broken template must not stop cataloguing
        return {}


def _split_key(key: str) -> tuple[str, str, str]:
    match = _KEY_RE.match(key)
    if not match:
        return ("", key, "")
    return match.group(1), match.group(2), match.group(3)


def _ensure_cell_keys(db: sqlite_utils.Database, keys: Iterable[str]) -> None:
    """Add rows to cell_keys for keys not yet there, labelled from the template when it knows them."""
    known = {row[0] for row in db.execute("select key from cell_keys")}
    new = [k for k in dict.fromkeys(keys) if k not in known]
    if not new:
        return
    labels = _template_labels()
    order = {k: i for i, k in enumerate(labels)}
    rows = []
    for i, key in enumerate(new):
        table_no, row_key, column_key = _split_key(key)
        label = labels.get(key)
        row_label, column_label = _split_label(label)
        # Keys the template does not know sort after every template key, in arrival order.
        position = order.get(key, 100000 + len(known) + i)
        rows.append({
            "key": key, "table_no": table_no, "row_key": row_key, "column_key": column_key,
            "label": label, "row_label": row_label, "column_label": column_label,
            "unit": "万元" if key.endswith(".amount") else None, "position": position,
        })
    db["cell_keys"].insert_all(rows, pk="key", ignore=True)


def _split_label(label: str | None) -> tuple[str | None, str | None]:
    """'row label / column label' → the two halves (labels without a separator are row labels)."""
    if not label:
        return None, None
    for sep in (" · ", " / "):
        if sep in label:
            row, _, column = label.rpartition(sep)
            return row.strip(), column.strip()
    return label, None


def refresh_cell_labels(db: sqlite_utils.Database, only_missing: bool = False) -> int:
    """Relabel cell keys from the template data (all, or only those without a label); return rows changed."""
    labels = _template_labels()
    if not labels:
        return 0
    order = {k: i for i, k in enumerate(labels)}
    where = "key = ? and label is null" if only_missing else "key = ?"
    changed = 0
    with db.atomic():
        for key, label in labels.items():
            row_label, column_label = _split_label(label)
            cur = db.execute(
                f"update cell_keys set label = ?, row_label = ?, column_label = ?, position = ? where {where}",
                [label, row_label, column_label, order[key], key],
            )
            changed += cur.rowcount
    return changed

