"""Cell provenance end to end: an inferred cell is marked in the parse JSON, in the catalog's cells and
in the printed-table views (and so in every Datasette export of them)."""

from __future__ import annotations

import json

from test_mapper import report, t3_lines

import catalog
from nianbao.parse import parse_layout
from nianbao.parse.layout import Layout


def _inferred_report() -> Layout:
    t3 = t3_lines()
    # 本机关不掌握: six values for seven columns; the row total and the column sums settle the lost one.
    t3[12] = ["", "（四）无法提供", "1.本机关不掌握相关政府信息", "1", "0", "0", "0", "0", "1"]
    return report(t3=t3)


def test_an_inferred_cell_is_marked_in_the_parse_json_and_in_the_catalog(tmp_path) -> None:
    parsed = parse_layout(_inferred_report(), "inferred.html")
    parsed.sha256 = "ab" * 32
    as_json = json.loads(json.dumps(parsed.to_json(), ensure_ascii=False))
    inferred = sorted(k for k, v in as_json["provenance"].items() if v.startswith("inferred:"))
    assert inferred and all(k.startswith("t3.unable.not_held.") for k in inferred)
    assert as_json["provenance"]["t3.unable.not_held.total"] == "printed"

    db = catalog.open_catalog(tmp_path / "catalog.db")
    doc = catalog.record_document(db, {"portal_id": "p1", "url": "http://127.0.0.1:9/r.html", "kind": "report_page",
                                       "sha256": parsed.sha256, "content_type": "text/html"})
    report_id = catalog.record_report(db, doc, parsed, "test")
    stored = dict(db.execute("select key, provenance from cells where report_id = ? and provenance != 'printed'",
                             [report_id]).fetchall())
    assert sorted(k for k, v in stored.items() if v.startswith("inferred:")) == inferred
    assert stored[inferred[0]] == as_json["provenance"][inferred[0]]
    (marked,) = db.execute("select provenance from table3 where report_id = ? and row_key = 'unable.not_held'",
                           [report_id]).fetchone()
    assert marked and "inferred:" in marked
    (clean,) = db.execute("select provenance from table3 where report_id = ? and row_key = 'granted'",
                          [report_id]).fetchone()
    assert clean is None


def test_cells_no_printed_value_reached_are_stored_as_blank(tmp_path) -> None:
    parsed = parse_layout(report(t4=[]), "no-t4.html")
    parsed.sha256 = "cd" * 32
    db = catalog.open_catalog(tmp_path / "catalog.db")
    doc = catalog.record_document(db, {"portal_id": "p1", "url": "http://127.0.0.1:9/n.html", "kind": "report_page",
                                       "sha256": parsed.sha256})
    report_id = catalog.record_report(db, doc, parsed, "test")
    rows = db.execute("select key, value, provenance from cells where report_id = ? and key like 't4.%'",
                      [report_id]).fetchall()
    assert rows and all(value is None and provenance == "blank" for _, value, provenance in rows)
    (summary,) = db.execute("select provenance from table4 where report_id = ? and grp = 'review'",
                            [report_id]).fetchone()
    assert "total=blank" in summary
