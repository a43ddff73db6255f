"""Reporting periods: a fiscal year (the calendar year), a month, or a month's year to date.

Every SQL file of sql/indicators and sql/breakdowns takes the same named parameters, made here,
so a period means the same dates in the CLI, the reports, the flows and the tests.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from urbanreport.core.config import SOURCES


@dataclass(frozen=True)
class Period:
    """A fiscal year (the calendar year), one month, or a month's year-to-date span."""

    kind: str  # "year" | "month" | "ytd" (January 1 to the end of `month`)
    year: int
    month: int | None = None

    @classmethod
    def parse(cls, text: str) -> Period:
        """`2023` → fiscal year 2023; `2023-07` → July 2023. Anything else is refused."""
        text = str(text).strip()
        if m := re.fullmatch(r"(\d{4})", text):
            return cls("year", int(m.group(1)))
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
            month = int(m.group(2))
            if 1 <= month <= 12:
                return cls("month", int(m.group(1)), month)
        raise ValueError(f"统计期格式应为 2023 或 2023-07，收到：{text!r}")

    @property
    def label(self) -> str:
        if self.kind == "year":
            return f"{self.year}"
        if self.kind == "month":
            return f"{self.year}-{self.month:02d}"
        return f"{self.year}-01..{self.year}-{self.month:02d}"

    @property
    def fiscal_year(self) -> int:
        return self.year

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.month if self.kind == "month" else 1, 1)

    @property
    def end(self) -> dt.date:
        if self.kind == "year":
            return dt.date(self.year, 12, 31)
        return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def chinese(self) -> str:
        """2023年 / 2023年7月 / 2023年1—7月, as the report writes it."""
        if self.kind == "year":
            return f"{self.year}年"
        if self.kind == "month":
            return f"{self.year}年{self.month}月"
        return f"{self.year}年1—{self.month}月"

    def previous(self) -> Period:
        """The same period a year earlier."""
        return Period(self.kind, self.year - 1, self.month)

    def year_to_date(self) -> Period | None:
        """For a month, January 1 to its end; None for a year."""
        return Period("ytd", self.year, self.month) if self.kind == "month" else None

    def columns(self) -> dict[str, Period]:
        """Every period a report of this one prints a column for: the period and its 上年同期,
        and for a month also its year to date and that one's 上年同期. The report builder
        computes these and the refresh reads them back (urbanreport/lineage.py): one place."""
        spans = {"period": self, "previous": self.previous()}
        ytd = self.year_to_date()
        if ytd is not None:
            spans |= {"ytd": ytd, "ytd_previous": ytd.previous()}
        return spans

    def read_ranges(self) -> dict[str, list[str]]:
        """The date ranges [start, end] (ISO) a report of this period reads, per column; every
        source is read over the same ranges."""
        return {
            name: [p.start.isoformat(), p.end.isoformat()] for name, p in self.columns().items()
        }

    def months(self) -> list[int]:
        return list(range(self.start.month, self.end.month + 1))

    def params(self) -> dict[str, Any]:
        """The named parameters the SQL files of sql/indicators and sql/breakdowns take (the
        districts they read are the connection's scope: warehouse.set_scope)."""
        prev = self.previous()
        return {
            "start": self.start,
            "end": self.end,
            "prev_start": prev.start,
            "prev_end": prev.end,
            "sources": list(SOURCES),
        }
