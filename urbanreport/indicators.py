"""Indicators: running sql/indicators + sql/breakdowns for a period.

Every figure is computed by the SQL files; this module only passes the period parameters,
collects the one-row results under their catalogue keys, pivots breakdown rows into tables,
and gives the stable JSON form. Reports, CLI, flows and tests all come through here, so they
read the same SQL.
"""

from __future__ import annotations

from typing import Any

import duckdb

from urbanreport.core import catalogue, formatting, warehouse
from urbanreport.core.catalogue import SECTIONS, Indicator
from urbanreport.core.config import Settings, load_settings
from urbanreport.core.periods import Period

__all__ = ["Period", "breakdowns", "compute", "compute_for", "to_json"]


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


def compute(
    con: duckdb.DuckDBPyConnection, period: Period, settings: Settings | None = None
) -> dict[str, Any]:
    """All catalogue indicators for a period, the previous year beside them, and data quality.

    Shaped as `urbanreport indicators --json` prints it (before JSON rounding).
    """
    settings = settings or load_settings()
    params = period.params(settings)
    current = _scalars(con, params)
    previous = _scalars(con, period.previous().params(settings))
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
    empty = {key: formatting.empty_text(cat[key], cat[key].source in present) for key in missing}
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
            "last_batch_at": context["last_batch_at"].isoformat(timespec="seconds")
            if context["last_batch_at"]
            else None,
            "batches": context["batches"],
        },
    }


# --- breakdowns -----------------------------------------------------------------------------

_BREAKDOWNS: dict[str, dict[str, tuple[str, ...]]] = {
    # section file → {dimension column: metric columns}
    "enforcement": {
        "month": ("penalty_cases", "fines_yuan"),
        "street": ("penalty_cases", "fines_yuan"),
        "category": ("penalty_cases", "fines_yuan"),
    },
    "permits": {
        "month": ("received", "concluded", "non_tax_revenue_yuan"),
        "item_name": ("received", "concluded", "on_time_rate", "non_tax_revenue_yuan"),
    },
    "demolition": {
        "month": ("sites", "area_m2", "campaign_cumulative_m2"),
        "street": ("sites", "area_m2", "target_m2"),
    },
    "dcm": {
        "month": ("reported", "registered", "closed"),
        "source": ("reported",),
        "street": ("reported", "registered", "closed", "on_time_disposal_rate"),
        "category": ("reported",),
    },
    "legal": {
        "month": ("events", "participants"),
        "activity_type": ("events", "participants"),
    },
}
# Metrics that stay None when there is nothing to measure (a rate without denominator, a street
# without a campaign target); every other metric of a member without rows is a true zero.
_NULLABLE = {"on_time_rate", "on_time_disposal_rate", "target_m2", "campaign_cumulative_m2"}
_TABLE_NAMES = {"item_name": "item", "activity_type": "type"}
_SECTION_SOURCE = {
    "enforcement": "enforcement",
    "permits": "permits",
    "demolition": "demolition",
    "dcm": "dcm_cases",
    "legal": "legal_activities",
}


def _members(settings: Settings, section: str, dim: str, period: Period) -> list[Any]:
    """Every member a table lists, zero or not (all streets, all dictionary values)."""
    d = settings["dictionaries"]
    if dim == "month":
        return period.months()
    if dim == "street":
        return settings.streets
    return {
        ("enforcement", "category"): d["enforcement_categories"],
        ("permits", "item_name"): d["permit_items"],
        ("dcm", "source"): d["dcm_sources"],
        ("dcm", "category"): [c for cats in d["dcm_categories"].values() for c in cats],
        ("legal", "activity_type"): d["activity_types"],
    }[(section, dim)]


def breakdowns(
    con: duckdb.DuckDBPyConnection, period: Period, settings: Settings | None = None
) -> dict[str, list[dict[str, Any]]]:
    """By-month / by-street / by-category tables, each row with `prev_` columns beside.

    A month in which the section's source has no record at all shows None (数据缺失), not 0.
    """
    settings = settings or load_settings()
    params = period.params(settings)
    coverage = {
        (r["source"], r["period"], r["month"])
        for r in warehouse.query(con, "indicators/month_coverage.sql", params)
    }
    tables: dict[str, list[dict[str, Any]]] = {}
    for section, dims in _BREAKDOWNS.items():
        rows = warehouse.query(con, f"breakdowns/{section}.sql", params)
        source = _SECTION_SOURCE[section]
        for dim, metrics in dims.items():
            found = {
                (r["period"], r[dim]): r
                for r in rows
                if r[dim] is not None and all(r[o] is None for o in dims if o != dim)
            }
            table = []
            for member in _members(settings, section, dim, period):
                out: dict[str, Any] = {dim: member}
                for which, prefix in (("cur", ""), ("prev", "prev_")):
                    row = found.get((which, member))
                    if dim == "month":
                        has = (source, which, member) in coverage
                    else:
                        has = any(c[0] == source and c[1] == which for c in coverage)
                    for metric in metrics:
                        value = row[metric] if row else None
                        if not has:
                            value = None  # no record at all: 数据缺失, not zero
                        elif value is None and metric not in _NULLABLE:
                            value = 0
                        out[prefix + metric] = value
                table.append(out)
            tables[f"{section}_by_{_TABLE_NAMES.get(dim, dim)}"] = table
    return tables


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
