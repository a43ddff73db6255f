"""The one formatter: the bureau's number forms, half-up rounding on Decimal, 数据缺失."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from urbanreport.core import catalogue, formatting


@pytest.mark.parametrize(
    ("kind", "value", "text"),
    [
        ("rate", 1.0, "100%"),
        ("rate", 0.7802, "78.02%"),
        ("rate", 0.780249, "78.02%"),
        ("rate", 0.79375, "79.38%"),  # half-up, although 0.79375 is 0.793749… as a binary float
        ("rate", Decimal("0.79375"), "79.38%"),
        ("rate", 0.00005, "0.01%"),
        ("rate", 0.5, "50%"),
        ("rate", 0.0, "0%"),
        ("money", Decimal("3009408.00"), "3009408"),
        ("money", Decimal("496793.675"), "496793.68"),
        ("money", Decimal("0.005"), "0.01"),
        ("area", Decimal("936292.39"), "936292.39"),
        ("days", Decimal("3.45"), "3.5"),
        ("days", 4.0, "4"),
        ("hours", 12.25, "12.3"),
        ("count", 936, "936"),
    ],
)
def test_number(kind: str, value: Any, text: str) -> None:
    assert formatting.number(kind, value) == text


@pytest.mark.parametrize(
    ("key", "value", "text"),
    [
        ("enforcement.penalty_cases", 936, "936宗"),
        ("enforcement.fines_yuan", Decimal("3009408"), "3009408元"),
        ("demolition.campaign_area_m2", Decimal("936292.39"), "936292.39平方米"),
        ("demolition.campaign_progress", 0.7802, "78.02%"),
        ("permits.avg_working_days", Decimal("4.0"), "4个工作日"),
        ("enforcement.fines_yuan", None, "数据缺失"),
    ],
)
def test_figure_with_unit(key: str, value: Any, text: str) -> None:
    assert formatting.figure(catalogue.indicator(key), value) == text


def test_a_campaign_not_started_is_not_missing_data() -> None:
    progress = catalogue.indicator("demolition.campaign_progress")
    assert formatting.empty_text(progress, source_present=True) == "无专项行动"
    assert formatting.empty_text(progress, source_present=False) == "数据缺失"
    fines = catalogue.indicator("enforcement.fines_yuan")
    assert formatting.empty_text(fines, source_present=True) == "数据缺失"


@pytest.mark.parametrize(
    ("kind", "current", "previous", "text"),
    [
        ("rate", 0.8, 0.787, "+1.3个百分点"),
        ("rate", 0.79375, 0.8, "-0.63个百分点"),  # -0.625 points, half-up away from zero
        ("rate", 0.5, 0.5, "持平"),
        ("count", 936, 887, "+5.52%"),
        ("count", 5, 0, "新增"),
        ("count", 0, 0, "持平"),
        ("money", Decimal("100"), None, "—"),
    ],
)
def test_change(kind: str, current: Any, previous: Any, text: str) -> None:
    assert formatting.change(kind, current, previous) == text


@pytest.mark.parametrize(
    ("kind", "value", "out"),
    [
        ("rate", 0.79375, 0.7938),
        ("money", Decimal("496793.675"), 496793.68),
        ("count", 936, 936),
        ("days", None, None),
    ],
)
def test_machine_form(kind: str, value: Any, out: Any) -> None:
    got = formatting.machine(kind, value)
    assert got == out and type(got) is type(out)


def test_dates() -> None:
    assert formatting.day("2023-07-01") == "2023年7月1日"
    assert formatting.month("2023-07-01") == "2023年7月"
    assert formatting.moment("2023-12-31T18:05:00") == "2023年12月31日 18:05"
    assert formatting.day(None) == "数据缺失"
