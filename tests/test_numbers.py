"""Printed table values → numbers: digits, blanks and dashes, units, signs, Chinese numerals."""

from __future__ import annotations

import pytest

from nianbao.parse.numbers import is_value, parse_number


@pytest.mark.parametrize(("printed", "expected"), [
    ("0", 0), ("17426", 17426), ("０", 0), ("１２３", 123), (" 0 ", 0), ("1,234", 1234), ("1，234", 1234),
    ("391.49", 391.49), ("-3", -3), ("－3", -3), ("减少3", -3), ("增加3", 3), ("+2", 2), ("12件", 12),
    ("三", 3), ("十二", 12), ("零", 0),
])
def test_numbers(printed: str, expected: float) -> None:
    number = parse_number(printed)
    assert number is not None and number.value == expected
    assert type(number.value) is type(expected)


@pytest.mark.parametrize("printed", ["", "  ", "—", "——", "-", "/", "－", "―", "--"])
def test_blanks_and_dashes_are_none_not_zero(printed: str) -> None:
    number = parse_number(printed)
    assert number is not None and number.value is None


@pytest.mark.parametrize("printed", ["行政许可", "3. 其他", "结果维持", "2022年", "第二十条第（五）项", "50%"])
def test_labels_are_not_values(printed: str) -> None:
    assert parse_number(printed) is None
    assert not is_value(printed)


@pytest.mark.parametrize(("printed", "wan"), [("251000元", 25.1), ("391.49万元", 391.49), ("1.2亿元", 12000),
                                              ("391.49", 391.49), ("2,510,000元", 251)])
def test_money_is_stored_in_wan_yuan(printed: str, wan: float) -> None:
    number = parse_number(printed, money=True)
    assert number.value == pytest.approx(wan)


def test_conversions_are_warned() -> None:
    assert "25.1 万元" in parse_number("251000元", money=True).warning
    assert parse_number("减少3").warning
    assert parse_number("三").warning == "中文数字“三”读作 3"
    assert parse_number("7").warning is None
    assert parse_number("391.49万元", money=True).warning is None


def test_a_speck_beside_a_scanned_figure_is_dropped_with_a_warning() -> None:
    for printed, value in ((".0", 0), ("3'", 3), ("12.", 12)):
        number = parse_number(printed)
        assert number is not None and number.value == value and "去掉了多余的符号" in number.warning
    money = parse_number(".5", money=True)
    assert money is None or money.value != 5  # a money figure keeps its leading point


@pytest.mark.parametrize("printed", ["1 2", "5 137", "1\u30002", " 3 0 "])
def test_a_figure_split_by_a_space_is_blank_with_a_warning(printed: str) -> None:
    number = parse_number(printed)
    assert number is not None and number.value is None
    assert "有歧义" in number.warning


@pytest.mark.parametrize(("printed", "unit", "wan"), [
    ("36500", "元", 3.65), ("1250", "千元", 125), ("2", "亿元", 20000), ("7.5", "万元", 7.5), ("7.5", None, 7.5),
    ("30000元", "千元", 3),  # the cell's own unit wins over the header's
])
def test_money_in_the_unit_its_header_states(printed: str, unit: str | None, wan: float) -> None:
    assert parse_number(printed, money=True, unit=unit).value == pytest.approx(wan)


def test_a_header_unit_does_not_touch_counts() -> None:
    assert parse_number("36500", unit="元").value == 36500
