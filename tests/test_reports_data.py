"""The hand-made indicator results of `tests/reports_data.py` cover the catalogue and agree with
the published 2023 figures, so the report tests that use them mean what they say."""

from __future__ import annotations

from decimal import Decimal

from tests.reports_data import INDICATORS_2022, INDICATORS_2023, annual_result, annual_tables
from urbanreport.core import catalogue


def test_fixture_covers_the_catalogue():
    keys = set(catalogue.indicators())
    assert set(INDICATORS_2023) == keys
    assert set(INDICATORS_2022) == keys


def test_fixture_matches_published_2023_figures():
    r = annual_result()["indicators"]
    assert r["enforcement.penalty_cases"] == 936
    assert r["enforcement.fines_yuan"] == Decimal("3009408")
    assert r["permits.non_tax_revenue_yuan"] == Decimal("496793.68")
    assert r["demolition.campaign_area_m2"] == Decimal("936292.39")
    t = annual_tables()
    assert sum(row["penalty_cases"] for row in t["enforcement_by_month"]) == 936
    assert sum(row["fines_yuan"] for row in t["enforcement_by_month"]) == Decimal("3009408")
    assert t["demolition_by_month"][-1]["campaign_cumulative_m2"] == Decimal("936292.39")
    assert sum(row["reported"] for row in t["dcm_by_source"]) == r["dcm.reported"]
