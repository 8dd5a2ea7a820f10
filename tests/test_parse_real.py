"""Real annual reports as web-page text (tables flattened with `|`), read by hand: every cell exactly.

Each fixture under fixtures/real/ is one report's text as published pages give it (often cut short);
its JSON holds the values the text prints. Cells the text does not reach are absent from the truth
and must stay blank: the parser may not invent them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nianbao.parse import parse_file
from nianbao.parse.readers.text import text_lines

REAL = Path(__file__).parent / "fixtures" / "real"
SUM_RULES = {"t3.balance", "t3.outcomes_sum", "t3.row_total", "t4.group_total"}
NAMES = sorted(p.stem for p in REAL.glob("*.json"))


@pytest.fixture(scope="module")
def parsed() -> dict:
    return {name: parse_file(REAL / f"{name}.txt") for name in NAMES}


def _truth(name: str) -> dict:
    return json.loads((REAL / f"{name}.json").read_text(encoding="utf-8"))


def test_enough_varied_real_reports() -> None:
    truths = [_truth(n) for n in NAMES]
    assert len(truths) >= 10
    assert {t["format_version"] for t in truths} == {"2019", "2021", "pre2019"}
    assert all(t["source_url"].startswith("http") for t in truths)


@pytest.mark.parametrize("name", NAMES)
def test_real_report_metadata(name: str, parsed: dict) -> None:
    truth, report = _truth(name), parsed[name]
    assert (report.agency, report.year, report.format_version) == \
        (truth["agency"], truth["year"], truth["format_version"])


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


@pytest.mark.parametrize("name", NAMES)
def test_real_report_failing_rules(name: str, parsed: dict) -> None:
    rules = {f["rule"] for f in parsed[name].findings} & SUM_RULES
    assert rules == set(_truth(name)["failing_rules"])


def test_truncated_row_is_left_blank_with_a_warning(parsed: dict) -> None:
    report = parsed["r05_yichun_bureau_2019"]
    assert report.cells["t2.coercion.prior_items"] is None
    assert any("行政强制" in w and "2 values for 3 columns" in w for w in report.warnings)


def test_title_from_the_opening_sentence(parsed: dict) -> None:
    report = parsed["r01_district_statistics_2023"]
    assert report.title == "区统计局2023年政府信息公开工作年度报告"
    assert any("opening sentence" in w for w in report.warnings)


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
