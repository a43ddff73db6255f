"""The chart kinds of the figure registry: ``KINDS[entry.chart](frame, spec) -> Chart``.

Every kind reads one polars frame (a breakdown from `sql/breakdowns/`, or catalogue figures)
and a `ChartSpec` built from its registry entry; the rules every chart shares (greyscale-safe
styles, units on every axis, 数据缺失 instead of zeros) live in `chart_kit`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import polars as pl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from urbanreport.core import formatting
from urbanreport.reports import chart_kit as kit
from urbanreport.reports.chart_kit import (
    ACCENT,
    CURRENT,
    HATCH_PREV,
    HATCH_SECOND,
    INK,
    PREVIOUS,
    PREVIOUS_EDGE,
    SECONDARY,
    Chart,
    ChartSpec,
)


def _share(part: float, whole: float) -> str:
    """``（20.1%）`` for a bar label: one decimal, half-up, as the one formatter rounds."""
    ratio = formatting.decimal(part) / formatting.decimal(whole) * 100
    return f"（{formatting.one_decimal(ratio)}%）"


def monthly_bars(frame: pl.DataFrame, spec: ChartSpec) -> Chart:
    """One measure by month: this year against the same month last year (bars)."""
    series = spec.series[0]
    cur, prev = kit.this_and_last_year(frame, spec.months, series.column)
    scale, unit_text, decimals = kit.scale_for(cur + prev, series.unit)

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        if kit.all_nan(cur):
            kit.missing(ax)
            return
        kit.bar_pair(ax, list(spec.months), cur, prev, kit.year_labels(spec.fiscal_year))
        kit.mark_missing(ax, spec.months, cur, -0.19)
        kit.highlight(ax, spec)
        kit.month_axis(ax, spec.months, spec.compact)
        ax.set_ylabel(kit.axis_label(series, unit_text))
        ax.yaxis.set_major_formatter(kit.plain_formatter(scale, decimals))
        ax.yaxis.set_major_locator(MaxNLocator(5, integer=scale == 1.0))
        kit.grid(ax)
        kit.legend(fig, ax, 2)

    return kit.render(spec, spec.height(58.0), draw)


def monthly_bar_panels(frame: pl.DataFrame, spec: ChartSpec) -> Chart:
    """One panel per measure (cases above, fines below), by month, this year against last."""
    panels = [(s, *kit.this_and_last_year(frame, spec.months, s.column)) for s in spec.series]

    def draw(fig: Figure) -> None:
        axes = fig.subplots(len(panels), 1, sharex=True)
        if kit.all_nan(panels[0][1]):
            for ax in axes:
                kit.missing(ax)
            return
        for i, (ax, (series, cur, prev)) in enumerate(zip(axes, panels, strict=True)):
            scale, unit_text, decimals = kit.scale_for(cur + prev, series.unit)
            kit.bar_pair(ax, list(spec.months), cur, prev, kit.year_labels(spec.fiscal_year))
            kit.mark_missing(ax, spec.months, cur, -0.19)
            ax.set_ylabel(kit.axis_label(series, unit_text))
            ax.yaxis.set_major_locator(MaxNLocator(4, integer=scale == 1.0))
            ax.yaxis.set_major_formatter(kit.plain_formatter(scale, decimals))
            kit.grid(ax)
            if i == 0:
                kit.legend(fig, ax, 2)
            if i < len(panels) - 1:
                ax.tick_params(labelbottom=False)
        kit.month_axis(axes[-1], spec.months)

    return kit.render(spec, spec.height(84.0), draw)


def monthly_bars_and_line(frame: pl.DataFrame, spec: ChartSpec) -> Chart:
    """Two measures by month as bars (received, concluded), last year's first as a line."""
    first, second = spec.series[:2]
    received = kit.by_month(frame, spec.months, first.column)
    concluded = kit.by_month(frame, spec.months, second.column)
    prev = kit.by_month(frame, spec.months, f"prev_{first.column}")
    year, last = kit.year_labels(spec.fiscal_year)
    labels = (f"{year}{first.label}", f"{year}{second.label}", f"{last}{first.label}")

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        if kit.all_nan(received):
            kit.missing(ax)
            return
        kit.highlight(ax, spec)
        w = 0.38
        months = list(spec.months)
        ax.bar(
            [m - w / 2 for m in months],
            received,
            w,
            color=CURRENT,
            label=labels[0],
            linewidth=0.4,
            edgecolor=CURRENT,
        )
        ax.bar(
            [m + w / 2 for m in months],
            concluded,
            w,
            color="white",
            hatch=HATCH_PREV,
            edgecolor=CURRENT,
            linewidth=0.6,
            label=labels[1],
        )
        if not kit.all_nan(prev):
            ax.plot(
                months,
                prev,
                color=ACCENT,
                linestyle="--",
                marker="s",
                markersize=3,
                linewidth=1.0,
                label=labels[2],
            )
        kit.mark_missing(ax, spec.months, received, -0.19)
        kit.month_axis(ax, spec.months, spec.compact)
        ax.set_ylabel(f"{spec.options.get('axis', first.label)}（{first.unit}）")
        ax.yaxis.set_major_locator(MaxNLocator(5, integer=True))
        ax.yaxis.set_major_formatter(kit.plain_formatter())
        kit.grid(ax)
        kit.legend(fig, ax, 2 if spec.compact else 3, order=labels[:2])

    return kit.render(spec, spec.height(58.0), draw)


def monthly_lines(frame: pl.DataFrame, spec: ChartSpec) -> Chart:
    """This year solid with circles, last year dashed with squares, by month."""
    series = spec.series[0]
    cur, prev = kit.this_and_last_year(frame, spec.months, series.column)
    scale, unit_text, decimals = kit.scale_for(cur + prev, series.unit)
    year, last = kit.year_labels(spec.fiscal_year)

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        if kit.all_nan(cur):
            kit.missing(ax)
            return
        kit.highlight(ax, spec)
        months = list(spec.months)
        ax.plot(months, cur, color=CURRENT, linewidth=1.6, marker="o", markersize=3.5, label=year)
        if not kit.all_nan(prev):
            ax.plot(
                months,
                prev,
                color="#555555",
                linewidth=1.1,
                linestyle="--",
                marker="s",
                markersize=3,
                markerfacecolor="white",
                label=last,
            )
        kit.mark_missing(ax, spec.months, cur)
        kit.month_axis(ax, spec.months, spec.compact)
        ax.set_ylabel(kit.axis_label(series, unit_text))
        ax.yaxis.set_major_formatter(kit.plain_formatter(scale, decimals))
        ax.yaxis.set_major_locator(MaxNLocator(5, integer=scale == 1.0))
        finite = [v for v in cur + prev if not math.isnan(v)]
        ax.set_ylim(0, max(finite) * 1.15 if finite and max(finite) > 0 else 1)
        kit.grid(ax)
        kit.legend(fig, ax, 2)

    return kit.render(spec, spec.height(56.0), draw)


def _largest_first(frame: pl.DataFrame, spec: ChartSpec, name: str) -> pl.DataFrame:
    """Rows by `name` descending (nulls last), ties by label, so the order never depends on
    the order the query returned them in."""
    return frame.sort([name, spec.dimension], descending=[True, False], nulls_last=True)


def _labels(frame: pl.DataFrame, spec: ChartSpec) -> list[str]:
    if frame.is_empty():
        return []
    return [str(v or "未填写") for v in frame.get_column(spec.dimension).to_list()]


def _category_draw_bars(
    ax: Axes,
    y: list[int],
    cur: list[float],
    prev: list[float],
    labels: list[str],
    spec: ChartSpec,
    compare: bool,
) -> None:
    """This year against last (bars in pairs), or one bar each with the highlighted one apart."""
    if compare:
        kit.bar_pair(
            ax,
            y,
            kit.zeros(cur),
            kit.zeros(prev),
            kit.year_labels(spec.fiscal_year),
            horizontal=True,
        )
        kit.legend(ax.figure, ax, 2)
        return
    bars = ax.barh(y, kit.zeros(cur), 0.6, color=CURRENT, edgecolor=CURRENT, linewidth=0.4)
    for bar, label in zip(bars, labels, strict=True):
        if label == spec.options.get("highlight"):
            bar.set_facecolor(SECONDARY)
            bar.set_hatch(HATCH_SECOND)
            bar.set_edgecolor(INK)


def category_bars(frame: pl.DataFrame, spec: ChartSpec) -> Chart:
    """Horizontal bars by category (largest first), values written at the bar ends."""
    series = spec.series[0]
    compare = bool(spec.options.get("compare", True))
    ordered = _largest_first(frame, spec, series.column) if not frame.is_empty() else frame
    labels = _labels(ordered, spec)
    cur = kit.column(ordered, series.column)
    prev = kit.column(ordered, f"prev_{series.column}")
    total = sum(v for v in cur if not math.isnan(v))

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        if not labels or kit.all_nan(cur):
            kit.missing(ax)
            return
        y = list(range(len(labels)))[::-1]
        _category_draw_bars(ax, y, cur, prev, labels, spec, compare)
        ax.set_yticks(y)
        ax.set_yticklabels(labels)
        ax.set_xlabel(kit.axis_label(series))
        ax.xaxis.set_major_formatter(kit.plain_formatter())
        ax.xaxis.set_major_locator(MaxNLocator(5, integer=True))
        kit.grid(ax, "x")
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        span = max(kit.zeros(cur) + kit.zeros(prev)) or 1.0
        ax.set_xlim(0, span * 1.22)
        offset = 0.19 if compare else 0.0
        for yy, value in zip(y, cur, strict=True):
            if not math.isnan(value):
                share = _share(value, total) if spec.options.get("share") and total else ""
                ax.text(
                    value + span * 0.01, yy + offset, f"{value:.0f}{share}", va="center", fontsize=7
                )

    height = max(34.0, 12.0 + len(labels) * (7.5 if compare else 5.5))
    return kit.render(spec, spec.height(height), draw)


def campaign_progress(frame: pl.DataFrame, spec: ChartSpec) -> Chart:
    """Cumulative campaign area against the target line, with each month's area as bars.

    ``spec.options``: ``target_m2``, ``start_month`` and ``campaign`` (its name) come from the
    period's campaign; without one the chart shows the monthly area only, under
    ``title_without_campaign``.
    """
    area, cumulative = spec.series[:2]
    monthly = kit.by_month(frame, spec.months, area.column)
    total = kit.by_month(frame, spec.months, cumulative.column)
    target = kit.num(spec.options.get("target_m2"))
    start = spec.options.get("start_month")
    values = monthly + total + ([] if math.isnan(target) else [target])
    scale, unit_text, decimals = kit.scale_for(values, area.unit)

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        if kit.all_nan(monthly) and kit.all_nan(total):
            kit.missing(ax)
            return
        months = list(spec.months)
        ax.bar(
            months,
            monthly,
            0.55,
            color=PREVIOUS,
            hatch=HATCH_PREV,
            edgecolor=PREVIOUS_EDGE,
            linewidth=0.4,
            label=area.label,
        )
        if not kit.all_nan(total):
            ax.plot(
                months,
                total,
                color=CURRENT,
                linewidth=1.6,
                marker="o",
                markersize=3.5,
                label=cumulative.label,
            )
        if not math.isnan(target):
            _target_line(ax, months, target, scale, decimals, unit_text)
        if start is not None and start in months:
            ax.axvline(
                start - 0.5,
                color="#555555",
                linestyle=":",
                linewidth=1.0,
                label=f"专项行动开始（{start}月）",
            )
        kit.month_axis(ax, spec.months, spec.compact)
        ax.set_ylabel(f"拆违面积（{unit_text}）")
        ax.yaxis.set_major_formatter(kit.plain_formatter(scale, decimals))
        ax.yaxis.set_major_locator(MaxNLocator(5))
        ax.set_ylim(0, max(v for v in values if not math.isnan(v)) * 1.15 or 1)
        kit.grid(ax)
        kit.legend(fig, ax, 2)

    chart = kit.render(spec, spec.height(62.0), draw)
    if spec.options.get("campaign"):
        return chart
    title = str(spec.options.get("title_without_campaign") or spec.title)
    return Chart(chart.name, title, chart.image, chart.width_mm, chart.height_mm, chart.empty)


def _target_line(
    ax: Axes, months: list[int], target: float, scale: float, decimals: int, unit_text: str
) -> None:
    """The campaign's target area as a dash-dot line, labelled at its left end."""
    ax.axhline(target, color=ACCENT, linestyle="-.", linewidth=1.1, label="专项行动目标面积")
    ax.annotate(
        f"目标{kit.scaled(target, scale, decimals)}{unit_text}",
        xy=(months[0] - 0.45, target),
        xytext=(0, 2.5),
        textcoords="offset points",
        va="bottom",
        ha="left",
        fontsize=7,
        color=ACCENT,
    )


def street_targets(frame: pl.DataFrame, spec: ChartSpec) -> Chart:
    """Area demolished by street, with the street's target as an outlined bar behind it."""
    area, target_s = spec.series[:2]
    ordered = _largest_first(frame, spec, area.column) if not frame.is_empty() else frame
    labels = _labels(ordered, spec)
    area_v, target = kit.column(ordered, area.column), kit.column(ordered, target_s.column)
    scale, unit_text, decimals = kit.scale_for(area_v + target, area.unit)

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        if not labels or kit.all_nan(area_v):
            kit.missing(ax)
            return
        y = list(range(len(labels)))[::-1]
        if not kit.all_nan(target):
            ax.barh(
                y,
                kit.zeros(target),
                0.7,
                color="white",
                edgecolor=INK,
                hatch="....",
                linewidth=0.6,
                label=target_s.label,
            )
        ax.barh(y, kit.zeros(area_v), 0.42, color=CURRENT, label=area.label)
        ax.set_yticks(y)
        ax.set_yticklabels([s if s.endswith("街道") else f"{s}街道" for s in labels])
        ax.set_xlabel(f"面积（{unit_text}）")
        ax.xaxis.set_major_formatter(kit.plain_formatter(scale, decimals))
        kit.grid(ax, "x")
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        span = max(kit.zeros(area_v) + kit.zeros(target)) or 1.0
        ax.set_xlim(0, span * 1.2)
        for yy, a, t in zip(y, area_v, target, strict=True):
            if not math.isnan(a):
                share = _share(a, t) if not math.isnan(t) and t > 0 else ""
                ax.text(
                    max(a, kit.zeros([t])[0]) + span * 0.01,
                    yy,
                    f"{kit.scaled(a, scale, decimals)}{share}",
                    va="center",
                    fontsize=7,
                )
        kit.legend(fig, ax, 2)

    return kit.render(spec, spec.height(max(40.0, 14.0 + len(labels) * 6.0)), draw)


def funnel(frame: pl.DataFrame, spec: ChartSpec) -> Chart:
    """The case funnel 上报→立案→处置→结案 as centred bars with counts and share of reported.

    The frame has one row per stage: its label (the dimension) and its count."""
    series = spec.series[0]
    labels = [str(v) for v in frame.get_column(spec.dimension).to_list()] if frame.height else []
    values = kit.column(frame, series.column)
    unit = series.unit

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        if kit.all_nan(values):
            kit.missing(ax)
            return
        first = values[0] if not math.isnan(values[0]) and values[0] else max(kit.zeros(values))
        y = list(range(len(values)))[::-1]
        shades = [CURRENT, "#3d5a80", "#6c8ebf", "#a9bcd9"]
        hatches = ["", "", "////", "...."]
        for i, (yy, v) in enumerate(zip(y, values, strict=True)):
            if math.isnan(v):
                ax.text(0, yy, formatting.MISSING, ha="center", va="center", fontsize=7.5)
                continue
            ax.barh(
                yy,
                v,
                0.72,
                left=-v / 2,
                color=shades[i % 4],
                hatch=hatches[i % 4],
                edgecolor=INK,
                linewidth=0.4,
            )
            share = f"（占上报{_share(v, first)[1:-1]}）" if i else ""
            ax.text(
                first / 2 * 1.02, yy, f"{v:.0f}{unit}{share}", va="center", ha="left", fontsize=7.5
            )
        ax.set_yticks(y)
        ax.set_yticklabels(labels)
        ax.set_xlim(-first / 2 * 1.02, first / 2 * 1.02 + first * 0.62)
        ax.set_xticks([])
        ax.set_xlabel(f"{series.label}（{unit}），条形长度与上报数成比例")
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="y", length=0)

    return kit.render(spec, spec.height(12.0 + 8.0 * len(labels)), draw)


def district_bars(frame: pl.DataFrame, spec: ChartSpec) -> Chart:
    """One indicator by district, in the city file's order (not ranked: a reader looks for
    their district where it always is), this period against the year before.

    A district without a figure gets no bar but the words 数据缺失 where its bar would be;
    rates are drawn in per cent. The value labels come from the one formatter.
    """
    series = spec.series[0]
    kind = str(spec.options.get("kind") or "count")
    factor = 100.0 if kind == "rate" else 1.0
    labels = _labels(frame, spec)
    values = frame.get_column(series.column).to_list() if labels else []
    cur = [math.nan if v is None else float(v) * factor for v in values]
    prev_name = f"prev_{series.column}"
    prev = kit.column(frame, prev_name) if prev_name in frame.columns else [math.nan] * len(cur)
    prev = [v * factor for v in prev]

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        if not labels or kit.all_nan(cur):
            kit.missing(ax)
            return
        y = list(range(len(labels)))[::-1]
        legend = tuple(spec.options.get("legend") or kit.year_labels(spec.fiscal_year))
        kit.bar_pair(ax, y, kit.zeros(cur), kit.zeros(prev), legend, horizontal=True)
        kit.legend(ax.figure, ax, 2)
        ax.set_yticks(y)
        ax.set_yticklabels(labels)
        unit = "%" if kind == "rate" else series.unit
        ax.set_xlabel(f"{series.label}（{unit}）" if unit else series.label)
        ax.xaxis.set_major_formatter(kit.plain_formatter())
        ax.xaxis.set_major_locator(MaxNLocator(5))
        kit.grid(ax, "x")
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        span = max(kit.zeros(cur) + kit.zeros(prev)) or 1.0
        ax.set_xlim(0, span * 1.3)
        for yy, value, raw in zip(y, cur, values, strict=True):
            text = formatting.MISSING if raw is None else formatting.number(kind, raw)
            ax.text((0 if math.isnan(value) else value) + span * 0.01, yy + 0.19, text,
                    va="center", fontsize=6.5)  # fmt: skip

    return kit.render(spec, spec.height(14.0 + len(labels) * 7.5), draw)


#: The chart kinds a registry entry may name (`chart = "…"` in figures.toml).
KINDS: dict[str, Callable[[pl.DataFrame, ChartSpec], Chart]] = {
    "monthly_bars": monthly_bars,
    "monthly_bar_panels": monthly_bar_panels,
    "monthly_bars_and_line": monthly_bars_and_line,
    "monthly_lines": monthly_lines,
    "category_bars": category_bars,
    "campaign_progress": campaign_progress,
    "street_targets": street_targets,
    "funnel": funnel,
    "district_bars": district_bars,
}
