"""The bureau's clock: Asia/Shanghai, whatever time zone the machine runs in.

Why one module: the schedule fires at 06:00 on the 1st in Beijing, which is 22:00 of the day
before in UTC; every "today", "last month" and "generated at" must be read in one time zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    """The current moment, aware, in Beijing time."""
    return datetime.now(SHANGHAI)


def today() -> date:
    """The bureau's calendar date."""
    return now().date()


def local_naive(moment: datetime) -> datetime:
    """A moment as naive Beijing wall time (how the warehouse stores timestamps).

    A naive input is taken as Beijing time already.
    """
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(SHANGHAI).replace(tzinfo=None)


def previous_month(moment: datetime) -> str:
    """The calendar month before `moment` as seen in Beijing: `YYYY-MM`.

    Taking the month in UTC would report on the month before last at 06:00 on the 1st. A naive
    `moment` is taken as UTC, which is what Prefect stores.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(SHANGHAI)
    last_month = date(local.year, local.month, 1) - timedelta(days=1)
    return f"{last_month.year:04d}-{last_month.month:02d}"
