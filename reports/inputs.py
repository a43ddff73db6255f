"""What one report is made from: the period's figures, its breakdown frames and its names.

Why a type of its own: the section modules lay a report out from this alone, so they can be
tested from hand-made figures without a warehouse, and `build.gather` is the one place that
reads the warehouse for a report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from urbanreport.core import catalogue, formatting
from urbanreport.core.periods import Period
from urbanreport.reports.figures import Entry
from urbanreport.reports.narrative import Figures


@dataclass(frozen=True)
class ReportData:
    """Everything one report shows.

    `frames` holds the breakdown tables the report's registry entries read, keyed
    ``"<span>:<breakdown>"`` (``"period:enforcement_by_street"``,
    ``"year_to_date:dcm_by_month"``); `ytd` is the monthly brief's January-to-month result.
    """

    report: str  # "annual" | "monthly"
    period: Period
    result: Mapping[str, Any]
    frames: Mapping[str, pl.DataFrame]
    bureau: str
    district: str
    source_titles: Mapping[str, str] = field(default_factory=dict)
    ytd: Mapping[str, Any] | None = None
    #: Where drawn charts are kept by the hash of their inputs (`chart_cache`); None draws
    #: every chart. Not something the report shows: the same figures give the same bytes.
    charts_dir: Path | None = field(default=None, compare=False)

    # --- the period ------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        """The narrative's word for the period: "year" or "month"."""
        return "year" if self.report == "annual" else "month"

    @property
    def label(self) -> str:
        return self.period.label

    @property
    def fiscal_year(self) -> int:
        return self.period.fiscal_year

    @property
    def month(self) -> int | None:
        return self.period.month

    def span(self, entry: Entry) -> Period:
        """The period an entry shows: the report's, or January to its month (a year's is itself)."""
        if entry.span == "year_to_date" and self.period.kind == "month":
            return self.period.year_to_date() or self.period
        return self.period

    def frame(self, entry: Entry) -> pl.DataFrame:
        """The breakdown frame of an entry (an empty frame when the data has none)."""
        return self.frames.get(frame_key(entry, self.period), pl.DataFrame())

    # --- the figures -----------------------------------------------------------------------
    @cached_property
    def figures(self) -> Figures:
        return Figures(self.result)

    @cached_property
    def ytd_figures(self) -> Figures:
        return Figures(self.ytd or {})

    # --- the data's own time ---------------------------------------------------------------
    @property
    def data_as_of(self) -> datetime | None:
        """The moment the data stands at (the newest extract), never the ingest's clock."""
        version = self.result.get("data_version") or {}
        return formatting.as_datetime(version.get("data_as_of"))

    @property
    def data_cutoff(self) -> date:
        """The period's last day, or the data's own day when that comes first (a running year)."""
        moment = self.data_as_of
        if moment is not None and moment.date() < self.period.end:
            return moment.date()
        return self.period.end

    @property
    def batches(self) -> int | None:
        return (self.result.get("data_version") or {}).get("batches")

    def source_title(self, source: str) -> str:
        return self.source_titles.get(source) or catalogue.source_name(source)


def frame_key(entry: Entry, period: Period) -> str:
    """Where `ReportData.frames` keeps the breakdown an entry reads for a report's period."""
    span = "year_to_date" if entry.span == "year_to_date" and period.kind == "month" else "period"
    return f"{span}:{entry.breakdown}"
