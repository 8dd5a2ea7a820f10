"""Real annual reports, read by hand: every cell exactly.

The documents are third-party text and stay in `../shared/real/` (found by tests/shared_support.py);
their hand-read truth — facts only: cells, metadata, failing rules — is the project's, in
tests/truth/real/ (`document` names the file under ../shared/real). Many are page excerpts cut short:
cells the text does not reach are absent from the truth and must stay blank, the parser may not invent
them. Without ../shared these tests skip with one reason; the truth's own checks still run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shared_support import needs_shared, shared_path

from nianbao.parse import parse_file
from nianbao.parse.readers.text import text_lines
from nianbao.template import cell_keys

TRUTH = Path(__file__).parent / "truth" / "real"
SUM_RULES = {"t3.balance", "t3.outcomes_sum", "t3.row_total", "t4.group_total"}
NAMES = sorted(p.stem for p in TRUTH.glob("*.json"))


def _truth(name: str) -> dict:
    return json.loads((TRUTH / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def parsed() -> dict:
    return {name: parse_file(shared_path("real", _truth(name)["document"])) for name in NAMES}


def test_enough_varied_real_reports() -> None:
    truths = [_truth(n) for n in NAMES]
    assert len(truths) >= 10
    assert {t["format_version"] for t in truths} == {"2019", "2021", "pre2019"}
    assert all(t["source_url"].startswith("http") for t in truths)


@pytest.mark.parametrize("name", NAMES)
def test_truth_holds_facts_only(name: str) -> None:
    truth = _truth(name)
    assert set(truth) <= {"document", "format", "source_url", "agency", "year", "format_version", "cells",
                          "failing_rules", "uncertain_cells", "note"}
    if truth["format_version"] != "pre2019":
        known = set(cell_keys(truth["format_version"]))
        assert set(truth["cells"]) <= known and set(truth.get("uncertain_cells", [])) <= known
    assert all(v is None or isinstance(v, int | float) for v in truth["cells"].values())


@needs_shared
@pytest.mark.parametrize("name", NAMES)
def test_real_report_metadata(name: str, parsed: dict) -> None:
    truth, report = _truth(name), parsed[name]
    assert (report.agency, report.year, report.format_version) == \
        (truth["agency"], truth["year"], truth["format_version"])


@needs_shared
@pytest.mark.parametrize("name", NAMES)
def test_real_report_cells(name: str, parsed: dict) -> None:
    truth, report = _truth(name), parsed[name]
    for key, expected in truth["cells"].items():
        got = report.cells.get(key)
        if expected is None:
            assert got is None, f"{name} {key}: printed blank, parsed {got!r}"
        else:
            assert got == pytest.approx(expected), f"{name} {key}: {got!r} != {expected!r}"
    # A row cut off by the end of the text may be completed from its own total: neither right nor wrong.
    uncertain = set(truth.get("uncertain_cells", []))
    invented = {k: v for k, v in report.cells.items()
                if k not in truth["cells"] and k not in uncertain and v is not None
                and not k.startswith("p08.")}  # pre-2019 prose figures: tests/test_prose2008.py
    assert not invented, f"{name}: cells the text does not print: {invented}"


@needs_shared
@pytest.mark.parametrize("name", NAMES)
def test_real_report_failing_rules(name: str, parsed: dict) -> None:
    rules = {f["rule"] for f in parsed[name].findings} & SUM_RULES
    assert rules == set(_truth(name)["failing_rules"])


@needs_shared
def test_truncated_row_is_left_blank_with_a_warning(parsed: dict) -> None:
    report = parsed["r05_yichun_bureau_2019"]
    assert report.cells["t2.coercion.prior_items"] is None
    assert any("行政强制" in w and "2个数值对应3列" in w for w in report.warnings)


@needs_shared
def test_title_from_the_opening_sentence(parsed: dict) -> None:
    report = parsed["r01_district_statistics_2023"]
    assert report.title == "区统计局2023年政府信息公开工作年度报告"
    assert any("开头一句" in w for w in report.warnings)


@pytest.mark.parametrize(("text", "rows"), [
    # a whole row per line, with and without the leading pipe and merged-cell padding
    ("规章 | 0 | 0 | 0 |\n| 行政许可 | 5 | ||", [["规章", "0", "0", "0"], ["行政许可", "5"]]),
    # one cell per line; a lone pipe is an empty cell, a run of pipes ends the row
    ("一、本年新收政府信息公开申请数量 |\n|\n|\n3 |\n||\n二、上年结转 |\n0 |",
     [["一、本年新收政府信息公开申请数量", "", "", "3"], ["二、上年结转", "0"]]),
    # each cell on its own line, its pipe on the next
    ("行政处罚\n|\n46\n|\n|||\n行政强制\n|\n0\n|", [["行政处罚", "46"], ["行政强制", "0"]]),
    # an empty cell followed by padding on the same line
    ("行政许可 |\n| ||\n行政处罚 |\n3 | ||", [["行政许可", ""], ["行政处罚", "3"]]),
])
def test_pipe_tables_become_rows(text: str, rows: list) -> None:
    assert text_lines(text) == rows


def test_prose_with_a_pipe_stays_prose() -> None:
    prose = "本年度，我局主动公开政府信息，内容涵盖政策文件|工作动态|通知公告等方面。"
    long_line = "栏目" + "|".join(["政务公开", "信息公开指南", "政府信息公开年报" * 11])
    assert text_lines(prose) == [[prose]]
    assert text_lines(long_line) == [[long_line]]


def test_accuracy_scoring_counts_right_wrong_missing_and_invented() -> None:
    from bench.accuracy import score_cells

    truth = {"cells": {"a": 1, "b": None, "c": 3, "d": 4}, "uncertain_cells": ["u"]}
    result = score_cells(truth, {"a": 1, "b": 2, "c": None, "d": 4.0, "u": 9, "x": 5, "y": None})
    assert (result["right"], result["wrong"], result["missing"]) == (2, 2, 1)
    assert result["wrong_cells"] == ["b", "x"]
