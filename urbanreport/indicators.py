"""Indicators: running sql/indicators + sql/breakdowns for a period.

Every figure is computed by the SQL files; this module only passes the period parameters,
collects the one-row results under their catalogue keys, pivots breakdown rows into tables,
and gives the stable JSON form. Reports, CLI, flows and tests all come through here, so they
read the same SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl

from urbanreport.core import catalogue, formatting, warehouse
from urbanreport.core.catalogue import SECTION_SOURCES, SECTIONS, Indicator
from urbanreport.core.city import City
from urbanreport.core.config import SQL_DIR, Settings, load_settings
from urbanreport.core.periods import Period

__all__ = [
    "CityFigures",
    "DistrictFigures",
    "Period",
    "breakdowns",
    "city_to_json",
    "compute",
    "compute_city",
    "compute_city_for",
    "compute_for",
    "to_json",
]


def _scalars(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> dict[str, Any]:
    """Run every section file for one period: {catalogue key: value}."""
    values: dict[str, Any] = {}
    for section in SECTIONS:
        row = warehouse.query(con, f"indicators/{section}.sql", params)[0]
        values.update({f"{section}.{name}": value for name, value in row.items()})
    return values


def _missing_reason(item: Indicator, present: bool, period: Period) -> str:
    """Why a figure is null, in words for the report (数据缺失 is never written as 0)."""
    if not present:
        return f"{catalogue.source_name(item.source)}在{period.chinese}没有任何记录"
    if item.null_reason:
        return item.null_reason
    if item.kind == "rate":
        return "分母为0，比率不适用"
    return "统计期内没有适用的记录"


def _scope(settings: Settings) -> tuple[list[str], list[str]]:
    """The district codes and district-wide words a district's figures read."""
    return [settings.district_code], [settings["district"]["whole_district"]]


def compute(
    con: duckdb.DuckDBPyConnection, period: Period, settings: Settings | None = None
) -> dict[str, Any]:
    """All catalogue indicators of the district of `settings` for a period, the previous year
    beside them, and data quality.

    Shaped as `urbanreport indicators --json` prints it (before JSON rounding).
    """
    with warehouse.scoped(con, *_scope(settings or load_settings())):
        return _compute(con, period)


def _compute(con: duckdb.DuckDBPyConnection, period: Period) -> dict[str, Any]:
    """`compute` over the districts the connection reads now (one, or a whole city's)."""
    params = period.params()
    current = _scalars(con, params)
    previous = _scalars(con, period.previous().params())
    cat = catalogue.indicators()
    quality = {
        row.pop("source"): row for row in warehouse.query(con, "indicators/quality.sql", params)
    }
    context = warehouse.query(con, "indicators/context.sql", params)[0]
    present = {
        r["source"]
        for r in warehouse.query(con, "indicators/month_coverage.sql", params)
        if r["period"] == "cur"
    }
    missing = {
        key: _missing_reason(cat[key], cat[key].source in present, period)
        for key, value in current.items()
        if value is None
    }
    # A campaign figure is 无专项行动 once its section's records are there (demolitions without
    # any target: no campaign), 数据缺失 only when the section itself sent nothing.
    empty = {
        key: formatting.empty_text(cat[key], SECTION_SOURCES[cat[key].section] in present)
        for key in missing
    }
    return {
        "period": period.label,
        "kind": period.kind,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "indicators": current,
        "previous": previous,
        "change": {
            k: None if current[k] is None or previous[k] is None else current[k] - previous[k]
            for k in current
        },
        "quality": quality,
        "missing": missing,
        "empty": empty,
        "campaign": context["campaign"],
        "provisional": [
            f"{year}年法定节假日安排未收录，工作日按周一至周五计算，相关指标为暂定值"
            for year in context["provisional_years"] or []
        ],
        "data_version": {
            "data_as_of": context["data_as_of"].isoformat(timespec="seconds")
            if context["data_as_of"]
            else None,
            "batches": context["batches"],
        },
    }


# --- breakdowns -----------------------------------------------------------------------------

#: Every breakdown table, one SQL file each: `sql/breakdowns/<name>.sql` (by month, street,
#: category, item, source, type; the previous year beside in `prev_` columns).
BREAKDOWNS: tuple[str, ...] = tuple(sorted(p.stem for p in (SQL_DIR / "breakdowns").glob("*.sql")))


def breakdown_params(period: Period, settings: Settings) -> dict[str, Any]:
    """The period parameters, the members every table lists (zero or not), from settings, and
    the district the tables read (`districts`, `whole_districts`: the scope, not SQL
    parameters)."""
    d = settings["dictionaries"]
    codes, words = _scope(settings)
    return {
        **period.params(),
        "streets": settings.streets,
        "enforcement_categories": list(d["enforcement_categories"]),
        "permit_items": list(d["permit_items"]),
        "dcm_sources": list(d["dcm_sources"]),
        "dcm_categories": [c for cats in d["dcm_categories"].values() for c in cats],
        "activity_types": list(d["activity_types"]),
        "districts": codes,
        "whole_districts": words,
    }


def breakdown(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> pl.DataFrame:
    """One breakdown table as the file `sql/breakdowns/<name>.sql` computes it, over the
    district of `params` (breakdown_params) whatever district the connection was opened for.

    A member without any record of its source shows None (数据缺失), not 0: the SQL says so.
    """
    with warehouse.scoped(con, params["districts"], params["whole_districts"]):
        return warehouse.execute_file(con, f"breakdowns/{name}.sql", params).pl()


def breakdowns(
    con: duckdb.DuckDBPyConnection, period: Period, settings: Settings | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Every breakdown table of the district of `settings` for a period, as rows (the CLI's
    and the tests' form)."""
    params = breakdown_params(period, settings or load_settings())
    return {name: breakdown(con, name, params).to_dicts() for name in BREAKDOWNS}


# --- a whole city ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DistrictFigures:
    """One district of a city: `compute`'s result for it (every figure None, 数据缺失, where
    the district sent nothing for the period)."""

    code: str
    name: str
    figures: dict[str, Any]

    @property
    def has_data(self) -> bool:
        return any(v is not None for v in self.figures["indicators"].values())


@dataclass(frozen=True)
class CityFigures:
    """A city's figures: `total` over all its districts, recomputed from their records (the
    same SQL over the union of the districts: rates from counts, never averages of rates),
    and each district's own, in the city file's order, for the by-district tables."""

    city: dict[str, str]  # code, name
    total: dict[str, Any]  # the shape of `compute`'s result
    districts: list[DistrictFigures]


def compute_city(con: duckdb.DuckDBPyConnection, period: Period, city: City) -> CityFigures:
    """Every indicator over all the city's districts, and per district."""
    members = [(entry, city.settings_for(entry.code)) for entry in city.districts]
    codes = [settings.district_code for _, settings in members]
    words = [settings["district"]["whole_district"] for _, settings in members]
    with warehouse.scoped(con, codes, words):
        total = _compute(con, period)
    districts = [
        DistrictFigures(entry.code, entry.name, compute(con, period, settings))
        for entry, settings in members
    ]
    return CityFigures({"code": city.code, "name": city.name}, total, districts)


def compute_city_for(city: City, period: Period) -> dict[str, Any]:
    """`urbanreport indicators --city`: the JSON-ready result, read from the warehouse."""
    with warehouse.reader(city.settings_for(city.districts[0].code)) as con:
        return city_to_json(compute_city(con, period, city))


def city_to_json(figures: CityFigures) -> dict[str, Any]:
    """The city's stable machine form: the city's figures as `to_json` gives a district's,
    and each district's beside them."""
    return {
        "city": figures.city,
        **to_json(figures.total),
        "districts": [
            {"code": d.code, "name": d.name, "has_data": d.has_data, **to_json(d.figures)}
            for d in figures.districts
        ],
    }


# --- entry points and formatting ------------------------------------------------------------


def compute_for(settings: Settings, period: Period) -> dict[str, Any]:
    """`urbanreport indicators`: the JSON-ready result, read from the warehouse read-only."""
    with warehouse.reader(settings) as con:
        return to_json(compute(con, period, settings))


def to_json(result: dict[str, Any]) -> dict[str, Any]:
    """Stable machine form: rates as fractions to 4 places, money and areas to 2, half-up."""
    cat = catalogue.indicators()

    def machine(values: dict[str, Any]) -> dict[str, Any]:
        return {k: formatting.machine(cat[k].kind, v) for k, v in values.items()}

    return {
        "period": result["period"],
        "indicators": machine(result["indicators"]),
        "previous": machine(result["previous"]),
        "change": machine(result["change"]),
        "quality": {
            source: {
                "rows_read": q["rows_read"],
                "rows_loaded": q["rows_loaded"],
                "rows_rejected": q["rows_rejected"],
                "months_without_data": list(q["months_without_data"]),
            }
            for source, q in result["quality"].items()
        },
        "missing": result["missing"],
        "empty": result.get("empty", {}),
        "provisional": result["provisional"],
    }
