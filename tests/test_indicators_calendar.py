"""The working-day calendar behind wd(a, b): the official arrangement from the package, a
year's holiday list given in urbanreport.toml, and the Monday–Friday fallback (figures then
marked provisional)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import chinese_calendar
import pytest

from tests import indicator_oracle as oracle
from tests.indicator_oracle import D
from urbanreport.core import catalogue, warehouse
from urbanreport.core.config import Settings, load_settings
from urbanreport.core.workdays import day_status, refresh_calendar
from urbanreport.indicators import Period, compute

KINDS = {key: item.kind for key, item in catalogue.indicators().items()}
#: A 2027 arrangement as the State Council would publish it (the package has no 2027 data).
HOLIDAYS_2027 = [f"2027-02-{day:02d}" for day in range(5, 13)]  # 02-05 .. 02-12 off
WORKDAYS_2027 = ["2027-02-14", "2027-02-20"]  # make-up Sunday and Saturday
CONFIG_2027 = f"""
[calendar]
first_year = 2020
last_year = 2028

[calendar.years.2027]
holidays = {HOLIDAYS_2027!r}
workdays = {WORKDAYS_2027!r}
""".replace("'", '"')
PLAIN = "[calendar]\nfirst_year = 2020\nlast_year = {last}\n"


def settings_with(home: Path, config: str) -> Settings:
    home.mkdir(parents=True, exist_ok=True)
    (home / "urbanreport.toml").write_text(config, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("URBANREPORT_CONFIG", raising=False)
        return load_settings(home=home)


def package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def first_uncovered_year() -> int:
    return next(y for y in range(2025, 2200) if not package_covers(y))


@pytest.mark.parametrize(
    ("day", "workday"),
    [
        (D(2024, 2, 4), True),  # Sunday, make-up working day before Spring Festival
        *[(D(2024, 2, d), False) for d in range(10, 18)],  # Spring Festival 2024
        (D(2024, 2, 18), True),  # Sunday, make-up working day
        (D(2024, 2, 19), True),  # first working day after the holiday
        (D(2023, 4, 23), True),  # Sunday, make-up for Labour Day
        (D(2023, 6, 25), True),  # Sunday, make-up for Dragon Boat
        (D(2023, 6, 23), False),  # Friday, Dragon Boat holiday
        (D(2023, 9, 29), False),  # Friday, Mid-autumn
        (D(2023, 10, 6), False),  # Friday, National Day
        (D(2023, 10, 7), True),  # Saturday, make-up
        (D(2023, 10, 8), True),  # Sunday, make-up
    ],
)
def test_the_official_calendar_the_edge_cases_rely_on(day: dt.date, workday: bool) -> None:
    assert chinese_calendar.is_workday(day) is workday
    assert oracle.OFFICIAL.is_workday(day) is workday


def test_wd_counts_days_after_a_up_to_and_including_b() -> None:
    cal = oracle.OFFICIAL
    assert cal.wd(D(2023, 3, 1), D(2023, 3, 1)) == 0
    assert cal.wd(D(2023, 3, 1), D(2023, 3, 2)) == 1
    assert cal.wd(D(2023, 3, 3), D(2023, 3, 6)) == 1  # Friday to Monday
    assert cal.wd(D(2023, 3, 6), D(2023, 3, 3)) == 0


def permits_2027() -> dict[str, list[dict]]:
    return {
        "permits": [
            # Thursday before the configured holiday → Monday after the make-up Sunday
            oracle.permit("P1", D(2027, 2, 4), D(2027, 2, 15), promised_days=3),
            # Friday → Monday, across the make-up Saturday 02-20
            oracle.permit("P2", D(2027, 2, 19), D(2027, 2, 22), promised_days=1),
        ]
    }


def test_a_holiday_list_in_configuration_changes_wd_without_code(tmp_path: Path) -> None:
    configured = settings_with(tmp_path, CONFIG_2027)
    cal = oracle.WorkCalendar(
        {
            2027: (
                frozenset(map(dt.date.fromisoformat, HOLIDAYS_2027)),
                frozenset(map(dt.date.fromisoformat, WORKDAYS_2027)),
            )
        }
    )
    assert cal.wd(D(2027, 2, 4), D(2027, 2, 15)) == 2  # 02-14, 02-15 (Mon–Fri: 7)
    assert cal.wd(D(2027, 2, 19), D(2027, 2, 22)) == 2  # 02-20, 02-22 (Mon–Fri: 1)
    data = permits_2027()
    period = Period.parse("2027-02")
    with warehouse.writer(configured) as con:
        oracle.load(con, data)
        refresh_calendar(con, configured)
        result = compute(con, period, configured)
    got = result["indicators"]
    assert got["permits.avg_working_days"] == pytest.approx(2.0, abs=1e-9)
    assert got["permits.on_time_rate"] == 0.5  # 2 ≤ 3, 2 > 1
    for key, value in oracle.permits(data["permits"], period.start, period.end, cal).items():
        assert oracle.same(KINDS[key], value, got[key]), key
    assert result["provisional"] == []


@pytest.mark.skipif(package_covers(2027), reason="the chinesecalendar package covers 2027")
def test_without_the_list_2027_is_monday_to_friday_and_provisional(tmp_path: Path) -> None:
    plain = settings_with(tmp_path, PLAIN.format(last=2028))
    data = permits_2027()
    period = Period.parse("2027-02")
    with warehouse.writer(plain) as con:
        oracle.load(con, data)
        refresh_calendar(con, plain)
        result = compute(con, period, plain)
    got = result["indicators"]
    assert got["permits.avg_working_days"] == pytest.approx((7 + 1) / 2, abs=1e-9)
    assert got["permits.on_time_rate"] == 0.5  # 7 > 3, 1 ≤ 1
    for key, value in oracle.permits(data["permits"], period.start, period.end).items():
        assert oracle.same(KINDS[key], value, got[key]), key
    assert result["provisional"] == [
        "2027年法定节假日安排未收录，工作日按周一至周五计算，相关指标为暂定值"
    ]


def test_an_uncovered_year_falls_back_to_monday_to_friday(tmp_path: Path) -> None:
    year = first_uncovered_year()
    plain = settings_with(tmp_path, PLAIN.format(last=year + 1))
    jan_1, jan_31 = D(year, 1, 1), D(year, 1, 31)
    weekdays = sum((jan_1 + dt.timedelta(days=n)).weekday() < 5 for n in range(1, 31))
    data = {
        "permits": [
            oracle.permit("U1", jan_1, jan_31, promised_days=60),
            oracle.permit("C1", D(year - 1, 3, 1), D(year - 1, 3, 31), promised_days=60),
        ]
    }
    assert oracle.OFFICIAL.wd(jan_1, jan_31) == weekdays
    with warehouse.writer(plain) as con:
        oracle.load(con, data)
        refresh_calendar(con, plain)
        result = compute(con, Period("month", year, 1), plain)
        covered = compute(con, Period("month", year - 1, 3), plain)
    assert result["indicators"]["permits.avg_working_days"] == pytest.approx(weekdays)
    assert result["provisional"] == [
        f"{year}年法定节假日安排未收录，工作日按周一至周五计算，相关指标为暂定值"
    ]
    # the year before is covered by the package: official working days, nothing provisional
    official = oracle.OFFICIAL.wd(D(year - 1, 3, 1), D(year - 1, 3, 31))
    assert covered["indicators"]["permits.avg_working_days"] == pytest.approx(official)
    assert covered["provisional"] == []


def test_day_status_is_the_packages_own_answer_on_every_day_it_covers() -> None:
    """day_status reads the package's tables directly (its per-day check is slow): the same
    answer as chinese_calendar.is_workday on every day, and provisional outside its years."""
    day = dt.date(min(chinese_calendar.holidays).year - 1, 1, 1)
    while day.year <= max(chinese_calendar.holidays).year + 1:
        try:
            expected = (chinese_calendar.is_workday(day), False)
        except NotImplementedError:
            expected = (day.weekday() < 5, True)
        assert day_status(day, {}) == expected, day
        day += dt.timedelta(days=1)
