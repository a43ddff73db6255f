"""Breakdown tables (by month, street, category, item, source, type) against the period figures
and the oracle: the rows add up to the period's figure, `prev_` columns are the previous year's,
every street and dictionary member is listed, and a month without data is None, not 0.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests import indicator_oracle as oracle
from tests.indicator_oracle import D
from urbanreport.core import warehouse
from urbanreport.core.config import Settings, load_settings
from urbanreport.core.workdays import refresh_calendar
from urbanreport.indicators import Period, breakdowns, compute

PERIODS = ["2023", "2024", "2023-07", "2024-02"]
#: by-month column → the catalogue key (or keys, added up) it breaks down
MONTHLY = {
    "enforcement_by_month": {
        "penalty_cases": ["enforcement.penalty_cases"],
        "fines_yuan": ["enforcement.fines_yuan"],
    },
    "permits_by_month": {
        "received": ["permits.received"],
        "concluded": ["permits.concluded"],
        "non_tax_revenue_yuan": ["permits.non_tax_revenue_yuan"],
    },
    "demolition_by_month": {"sites": ["demolition.sites"], "area_m2": ["demolition.area_m2"]},
    "dcm_by_month": {
        "reported": ["dcm.reported"],
        "registered": ["dcm.registered"],
        "closed": ["dcm.closed"],
    },
    "legal_by_month": {
        "events": ["legal.study_sessions", "legal.trainings", "legal.publicity_events"],
        "participants": ["legal.participants"],
    },
}
#: by-month columns whose month row is the figure of that month as a period of its own
SAME_AS_MONTH_PERIOD = {
    "penalty_cases",
    "fines_yuan",
    "received",
    "non_tax_revenue_yuan",
    "sites",
    "area_m2",
    "reported",
    "events",
    "participants",
}


@dataclass
class Scenario:
    settings: Settings
    con: duckdb.DuckDBPyConnection
    data: dict[str, list[dict[str, Any]]]
    results: dict[str, dict[str, Any]]
    tables: dict[str, dict[str, list[dict[str, Any]]]]


def make_settings(home: Path) -> Settings:
    (home / "urbanreport.toml").write_text(
        "[calendar]\nfirst_year = 2020\nlast_year = 2026\n", encoding="utf-8"
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("URBANREPORT_CONFIG", raising=False)
        return load_settings(home=home)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    settings = make_settings(tmp_path_factory.mktemp("breakdowns"))
    data = oracle.scenario()
    with warehouse.writer(settings) as con:
        oracle.load(con, data)
        refresh_calendar(con, settings)
        results, tables = {}, {}
        for label in PERIODS:
            period = Period.parse(label)
            results[label] = compute(con, period, settings)
            tables[label] = breakdowns(con, period, settings)
        yield Scenario(settings, con, data, results, tables)


def total(values: list[Any]) -> Any:
    """Rows added up; None when every row is None (no data at all)."""
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def figure(values: dict[str, Any], keys: list[str]) -> Any:
    parts = [values[k] for k in keys]
    return None if any(p is None for p in parts) else sum(parts)


@pytest.mark.parametrize("label", PERIODS)
@pytest.mark.parametrize("table", list(MONTHLY))
def test_months_add_up_to_the_period_this_year_and_last(
    scenario: Scenario, label: str, table: str
) -> None:
    result, rows = scenario.results[label], scenario.tables[label][table]
    assert [r["month"] for r in rows] == Period.parse(label).months()
    for column, keys in MONTHLY[table].items():
        assert total([r[column] for r in rows]) == figure(result["indicators"], keys), column
        prev = total([r[f"prev_{column}"] for r in rows])
        assert prev == figure(result["previous"], keys), f"prev_{column}"


@pytest.mark.parametrize("label", ["2023", "2024"])
def test_each_month_and_its_prev_column_match_the_oracle(scenario: Scenario, label: str) -> None:
    period = Period.parse(label)
    for table, columns in MONTHLY.items():
        for row in scenario.tables[label][table]:
            for year, prefix in ((period.year, ""), (period.year - 1, "prev_")):
                want = oracle.indicators(scenario.data, *oracle.month_span(year, row["month"]))
                for column, keys in columns.items():
                    if column in SAME_AS_MONTH_PERIOD:
                        assert row[prefix + column] == figure(want, keys), (
                            table,
                            year,
                            row["month"],
                            column,
                        )


def test_a_month_without_data_is_none_not_zero(scenario: Scenario) -> None:
    legal = {r["month"]: r for r in scenario.tables["2023"]["legal_by_month"]}
    assert legal[5]["events"] is None and legal[5]["participants"] is None
    assert all(legal[m]["events"] is not None for m in range(1, 13) if m != 5)
    nothing = scenario.tables["2024"]["legal_by_month"]  # no activity logged in 2024
    assert all(r["events"] is None for r in nothing)
    assert [r["month"] for r in nothing if r["prev_events"] is None] == [5]
    for row in scenario.tables["2024"]["legal_by_type"]:
        assert row["events"] is None and row["prev_events"] is not None
    dcm = {r["month"]: r for r in scenario.tables["2023"]["dcm_by_month"]}
    assert dcm[2]["prev_reported"] is None and dcm[2]["reported"] is not None
    # August 2023: only a court case concluded; decided cases are a true zero
    enforcement = {r["month"]: r for r in scenario.tables["2023"]["enforcement_by_month"]}
    assert enforcement[8]["penalty_cases"] == 0
    assert enforcement[8]["fines_yuan"] == 0


@pytest.mark.parametrize("label", PERIODS)
def test_every_street_is_listed_and_streets_add_up(scenario: Scenario, label: str) -> None:
    streets = scenario.settings.streets
    assert len(streets) == 10
    tables, result = scenario.tables[label], scenario.results[label]
    period = Period.parse(label)
    for name, column, key in (
        ("enforcement_by_street", "penalty_cases", "enforcement.penalty_cases"),
        ("enforcement_by_street", "fines_yuan", "enforcement.fines_yuan"),
        ("demolition_by_street", "sites", "demolition.sites"),
        ("demolition_by_street", "area_m2", "demolition.area_m2"),
        ("dcm_by_street", "reported", "dcm.reported"),
        ("dcm_by_street", "closed", "dcm.closed"),
    ):
        rows = tables[name]
        assert [r["street"] for r in rows] == streets, name
        assert total([r[column] for r in rows]) == result["indicators"][key], (name, column)
        assert total([r[f"prev_{column}"] for r in rows]) == result["previous"][key]
    penalties = oracle.penalty_records(scenario.data["enforcement"], period.start, period.end)
    cohort = oracle.dcm_cohort(scenario.data["dcm_cases"], period.start, period.end)
    for row in tables["enforcement_by_street"]:
        mine = [r for r in penalties if r["street"] == row["street"]]
        assert row["penalty_cases"] == len(mine)
        assert row["fines_yuan"] == sum((r["fine_yuan"] for r in mine), Decimal(0))
    for row in tables["dcm_by_street"]:
        due = [c for c in cohort if c["street"] == row["street"] and oracle.dcm_due(c, period.end)]
        on_time = sum(oracle.dcm_on_time(c) for c in due)
        want = on_time / len(due) if due else None
        assert row["on_time_disposal_rate"] == pytest.approx(want, abs=1e-9), row["street"]


def test_street_targets_of_the_campaign(scenario: Scenario) -> None:
    for row in scenario.tables["2023"]["demolition_by_street"]:
        assert row["target_m2"] == Decimal("120000.00")  # the 2023 campaign's street targets
    for row in scenario.tables["2024"]["demolition_by_street"]:
        assert row["target_m2"] is None  # the 2024 campaign has a district target only


def test_campaign_cumulative_area_by_month(scenario: Scenario) -> None:
    rows = {r["month"]: r for r in scenario.tables["2023"]["demolition_by_month"]}
    targets = scenario.data["demolition_targets"]
    chosen = oracle.campaign(targets, D(2023, 1, 1), D(2023, 12, 31))
    assert chosen is not None and chosen["start_date"] == D(2023, 7, 1)
    for month, row in rows.items():
        month_end = oracle.month_span(2023, month)[1]
        if month_end < chosen["start_date"]:
            assert row["campaign_cumulative_m2"] is None
            continue
        want = sum(
            (
                r["area_m2"]
                for r in scenario.data["demolition"]
                if chosen["start_date"]
                <= r["demolished_date"]
                <= min(chosen["end_date"], month_end)
            ),
            Decimal(0),
        )
        assert row["campaign_cumulative_m2"] == want, month
    indicators = scenario.results["2023"]["indicators"]
    assert rows[12]["campaign_cumulative_m2"] == indicators["demolition.campaign_area_m2"]


@pytest.mark.parametrize("label", PERIODS)
def test_dictionary_tables_list_every_member_and_add_up(scenario: Scenario, label: str) -> None:
    d = scenario.settings["dictionaries"]
    tables, result = scenario.tables[label], scenario.results[label]
    period = Period.parse(label)
    categories = [c for cats in d["dcm_categories"].values() for c in cats]
    for name, dim, members, column, key in (
        ("enforcement_by_category", "category", d["enforcement_categories"], "penalty_cases",
         "enforcement.penalty_cases"),
        ("permits_by_item", "item_name", d["permit_items"], "received", "permits.received"),
        ("permits_by_item", "item_name", d["permit_items"], "non_tax_revenue_yuan",
         "permits.non_tax_revenue_yuan"),
        ("dcm_by_source", "source", d["dcm_sources"], "reported", "dcm.reported"),
        ("dcm_by_category", "category", categories, "reported", "dcm.reported"),
        ("legal_by_type", "activity_type", d["activity_types"], "participants",
         "legal.participants"),
    ):  # fmt: skip
        rows = tables[name]
        assert [r[dim] for r in rows] == members, name
        assert total([r[column] for r in rows]) == result["indicators"][key], (name, column)
        assert total([r[f"prev_{column}"] for r in rows]) == result["previous"][key]
    hotline = next(r for r in tables["dcm_by_source"] if r["source"] == "12345热线")
    assert hotline["reported"] == result["indicators"]["dcm.hotline_cases"]
    received = oracle.received_permits(scenario.data["permits"], period.start, period.end)
    for row in tables["permits_by_item"]:
        concluded = [
            r
            for r in received
            if r["item_name"] == row["item_name"]
            and r["decided_date"] is not None
            and r["decided_date"] <= period.end
        ]
        on_time = sum(
            oracle.OFFICIAL.wd(r["received_date"], r["decided_date"]) <= r["promised_days"]
            for r in concluded
        )
        want = on_time / len(concluded) if concluded else None
        assert row["on_time_rate"] == pytest.approx(want, abs=1e-9), row["item_name"]


def test_campaign_month_with_data_but_nothing_in_the_campaign_yet_is_zero(
    tmp_path: Path,
) -> None:
    """A campaign starting 15 July: July has a demolition (on the 3rd) but none in the campaign,
    so its cumulative area is 0, not missing."""
    settings = make_settings(tmp_path)
    data = {
        "demolition": [
            oracle.demolished("A", D(2023, 7, 3), "10.00"),
            oracle.demolished("B", D(2023, 8, 3), "20.00"),
        ],
        "demolition_targets": [
            oracle.target("中途开始", oracle.WHOLE_DISTRICT, D(2023, 7, 15), D(2023, 12, 31), "100")
        ],
    }
    with warehouse.writer(settings) as con:
        oracle.load(con, data)
        refresh_calendar(con, settings)
        rows = {r["month"]: r for r in breakdowns(con, Period.parse("2023"), settings)[
            "demolition_by_month"]}  # fmt: skip
    assert rows[6]["campaign_cumulative_m2"] is None  # before the campaign
    assert rows[7]["campaign_cumulative_m2"] == 0
    assert rows[8]["campaign_cumulative_m2"] == Decimal("20.00")
    assert rows[9]["campaign_cumulative_m2"] is None  # no demolition record at all in September
