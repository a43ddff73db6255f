"""Sample campaign targets (拆违任务目标): one CSV with canonical headers, as the 拆违办 keeps it.

Targets are areas, so they scale with the demolitions and progress stays comparable.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

import numpy as np
import polars as pl

from urbanreport.core.clock import SHANGHAI
from urbanreport.sample.common import neighbour_years
from urbanreport.sample.demolition import campaign
from urbanreport.sample.run import Run

SOURCE = "demolition_targets"
FILE_NAME = "demolition_targets.csv"


def campaign_years(run: Run, years: Sequence[int]) -> list[int]:
    """Campaigns whose period overlaps a requested year (2023's runs into 2024)."""
    out = []
    for launched in neighbour_years(years, 1, 0):
        _, start, end, _ = campaign(launched, run)
        if any(start <= date(y, 12, 31) and end >= date(y, 1, 1) for y in years):
            out.append(launched)
    return out


def _row(name: str, street: str, start: date, end: date, target: int) -> dict[str, str]:
    return {
        "campaign": name,
        "street": street,
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "target_m2": str(target),
    }


def write(run: Run) -> None:
    """The district's target and each street's share (rounded to 1000 m²) of every campaign,
    and one target for a street of another district, which the ingest refuses."""
    street_share = run.street_weights("demolition")
    whole = run.settings["district"]["whole_district"]
    rows: list[dict[str, str]] = []
    campaigns = campaign_years(run, run.years)
    for year in campaigns:
        name, start, end, target = campaign(year, run)
        total = int(round(target * run.size, -3))
        per_street = (np.rint(street_share * total / 1000) * 1000).astype(np.int64)
        per_street[int(np.argmax(per_street))] += total - int(per_street.sum())  # stays round
        rows.append(_row(name, whole, start, end, total))
        rows += [
            _row(name, street, start, end, int(value))
            for street, value in zip(run.streets, per_street.tolist(), strict=True)
        ]
    name, start, end, _ = campaign(campaigns[-1], run)
    rows.append(_row(name, run.foreign_street(), start, end, 50000))
    data = pl.DataFrame(rows).write_csv().encode("utf-8")
    saved = datetime.combine(start - timedelta(days=14), time(9, 30), tzinfo=SHANGHAI)
    run.emit(run.path(SOURCE, FILE_NAME), data, saved)
