"""The official PRC working-day calendar, materialised as the `calendar_days` table.

Why a table: indicators count working days between two dates for hundreds of thousands of cases;
with a running working-day number per day, wd(a, b) is one subtraction in SQL.

Sources, in order: a year listed in configuration ([calendar.years.YYYY], the State Council's
arrangement published each December); else the `chinesecalendar` package (2004 to its last
year); else Monday–Friday, marked provisional so reports can say so.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import chinese_calendar
import duckdb

from urbanreport.core import warehouse
from urbanreport.core.config import Settings


def _configured_year(year_cfg: dict[str, Any]) -> tuple[set[dt.date], set[dt.date]]:
    holidays = {dt.date.fromisoformat(d) for d in year_cfg.get("holidays", [])}
    workdays = {dt.date.fromisoformat(d) for d in year_cfg.get("workdays", [])}
    return holidays, workdays


#: The years the package's official arrangements cover. Read once: its own per-day check scans
#: every holiday to find them, which made a calendar of 16 years cost half a second per run.
_PACKAGE_YEARS = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)


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
    if day.year in _PACKAGE_YEARS:  # chinese_calendar.is_workday's rule, without its scan
        official = day in chinese_calendar.workdays
        return official or (day.weekday() < 5 and day not in chinese_calendar.holidays), False
    return day.weekday() < 5, True


def calendar_rows(
    settings: Settings, data_years: tuple[int | None, int | None] = (None, None)
) -> dict[str, list[Any]]:
    """All days of the span with their working-day status and running number, by column.

    The span is the configured one, widened to every year the data touches, so a date outside
    it still gets a (provisional, Monday–Friday) entry rather than no working-day count at all.
    """
    cal = settings["calendar"]
    overrides = {int(y): _configured_year(v) for y, v in cal.get("years", {}).items()}
    first = dt.date(min(int(cal["first_year"]), data_years[0] or 9999), 1, 1)
    last = dt.date(max(int(cal["last_year"]), data_years[1] or 0), 12, 31)
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
    return {"d": days, "is_workday": flags, "workday_seq": seqs, "provisional": provisional}


def refresh_calendar(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Rebuild calendar_days from configuration and the package (cheap: a few thousand rows).

    Written only when it differs, in one transaction (readers never see it half-built), retried
    when another writer rebuilds it at the same moment (sql/ingest/calendar.sql).
    """
    span = warehouse.query(con, "ingest/data_years.sql")[0]
    rows = calendar_rows(settings, (span["first_year"], span["last_year"]))

    def rebuild(c: duckdb.DuckDBPyConnection) -> None:
        if warehouse.query(c, "ingest/calendar_changed.sql")[0]["changed"]:
            warehouse.execute_file(c, "ingest/calendar.sql")

    columns = json.dumps(rows, default=dt.date.isoformat)
    warehouse.execute_file(con, "ingest/calendar_frame.sql", {"columns": columns})
    try:
        warehouse.transaction(con, settings, rebuild, "更新工作日历 (updating the calendar)")
    finally:
        con.execute("DROP TABLE IF EXISTS calendar_frame")
