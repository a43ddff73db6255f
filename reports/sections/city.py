"""全市报告: every figure over all the city's districts, then each indicator by district.

Why a section module and not a renderer of its own: the city report is a `blocks.Document`
like the district reports, so the PDF, Word and Excel renderers lay it out unchanged. What is
particular is only what it says: the city's figures recomputed from every district's records
(`indicators.compute_city`, rates from counts), and beside each a by-district table and chart
in which a district that sent nothing for the period reads 数据缺失, never 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from urbanreport.core import catalogue, formatting
from urbanreport.core.catalogue import SECTION_NAMES
from urbanreport.core.periods import Period
from urbanreport.reports import blocks, charts
from urbanreport.reports.chart_kit import FULL_WIDTH_MM, Series
from urbanreport.reports.figures import entry
from urbanreport.reports.inputs import ReportData
from urbanreport.reports.narrative import Figures
from urbanreport.reports.sections import common

TOTAL_ROW = "全市合计"


@dataclass(frozen=True)
class District:
    """One district's name and its `compute` result for the period (all None: no data)."""

    code: str
    name: str
    result: Mapping[str, Any]


@dataclass(frozen=True)
class CityInput:
    """What the city report is made from: the city's names, its total, its districts."""

    code: str
    name: str
    period: Period
    total: Mapping[str, Any]
    districts: Sequence[District]

    @property
    def bureau(self) -> str:
        return f"{self.name}城市管理和综合执法局"

    def data(self) -> ReportData:
        """The city total as the report machinery reads a result."""
        return ReportData("city", self.period, self.total, {}, self.bureau, self.name)


def title(period: Period) -> str:
    """``2023年度全市法治政府建设数据报告`` / ``2023年7月全市法治政府建设数据月报`` (the city
    is named by the bureau line above it; the title stays on one line of the cover)."""
    if period.kind == "year":
        return f"{period.fiscal_year}年度全市法治政府建设数据报告"
    return f"{period.fiscal_year}年{period.month}月全市法治政府建设数据月报"


def without_data(source: CityInput) -> list[str]:
    """The districts with no figure at all for the period (nothing sent, or nothing yet)."""
    return [
        d.name
        for d in source.districts
        if not any(v is not None for v in (d.result.get("indicators") or {}).values())
    ]


def _intro(source: CityInput) -> list[blocks.Block]:
    names = "、".join(d.name for d in source.districts)
    text = (
        f"本报告汇总{source.name}{len(source.districts)}个区县（{names}）的法治政府建设相关"
        "工作数据。全市各项指标由各区县报送的原始记录合并后按统一口径重新计算，比率类指标以"
        "全市合计的分子和分母计算，不是各区县比率的平均；每项指标后附各区县对比表和对比图。"
    )
    out: list[blocks.Block] = [blocks.Paragraph(text)]
    missing = without_data(source)
    if missing:
        out.append(
            blocks.Paragraph(
                f"{'、'.join(missing)}在本统计期内没有可用数据，各表中列为“数据缺失”，不按零计。",
                style="warning",
            )
        )
    return out


def _sentence(item: catalogue.Indicator, fig: Figures, source: CityInput) -> str:
    key = item.key
    previous = (source.total.get("previous") or {}).get(key)
    text = f"全市{item.name}{fig.text(key)}，上年同期{formatting.figure(item, previous)}"
    text += f"，同比{fig.change(key)}。" if fig.get(key) is not None else "。"
    known = [(d, d.result.get("indicators", {}).get(key)) for d in source.districts]
    known = [(d, v) for d, v in known if v is not None]
    if len(known) > 1:
        _, value = max(known, key=lambda pair: formatting.decimal(pair[1]))
        shown = formatting.figure(item, value)
        # Districts whose figure prints the same as the highest share the place: a tie is said
        # as a tie, never as one district ahead with the same number.
        leaders = [d.name for d, v in known if formatting.figure(item, v) == shown]
        word = "最高" if item.kind in ("rate", "hours", "days") else "最多"
        place = f"并列{word}" if len(leaders) > 1 else word
        text += f"各区县中{'、'.join(leaders)}{place}（{shown}）。"
    return text


def district_frame(item: catalogue.Indicator, source: CityInput) -> pl.DataFrame:
    """One row per district in the city file's order, then the city's total: this period,
    the year before (raw values, None for 数据缺失) and the change in words."""

    def row(name: str, result: Mapping[str, Any]) -> dict[str, Any]:
        cur = (result.get("indicators") or {}).get(item.key)
        prev = (result.get("previous") or {}).get(item.key)
        return {
            "district": name,
            "current": None if cur is None else formatting.decimal(cur),
            "previous": None if prev is None else formatting.decimal(prev),
            "change": formatting.change(item.kind, cur, prev),
        }

    rows = [row(d.name, d.result) for d in source.districts]
    rows.append(row(TOTAL_ROW, source.total))
    schema = {
        "district": pl.String,
        "current": pl.Decimal(38, 6),
        "previous": pl.Decimal(38, 6),
        "change": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def district_table(item: catalogue.Indicator, source: CityInput) -> blocks.Table:
    """The registry's by-district table, its figure columns in the indicator's kind and unit."""
    data = source.data()
    spec = entry("city_by_district")
    table = common.table(spec, data, district_frame(item, source), note="")
    unit = "" if item.kind == "rate" else item.unit
    columns = tuple(
        replace(c, kind=item.kind, unit=unit) if c.name in ("current", "previous") else c
        for c in table.columns
    )
    return replace(table, title=f"{item.name}{table.title}", columns=columns)


def district_chart(item: catalogue.Indicator, source: CityInput) -> blocks.Chart:
    """The registry's by-district chart: the districts only (the total would dwarf them)."""
    data = source.data()
    spec_entry = entry("city_by_district_chart")
    frame = district_frame(item, source).head(len(source.districts))
    frame = frame.select("district", "current", pl.col("previous").alias("prev_current"))
    spec = common.chart_spec(spec_entry, data, {"kind": item.kind})
    series = (Series("current", item.name, item.unit),)
    spec = replace(spec, title=f"{item.name}{spec.title}", series=series, width_mm=FULL_WIDTH_MM)
    drawn = charts.KINDS[spec_entry.chart](frame, spec)
    return blocks.Chart(
        entry_id=spec_entry.id,
        title=drawn.title,
        png=drawn.png,
        width_mm=drawn.width_mm,
        height_mm=drawn.height_mm,
        empty=drawn.empty,
        source=catalogue.source_name(item.source),
    )


def body(source: CityInput) -> list[blocks.Block]:
    """The report's blocks: introduction, 全市主要指标, then per section each indicator."""
    data = source.data()
    headline = entry("city_headline")
    frame = common.indicator_frame(headline, data)
    note = headline.note
    out: list[blocks.Block] = [*_intro(source), blocks.Heading(1, "全市主要指标")]
    out.append(common.table(headline, data, frame, note))
    fig = data.figures
    for section in catalogue.SECTIONS:
        out.append(blocks.Heading(1, f"{SECTION_NAMES[section]}分区县情况"))
        for item in catalogue.indicators().values():
            if item.section != section:
                continue
            out += [
                blocks.Heading(2, item.name),
                blocks.Paragraph(_sentence(item, fig, source)),
                district_table(item, source),
                district_chart(item, source),
            ]
    return out


def document(source: CityInput) -> blocks.Document:
    """The city report as a document every renderer lays out."""
    data = source.data()
    moment = data.data_as_of
    period = source.period
    return blocks.Document(
        kind="city",
        title=title(period),
        subtitle=f"统计期：{formatting.day(period.start)}至{formatting.day(period.end)}",
        bureau=source.bureau,
        district=source.name,
        period_label=period.label,
        data_cutoff=data.data_cutoff,
        data_as_of=moment.isoformat(timespec="seconds") if moment else "",
        blocks=tuple(body(source)),
        meta={
            "start": period.start,
            "end": period.end,
            "batches": data.batches,
            "fiscal_year": period.fiscal_year,
            "result": source.total,
            "ytd": None,
        },
    )
