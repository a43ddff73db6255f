"""The figure registry: every table and chart of every report, read from `figures.toml`.

Why a registry as data: a reader holding a printed report must get from a table's title to
the SQL that computed it and the test that checks it. Grepping the title lands on the entry in
`reports/figures.toml`; the entry names its SQL file and its test. The layouts iterate over
these entries (the section modules under `reports/sections/`), so a table cannot appear in a
report without an entry, and `tests/test_reports_figures.py` proves both directions.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import PurePosixPath
from typing import Any

from urbanreport.core import catalogue

#: The district reports, and the city report over all districts (reports/sections/city.py).
REPORTS = ("annual", "monthly", "city")
SECTIONS = ("headline", *catalogue.SECTIONS, "quality")
SPANS = ("period", "year_to_date")
#: What a column without a catalogue key can hold.
DIMENSIONS = frozenset(
    {
        "month",
        "street",
        "category",
        "item_name",
        "source",
        "activity_type",
        "indicator",
        "unit",
        "data_source",
        "stage",
        "district",
    }
)
#: The columns of an indicator table (one row per catalogue key).
FIGURE_COLUMNS = frozenset({"current", "previous", "change", "ytd", "ytd_change"})
COLUMN_KINDS = catalogue.KINDS | {"text"}


class RegistryError(ValueError):
    """An entry of figures.toml that does not say what it must."""


@dataclass(frozen=True)
class FigureColumn:
    """One column of an entry: a catalogue key, a dimension, an indicator-table figure or a
    derived measure with its own kind and unit."""

    name: str
    header: str
    key: str = ""
    dimension: str = ""
    figure: str = ""
    kind: str = ""
    unit: str = ""
    width: float = 0.0
    align: str = ""

    @property
    def value_kind(self) -> str:
        """How the one formatter writes this column's values (text for dimensions)."""
        if self.key:
            return catalogue.indicator(self.key).kind
        return self.kind or "text"

    @property
    def value_unit(self) -> str:
        if self.key:
            return catalogue.indicator(self.key).unit
        return self.unit

    @property
    def is_measure(self) -> bool:
        return bool(self.key) or self.value_kind in catalogue.KINDS


@dataclass(frozen=True)
class Entry:
    """One table or chart of the registry (see the field list at the top of figures.toml)."""

    id: str
    type: str
    section: str
    reports: tuple[str, ...]
    title: str
    sql: tuple[str, ...]
    test: str
    columns: tuple[FigureColumn, ...]
    heading: str = ""
    span: str = "period"
    chart: str = ""
    rows: tuple[str, ...] = ()
    sort: str = ""
    group_by: str = ""
    note: str = ""
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def option(self) -> dict[str, Any]:
        return dict(self.options)

    @property
    def breakdown(self) -> str:
        """The `sql/breakdowns/<name>.sql` stem this entry reads, or "" for catalogue figures."""
        for path in self.sql:
            parts = PurePosixPath(path)
            if parts.parent.name == "breakdowns":
                return parts.stem
        return ""

    @property
    def dimension(self) -> FigureColumn:
        return next(c for c in self.columns if c.dimension)

    @property
    def measures(self) -> tuple[FigureColumn, ...]:
        return tuple(c for c in self.columns if c.is_measure)


def _column(raw: dict[str, Any], where: str) -> FigureColumn:
    said = [k for k in ("key", "dimension", "figure", "kind") if raw.get(k)]
    if len(said) != 1:
        raise RegistryError(f"{where}: 每列须且仅须给出 key、dimension、figure、kind 之一 ({said})")
    return FigureColumn(**raw)


def _entry(raw: dict[str, Any]) -> Entry:
    raw = dict(raw)
    where = f"figures.toml [{raw.get('id', '?')}]"
    sql = raw.pop("sql")
    rows = raw.pop("rows", ())
    if rows == "catalogue":
        rows = tuple(catalogue.indicators())
    entry = Entry(
        **{k: v for k, v in raw.items() if k not in ("columns", "reports", "options")},
        reports=tuple(raw["reports"]),
        sql=(sql,) if isinstance(sql, str) else tuple(sql),
        rows=tuple(rows),
        columns=tuple(_column(c, where) for c in raw["columns"]),
        options=tuple(sorted((raw.get("options") or {}).items())),
    )
    if entry.type not in ("table", "chart") or entry.section not in SECTIONS:
        raise RegistryError(f"{where}: type 或 section 不正确 (type/section)")
    if not set(entry.reports) <= set(REPORTS) or entry.span not in SPANS:
        raise RegistryError(f"{where}: reports 或 span 不正确 (reports/span)")
    if (entry.type == "chart") != bool(entry.chart):
        raise RegistryError(f"{where}: 图须给出 chart，表不得给出 (chart kind)")
    return entry


@cache
def entries() -> tuple[Entry, ...]:
    """Every entry, in report order."""
    text = files("urbanreport.reports").joinpath("figures.toml").read_text(encoding="utf-8")
    out = tuple(_entry(raw) for raw in tomllib.loads(text)["figure"])
    ids = [e.id for e in out]
    if len(set(ids)) != len(ids):
        raise RegistryError("figures.toml: id 重复 (duplicate ids)")
    return out


def entry(entry_id: str) -> Entry:
    return next(e for e in entries() if e.id == entry_id)


def for_report(report: str, section: str | None = None) -> tuple[Entry, ...]:
    """The entries a report shows (in order), optionally of one section only."""
    return tuple(
        e for e in entries() if report in e.reports and (section is None or e.section == section)
    )
