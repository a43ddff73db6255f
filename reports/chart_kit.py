"""What every chart shares: the spec it is drawn from, the rendering, the style and the axes.

Design rules, and why:

* Readable when printed in black and white (the bureau prints on office laser printers): this
  year is a dark solid fill or a solid line, last year a light hatched fill or a dashed line,
  targets a dash-dot line. Colour only reinforces, it never carries the meaning alone.
* Every axis says what it counts and in which unit; `fit` keeps every label inside.
* Raster at 200 dpi, placed at its natural size: sharp on paper and small. Agg output is
  deterministic, so the same data gives the same PNG bytes.
* A series with no data is not drawn as zeros: the panel says 数据缺失.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import matplotlib

matplotlib.use("Agg")

import polars as pl  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402
from PIL import Image as PILImage  # noqa: E402

from urbanreport.reports.fonts import register_fonts  # noqa: E402

DPI = 200
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
EMPTY_LABEL = "数据缺失"
NO_DITHER = PILImage.Dither.NONE


@dataclass(frozen=True)
class Series:
    """One measure a chart draws: its frame column (last year's is ``prev_<column>``), the
    label of its axis or legend, and its unit (from the catalogue)."""

    column: str
    label: str
    unit: str


@dataclass(frozen=True)
class ChartSpec:
    """Everything a chart kind needs besides the frame: from the registry entry and the period."""

    name: str  # the registry entry id
    title: str
    dimension: str  # the frame column along the category axis (month, street, …)
    series: tuple[Series, ...]
    fiscal_year: int
    months: tuple[int, ...]
    width_mm: float = FULL_WIDTH_MM
    height_mm: float | None = None  # None: the kind chooses (by its number of rows)
    highlight_month: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def compact(self) -> bool:
        """A half-width chart: bare month numbers, fewer legend columns."""
        return self.width_mm < 100

    def height(self, default: float) -> float:
        return self.height_mm or float(self.options.get("height") or default)


@dataclass(frozen=True)
class Chart:
    """A rendered chart: its pixels and the size it is meant to be printed at."""

    name: str
    title: str
    image: PILImage.Image
    width_mm: float
    height_mm: float
    empty: bool = False  # nothing to draw: the layout prints a one-line note instead

    @property
    def png(self) -> bytes:
        """Deterministic PNG bytes (what the report's blocks carry), with a palette.

        A chart has a few flat colours and their anti-aliased edges: 256 palette entries keep
        it visually identical to the RGB pixels at a third of the size and encoding time.
        """
        palette = self.image.quantize(
            256, PILImage.Quantize.FASTOCTREE, dither=PILImage.Dither.NONE
        )
        buf = io.BytesIO()
        palette.save(buf, format="PNG", compress_level=6)
        return buf.getvalue()


# --- rendering ----------------------------------------------------------------------------


def style(fonts_family: str) -> dict[str, Any]:
    """The matplotlib settings of every chart (also part of a cached chart's key)."""
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


def render(spec: ChartSpec, height_mm: float, draw: Callable[[Figure], None]) -> Chart:
    """Create a figure in the report font, let ``draw`` fill it, lay it out, return its pixels.

    A plain `Figure` with its own Agg canvas, not pyplot: no global figure registry to
    create and close, which is both faster and safe to call from anywhere.
    """
    fonts = register_fonts()
    with matplotlib.rc_context(style(fonts.sans_family)):
        # Whole pixels, rounded up: printed at its size, the chart is never below DPI.
        pixels = (math.ceil(spec.width_mm * MM * DPI), math.ceil(height_mm * MM * DPI))
        fig = Figure(figsize=(pixels[0] / DPI, pixels[1] / DPI), dpi=DPI)
        canvas = FigureCanvasAgg(fig)
        draw(fig)
        fit(fig)
        canvas.draw()
        rgba = canvas.buffer_rgba()
        image = PILImage.frombuffer("RGBA", (rgba.shape[1], rgba.shape[0]), rgba).convert("RGB")
    empty = fig.get_label() == EMPTY_LABEL
    return Chart(spec.name, spec.title, image, spec.width_mm, height_mm, empty)


#: Space kept around the drawing and under the legend, in points.
PAD_PT = 2.0


def fit(fig: Figure) -> None:
    """Make room for every label inside the figure: the legend above, the axes below it.

    Matplotlib's tight layout measures each axes with its tick and axis labels and sets the
    margins (constrained layout measures more often, for the same result here, at more
    cost). The figure legend is placed at the top left and the axes start under it.
    """
    renderer = fig.canvas.get_renderer()
    top = 1.0
    for legend in fig.legends:
        height = legend.get_window_extent(renderer).height + PAD_PT * fig.dpi / 72
        top = min(top, 1.0 - height / fig.bbox.height)
    pad = PAD_PT / matplotlib.rcParams["font.size"]  # tight layout pads in font sizes
    with _measured_once(fig):
        fig.tight_layout(pad=pad, h_pad=pad * 2, w_pad=pad, rect=(0.0, 0.0, 1.0, top))


@contextmanager
def _measured_once(fig: Figure) -> Iterator[None]:
    """Each axes' layout box measured once while the tight layout runs.

    Given a ``rect``, matplotlib's tight layout measures every axes twice (once for the
    margins, once more inside the rect) with nothing changed in between: the figure is
    adjusted only when both passes are done, so the second measurement is the first one
    again (about 5% of a chart's drawing time, measured); here it is remembered instead.
    Same numbers, same pixels.
    """
    for ax in fig.axes:
        ax.get_tightbbox = _remembered(ax.get_tightbbox)  # type: ignore[method-assign]
    try:
        yield
    finally:
        for ax in fig.axes:
            del ax.get_tightbbox  # the class's own method again


def _remembered(measure: Callable[..., Any]) -> Callable[..., Any]:
    boxes: dict[tuple[int, bool], Any] = {}

    def remembered(renderer: Any = None, *args: Any, **kwargs: Any) -> Any:
        if args or set(kwargs) - {"for_layout_only"}:
            return measure(renderer, *args, **kwargs)
        key = (id(renderer), bool(kwargs.get("for_layout_only")))
        if key not in boxes:
            boxes[key] = measure(renderer, **kwargs)
        return boxes[key]

    return remembered


# --- values -------------------------------------------------------------------------------


def num(value: Any) -> float:
    """None → NaN (drawn as a gap), Decimal/int → float."""
    return math.nan if value is None else float(value)


def all_nan(values: Iterable[float]) -> bool:
    return all(math.isnan(v) for v in values)


def zeros(values: Sequence[float]) -> list[float]:
    return [0.0 if math.isnan(v) else v for v in values]


def column(frame: pl.DataFrame, name: str) -> list[float]:
    """A frame column as plottable numbers (NaN for null); all NaN when the column is absent."""
    if name not in frame.columns:
        return [math.nan] * frame.height
    return [num(v) for v in frame.get_column(name).to_list()]


def by_month(frame: pl.DataFrame, months: Sequence[int], name: str) -> list[float]:
    """A by-month column for exactly `months` (a month missing from the frame is NaN)."""
    if frame.is_empty() or name not in frame.columns:
        return [math.nan] * len(months)
    found = dict(zip(frame.get_column("month").to_list(), column(frame, name), strict=True))
    return [found.get(m, math.nan) for m in months]


def this_and_last_year(
    frame: pl.DataFrame, months: Sequence[int], name: str
) -> tuple[list[float], list[float]]:
    """A breakdown column by month, and its `prev_` twin (last year)."""
    return by_month(frame, months, name), by_month(frame, months, f"prev_{name}")


def scale_for(values: Iterable[float], unit: str) -> tuple[float, str, int]:
    """Choose 万 for large amounts so tick labels stay short: (divisor, unit text, decimals)."""
    finite = [abs(v) for v in values if not math.isnan(v)]
    if finite and max(finite) >= 100_000:
        return 10_000.0, f"万{unit}", 1
    return 1.0, unit, 0


def scaled(value: float, scale: float, decimals: int) -> str:
    text = f"{value / scale:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def share_text(part: float, whole: float) -> str:
    """``（20.1%）``: a share for a bar label, one decimal, no ``.0``."""
    return f"（{part / whole * 100:.1f}%）".replace(".0%", "%")


# --- axes ---------------------------------------------------------------------------------


def grid(ax: Axes, axis: str = "y") -> None:
    ax.grid(axis=axis, color="#d9d9d9", linewidth=0.5, linestyle="-")
    ax.set_axisbelow(True)


def plain_formatter(scale: float = 1.0, decimals: int = 0) -> FuncFormatter:
    """Tick labels without thousands separators or scientific notation (the bureau's style)."""

    def fmt(value: float, _pos: int) -> str:
        v = value / scale
        if decimals == 0 or abs(v - round(v)) < 1e-9:
            return f"{v:.0f}"
        return f"{v:.{decimals}f}".rstrip("0").rstrip(".")

    return FuncFormatter(fmt)


def missing(ax: Axes) -> None:
    """An empty panel that says 数据缺失 (and marks the chart empty for the layout)."""
    ax.figure.set_label(EMPTY_LABEL)
    ax.text(0.5, 0.5, EMPTY_LABEL, ha="center", va="center", transform=ax.transAxes, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def month_axis(ax: Axes, months: Sequence[int], compact: bool = False) -> None:
    """Months as ``1月``…; a narrow chart shows bare numbers (the axis title says 月份)."""
    ax.set_xticks(list(months))
    ax.set_xticklabels([str(m) if compact else f"{m}月" for m in months])
    ax.set_xlabel("月份")
    ax.set_xlim(min(months) - 0.6, max(months) + 0.6)


def highlight(ax: Axes, spec: ChartSpec) -> None:
    """Shade the brief's own month, so the reader finds it among the year to date."""
    if spec.highlight_month is not None and spec.highlight_month in spec.months:
        m = spec.highlight_month
        ax.axvspan(m - 0.5, m + 0.5, color="#eeeeee", zorder=0)


def legend(fig: Figure, ax: Axes, ncols: int = 3, order: Sequence[str] = ()) -> None:
    """Legend above the plot, outside it: `fit` makes room, nothing overlaps.

    ``order`` lists labels to put first (matplotlib lists lines before bars otherwise).
    """
    handles, labels = ax.get_legend_handles_labels()
    if order:
        rank = {label: i for i, label in enumerate(order)}
        pairs = sorted(zip(handles, labels, strict=True), key=lambda p: rank.get(p[1], len(rank)))
        handles, labels = [p[0] for p in pairs], [p[1] for p in pairs]
    if handles:
        fig.legend(
            handles,
            labels,
            loc="upper left",
            bbox_to_anchor=(0.0, 1.0),
            borderaxespad=PAD_PT / 8,
            ncols=ncols,
            handlelength=2.2,
        )


def mark_missing(
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


def bar_pair(
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


def year_labels(fiscal_year: int) -> tuple[str, str]:
    return f"{fiscal_year}年", f"{fiscal_year - 1}年"


def axis_label(series: Series, unit_text: str | None = None) -> str:
    """``处罚案件（宗）``: what the axis counts, in which unit."""
    unit = series.unit if unit_text is None else unit_text
    return f"{series.label}（{unit}）" if unit else series.label
