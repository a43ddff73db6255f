"""The report's charts, drawn with matplotlib (Agg) in the report's own sans font.

Design rules, and why:

* Readable when printed in black and white (the bureau prints on office laser printers): this
  year is a dark solid fill or a solid line, last year a light hatched fill or a dashed line,
  targets a dash-dot line. Colour only reinforces, it never carries the meaning alone.
* Every axis says what it counts and in which unit; constrained layout keeps labels inside.
* Raster at 220 dpi, placed at its natural size: sharp on paper, small files, and fast enough
  that the annual report renders in a few seconds. Agg output is deterministic, so the same
  data gives the same PDF bytes.
* A series with no data is not drawn as zeros: the panel says 数据缺失.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402
from PIL import Image as PILImage  # noqa: E402

from urbanreport.reports.fonts import register_fonts  # noqa: E402

DPI = 220
MM = 1 / 25.4  # inches per millimetre

INK = "#1f1f1f"
CURRENT = "#1d3557"  # dark navy: reads as near-black in greyscale
PREVIOUS = "#c9c9c9"  # light grey, always hatched
PREVIOUS_EDGE = "#555555"
ACCENT = "#8c1c13"  # dark red, always dash-dot
SECONDARY = "#6c8ebf"  # mid blue, always with its own hatch or marker
HATCH_PREV = "////"
HATCH_SECOND = "...."

FULL_WIDTH_MM = 156.0
HALF_WIDTH_MM = 76.0


@dataclass(frozen=True)
class Chart:
    """A rendered chart: its pixels and the size it is meant to be printed at.

    The pixels stay a PIL image (no PNG round trip): reportlab re-compresses whatever it is
    given, so encoding a PNG first would only cost time.
    """

    name: str
    title: str
    image: PILImage.Image
    width_mm: float
    height_mm: float
    empty: bool = False  # nothing to draw: the layout may print a one-line note instead

    @property
    def png(self) -> bytes:
        """Deterministic PNG bytes (for the portal, tests, or looking at a chart alone)."""
        buf = io.BytesIO()
        self.image.save(buf, format="PNG")
        return buf.getvalue()


# --- helpers ------------------------------------------------------------------------------


def _num(value: Any) -> float:
    """None → NaN (drawn as a gap), Decimal/int → float."""
    if value is None:
        return math.nan
    if isinstance(value, Decimal):
        return float(value)
    return float(value)


def _all_nan(values: Iterable[float]) -> bool:
    return all(math.isnan(v) for v in values)


def _style(fonts_family: str) -> dict[str, Any]:
    return {
        "font.family": [fonts_family],
        "font.size": 8.0,
        "axes.titlesize": 8.5,
        "axes.labelsize": 8.0,
        "axes.edgecolor": "#444444",
        "axes.linewidth": 0.6,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.unicode_minus": False,
        "xtick.labelsize": 7.5,
        "ytick.labelsize": 7.5,
        "xtick.major.width": 0.6,
        "ytick.major.width": 0.6,
        "legend.fontsize": 7.5,
        "legend.frameon": False,
        "hatch.linewidth": 0.6,
        "hatch.color": PREVIOUS_EDGE,
        "text.color": INK,
        "axes.labelcolor": INK,
        "xtick.color": INK,
        "ytick.color": INK,
        "svg.hashsalt": "urbanreport",
        "path.simplify": True,
    }


def _render(
    name: str,
    title: str,
    width_mm: float,
    height_mm: float,
    draw: Callable[[Figure], None],
) -> Chart:
    """Create a figure in the report font, let ``draw`` fill it, return deterministic PNG."""
    fonts = register_fonts()
    with plt.rc_context(_style(fonts.sans_family)):
        fig = plt.figure(figsize=(width_mm * MM, height_mm * MM), dpi=DPI, layout="constrained")
        try:
            fig.get_layout_engine().set(w_pad=2 / 72, h_pad=2 / 72)
            draw(fig)
            fig.canvas.draw()
            rgba = fig.canvas.buffer_rgba()
            image = PILImage.frombuffer("RGBA", (rgba.shape[1], rgba.shape[0]), rgba)
            image = image.convert("RGB")
            empty = fig.get_label() == EMPTY_LABEL
        finally:
            plt.close(fig)
    return Chart(name, title, image, width_mm, height_mm, empty)


def _grid(ax: Axes) -> None:
    ax.grid(axis="y", color="#d9d9d9", linewidth=0.5, linestyle="-")
    ax.set_axisbelow(True)


def _plain_formatter(scale: float = 1.0, decimals: int = 0) -> FuncFormatter:
    """Tick labels without thousands separators or scientific notation (the bureau's style)."""

    def fmt(value: float, _pos: int) -> str:
        v = value / scale
        if decimals == 0 or abs(v - round(v)) < 1e-9:
            return f"{v:.0f}"
        return f"{v:.{decimals}f}".rstrip("0").rstrip(".")

    return FuncFormatter(fmt)


EMPTY_LABEL = "数据缺失"


def _missing(ax: Axes, reason: str = "") -> None:
    ax.figure.set_label(EMPTY_LABEL)
    text = "数据缺失" + (f"\n{reason}" if reason else "")
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _month_axis(ax: Axes, months: Sequence[int], compact: bool = False) -> None:
    """Months as ``1月``…; a narrow chart shows bare numbers (the axis title says 月份)."""
    ax.set_xticks(list(months))
    ax.set_xticklabels([str(m) if compact else f"{m}月" for m in months])
    ax.set_xlabel("月份")
    ax.set_xlim(min(months) - 0.6, max(months) + 0.6)


def _legend(fig: Figure, ax: Axes, ncols: int = 3, order: Sequence[str] = ()) -> None:
    """Legend above the plot, outside it: constrained layout makes room, nothing overlaps.

    ``order`` lists labels to put first (matplotlib lists lines before bars otherwise).
    """
    handles, labels = ax.get_legend_handles_labels()
    if order:
        rank = {label: i for i, label in enumerate(order)}
        pairs = sorted(zip(handles, labels, strict=True), key=lambda p: rank.get(p[1], len(rank)))
        handles, labels = [p[0] for p in pairs], [p[1] for p in pairs]
    if handles:
        fig.legend(handles, labels, loc="outside upper left", ncols=ncols, handlelength=2.2)


def _compact(width_mm: float) -> bool:
    return width_mm < 100


def _fmt_scaled(value: float, scale: float, decimals: int) -> str:
    text = f"{value / scale:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _scale_for(values: Iterable[float], unit: str) -> tuple[float, str, int]:
    """Choose 万 for large amounts so tick labels stay short: (divisor, unit text, decimals)."""
    finite = [abs(v) for v in values if not math.isnan(v)]
    if finite and max(finite) >= 100_000:
        return 10_000.0, f"万{unit}", 1
    return 1.0, unit, 0


def _rows_by_month(rows: Sequence[Mapping[str, Any]], months: Sequence[int]) -> dict[int, Any]:
    by_month = {int(r["month"]): r for r in rows if r.get("month") is not None}
    return {m: by_month.get(m, {}) for m in months}


def _bar_pair(
    ax: Axes,
    x: Sequence[float],
    current: Sequence[float],
    previous: Sequence[float],
    labels: tuple[str, str],
    width: float = 0.38,
    horizontal: bool = False,
) -> None:
    """This year solid dark, last year light and hatched, side by side."""
    offset = width / 2
    xs_cur = [v - offset for v in x]
    xs_prev = [v + offset for v in x]
    bar = ax.barh if horizontal else ax.bar
    if horizontal:
        # Top-to-bottom reading order: this year above last year within each group.
        xs_cur, xs_prev = xs_prev, xs_cur
    bar(xs_cur, current, width, color=CURRENT, label=labels[0], edgecolor=CURRENT, linewidth=0.4)
    bar(
        xs_prev,
        previous,
        width,
        color=PREVIOUS,
        hatch=HATCH_PREV,
        edgecolor=PREVIOUS_EDGE,
        linewidth=0.4,
        label=labels[1],
    )


def _year_labels(fiscal_year: int) -> tuple[str, str]:
    return f"{fiscal_year}年", f"{fiscal_year - 1}年"


# --- charts -------------------------------------------------------------------------------


def _this_and_last_year(
    rows: Sequence[Mapping[str, Any]], months: Sequence[int], column: str
) -> tuple[list[float], list[float]]:
    """A breakdown column by month, and its `prev_` twin (last year), as plottable numbers."""
    data = _rows_by_month(rows, months)
    cur = [_num(data[m].get(column)) for m in months]
    prev = [_num(data[m].get(f"prev_{column}")) for m in months]
    return cur, prev


def monthly_pair(
    name: str,
    title: str,
    rows: Sequence[Mapping[str, Any]],
    fiscal_year: int,
    months: Sequence[int],
    column: str,
    unit: str,
    axis_label: str,
    width_mm: float = FULL_WIDTH_MM,
    height_mm: float = 58.0,
    highlight: int | None = None,
) -> Chart:
    """One figure by month: this year against the same month last year (bars)."""
    cur, prev = _this_and_last_year(rows, months, column)
    scale, unit_text, decimals = _scale_for(cur + prev, unit)

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        if _all_nan(cur):
            _missing(ax)
            return
        _bar_pair(ax, list(months), cur, prev, _year_labels(fiscal_year))
        _mark_missing(ax, months, cur, -0.19)
        if highlight is not None and highlight in months:
            ax.axvspan(highlight - 0.5, highlight + 0.5, color="#eeeeee", zorder=0)
        _month_axis(ax, months, _compact(width_mm))
        ax.set_ylabel(f"{axis_label}（{unit_text}）")
        ax.yaxis.set_major_formatter(_plain_formatter(scale, decimals))
        ax.yaxis.set_major_locator(MaxNLocator(5, integer=scale == 1.0))
        _grid(ax)
        _legend(fig, ax, 2)

    return _render(name, title, width_mm, height_mm, draw)


def enforcement_monthly(
    rows: Sequence[Mapping[str, Any]], fiscal_year: int, months: Sequence[int]
) -> Chart:
    """Penalty cases (top) and fines (bottom) by month, this year against last year."""
    data = _rows_by_month(rows, months)
    cases = [_num(data[m].get("penalty_cases")) for m in months]
    cases_prev = [_num(data[m].get("prev_penalty_cases")) for m in months]
    fines = [_num(data[m].get("fines_yuan")) for m in months]
    fines_prev = [_num(data[m].get("prev_fines_yuan")) for m in months]
    scale, unit_text, decimals = _scale_for(fines + fines_prev, "元")

    def draw(fig: Figure) -> None:
        top, bottom = fig.subplots(2, 1, sharex=True)
        if _all_nan(cases):
            _missing(top)
            _missing(bottom)
            return
        labels = _year_labels(fiscal_year)
        _bar_pair(top, list(months), cases, cases_prev, labels)
        _mark_missing(top, months, cases, -0.19)
        top.set_ylabel("处罚案件（宗）")
        top.yaxis.set_major_locator(MaxNLocator(4, integer=True))
        top.yaxis.set_major_formatter(_plain_formatter())
        _grid(top)
        _legend(fig, top, 2)
        _bar_pair(bottom, list(months), fines, fines_prev, labels)
        _mark_missing(bottom, months, fines, -0.19)
        bottom.set_ylabel(f"罚款（{unit_text}）")
        bottom.yaxis.set_major_locator(MaxNLocator(4))
        bottom.yaxis.set_major_formatter(_plain_formatter(scale, decimals))
        _grid(bottom)
        _month_axis(bottom, months)
        top.tick_params(labelbottom=False)

    return _render("enforcement_monthly", "各月处罚案件数及罚款金额", FULL_WIDTH_MM, 84.0, draw)


def _mark_missing(
    ax: Axes, months: Sequence[int], values: Sequence[float], offset: float = 0.0
) -> None:
    """A month without any record gets no bar (not a zero one) and a small 无数据 mark,
    set vertically (one character under the other) so it fits in the bar's slot."""
    for month, value in zip(months, values, strict=True):
        if math.isnan(value):
            ax.annotate(
                "无\n数\n据",
                xy=(month + offset, 0),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=6,
                linespacing=1.0,
                color="#555555",
            )


def _zeros(values: Sequence[float]) -> list[float]:
    return [0.0 if math.isnan(v) else v for v in values]


def category_bars(
    name: str,
    title: str,
    rows: Sequence[Mapping[str, Any]],
    fiscal_year: int,
    label_column: str,
    column: str,
    axis_label: str,
    unit: str,
    compare: bool = True,
    highlight: str | None = None,
    share: bool = False,
    width_mm: float = FULL_WIDTH_MM,
) -> Chart:
    """Horizontal bars by category (largest first), values written at the bar ends."""
    ordered = sorted(rows, key=lambda r: (-_safe(r.get(column)), str(r.get(label_column))))
    labels = [str(r.get(label_column) or "未填写") for r in ordered]
    cur = [_num(r.get(column)) for r in ordered]
    prev = [_num(r.get(f"prev_{column}")) for r in ordered]
    total = sum(v for v in cur if not math.isnan(v))
    height_mm = max(34.0, 12.0 + len(labels) * (7.5 if compare else 5.5))

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        if not labels or _all_nan(cur):
            _missing(ax)
            return
        y = list(range(len(labels)))[::-1]
        if compare:
            _bar_pair(ax, y, _zeros(cur), _zeros(prev), _year_labels(fiscal_year), horizontal=True)
            _legend(fig, ax, 2)
        else:
            bars = ax.barh(y, _zeros(cur), 0.6, color=CURRENT, edgecolor=CURRENT, linewidth=0.4)
            if highlight is not None:
                for bar, label in zip(bars, labels, strict=True):
                    if label == highlight:
                        bar.set_facecolor(SECONDARY)
                        bar.set_hatch(HATCH_SECOND)
                        bar.set_edgecolor(INK)
        ax.set_yticks(y)
        ax.set_yticklabels(labels)
        ax.set_xlabel(f"{axis_label}（{unit}）")
        ax.xaxis.set_major_formatter(_plain_formatter())
        ax.xaxis.set_major_locator(MaxNLocator(5, integer=True))
        ax.grid(axis="x", color="#d9d9d9", linewidth=0.5)
        ax.set_axisbelow(True)
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        span = max(_zeros(cur) + _zeros(prev)) or 1.0
        ax.set_xlim(0, span * 1.22)
        offset = 0.19 if compare else 0.0
        for yy, value in zip(y, cur, strict=True):
            if math.isnan(value):
                continue
            text = f"{value:.0f}"
            if share and total:
                text += f"（{value / total * 100:.1f}%）".replace(".0%", "%")
            ax.text(value + span * 0.01, yy + offset, text, va="center", fontsize=7)

    return _render(name, title, width_mm, height_mm, draw)


def _safe(value: Any) -> float:
    v = _num(value)
    return -1.0 if math.isnan(v) else v


def permits_monthly(
    rows: Sequence[Mapping[str, Any]],
    fiscal_year: int,
    months: Sequence[int],
    width_mm: float = FULL_WIDTH_MM,
    height_mm: float = 58.0,
    highlight: int | None = None,
) -> Chart:
    """Received and concluded by month (bars), last year's received as a dashed line."""
    data = _rows_by_month(rows, months)
    received = [_num(data[m].get("received")) for m in months]
    concluded = [_num(data[m].get("concluded")) for m in months]
    prev = [_num(data[m].get("prev_received")) for m in months]

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        if _all_nan(received):
            _missing(ax)
            return
        if highlight is not None and highlight in months:
            ax.axvspan(highlight - 0.5, highlight + 0.5, color="#eeeeee", zorder=0)
        w = 0.38
        ax.bar(
            [m - w / 2 for m in months],
            received,
            w,
            color=CURRENT,
            label=f"{fiscal_year}年受理",
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
            label=f"{fiscal_year}年办结",
        )
        if not _all_nan(prev):
            ax.plot(
                list(months),
                prev,
                color=ACCENT,
                linestyle="--",
                marker="s",
                markersize=3,
                linewidth=1.0,
                label=f"{fiscal_year - 1}年受理",
            )
        _mark_missing(ax, months, received, -0.19)
        _month_axis(ax, months, _compact(width_mm))
        ax.set_ylabel("审批许可事项（宗）")
        ax.yaxis.set_major_locator(MaxNLocator(5, integer=True))
        ax.yaxis.set_major_formatter(_plain_formatter())
        _grid(ax)
        _legend(
            fig,
            ax,
            2 if _compact(width_mm) else 3,
            order=(f"{fiscal_year}年受理", f"{fiscal_year}年办结"),
        )

    return _render("permits_monthly", "各月审批许可受理及办结数", width_mm, height_mm, draw)


def demolition_progress(
    rows: Sequence[Mapping[str, Any]],
    months: Sequence[int],
    target_m2: Any,
    campaign_start_month: int | None,
    campaign_name: str | None,
    width_mm: float = FULL_WIDTH_MM,
    height_mm: float = 62.0,
) -> Chart:
    """Cumulative campaign area against the target line, with each month's area as bars."""
    data = _rows_by_month(rows, months)
    monthly = [_num(data[m].get("area_m2")) for m in months]
    cumulative = [_num(data[m].get("campaign_cumulative_m2")) for m in months]
    target = _num(target_m2)
    values = monthly + cumulative + ([] if math.isnan(target) else [target])
    scale, unit_text, decimals = _scale_for(values, "平方米")

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        if _all_nan(monthly) and _all_nan(cumulative):
            _missing(ax)
            return
        ax.bar(
            list(months),
            monthly,
            0.55,
            color=PREVIOUS,
            hatch=HATCH_PREV,
            edgecolor=PREVIOUS_EDGE,
            linewidth=0.4,
            label="当月拆违面积",
        )
        if not _all_nan(cumulative):
            ax.plot(
                list(months),
                cumulative,
                color=CURRENT,
                linewidth=1.6,
                marker="o",
                markersize=3.5,
                label="专项行动累计完成面积",
            )
        if not math.isnan(target):
            ax.axhline(
                target, color=ACCENT, linestyle="-.", linewidth=1.1, label="专项行动目标面积"
            )
            ax.annotate(
                f"目标{_fmt_scaled(target, scale, decimals)}{unit_text}",
                xy=(months[0] - 0.45, target),
                xytext=(0, 2.5),
                textcoords="offset points",
                va="bottom",
                ha="left",
                fontsize=7,
                color=ACCENT,
            )
        if campaign_start_month is not None and campaign_start_month in months:
            ax.axvline(
                campaign_start_month - 0.5,
                color="#555555",
                linestyle=":",
                linewidth=1.0,
                label=f"专项行动开始（{campaign_start_month}月）",
            )
        _month_axis(ax, months, _compact(width_mm))
        ax.set_ylabel(f"拆违面积（{unit_text}）")
        ax.yaxis.set_major_formatter(_plain_formatter(scale, decimals))
        ax.yaxis.set_major_locator(MaxNLocator(5))
        top = max(v for v in values if not math.isnan(v))
        ax.set_ylim(0, top * 1.15)
        _grid(ax)
        _legend(fig, ax, 2)

    title = "专项行动累计拆违面积与目标" if campaign_name else "各月拆违面积"
    return _render("demolition_progress", title, width_mm, height_mm, draw)


def demolition_streets(rows: Sequence[Mapping[str, Any]], width_mm: float = FULL_WIDTH_MM) -> Chart:
    """Area demolished by street, with the street's target as an outlined bar behind it."""
    ordered = sorted(rows, key=lambda r: (-_safe(r.get("area_m2")), str(r.get("street"))))
    labels = [str(r.get("street") or "未填写") for r in ordered]
    area = [_num(r.get("area_m2")) for r in ordered]
    target = [_num(r.get("target_m2")) for r in ordered]
    scale, unit_text, decimals = _scale_for(area + target, "平方米")
    height_mm = max(40.0, 14.0 + len(labels) * 6.0)

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        if not labels or _all_nan(area):
            _missing(ax)
            return
        y = list(range(len(labels)))[::-1]
        if not _all_nan(target):
            ax.barh(
                y,
                _zeros(target),
                0.7,
                color="white",
                edgecolor=INK,
                hatch="....",
                linewidth=0.6,
                label="任务目标面积",
            )
        ax.barh(y, _zeros(area), 0.42, color=CURRENT, label="已完成拆违面积")
        ax.set_yticks(y)
        ax.set_yticklabels([f"{s}街道" if not s.endswith("街道") else s for s in labels])
        ax.set_xlabel(f"面积（{unit_text}）")
        ax.xaxis.set_major_formatter(_plain_formatter(scale, decimals))
        ax.grid(axis="x", color="#d9d9d9", linewidth=0.5)
        ax.set_axisbelow(True)
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        span = max(_zeros(area) + _zeros(target)) or 1.0
        ax.set_xlim(0, span * 1.2)
        for yy, a, t in zip(y, area, target, strict=True):
            if math.isnan(a):
                continue
            text = f"{a / scale:.{decimals}f}"
            if not math.isnan(t) and t > 0:
                text += f"（{a / t * 100:.1f}%）".replace(".0%", "%")
            ax.text(
                max(a, 0 if math.isnan(t) else t) + span * 0.01, yy, text, va="center", fontsize=7
            )
        _legend(fig, ax, 2)

    return _render("demolition_streets", "各街道拆违面积与任务目标", width_mm, height_mm, draw)


def dcm_funnel(stages: Sequence[tuple[str, Any]], width_mm: float = FULL_WIDTH_MM) -> Chart:
    """The case funnel 上报→立案→处置→结案 as centred bars with counts and share of reported."""
    values = [_num(v) for _, v in stages]
    labels = [s for s, _ in stages]
    height_mm = 12.0 + 8.0 * len(stages)

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        if _all_nan(values):
            _missing(ax)
            return
        first = values[0] if not math.isnan(values[0]) and values[0] else max(_zeros(values))
        y = list(range(len(values)))[::-1]
        shades = [CURRENT, "#3d5a80", "#6c8ebf", "#a9bcd9"]
        hatches = ["", "", "////", "...."]
        for i, (yy, v) in enumerate(zip(y, values, strict=True)):
            if math.isnan(v):
                ax.text(0, yy, "数据缺失", ha="center", va="center", fontsize=7.5)
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
            share = f"（占上报{v / first * 100:.1f}%）".replace(".0%", "%") if i else ""
            ax.text(first / 2 * 1.02, yy, f"{v:.0f}件{share}", va="center", ha="left", fontsize=7.5)
        ax.set_yticks(y)
        ax.set_yticklabels(labels)
        ax.set_xlim(-first / 2 * 1.02, first / 2 * 1.02 + first * 0.62)
        ax.set_xticks([])
        ax.set_xlabel("案件数（件），条形长度与上报数成比例")
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="y", length=0)

    return _render("dcm_funnel", "数字城管案件办理环节", width_mm, height_mm, draw)


def monthly_lines(
    name: str,
    title: str,
    rows: Sequence[Mapping[str, Any]],
    fiscal_year: int,
    months: Sequence[int],
    column: str,
    axis_label: str,
    unit: str,
    width_mm: float = FULL_WIDTH_MM,
    height_mm: float = 56.0,
    highlight: int | None = None,
) -> Chart:
    """This year solid with circles, last year dashed with squares, by month."""
    cur, prev = _this_and_last_year(rows, months, column)
    scale, unit_text, decimals = _scale_for(cur + prev, unit)

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        if _all_nan(cur):
            _missing(ax)
            return
        if highlight is not None and highlight in months:
            ax.axvspan(highlight - 0.5, highlight + 0.5, color="#eeeeee", zorder=0)
        ax.plot(
            list(months),
            cur,
            color=CURRENT,
            linewidth=1.6,
            marker="o",
            markersize=3.5,
            label=f"{fiscal_year}年",
        )
        if not _all_nan(prev):
            ax.plot(
                list(months),
                prev,
                color="#555555",
                linewidth=1.1,
                linestyle="--",
                marker="s",
                markersize=3,
                markerfacecolor="white",
                label=f"{fiscal_year - 1}年",
            )
        _mark_missing(ax, months, cur)
        _month_axis(ax, months, _compact(width_mm))
        ax.set_ylabel(f"{axis_label}（{unit_text}）")
        ax.yaxis.set_major_formatter(_plain_formatter(scale, decimals))
        ax.yaxis.set_major_locator(MaxNLocator(5, integer=scale == 1.0))
        finite = [v for v in cur + prev if not math.isnan(v)]
        ax.set_ylim(0, max(finite) * 1.15 if finite and max(finite) > 0 else 1)
        _grid(ax)
        _legend(fig, ax, 2)

    return _render(name, title, width_mm, height_mm, draw)
