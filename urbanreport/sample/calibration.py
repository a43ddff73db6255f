"""The sample's design volumes and the published figures it is calibrated to.

Why a data file: the published figures are facts about one bureau's report, not rules of the
code, so they live in `calibration.toml` beside the name of the document they come from. The
generator rescales the records of the published district and year until they add up to them;
everything downstream (ingest, indicators, reports) only ever counts records.

The first published entry is also the reference the volumes of every other district and year
are drawn around (a neighbouring district's sample looks alike but is not calibrated).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib.resources import files

#: Digital city-management cases reported in the reference year at scale 1, and the yearly
#: growth of every case volume around it (the sample's design, not a published figure).
DCM_CASES_A_YEAR = 20_000
DCM_GROWTH = 1.08
ENFORCEMENT_GROWTH = 1.07
PERMITS_GROWTH = 1.05
DEMOLITION_GROWTH = 1.03


@dataclass(frozen=True)
class Published:
    """One bureau's published figures for one fiscal year (money and areas in hundredths)."""

    city: str
    district: str
    year: int
    document: str
    penalty_cases: int
    fines_yuan: int
    permits_received: int
    non_tax_revenue_fen: int
    campaign_area_centi_m2: int
    campaign_target_m2: int


def _hundredths(text: str) -> int:
    """`"496793.68"` → 49679368, exactly (the file keeps decimals as text, never as float)."""
    value = Decimal(text) * 100
    if value != value.to_integral_value():
        raise ValueError(f"calibration.toml: more than two decimals in {text!r}")
    return int(value)


@cache
def published() -> tuple[Published, ...]:
    """Every entry of calibration.toml, in file order."""
    data = tomllib.loads((files("urbanreport.sample") / "calibration.toml").read_text("utf-8"))
    return tuple(
        Published(
            city=entry["city"],
            district=entry["district"],
            year=int(entry["year"]),
            document=entry["document"],
            penalty_cases=int(entry["penalty_cases"]),
            fines_yuan=int(entry["fines_yuan"]),
            permits_received=int(entry["permits_received"]),
            non_tax_revenue_fen=_hundredths(entry["non_tax_revenue_yuan"]),
            campaign_area_centi_m2=_hundredths(entry["campaign_area_m2"]),
            campaign_target_m2=int(entry["campaign_target_m2"]),
        )
        for entry in data["published"]
    )


def reference() -> Published:
    """The figures every district's volumes are drawn around."""
    return published()[0]


def published_for(city: str, district: str) -> Published | None:
    """The figures the sample of this district is calibrated to, if its bureau published any."""
    return next((p for p in published() if (p.city, p.district) == (city, district)), None)
