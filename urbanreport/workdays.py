"""The official PRC working-day calendar, materialised as the `calendar_days` table.

Why a table: indicators count working days between two dates for hundreds of thousands of cases;
with a running working-day number per day, wd(a, b) is one subtraction in SQL.

Sources, in order: a year listed in configuration ([calendar.years.YYYY], the State Council's
arrangement published each December); else the `chinesecalendar` package (2004 to its last
year); else Monday–Friday, marked provisional so reports can say so.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import chinese_calendar
import duckdb
import pyarrow as pa

from urbanreport.config import Settings


def _configured_year(year_cfg: dict[str, Any]) -> tuple[set[dt.date], set[dt.date]]:
    holidays = {dt.date.fromisoformat(d) for d in year_cfg.get("holidays", [])}
    workdays = {dt.date.fromisoformat(d) for d in year_cfg.get("workdays", [])}
    return holidays, workdays


def day_status(
    day: dt.date, overrides: dict[int, tuple[set[dt.date], set[dt.date]]]
) -> tuple[bool, bool]:
    """(is_workday, provisional) for one day."""
    if day.year in overrides:
        holidays, workdays = overrides[day.year]
        if day in workdays:
            return True, False
        if day in holidays:
            return False, False
        return day.weekday() < 5, False
    try:
        return chinese_calendar.is_workday(day), False
    except NotImplementedError:
        return day.weekday() < 5, True


def calendar_rows(settings: Settings) -> pa.Table:
    """All days of the configured span with their working-day status and running number."""
    cal = settings["calendar"]
    overrides = {int(y): _configured_year(v) for y, v in cal.get("years", {}).items()}
    first = dt.date(int(cal["first_year"]), 1, 1)
    last = dt.date(int(cal["last_year"]), 12, 31)
    days, flags, seqs, provisional = [], [], [], []
    seq = 0
    day = first
    while day <= last:
        is_workday, is_provisional = day_status(day, overrides)
        seq += is_workday
        days.append(day)
        flags.append(is_workday)
        seqs.append(seq)
        provisional.append(is_provisional)
        day += dt.timedelta(days=1)
    return pa.table(
        {
            "d": days,
            "is_workday": flags,
            "workday_seq": pa.array(seqs, pa.int32()),
            "provisional": provisional,
        }
    )


def refresh_calendar(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Rebuild calendar_days from configuration and the package (cheap: a few thousand rows)."""
    rows = calendar_rows(settings)  # noqa: F841 - read by name in the SQL below
    con.execute("DELETE FROM calendar_days")
    con.execute(
        "INSERT INTO calendar_days SELECT d, is_workday, workday_seq, provisional FROM rows"
    )


def working_days(a: dt.date, b: dt.date, settings: Settings) -> int:
    """wd(a, b) in Python: working days d with a < d ≤ b. Used by tests as an independent check."""
    cal = settings["calendar"]
    overrides = {int(y): _configured_year(v) for y, v in cal.get("years", {}).items()}
    count = 0
    day = a + dt.timedelta(days=1)
    while day <= b:
        count += day_status(day, overrides)[0]
        day += dt.timedelta(days=1)
    return count
