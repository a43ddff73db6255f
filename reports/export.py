"""The whole of a period for Excel: every catalogue indicator and every breakdown, one sheet each.

Why beside the reports: a superior merging districts wants every figure, not only those a report
prints. The workbook is a `blocks.Document` rendered by `xlsx`, so it has the same 说明, number
formats and rounding as a report's workbook; its columns take their headers, kinds and units from
the figure registry where an entry reads the breakdown, and from the column's name otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb
import polars as pl

from urbanreport import indicators
from urbanreport.core import catalogue, formatting
from urbanreport.core.catalogue import SECTION_NAMES
from urbanreport.core.config import Settings
from urbanreport.core.periods import Period
from urbanreport.reports import blocks, figures
from urbanreport.reports.build import gather
from urbanreport.reports.inputs import ReportData
from urbanreport.reports.sections import common

#: Titles of the breakdowns no report shows (every other one takes its registry title).
TITLES = {"dcm_by_category": "数字城管各类别案件上报情况"}
#: Headers of columns no registry entry names, by column name.
HEADERS = {"category": "类别", "reported": "上报", "street": "街道", "month": "月份"}
PREVIOUS = "prev_"


def catalogue_table(data: ReportData) -> blocks.Table:
    """Every catalogue indicator: this period, the same period a year before, the change."""
    fig = data.figures
    keys = list(catalogue.indicators())
    frame = pl.DataFrame(
        {
            "key": keys,
            "section": [SECTION_NAMES[catalogue.indicator(k).section] for k in keys],
            "name": [catalogue.indicator(k).name for k in keys],
            "unit": [
                "%" if catalogue.indicator(k).kind == "rate" else catalogue.indicator(k).unit
                for k in keys
            ],
            "current": [fig.cell(k) for k in keys],
            "previous": [fig.cell(k, previous=True) for k in keys],
            "change": [fig.change(k) for k in keys],
        },
        schema={
            c: pl.String
            for c in ("key", "section", "name", "unit", "current", "previous", "change")
        },
    )
    columns = (
        blocks.Column("section", "方面"),
        blocks.Column("name", "指标"),
        blocks.Column("unit", "单位"),
        blocks.Column("current", "本期"),
        blocks.Column("previous", "上年同期"),
        blocks.Column("change", "同比变化"),
        blocks.Column("key", "代码"),
    )
    return blocks.Table("catalogue", "全部指标", columns, frame)


def _registry_columns() -> dict[str, dict[str, blocks.Column]]:
    """Per breakdown, the registry's typed columns by name (the first entry naming one wins)."""
    out: dict[str, dict[str, blocks.Column]] = {}
    for entry in figures.entries():
        if not entry.breakdown:
            continue
        known = out.setdefault(entry.breakdown, {})
        for col in entry.columns:
            kind = col.value_kind
            unit = col.value_unit if kind not in ("text", "rate") else ""
            known.setdefault(col.name, blocks.Column(col.name, col.header, kind, unit))
    return out


def _column(name: str, dtype: pl.DataType, known: Mapping[str, blocks.Column]) -> blocks.Column:
    """A frame column typed by the registry, or by its name (prev_x is the year before's x)."""
    if name in known:
        return known[name]
    base = name.removeprefix(PREVIOUS)
    if base != name and base in known:
        col = known[base]
        return blocks.Column(name, f"上年{col.header}", col.kind, col.unit)
    header = HEADERS.get(base, base)
    header = f"上年{header}" if base != name else header
    return blocks.Column(name, header, "count" if dtype.is_integer() else "text")


def breakdown_tables(
    con: duckdb.DuckDBPyConnection, period: Period, settings: Settings, data: ReportData
) -> list[blocks.Table]:
    """Every `sql/breakdowns` table of the period, all its columns, in file-name order."""
    params = indicators.breakdown_params(period, settings)
    typed = _registry_columns()
    titles = {e.breakdown: e.title for e in figures.entries() if e.breakdown}
    titles |= {e.breakdown: e.title for e in figures.entries() if e.breakdown and e.type == "table"}
    out = []
    for name in indicators.BREAKDOWNS:
        frame = indicators.breakdown(con, name, params)
        known = typed.get(name, {})
        columns = tuple(_column(c, frame.schema[c], known) for c in frame.columns)
        title = common.fill(titles.get(name) or TITLES.get(name, name), data)
        out.append(blocks.Table(name, title, columns, frame, note=f"数据表：{name}"))
    return out


def document(settings: Settings, period: Period, con: duckdb.DuckDBPyConnection) -> blocks.Document:
    """The export of one period as a document of tables."""
    data = gather(con, period, settings)
    moment = data.data_as_of
    tables = [catalogue_table(data), *breakdown_tables(con, period, settings, data)]
    return blocks.Document(
        kind="export",
        title=f"{data.bureau}{data.label}全部指标及分项数据",
        subtitle=f"统计期：{formatting.day(period.start)}至{formatting.day(period.end)}",
        bureau=data.bureau,
        district=data.district,
        period_label=data.label,
        data_cutoff=data.data_cutoff,
        data_as_of=moment.isoformat(timespec="seconds") if moment else "",
        blocks=tuple(tables),
        meta={"batches": data.batches, "result": data.result},
    )
