"""The agency × year panel: exported from the crawled sample catalog, read back with pandas, every
non-blank truth cell in its row and column; the data dictionary; the Datasette canned query as CSV."""

from __future__ import annotations

import asyncio
import csv
import io
import subprocess
import sys

import pandas as pd
import pytest

from catalog.agencies import expand_body
from nianbao.panel import PanelError, parse_years


def _current_truth(sample_truth: list[dict]) -> list[dict]:
    """The report of each body-year a reader sees: the corrected re-issue over the original, no drafts."""
    by_body_year: dict[tuple[str, int], dict] = {}
    for record in sample_truth:
        if "draft" in record["id"]:
            continue
        key = (expand_body(record["agency"]), record["year"])
        if key not in by_body_year or record["published"] > by_body_year[key]["published"]:
            by_body_year[key] = record
    return list(by_body_year.values())


def _export(refreshed: dict, out, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nianbao.cli", "export", "panel", str(out), "--data", str(refreshed["data"]), *args],
        capture_output=True, text=True, timeout=300,
    )


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_panel_round_trips_every_truth_cell(refreshed, sample_truth, tmp_path, fmt):
    out = tmp_path / f"panel.{fmt}"
    result = _export(refreshed, out, "--format", fmt)
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(out, dtype={"region": str}) if fmt == "csv" else pd.read_parquet(out)
    assert not frame.duplicated(["agency_id", "year"]).any()
    checked = 0
    for record in _current_truth(sample_truth):
        row = frame[(frame["agency"] == expand_body(record["agency"])) & (frame["year"] == record["year"])]
        assert len(row) == 1, (record["agency"], record["year"])
        row = row.iloc[0]
        assert row["status"] in ("published", "late")
        for key, value in record["cells"].items():
            if value is None:
                assert pd.isna(row[key]), (record["id"], key)
                continue
            assert row[key] == pytest.approx(value), (record["id"], key)
            checked += 1
    assert checked > 3000
    assert set(frame[frame["agency"] == "南岗区卫生健康局"]["region"]) == {"230103"}
    blocked = frame[frame["agency"] == "绥化市人民政府"]
    assert len(blocked) and set(blocked["status"]) == {"unknown"}
    dictionary = pd.read_csv(tmp_path / "panel.dictionary.csv")
    labels = dict(zip(dictionary["column"], dictionary["label"], strict=True))
    assert labels["t3.new_received.total"].startswith("一、本年新收政府信息公开申请数量")
    assert set(frame.columns) == set(dictionary["column"])
    units = dict(zip(dictionary["column"], dictionary["unit"], strict=True))
    assert units["t2.fees.amount"] == "万元"


def test_panel_selects_years_and_cells(refreshed, tmp_path):
    out = tmp_path / "t3.csv"
    result = _export(refreshed, out, "--years", "2020-2021", "--cells", "t3.new_received.*,t4.review.total")
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(out)
    assert set(frame["year"]) == {2020, 2021}
    cells = [c for c in frame.columns if c.startswith(("t2.", "t3.", "t4."))]
    assert "t4.review.total" in cells and all(c.startswith("t3.new_received.") or c == "t4.review.total"
                                               for c in cells)
    bad = _export(refreshed, tmp_path / "x.csv", "--cells", "t9.*")
    assert bad.returncode == 2 and "t9.*" in bad.stderr


def test_parse_years():
    assert parse_years("2019-2021,2024") == [2019, 2020, 2021, 2024]
    assert parse_years("") is None
    with pytest.raises(PanelError):
        parse_years("2021-2019")


def test_panel_is_a_canned_query_with_csv(refreshed, sample_truth):
    from nianbao.serve import build_datasette

    ds = build_datasette(refreshed["data"])

    async def fetch(path):
        return await ds.client.get(path)

    response = asyncio.run(fetch("/catalog/panel.csv?year=2020&_size=max"))
    assert response.status_code == 200, response.text[:300]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows and {r["year"] for r in rows} == {"2020"}
    record = next(r for r in sample_truth if r["id"] == "hanweb-hywjj-2020")
    row = next(r for r in rows if r["agency"] == expand_body(record["agency"]))
    assert float(row["t3.new_received.total"]) == record["cells"]["t3.new_received.total"]
