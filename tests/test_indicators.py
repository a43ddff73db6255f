"""Every catalogue indicator, computed by the SQL, against the plain-Python oracle.

Records are inserted straight into the core tables, the calendar is refreshed, and
`flows.indicators.compute` is compared key by key with `tests/indicator_oracle.py`, which reads
INDICATORS.md independently (its own working-day counting, no SQL). The first half runs the
whole 2022–2024 scenario over many periods; the second half pins each edge case to values worked
out by hand, on a warehouse holding only the records of that case.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests import indicator_oracle as oracle
from tests.indicator_oracle import D, T
from urbanreport.core import catalogue, warehouse
from urbanreport.core.config import Settings, load_settings
from urbanreport.core.workdays import refresh_calendar
from urbanreport.indicators import Period, compute, to_json
from urbanreport.ingest.batches import SHANGHAI

KINDS = {key: item.kind for key, item in catalogue.indicators().items()}
PERIODS = [
    "2022", "2023", "2024", "2025",
    "2023-02", "2023-05", "2023-06", "2023-07", "2023-08", "2023-10", "2024-02", "2024-07",
]  # fmt: skip
# The warehouse calendar spans only the scenario's years (it is configuration), for speed.
CONFIG = "[calendar]\nfirst_year = 2020\nlast_year = 2026\n"


def make_settings(home: Path) -> Settings:
    (home / "urbanreport.toml").write_text(CONFIG, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("URBANREPORT_CONFIG", raising=False)
        return load_settings(home=home)


@dataclass
class Scenario:
    settings: Settings
    data: dict[str, list[dict[str, Any]]]
    results: dict[str, dict[str, Any]]
    expected: dict[str, dict[str, Any]]  # oracle values by period label


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    settings = make_settings(tmp_path_factory.mktemp("scenario"))
    data = oracle.scenario()
    with warehouse.writer(settings) as con:
        oracle.load(con, data)
        refresh_calendar(con, settings)
        results = {label: compute(con, Period.parse(label), settings) for label in PERIODS}
    expected: dict[str, dict[str, Any]] = {}
    for label in PERIODS:
        for period in (Period.parse(label), Period.parse(label).previous()):
            if period.label not in expected:
                expected[period.label] = oracle.indicators(data, period.start, period.end)
    yield Scenario(settings, data, results, expected)


def test_the_oracle_and_the_sql_cover_exactly_the_catalogue(scenario: Scenario) -> None:
    keys = list(catalogue.indicators())
    assert list(scenario.results["2023"]["indicators"]) == keys
    assert sorted(scenario.expected["2023"]) == sorted(keys)


@pytest.mark.parametrize("key", list(catalogue.indicators()))
def test_indicator_matches_the_oracle(scenario: Scenario, key: str) -> None:
    """Every period of the scenario, this year and the year before, plus the change."""
    kind = KINDS[key]
    seen = []
    for label, result in scenario.results.items():
        period = Period.parse(label)
        for which, p in (("indicators", period), ("previous", period.previous())):
            actual = result[which][key]
            want = scenario.expected[p.label][key]
            assert oracle.same(kind, want, actual), f"{key} for {p.label}: {actual!r} ≠ {want!r}"
            seen.append(actual)
        now, before = result["indicators"][key], result["previous"][key]
        if now is not None and before is not None:
            assert result["change"][key] == now - before
        else:
            assert result["change"][key] is None
    # the scenario really exercises the key: several distinct values, and null somewhere
    assert len({repr(v) for v in seen if v is not None}) >= 2, key
    assert any(v is None for v in seen), key


def test_a_month_without_data_for_one_source(scenario: Scenario) -> None:
    """No 学法普法 record in May 2023: its figures are null, the month is listed."""
    may = scenario.results["2023-05"]
    legal = [k for k in may["indicators"] if k.startswith("legal.")]
    assert legal and all(may["indicators"][k] is None for k in legal)
    assert may["missing"]["legal.participants"] == "学法普法活动在2023年5月没有任何记录"
    assert may["quality"]["legal_activities"]["months_without_data"] == ["2023-05"]
    assert may["quality"]["enforcement"]["months_without_data"] == []
    assert may["indicators"]["enforcement.penalty_cases"] is not None
    year = scenario.results["2023"]
    assert year["quality"]["legal_activities"]["months_without_data"] == ["2023-05"]
    assert year["indicators"]["legal.participants"] is not None
    assert scenario.results["2022"]["quality"]["dcm_cases"]["months_without_data"] == ["2022-02"]


def test_a_source_without_any_record_in_the_period(scenario: Scenario) -> None:
    """No 学法普法 record in 2024; no record of any source in 2021; in 2025 only permits
    received in December 2024 and decided in January."""
    result = scenario.results["2024"]
    for key in ("legal.study_sessions", "legal.trainings", "legal.publicity_events",
                "legal.participants"):  # fmt: skip
        assert result["indicators"][key] is None
        assert result["missing"][key] == "学法普法活动在2024年没有任何记录"
    assert result["previous"]["legal.trainings"] is not None
    assert len(result["quality"]["legal_activities"]["months_without_data"]) == 12
    before = scenario.results["2022"]["previous"]  # 2021: nothing at all
    assert all(v is None for v in before.values())
    later = scenario.results["2025"]  # only permits decided in January 2025
    assert {k for k, v in later["indicators"].items() if v is not None} == {
        "permits.received",
        "permits.concluded",
        "permits.granted",
        "permits.non_tax_revenue_yuan",
    }
    assert later["indicators"]["permits.received"] == 0
    assert later["missing"]["dcm.reported"] == "数字城管案件在2025年没有任何记录"


def test_months_without_data_match_the_oracle(scenario: Scenario) -> None:
    today = dt.datetime.now(SHANGHAI).date()
    for label, result in scenario.results.items():
        period = Period.parse(label)
        end = min(period.end, today)
        for source in oracle.SOURCES:
            want = oracle.months_without_data(source, scenario.data[source], period.start, end)
            got = list(result["quality"][source]["months_without_data"])
            assert got == want, (label, source)


def test_missing_explains_every_null(scenario: Scenario) -> None:
    for result in scenario.results.values():
        nulls = {k for k, v in result["indicators"].items() if v is None}
        assert set(result["missing"]) == nulls
    feb = scenario.results["2023-02"]  # no 数字城管 case in February 2022
    assert feb["indicators"]["dcm.reported"] is not None
    assert feb["indicators"]["dcm.reported_yoy"] is None
    assert feb["missing"]["dcm.reported_yoy"] == "上年同期数据不完整或为0，不作同比"


def test_json_form_is_rounded_and_serialisable(scenario: Scenario) -> None:
    for result in scenario.results.values():
        out = to_json(result)
        json.dumps(out, ensure_ascii=False)
        for key, value in out["indicators"].items():
            if value is None:
                continue
            kind = KINDS[key]
            if kind == "rate":
                assert value == round(value, 4)
                assert value == round(float(result["indicators"][key]), 4)
            elif kind in ("money", "area"):
                assert Decimal(str(value)) == result["indicators"][key]
            elif kind == "count":
                assert isinstance(value, int)


# --- each edge case on its own, pinned to values worked out by hand -----------------------------


@dataclass
class Blank:
    con: duckdb.DuckDBPyConnection
    settings: Settings

    def run(self, data: dict[str, list[dict[str, Any]]], label: str) -> dict[str, Any]:
        """Load only `data`, compute `label`, check every key against the oracle."""
        oracle.clear(self.con)
        oracle.load(self.con, data)
        period = Period.parse(label)
        result = compute(self.con, period, self.settings)
        want = oracle.indicators(data, period.start, period.end)
        for key, value in result["indicators"].items():
            assert oracle.same(KINDS[key], want[key], value), f"{key}: {value!r} ≠ {want[key]!r}"
        return result


@pytest.fixture(scope="module")
def blank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Blank]:
    settings = make_settings(tmp_path_factory.mktemp("blank"))
    with warehouse.writer(settings) as con:
        refresh_calendar(con, settings)
        yield Blank(con, settings)


def pick(section: str, *ids: str) -> list[dict[str, Any]]:
    """Edge records of one source by id."""
    key = {"permits": "permit_id", "demolition": "record_id"}.get(section, "case_id")
    rows = {r[key]: r for r in oracle.edge_records()[section]}
    return [rows[i] for i in ids]


def test_permits_across_the_2024_spring_festival(blank: Blank) -> None:
    """Off 02-10..02-17, make-up Sundays 02-04 and 02-18; 02-19 is the first day back."""
    cal = oracle.OFFICIAL
    assert cal.wd(D(2024, 2, 8), D(2024, 2, 19)) == 3  # 02-09, 02-18, 02-19 (Mon–Fri: 7)
    assert cal.wd(D(2024, 2, 2), D(2024, 2, 5)) == 2  # 02-04, 02-05 (Mon–Fri: 1)
    assert cal.wd(D(2024, 2, 9), D(2024, 2, 18)) == 1  # 02-18 (Mon–Fri: 5)
    data = {
        "permits": pick("permits", "P-SPRING", "P-MAKEUP-0204", "P-MAKEUP-0218"),
        "enforcement": pick("enforcement", "E-SPRING"),
    }
    got = blank.run(data, "2024-02")["indicators"]
    assert got["permits.received"] == 3
    assert got["permits.concluded"] == 3
    assert got["permits.on_time_rate"] == pytest.approx(2 / 3, abs=1e-9)  # 3≤3, 2>1, 1≤1
    assert got["permits.avg_working_days"] == pytest.approx(2.0, abs=1e-9)
    assert got["permits.granted"] == 2
    assert got["permits.e_license_rate"] == 0.5
    assert got["permits.online_rate"] == pytest.approx(1 / 3, abs=1e-9)
    assert got["permits.non_tax_revenue_yuan"] == Decimal("1280.50")
    assert got["enforcement.disclosure_on_time_rate"] == 1.0  # wd(02-08, 02-19) = 3


def test_make_up_working_weekend_days_of_2023(blank: Blank) -> None:
    """Make-up Sunday 04-23, Sunday 06-25, Saturday 10-07 and Sunday 10-08 are working days."""
    cal = oracle.OFFICIAL
    assert cal.wd(D(2023, 4, 21), D(2023, 4, 23)) == 1  # Mon–Fri: 0
    assert cal.wd(D(2023, 6, 21), D(2023, 6, 25)) == 1  # Mon–Fri: 2
    assert cal.wd(D(2023, 9, 28), D(2023, 10, 8)) == 2  # 10-07, 10-08 (Mon–Fri: 6)
    assert cal.wd(D(2023, 9, 27), D(2023, 10, 9)) == 4  # Mon–Fri: 8
    assert cal.wd(D(2023, 6, 21), D(2023, 7, 3)) == 7  # Mon–Fri: 8
    data = {
        "permits": pick("permits", "P-LABOUR", "P-DRAGON", "P-NATDAY"),
        "enforcement": pick("enforcement", "E-NAT", "E-DRAGON"),
    }
    got = blank.run(data, "2023")["indicators"]
    assert got["permits.avg_working_days"] == pytest.approx(4 / 3, abs=1e-9)
    assert got["permits.on_time_rate"] == 1.0
    assert got["enforcement.disclosure_on_time_rate"] == 1.0  # 4 and exactly 7 working days
    assert blank.run(data, "2023-10")["indicators"]["permits.received"] == 0  # decided only


def test_disclosure_on_the_7th_and_the_8th_working_day(blank: Blank) -> None:
    assert oracle.OFFICIAL.wd(D(2023, 3, 1), D(2023, 3, 10)) == 7
    assert oracle.OFFICIAL.wd(D(2023, 3, 1), D(2023, 3, 13)) == 8
    data = {"enforcement": pick("enforcement", "E-D7", "E-D8", "E-NODISC")}
    got = blank.run(data, "2023-03")["indicators"]
    assert got["enforcement.penalty_cases"] == 3  # 警告 is a penalty too
    assert got["enforcement.disclosure_on_time_rate"] == pytest.approx(1 / 3, abs=1e-9)
    assert got["enforcement.fines_yuan"] == Decimal("6200.50")
    assert got["enforcement.filed_cases"] == 0  # filed in February
    assert got["enforcement.major_cases"] == 0
    assert got["enforcement.major_legal_review_rate"] is None  # no major case: null, not 0


def test_decision_on_day_90_and_day_91_after_filing(blank: Blank) -> None:
    data = {"enforcement": pick("enforcement", "E-90", "E-91")}
    got = blank.run(data, "2023-04")["indicators"]
    assert got["enforcement.overdue_decisions"] == 1  # only day 91 (a 不予处罚 decision)
    assert got["enforcement.penalty_cases"] == 1
    assert got["enforcement.no_penalty_cases"] == 1
    assert got["enforcement.fines_yuan"] == Decimal("800.00")


def test_major_cases_and_reviews(blank: Blank) -> None:
    data = {"enforcement": pick("enforcement", "E-MAJ1", "E-MAJ2", "E-MAJ3", "E-REV", "E-REV2")}
    july = blank.run(data, "2023-07")["indicators"]
    assert july["enforcement.major_cases"] == 2  # a major 不予处罚 is not a penalty case
    assert july["enforcement.major_legal_review_rate"] == 1.0
    assert july["enforcement.major_collective_rate"] == 0.5
    assert july["enforcement.disclosure_on_time_rate"] == 1.0
    year = blank.run(data, "2023")["indicators"]
    assert year["enforcement.reviews"] == 2
    assert year["enforcement.review_correction_rate"] == 0.5  # 败诉 yes, 维持 no


def test_a_review_alone_places_enforcement_in_its_month(blank: Blank) -> None:
    """August 2023 has only a court case concluding: the source has a record dated in P."""
    result = blank.run({"enforcement": pick("enforcement", "E-REV")}, "2023-08")
    got = result["indicators"]
    assert got["enforcement.reviews"] == 1
    assert got["enforcement.review_correction_rate"] == 1.0
    assert got["enforcement.filed_cases"] == 0
    assert got["enforcement.penalty_cases"] == 0
    assert got["enforcement.fines_yuan"] == Decimal("0")
    assert got["enforcement.disclosure_on_time_rate"] is None
    assert result["missing"]["enforcement.disclosure_on_time_rate"] == "分母为0，比率不适用"
    assert result["quality"]["enforcement"]["months_without_data"] == []


def test_zero_denominators_give_null_rates(blank: Blank) -> None:
    data = {
        "enforcement": pick("enforcement", "E-OPEN"),
        "permits": pick("permits", "P-PENDING"),
    }
    result = blank.run(data, "2023-12")
    got = result["indicators"]
    assert got["enforcement.filed_cases"] == 1
    assert got["enforcement.penalty_cases"] == 0
    for key in (
        "enforcement.major_legal_review_rate",
        "enforcement.major_collective_rate",
        "enforcement.disclosure_on_time_rate",
        "enforcement.review_correction_rate",
        "permits.on_time_rate",
        "permits.e_license_rate",
    ):
        assert got[key] is None, key
        assert result["missing"][key] == "分母为0，比率不适用"
    assert got["permits.completion_rate"] == 0.0  # 0 of 1 received: a true zero
    assert got["permits.online_rate"] == 1.0
    assert got["permits.avg_working_days"] is None
    assert result["missing"]["permits.avg_working_days"] == "统计期内没有适用的记录"
    assert got["permits.non_tax_revenue_yuan"] == Decimal("0")


def test_dcm_case_disposed_after_the_period_end_before_its_deadline(blank: Blank) -> None:
    data = {"dcm_cases": oracle.edge_records()["dcm_cases"]}
    july = blank.run(data, "2023-07")["indicators"]
    assert july["dcm.reported"] == 5  # D-AUG was reported at 2023-08-01 00:00
    assert july["dcm.registered"] == 4
    assert july["dcm.closed"] == 1
    assert july["dcm.due"] == 3  # D-AFTER is neither past its deadline nor disposed by 07-31
    assert july["dcm.on_time_disposal_rate"] == pytest.approx(1 / 3, abs=1e-9)
    assert july["dcm.rework_rate"] == 0.0  # D-AFTER's rework is not yet known at 07-31
    assert july["dcm.avg_disposal_hours"] == pytest.approx(899 / 3600, abs=1e-9)
    assert july["dcm.hotline_cases"] == 2
    assert july["dcm.reported_yoy"] is None  # no case in July 2022
    year = blank.run(data, "2023")["indicators"]
    assert year["dcm.reported"] == 6
    assert year["dcm.due"] == 4
    assert year["dcm.on_time_disposal_rate"] == 0.5  # D-AFTER and D-EDGE
    assert year["dcm.rework_rate"] == 0.25
    assert year["dcm.avg_disposal_hours"] == pytest.approx((53 + 97 + 899 / 3600) / 3, abs=1e-9)


def test_campaign_started_mid_year_and_spanning_two_years(blank: Blank) -> None:
    data = {
        "demolition": pick("demolition", "R-0630", "R-0701", "R-240630", "R-240701")
        + [
            oracle.demolished("R-2303", D(2023, 3, 15), "1000.00"),
            oracle.demolished("R-2403", D(2024, 3, 15), "50.00"),
            oracle.demolished("R-2410", D(2024, 10, 8), "500.00"),
        ],
        "demolition_targets": oracle.edge_records()["demolition_targets"],
    }
    y2023 = blank.run(data, "2023")["indicators"]
    assert y2023["demolition.area_m2"] == Decimal("1333.33")
    assert y2023["demolition.campaign_target_m2"] == Decimal("1200000.00")
    assert y2023["demolition.campaign_area_m2"] == Decimal("222.22")  # since 07-01 only
    assert y2023["demolition.campaign_progress"] == pytest.approx(222.22 / 1200000, abs=1e-12)
    march = blank.run(data, "2024-03")["indicators"]  # the 2023 campaign runs on
    assert march["demolition.campaign_area_m2"] == Decimal("272.22")
    assert march["demolition.area_m2"] == Decimal("50.00")
    june = blank.run(data, "2024-06")["indicators"]
    assert june["demolition.campaign_area_m2"] == Decimal("605.55")
    y2024 = blank.run(data, "2024")["indicators"]  # the later campaign of 2024 wins
    assert y2024["demolition.campaign_target_m2"] == Decimal("300000.00")
    assert y2024["demolition.campaign_area_m2"] == Decimal("500.00")
    july = blank.run(data, "2024-07")  # between campaigns
    assert july["indicators"]["demolition.sites"] == 1
    assert july["indicators"]["demolition.campaign_target_m2"] is None
    assert july["indicators"]["demolition.campaign_progress"] is None
    assert july["campaign"] is None
    gap = blank.run(data, "2024-05")  # inside the campaign, nothing demolished in May
    assert gap["indicators"]["demolition.campaign_target_m2"] == Decimal("1200000.00")
    assert gap["indicators"]["demolition.campaign_area_m2"] is None
    assert gap["missing"]["demolition.campaign_area_m2"] == "违法建设拆除在2024年5月没有任何记录"


def test_dates_and_times_at_the_period_boundaries(blank: Blank) -> None:
    data = {
        "dcm_cases": [
            oracle.dcm_case("B-1", T("2023-06-30 23:59:59")),
            oracle.dcm_case("B-2", T("2023-07-01 00:00:00"), registered_at=T("2023-07-31 23:59")),
            oracle.dcm_case("B-3", T("2023-07-15 12:00"), registered_at=T("2023-08-01 00:00")),
        ],
        "legal_activities": [
            oracle.activity(D(2023, 7, 1), "执法培训", "first day", 30),
            oracle.activity(D(2023, 7, 31), "中心组学习", "last day", None),
            oracle.activity(D(2023, 8, 1), "普法宣传", "next month", 500),
        ],
    }
    got = blank.run(data, "2023-07")["indicators"]
    assert got["dcm.reported"] == 2
    assert got["dcm.registered"] == 1
    assert (got["legal.trainings"], got["legal.study_sessions"]) == (1, 1)
    assert got["legal.publicity_events"] == 0
    assert got["legal.participants"] == 30
