"""Periods (`Period.parse`, `previous`) and the JSON form of a figure (`to_json`: rates to 4
decimals, money and areas to 2); the human form is tested in test_formatting.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from urbanreport.core import catalogue
from urbanreport.indicators import Period, to_json


@pytest.mark.parametrize(
    ("text", "kind", "year", "month", "label"),
    [
        ("2023", "year", 2023, None, "2023"),
        ("2023-07", "month", 2023, 7, "2023-07"),
        ("2023-7", "month", 2023, 7, "2023-07"),
        (" 2024-12 ", "month", 2024, 12, "2024-12"),
    ],
)
def test_parse_accepts_a_year_or_a_month(
    text: str, kind: str, year: int, month: int | None, label: str
) -> None:
    period = Period.parse(text)
    assert (period.kind, period.year, period.month, period.label) == (kind, year, month, label)


@pytest.mark.parametrize("text", ["2023-13", "2023-0", "23", "abc", "", "2023-07-01", "2023/07"])
def test_parse_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="统计期格式"):
        Period.parse(text)


def test_bounds_months_and_chinese_names() -> None:
    year = Period.parse("2023")
    assert (year.start, year.end) == (dt.date(2023, 1, 1), dt.date(2023, 12, 31))
    assert year.months() == list(range(1, 13))
    assert year.chinese == "2023年"
    feb = Period.parse("2024-02")  # a leap year
    assert (feb.start, feb.end) == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert feb.months() == [2]
    assert feb.chinese == "2024年2月"


def test_previous_is_the_same_period_a_year_earlier() -> None:
    assert Period.parse("2023").previous() == Period.parse("2022")
    assert Period.parse("2023-07").previous() == Period.parse("2022-07")
    prev = Period.parse("2024-02").previous()
    assert (prev.start, prev.end) == (dt.date(2023, 2, 1), dt.date(2023, 2, 28))
    params = Period.parse("2023-7").params()
    assert (params["start"], params["end"]) == (dt.date(2023, 7, 1), dt.date(2023, 7, 31))
    assert (params["prev_start"], params["prev_end"]) == (dt.date(2022, 7, 1), dt.date(2022, 7, 31))


def _result(values: dict[str, Any]) -> dict[str, Any]:
    keys = list(catalogue.indicators())
    current = dict.fromkeys(keys) | values
    return {
        "period": "2023",
        "indicators": current,
        "previous": current,
        "change": dict.fromkeys(keys) | values,
        "quality": {
            "permits": {
                "rows_read": 3,
                "rows_loaded": 2,
                "rows_rejected": 1,
                "months_without_data": ["2023-05"],
            }
        },
        "missing": {},
        "provisional": [],
    }


def test_json_rounds_rates_to_4_decimals_and_money_and_areas_to_2() -> None:
    values = {
        "permits.completion_rate": 1.0,
        "demolition.campaign_progress": 0.780249,
        "permits.on_time_rate": 2 / 3,
        "enforcement.fines_yuan": Decimal("3009408.00"),
        "permits.non_tax_revenue_yuan": Decimal("496793.68"),
        "demolition.campaign_area_m2": Decimal("936292.39"),
        "demolition.area_m2": Decimal("1234.564"),
        "dcm.avg_disposal_hours": 12.3456,
        "permits.avg_working_days": 4 / 3,
        "enforcement.penalty_cases": 936,
    }
    out = to_json(_result(values))
    for part in ("indicators", "previous"):
        got = out[part]
        assert got["permits.completion_rate"] == 1.0
        assert got["demolition.campaign_progress"] == 0.7802
        assert got["permits.on_time_rate"] == 0.6667
        assert got["enforcement.fines_yuan"] == 3009408.0
        assert got["permits.non_tax_revenue_yuan"] == 496793.68
        assert got["demolition.campaign_area_m2"] == 936292.39
        assert got["demolition.area_m2"] == 1234.56
        assert got["dcm.avg_disposal_hours"] == 12.35
        assert got["permits.avg_working_days"] == 1.33
        assert got["enforcement.penalty_cases"] == 936
        assert isinstance(got["enforcement.penalty_cases"], int)
        assert got["dcm.reported"] is None  # null stays null, never 0
    assert out["change"]["demolition.campaign_progress"] == 0.7802
    assert out["change"]["enforcement.penalty_cases"] == 936
    assert out["quality"]["permits"]["months_without_data"] == ["2023-05"]
    assert set(out["indicators"]) == set(catalogue.indicators())
