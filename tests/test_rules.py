"""Consistency rules over cells: each rule fails exactly when its equation does, blanks count as 0."""

from __future__ import annotations

import pytest

from nianbao.parse.rules import check, check_carry_link, check_cells, check_format_year
from nianbao.template import cell_keys


def consistent_2021() -> dict:
    """A consistent 2021 report: 5 natural-person requests, 2 carried over, all granted, 1 carried forward."""
    cells = dict.fromkeys(cell_keys("2021"), 0)
    for row, n in {"new_received": 5, "carried_over": 2, "granted": 6, "total_processed": 6,
                   "carried_forward": 1}.items():
        cells[f"t3.{row}.natural_person"] = n
        cells[f"t3.{row}.total"] = n
    cells.update({"t4.review.upheld": 1, "t4.review.total": 1})
    return cells


def rules_of(findings: list[dict]) -> set[str]:
    return {f["rule"] for f in findings}


def test_consistent_report_has_no_findings() -> None:
    assert check(consistent_2021(), "2021", 2022) == []


def test_balance_fails_per_column_with_delta() -> None:
    cells = consistent_2021()
    cells["t3.carried_forward.natural_person"] = 3
    cells["t3.carried_forward.total"] = 3
    findings = [f for f in check_cells(cells, "2021") if f["rule"] == "t3.balance"]
    assert [f["delta"] for f in findings] == [-2, -2]
    assert "t3.carried_forward.natural_person" in findings[0]["cells"]
    assert findings[0]["detail"] == ("一、本年新收 + 二、上年结转 = （七）总计 + 四、结转下年度继续办理——自然人列："
                                     "左边合计 7，右边合计 9")


def test_outcomes_sum_covers_every_outcome_row_of_the_version() -> None:
    cells = consistent_2021()
    cells["t3.other_handling.fee_unpaid.natural_person"] = 1
    cells["t3.other_handling.fee_unpaid.total"] = 1
    findings = check_cells(cells, "2021")
    assert rules_of(findings) == {"t3.outcomes_sum"}
    assert all(f["delta"] == -1 for f in findings)
    only_2019 = {k: v for k, v in cells.items() if k in set(cell_keys("2019"))}
    assert check_cells(only_2019, "2019") == []  # the 2019 template has no such row


def test_a_row_of_the_other_template_counts_when_the_report_prints_it() -> None:
    """A 2021 table printing the 2019 template's single （六）其他处理 row: its cells take part in the sums."""
    cells = consistent_2021()
    for key in [k for k in cells if k.startswith("t3.other_handling.")]:
        cells[key] = None
    cells["t3.other_handling.natural_person"] = 1
    cells["t3.other_handling.total"] = 1
    findings = check_cells(cells, "2021")
    assert rules_of(findings) == {"t3.outcomes_sum"}
    assert {f["delta"] for f in findings} == {-1}
    cells["t3.total_processed.natural_person"] = cells["t3.total_processed.total"] = 7
    cells["t3.carried_forward.natural_person"] = cells["t3.carried_forward.total"] = 0
    assert check_cells(cells, "2021") == []


def test_a_finding_names_the_inferred_cells_that_took_part() -> None:
    cells = consistent_2021()
    cells["t3.granted.natural_person"] = 5
    provenance = dict.fromkeys(cells, "printed")
    provenance["t3.granted.natural_person"] = "inferred:t3.row_total"
    findings = check_cells(cells, "2021", provenance=provenance)
    outcome = [f for f in findings if f["rule"] == "t3.outcomes_sum"]
    assert outcome and outcome[0]["inferred"] == ["t3.granted.natural_person"]
    assert outcome[0]["detail"].endswith("（报告未印出、按勾稽关系推算：（一）予以公开 · 自然人）")
    assert all("inferred" not in f for f in findings if "t3.granted.natural_person" not in f["cells"])


def test_row_total() -> None:
    cells = consistent_2021()
    cells["t3.new_received.commercial_enterprise"] = 2
    findings = [f for f in check_cells(cells, "2021") if f["rule"] == "t3.row_total"]
    assert len(findings) == 1
    assert findings[0]["delta"] == -2
    assert findings[0]["detail"] == "总计 = 六类申请人之和——“一、本年新收政府信息公开申请数量”行：左边合计 5，右边合计 7"


def test_group_total_counts_blanks_as_zero_and_says_so() -> None:
    cells = consistent_2021()
    for column in ("upheld", "corrected", "other", "pending"):
        cells[f"t4.litigation_after_review.{column}"] = None
    cells["t4.litigation_after_review.total"] = 1
    findings = check_cells(cells, "2021")
    assert rules_of(findings) == {"t4.group_total"}
    assert findings[0]["delta"] == 1
    assert findings[0]["detail"].startswith("总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结——")
    assert "（空白单元格按0计：" in findings[0]["detail"] and "复议后起诉 · 结果维持" in findings[0]["detail"]


def test_all_blank_equation_is_no_evidence() -> None:
    cells = dict.fromkeys(cell_keys("2021"))
    assert check_cells(cells, "2021") == []


@pytest.mark.parametrize(("version", "year", "fails"), [
    ("2019", 2019, False), ("2019", 2020, False), ("2019", 2021, True), ("2021", 2020, True),
    ("2021", 2024, False), ("pre2019", 2012, False), ("2021", None, False),
])
def test_format_year(version: str, year: int | None, fails: bool) -> None:
    findings = check_format_year(version, year)
    assert bool(findings) == fails
    if fails:
        assert findings[0]["rule"] == "format.year"
        assert f"{year}年度的报告使用{version}版模板" in findings[0]["detail"]


def test_carry_link_against_previous_year() -> None:
    this_year = consistent_2021()
    previous = consistent_2021()
    previous["t3.carried_forward.natural_person"] = 2
    previous["t3.carried_forward.total"] = 2
    assert check_carry_link(this_year, previous, "2021") == []
    previous["t3.carried_forward.total"] = 4
    findings = check_carry_link(this_year, previous, "2021")
    assert [f["rule"] for f in findings] == ["t3.carry_link"]
    assert findings[0]["delta"] == -2
    assert findings[0]["cells"] == ["t3.carried_over.total", "t3.carried_forward.total"]


def test_cell_labels_cover_both_versions_in_chinese() -> None:
    from nianbao.template import cell_labels

    labels = cell_labels()
    assert set(cell_keys("2021")) <= set(labels) and set(cell_keys("2019")) <= set(labels)
    assert labels["t3.not_processed.excessive.natural_person"] == "4.无正当理由大量反复申请 · 自然人"
    assert labels["t4.litigation_direct.total"] == "行政诉讼·未经复议直接起诉 · 总计"
    assert labels["t2.procurement.amount"] == "政府集中采购 · 采购总金额"
