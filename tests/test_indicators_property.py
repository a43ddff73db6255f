"""Property-based check of the indicator SQL against the oracle on random record sets.

Hypothesis draws a few dozen records per source, dated over 2022–2024 (half of them close to a
"focus" date so a single month holds several), with random penalty types, statuses, lifecycle
timestamps kept in order and missing values; then every catalogue key is computed by the SQL of
sql/indicators/ for the focus month and the focus year and compared with
`tests/indicator_oracle.py`. One warehouse is reused: each example deletes the rows first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import indicator_oracle as oracle
from urbanreport.core import catalogue, warehouse
from urbanreport.core.config import Settings, load_settings
from urbanreport.core.workdays import refresh_calendar
from urbanreport.indicators import Period

KINDS = {key: item.kind for key, item in catalogue.indicators().items()}
#: The figures the issue names; every other catalogue key is compared as well.
NAMED = [
    "enforcement.penalty_cases",
    "enforcement.fines_yuan",
    "enforcement.disclosure_on_time_rate",
    "permits.on_time_rate",
    "permits.avg_working_days",
    "permits.non_tax_revenue_yuan",
    "dcm.on_time_disposal_rate",
    "dcm.rework_rate",
    "demolition.campaign_area_m2",
]
FIRST, LAST = dt.date(2022, 1, 1), dt.date(2024, 12, 31)


@dataclass
class Warehouse:
    con: duckdb.DuckDBPyConnection
    settings: Settings


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    home: Path = tmp_path_factory.mktemp("property")
    (home / "urbanreport.toml").write_text(
        "[calendar]\nfirst_year = 2020\nlast_year = 2026\n", encoding="utf-8"
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("URBANREPORT_CONFIG", raising=False)
        cfg = load_settings(home=home)
    with warehouse.writer(cfg) as con:
        refresh_calendar(con, cfg)
        yield Warehouse(con, cfg)


def sql_indicators(wh: Warehouse, period: Period) -> dict[str, Any]:
    """The section files of sql/indicators for one period, as `compute` runs them."""
    params = period.params()
    values: dict[str, Any] = {}
    for section in catalogue.SECTIONS:
        row = warehouse.query(wh.con, f"indicators/{section}.sql", params)[0]
        values.update({f"{section}.{name}": value for name, value in row.items()})
    return values


# --- strategies -----------------------------------------------------------------------------

money = st.decimals(min_value=0, max_value=99999, places=2, allow_nan=False, allow_infinity=False)
area = st.decimals(
    min_value=Decimal("0.01"), max_value=99999, places=2, allow_nan=False, allow_infinity=False
)


def near(focus: dt.date) -> st.SearchStrategy[dt.date]:
    """Anywhere in 2022–2024, or within a few weeks of the focus date."""
    return st.one_of(
        st.dates(min_value=FIRST, max_value=LAST),
        st.integers(-40, 40).map(lambda n: focus + dt.timedelta(days=n)),
    )


def later(day: dt.date, most: int) -> st.SearchStrategy[dt.date | None]:
    return st.none() | st.integers(0, most).map(lambda n: day + dt.timedelta(days=n))


@st.composite
def enforcement_case(draw: st.DrawFn, focus: dt.date) -> dict[str, Any]:
    filed = draw(near(focus))
    decided = draw(later(filed, 120))
    penalty = draw(st.sampled_from(["罚款", "警告", "没收违法所得", "不予处罚", None]))
    reviewed = decided is not None and draw(st.booleans())
    return oracle.case(
        "",
        filed,
        decided,
        penalty_type=penalty if decided else None,
        fine_yuan=draw(money),
        is_major=draw(st.booleans()),
        legal_review=draw(st.booleans()),
        collective_decision=draw(st.booleans()),
        disclosed_date=draw(later(decided, 20)) if decided else None,
        review_outcome=draw(st.sampled_from(["维持", "纠错", "败诉"])) if reviewed else None,
        review_date=draw(later(decided, 200)) if reviewed else None,
    )


@st.composite
def permit(draw: st.DrawFn, focus: dt.date) -> dict[str, Any]:
    received = draw(near(focus))
    decided = draw(later(received, 40))
    return oracle.permit(
        "",
        received,
        decided,
        channel=draw(st.sampled_from(["网上", "窗口"])),
        status=draw(st.sampled_from(["准予许可", "不予许可", "撤回"])) if decided else "办理中",
        promised_days=draw(st.integers(1, 20)),
        fee_yuan=draw(money),
        e_license=draw(st.booleans()),
    )


@st.composite
def dcm_case(draw: st.DrawFn, focus: dt.date) -> dict[str, Any]:
    reported = dt.datetime.combine(draw(near(focus)), dt.time()) + dt.timedelta(
        minutes=draw(st.integers(0, 24 * 60 - 1))
    )
    row = oracle.dcm_case(
        "",
        reported,
        source=draw(st.sampled_from(["监督员上报", "12345热线", "群众举报"])),
        rework_count=draw(st.integers(0, 3)),
    )
    # the lifecycle in order, stopping anywhere; a step may also be skipped
    t = reported
    for step in ("registered_at", "dispatched_at", "disposed_at", "closed_at"):
        gap = draw(st.none() | st.integers(0, 24 * 40))
        if gap is None:
            if draw(st.booleans()):
                break
            continue
        t = t + dt.timedelta(minutes=gap * 60 + draw(st.integers(0, 59)))
        row[step] = t
        if step == "dispatched_at":
            row["deadline_at"] = t + dt.timedelta(hours=draw(st.integers(1, 24 * 15)))
    return row


@st.composite
def campaign(draw: st.DrawFn, focus: dt.date) -> dict[str, Any]:
    start = draw(near(focus))
    end = start + dt.timedelta(days=draw(st.integers(0, 600)))
    return oracle.target(
        draw(st.sampled_from(["甲行动", "乙行动", "丙行动"])),
        draw(st.sampled_from([oracle.WHOLE_DISTRICT, oracle.WHOLE_DISTRICT, "龙华"])),
        start,
        end,
        str(draw(area)),
    )


def numbered(rows: list[dict[str, Any]], key: str, prefix: str) -> list[dict[str, Any]]:
    return [r | {key: f"{prefix}{i}"} for i, r in enumerate(rows)]


@st.composite
def record_sets(draw: st.DrawFn) -> tuple[dt.date, dict[str, list[dict[str, Any]]]]:
    focus = draw(st.dates(min_value=FIRST, max_value=LAST))
    targets = draw(st.lists(campaign(focus), max_size=3))
    # (campaign, street) is the key of a target
    targets = list({(t["campaign"], t["street"]): t for t in targets}.values())
    data = {
        "enforcement": numbered(
            draw(st.lists(enforcement_case(focus), max_size=30)), "case_id", "E"
        ),
        "permits": numbered(draw(st.lists(permit(focus), max_size=30)), "permit_id", "P"),
        "dcm_cases": numbered(draw(st.lists(dcm_case(focus), max_size=30)), "case_id", "D"),
        "demolition": [
            oracle.demolished(f"R{i}", day, str(a))
            for i, (day, a) in enumerate(draw(st.lists(st.tuples(near(focus), area), max_size=20)))
        ],
        "demolition_targets": targets,
        "legal_activities": [
            oracle.activity(day, kind, f"T{i}", people)
            for i, (day, kind, people) in enumerate(
                draw(
                    st.lists(
                        st.tuples(
                            near(focus),
                            st.sampled_from(["党组学法", "中心组学习", "执法培训", "普法宣传"]),
                            st.none() | st.integers(0, 300),
                        ),
                        max_size=10,
                    )
                )
            )
        ],
    }
    return focus, data


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(drawn=record_sets(), whole_year=st.booleans())
def test_sql_agrees_with_the_oracle_on_random_records(
    wh: Warehouse, drawn: tuple[dt.date, dict[str, list[dict[str, Any]]]], whole_year: bool
) -> None:
    focus, data = drawn
    oracle.clear(wh.con)
    oracle.load(wh.con, data)
    # the focus month, and a fiscal year (the focus year, or another one)
    year = focus.year if whole_year else 2022 + (focus.year - 2021) % 3
    for period in (Period("month", focus.year, focus.month), Period("year", year)):
        got = sql_indicators(wh, period)
        want = oracle.indicators(data, period.start, period.end)
        assert set(NAMED) <= set(got) == set(want)
        for key, value in got.items():
            assert oracle.same(KINDS[key], want[key], value), (
                f"{key} for {period.label}: SQL {value!r}, oracle {want[key]!r}"
            )
