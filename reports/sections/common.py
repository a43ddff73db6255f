"""Blocks from registry entries: what every section module does the same way.

A section module chooses its sentences and, where a chart needs more than its frame (the
campaign's target, the funnel's stages), the extra facts; everything else — which tables and
charts, in which order, with which titles, columns and units — comes from `figures.toml`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from urbanreport.core import catalogue
from urbanreport.core.catalogue import SECTION_NAMES, SECTION_SOURCES
from urbanreport.reports import blocks, chart_cache
from urbanreport.reports.chart_kit import FULL_WIDTH_MM, HALF_WIDTH_MM, ChartSpec, Series
from urbanreport.reports.figures import Entry, FigureColumn, for_report
from urbanreport.reports.inputs import ReportData
from urbanreport.reports.narrative import Figures

#: The annual report's section headings (一、…): the catalogue's sections and the two that
#: frame them.
TITLES = {"headline": "核心指标", **SECTION_NAMES, "quality": "数据质量"}
#: The monthly brief's charts: two side by side, 1—N月.
BRIEF_CHART_MM = (HALF_WIDTH_MM, 56.0)


def fill(template: str, data: ReportData) -> str:
    """A title or header with its {year}, {prev} and {month} filled in."""
    return template.format(year=data.fiscal_year, prev=data.fiscal_year - 1, month=data.month)


def section_blocks(
    data: ReportData,
    section: str,
    sentences: Sequence[str],
    **figure_args: Any,
) -> list[blocks.Block]:
    """An annual-report section: its 一、 heading, its sentences, then its registry entries
    (`figure_args` as `figure_blocks` takes them)."""
    out: list[blocks.Block] = [blocks.Heading(1, TITLES[section])]
    out += [blocks.Paragraph(text) for text in sentences]
    return out + figure_blocks(data, section, **figure_args)


def figure_blocks(
    data: ReportData,
    section: str,
    frames: Mapping[str, pl.DataFrame] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    notes: Mapping[str, str] | None = None,
) -> list[blocks.Block]:
    """The tables and charts of a section in this report, in registry order.

    `frames` gives an entry's frame where it is not a breakdown read from the warehouse (the
    funnel, the quality table); `options` adds facts a chart needs and `notes` replaces a
    table's note (both by entry id).
    """
    frames, options, notes = frames or {}, options or {}, notes or {}
    out: list[blocks.Block] = []
    for entry in for_report(data.report, section):
        if entry.heading and data.report == "annual":
            out.append(blocks.Heading(2, entry.heading))
        frame = frames.get(entry.id)
        if frame is None:
            frame = indicator_frame(entry, data) if entry.rows else data.frame(entry)
        if entry.type == "chart":
            out.append(chart(entry, data, frame, options.get(entry.id, {})))
        else:
            note = notes.get(entry.id, indicator_note(entry, data.figures))
            out.append(table(entry, data, frame, note))
    return out


# --- tables -------------------------------------------------------------------------------


def column(col: FigureColumn, data: ReportData) -> blocks.Column:
    """A table column: header text, and the kind and unit its values are written with."""
    kind = col.value_kind if not (col.figure or col.dimension) else "text"
    unit = col.value_unit if kind not in ("text", "rate") else ""
    align = col.align or ("r" if col.figure else "")  # figures as text are still numbers
    return blocks.Column(col.name, fill(col.header, data), kind, unit, col.width, align)


def table(
    entry: Entry, data: ReportData, frame: pl.DataFrame, note: str | None = None
) -> blocks.Table:
    """A registry table: its frame sorted as the entry says, its columns typed."""
    if entry.sort and not frame.is_empty():
        name = entry.sort.lstrip("-")
        frame = frame.sort(
            name, descending=entry.sort.startswith("-"), nulls_last=True, maintain_order=True
        )
    return blocks.Table(
        entry_id=entry.id,
        title=fill(entry.title, data),
        columns=tuple(column(c, data) for c in entry.columns),
        frame=frame,
        note=fill(note if note is not None else entry.note, data),
        group_by=entry.group_by,
    )


def indicator_frame(entry: Entry, data: ReportData) -> pl.DataFrame:
    """One row per catalogue key of the entry: name, unit and the figures as text.

    The figures are text because each row has its own kind (a count, a rate, …); `key` lets
    an output that wants the numbers (Excel) find them in the result.
    """
    fig, ytd = data.figures, data.ytd_figures
    with_unit_column = any(c.dimension == "unit" for c in entry.columns)
    rows = []
    for key in entry.rows:
        item = catalogue.indicator(key)
        unit = "%" if item.kind == "rate" else item.unit
        name = item.name if with_unit_column or item.kind == "rate" else f"{item.name}（{unit}）"
        rows.append(
            {
                "key": key,
                "section": SECTION_NAMES[item.section],
                "name": name,
                "unit": unit,
                "current": fig.cell(key),
                "previous": fig.cell(key, previous=True),
                "change": fig.change(key),
                "ytd": ytd.cell(key),
                "ytd_change": ytd.change(key),
            }
        )
    return pl.DataFrame(rows, schema={name: pl.String for name in rows[0]})


def missing_note(fig: Figures, keys: Sequence[str]) -> str:
    """One note under a table listing why its empty cells are empty ("" when none is)."""
    reasons: dict[str, list[str]] = {}
    for key in keys:
        if fig.get(key) is None:
            reasons.setdefault(fig.reason(key), []).append(catalogue.indicator(key).name)
    if not reasons:
        return ""
    parts = [f"{'、'.join(names)}：{reason}" for reason, names in reasons.items()]
    return "注：“数据缺失”表示该项在统计期内无可用数据，不按零计。" + "；".join(parts) + "。"


def indicator_note(entry: Entry, fig: Figures) -> str | None:
    """Under an indicator table: why its empty cells are empty, else the entry's own note."""
    if not entry.rows:
        return None
    return missing_note(fig, entry.rows) or entry.note


# --- charts -------------------------------------------------------------------------------


def chart_spec(entry: Entry, data: ReportData, options: Mapping[str, Any]) -> ChartSpec:
    """The spec a chart kind draws from: the entry's measures and the report's months."""
    brief = data.report == "monthly"
    width, height = BRIEF_CHART_MM if brief else (FULL_WIDTH_MM, None)
    return ChartSpec(
        name=entry.id,
        title=fill(entry.title, data),
        dimension=entry.dimension.name,
        series=tuple(Series(c.name, c.header, c.value_unit) for c in entry.measures),
        fiscal_year=data.fiscal_year,
        months=tuple(data.span(entry).months()),
        width_mm=width,
        height_mm=height,
        highlight_month=data.month if brief else None,
        options={**entry.option, **options},
    )


def chart(
    entry: Entry, data: ReportData, frame: pl.DataFrame, options: Mapping[str, Any]
) -> blocks.Chart:
    """Draw a registry chart with its kind, as the PNG block every output embeds (read from
    the report's chart cache when these exact figures were drawn before)."""
    drawn = chart_cache.drawn(data.charts_dir, entry.chart, frame, chart_spec(entry, data, options))
    source = data.source_title(SECTION_SOURCES[entry.section])
    return blocks.Chart(
        entry_id=entry.id,
        title=drawn.title,
        png=drawn.png,
        width_mm=drawn.width_mm,
        height_mm=drawn.height_mm,
        empty=drawn.empty,
        source=source,
    )
