"""Indicators: periods, the catalogue, and running sql/indicators + sql/breakdowns.

Every figure is computed by the SQL files; this module only chooses the period parameters,
collects the one-row results under their catalogue keys, pivots breakdown rows into tables,
and formats. Reports, CLI, flows and tests all come through here, so they read the same SQL.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

import duckdb
import polars as pl

from urbanreport.core import warehouse
from urbanreport.core.config import SQL_DIR, Settings, load_settings
from urbanreport.ingest.batches import SHANGHAI, SOURCES

SECTIONS = ("enforcement", "permits", "demolition", "dcm", "legal")
SECTION_NAMES = {
    "enforcement": "行政执法",
    "permits": "审批服务",
    "demolition": "违法建设治理",
    "dcm": "数字城管",
    "legal": "学法普法",
}
SOURCE_NAMES = {
    "permits": "行政许可办件",
    "enforcement": "行政处罚案件",
    "demolition": "违法建设拆除",
    "demolition_targets": "拆违任务目标",
    "dcm_cases": "数字城管案件",
    "legal_activities": "学法普法活动",
}


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

    def months(self) -> list[int]:
        return list(range(self.start.month, self.end.month + 1))

    def params(self, settings: Settings) -> dict[str, Any]:
        """The named parameters the SQL files of sql/indicators and sql/breakdowns take."""
        prev = self.previous()
        return {
            "start": self.start,
            "end": self.end,
            "prev_start": prev.start,
            "prev_end": prev.end,
            "whole_district": settings["district"]["whole_district"],
            "sources": list(SOURCES),
            "today": dt.datetime.now(SHANGHAI).date(),
        }


@cache
def catalogue() -> list[dict[str, str]]:
    """The indicator catalogue (sql/indicators/catalogue.toml), in catalogue order."""
    with (SQL_DIR / "indicators" / "catalogue.toml").open("rb") as fh:
        return tomllib.load(fh)["indicator"]


def catalogue_by_key() -> dict[str, dict[str, str]]:
    return {item["key"]: item for item in catalogue()}


def _scalars(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> dict[str, Any]:
    """Run every section file for one period: {catalogue key: value}."""
    values: dict[str, Any] = {}
    for section in SECTIONS:
        row = warehouse.query(con, f"indicators/{section}.sql", params)[0]
        values.update({f"{section}.{name}": value for name, value in row.items()})
    return values


def _missing_reason(item: dict[str, str], present: bool, period: Period) -> str:
    """Why a figure is null, in words for the report (数据缺失 is never written as 0)."""
    if not present:
        return f"{SOURCE_NAMES[item['source']]}在{period.chinese}没有任何记录"
    if "null_reason" in item:
        return item["null_reason"]
    if item["kind"] == "rate":
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
    cat = catalogue_by_key()
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
        key: _missing_reason(cat[key], cat[key]["source"] in present, period)
        for key, value in current.items()
        if value is None
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

#: Every breakdown table, one SQL file each: `sql/breakdowns/<name>.sql` (by month, street,
#: category, item, source, type; the previous year beside in `prev_` columns).
BREAKDOWNS: tuple[str, ...] = tuple(sorted(p.stem for p in (SQL_DIR / "breakdowns").glob("*.sql")))


def breakdown_params(period: Period, settings: Settings) -> dict[str, Any]:
    """The period parameters, plus the members every table lists (zero or not), from settings."""
    d = settings["dictionaries"]
    return {
        **period.params(settings),
        "streets": settings.streets,
        "enforcement_categories": list(d["enforcement_categories"]),
        "permit_items": list(d["permit_items"]),
        "dcm_sources": list(d["dcm_sources"]),
        "dcm_categories": [c for cats in d["dcm_categories"].values() for c in cats],
        "activity_types": list(d["activity_types"]),
    }


def breakdown(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> pl.DataFrame:
    """One breakdown table as the file `sql/breakdowns/<name>.sql` computes it.

    A member without any record of its source shows None (数据缺失), not 0: the SQL says so.
    """
    return warehouse.execute_file(con, f"breakdowns/{name}.sql", params).pl()


def breakdowns(
    con: duckdb.DuckDBPyConnection, period: Period, settings: Settings | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Every breakdown table of a period as rows (the CLI's and the tests' form)."""
    params = breakdown_params(period, settings or load_settings())
    return {name: breakdown(con, name, params).to_dicts() for name in BREAKDOWNS}


# --- entry points and formatting ------------------------------------------------------------


def compute_for(settings: Settings, period: Period) -> dict[str, Any]:
    """`urbanreport indicators`: the JSON-ready result, read from the warehouse read-only."""
    with warehouse.reader(settings) as con:
        return to_json(compute(con, period, settings))


def _round(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "rate":
        return round(float(value), 4)
    if kind in ("money", "area"):
        return float(Decimal(value).quantize(Decimal("0.01")))
    if kind in ("hours", "days"):
        return round(float(value), 2)
    return int(value)


def to_json(result: dict[str, Any]) -> dict[str, Any]:
    """Stable machine form: rates as fractions to 4 decimals, money and areas to 2."""
    cat = catalogue_by_key()
    out = {
        "period": result["period"],
        "indicators": {k: _round(cat[k]["kind"], v) for k, v in result["indicators"].items()},
        "previous": {k: _round(cat[k]["kind"], v) for k, v in result["previous"].items()},
        "change": {
            k: _round("rate" if cat[k]["kind"] == "rate" else cat[k]["kind"], v)
            if cat[k]["kind"] != "count"
            else v
            for k, v in result["change"].items()
        },
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
        "provisional": result["provisional"],
    }
    return out


def format_value(kind: str, value: Any, unit: str = "") -> str:
    """Human form: rates as percentages (at most two decimals), money without .00."""
    if value is None:
        return "数据缺失"
    if kind == "rate":
        text = f"{float(value) * 100:.2f}".rstrip("0").rstrip(".")
        return f"{text}%"
    if kind in ("money", "area"):
        text = f"{Decimal(value).quantize(Decimal('0.01')):f}"
        text = text[:-3] if text.endswith(".00") else text
        return f"{text}{unit}"
    if kind in ("hours", "days"):
        return f"{float(value):.1f}{unit}"
    return f"{int(value)}{unit}"


def format_table(result: dict[str, Any]) -> str:
    """The people's table: Chinese names, units, rates as percentages, previous year beside."""
    cat = catalogue_by_key()
    lines = [f"统计期：{result['period']}", f"{'指标':<24}{'本期':>16}{'上年同期':>16}"]
    for key, value in result["indicators"].items():
        item = cat[key]
        unit = "" if item["kind"] == "rate" else item["unit"]
        lines.append(
            f"{item['name']:<24}{format_value(item['kind'], value, unit):>16}"
            f"{format_value(item['kind'], result['previous'][key], unit):>16}"
        )
    if result.get("missing"):
        lines.append("")
        lines.extend(f"数据缺失：{k} — {reason}" for k, reason in result["missing"].items())
    for note in result.get("provisional", []):
        lines.append(f"注：{note}")
    return "\n".join(lines)
