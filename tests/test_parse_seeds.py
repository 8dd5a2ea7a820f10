"""The five hand-read seed reports: every cell, the metadata and exactly the failing rules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from shared_support import ABSENT_REASON, SHARED, shared_or_none

from nianbao.parse import parse_bytes, parse_file
from nianbao.parse.readers.text import decode, text_lines

SEEDS = shared_or_none("seeds") or Path("shared-is-absent")
SUM_RULES = {"t3.balance", "t3.outcomes_sum", "t3.row_total", "t4.group_total"}

needs_seeds = pytest.mark.skipif(not (SEEDS / "truth").is_dir(), reason=ABSENT_REASON)


def _seed_names() -> list[str]:
    return sorted(p.stem for p in (SEEDS / "truth").glob("*.json")) if (SEEDS / "truth").is_dir() else []


@pytest.fixture(scope="module")
def parsed() -> dict:
    return {name: parse_file(SEEDS / f"{name}.txt") for name in _seed_names()}


@needs_seeds
@pytest.mark.parametrize("name", _seed_names())
def test_seed_cells_metadata_and_rules(name: str, parsed: dict) -> None:
    truth = json.loads((SEEDS / "truth" / f"{name}.json").read_text(encoding="utf-8"))
    report = parsed[name]
    assert report.agency == truth["agency"]
    assert report.year == truth["year"]
    assert report.format_version == truth["format_version"]
    assert set(report.cells) == set(truth["cells"])
    for key, expected in truth["cells"].items():
        assert report.cells[key] == expected, f"{name} {key}: {report.cells[key]!r} != {expected!r}"
    assert sorted({f["rule"] for f in report.findings} & SUM_RULES) == sorted(truth["failing_rules"])
    assert all(report.sections[k] for k in ("overview", "problems", "other"))


@needs_seeds
def test_seed_findings_name_cells_and_difference(parsed: dict) -> None:
    report = next(r for r in parsed.values() if r.agency == "硚口区卫健局")
    balance = [f for f in report.findings if f["rule"] == "t3.balance"]
    by_column = {f["cells"][0].split(".")[-1]: f for f in balance}
    assert set(by_column) == {"natural_person", "total"}
    assert by_column["total"]["delta"] == -1
    assert "t3.carried_forward.total" in by_column["total"]["cells"]


@needs_seeds
def test_lost_cell_is_inferred_and_warned(parsed: dict) -> None:
    report = next(r for r in parsed.values() if r.agency == "哈尔滨市卫生健康委员会")
    assert report.cells["t3.withheld.prohibited_by_law.natural_person"] == 5
    assert report.cells["t3.withheld.prohibited_by_law.other_org"] == 0
    assert any("按行合计推算出缺失的单元格" in w for w in report.warnings)
    assert any("已放在行合计与列合计相符的位置" in w for w in report.warnings)


@needs_seeds
def test_gb18030_bytes_parse_like_utf8() -> None:
    name = "001_da36df42beafad44"
    text = (SEEDS / f"{name}.txt").read_text(encoding="utf-8")
    utf8 = parse_bytes(text.encode("utf-8"), "a.txt")
    gbk = parse_bytes(text.encode("gb18030"), "b.txt")
    assert gbk.cells == utf8.cells
    assert gbk.agency == utf8.agency == "硚口区卫健局"
    assert gbk.content_type == "text/plain"
    assert gbk.sha256 != utf8.sha256


def test_decode_reads_declared_gb2312_as_gb18030() -> None:
    # 𠀀 (U+20000) exists only in GB18030: a GB2312 decoder would lose it.
    text, _ = decode("鹤岗市卫健委𠀀年度报告，政府信息公开工作。".encode("gb18030") * 20)
    assert "𠀀" in text and "鹤岗市卫健委" in text


def test_one_cell_per_line_rows_are_joined() -> None:
    lines = text_lines("\t规章\n\t0\n\t3\n\n\t\n\t商业\n企业\n\t科研\n机构\n\n正文。\n")
    assert lines == [["规章", "0", "3"], ["", "商业企业", "科研机构"], ["正文。"]]


@needs_seeds
def test_cli_json_scores_every_seed(tmp_path: Path) -> None:
    seeds = sorted(str(p) for p in SEEDS.glob("*.txt"))
    out = subprocess.run([sys.executable, "-m", "nianbao.cli", "parse", *seeds, "--json"],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    objects = [json.loads(line) for line in out.splitlines()]
    assert len(objects) == len(seeds)
    for obj in objects:
        assert {"source", "agency", "year", "format_version", "title", "cells", "findings", "warnings",
                "published", "sections", "content_type", "sha256"} <= set(obj)
    scorer = SHARED / "tools" / "score_parse.py" if SHARED else None
    if scorer is not None and scorer.is_file():
        (tmp_path / "p.jsonl").write_text(out, encoding="utf-8")
        score = subprocess.run([sys.executable, str(scorer), str(SEEDS / "truth"), str(tmp_path / "p.jsonl")],
                               capture_output=True, text=True, timeout=60)
        assert score.returncode == 0, score.stdout
        assert "(100.00%)" in score.stdout and "metadata 15/15" in score.stdout
