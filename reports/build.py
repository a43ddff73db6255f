"""Render one period's report and register it: ``render(settings, period) -> ReportEntry``.

Why split into gather → lay out → publish: the layout is tested from hand-made figures
(``render_data``) without a warehouse, the registry is tested without reportlab, and the CLI,
the Prefect flows and the benchmark all go through the same ``render``.

Determinism: the PDF shows only values derived from the data (the data's update time stands in
for a "generated at" stamp), so the same data gives the same bytes and a rerun that changed
nothing writes nothing. The wall-clock generation time is kept in the registry only.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from urbanreport import indicators
from urbanreport.core import warehouse
from urbanreport.core.config import SOURCES, Settings
from urbanreport.core.periods import Period
from urbanreport.reports import narrative, pdf, registry

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class ReportEntry:
    """What the caller needs to know about a rendered report (mirrors the index entry)."""

    id: str  # "2023-annual" | "2023-07-monthly"
    kind: str  # "annual" | "monthly"
    period: str
    title: str
    path: Path  # the latest PDF
    ascii_name: str
    sha256: str
    size: int
    generated_at: str  # wall clock, ISO, Asia/Shanghai
    data_cutoff: str
    data_updated_at: str | None
    headline: dict[str, Any]
    preview: Path | None
    versions: list[dict[str, Any]] = field(default_factory=list)
    changed: bool = False
    charts: list[str] = field(default_factory=list)
    seconds: float = 0.0


# --- names --------------------------------------------------------------------------------


def report_id(kind: str, label: str) -> str:
    return f"{label}-annual" if kind == "year" else f"{label}-monthly"


def report_title(kind: str, label: str) -> str:
    """``2023年度法治政府建设数据报告`` / ``2023年07月法治政府建设数据月报`` (sortable)."""
    if kind == "year":
        return f"{label}年度法治政府建设数据报告"
    return f"{label[:4]}年{label[5:7]}月法治政府建设数据月报"


def ascii_name(kind: str, label: str) -> str:
    """The download name for clients that mangle non-ASCII file names."""
    return f"urbanreport-{report_id(kind, label)}.pdf"


# --- values -------------------------------------------------------------------------------


def json_safe(value: Any) -> Any:
    """Decimal → int or float (2 decimals survive a float's shortest repr), dates → ISO."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def rounded(key: str, value: Any) -> Any:
    """JSON form of one figure, rounded as the indicator contract says (rates 4, money 2)."""
    if value is None:
        return None
    kind = narrative.kind_of(key)
    if kind == "rate":
        return round(float(value), 4)
    if kind in ("money", "area"):
        return json_safe(Decimal(str(value)).quantize(Decimal("0.01")))
    if kind in ("hours", "days"):
        return round(float(value), 2)
    return int(value)


def headline(result: Mapping[str, Any]) -> dict[str, Any]:
    values = result.get("indicators") or {}
    return {key: rounded(key, values.get(key)) for key in narrative.HEADLINE_KEYS}


def data_cutoff(end: date, updated_at: Any) -> date:
    """The period's last day, or the data's update day when that comes first (a running year)."""
    moment = narrative.as_datetime(updated_at)
    if moment is not None and moment.date() < end:
        return moment.date()
    return end


def context(settings: Settings) -> dict[str, Any]:
    """The settings the layout needs: names of the bureau, district and sources."""
    bureau = settings["bureau"]
    titles = {name: spec.get("title", name) for name, spec in settings.sources.items()}
    return {
        "bureau": bureau["name"],
        "district": bureau.get("district") or settings["district"].get("name", ""),
        "source_titles": titles,
    }


def report_data(
    kind: str,
    label: str,
    fiscal_year: int,
    start: date,
    end: date,
    result: Mapping[str, Any],
    tables: Mapping[str, Sequence[Mapping[str, Any]]],
    ctx: Mapping[str, Any],
    ytd: Mapping[str, Any] | None = None,
    ytd_tables: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> pdf.ReportData:
    updated = (result.get("data_version") or {}).get("last_batch_at")
    return pdf.ReportData(
        kind=kind,
        label=label,
        fiscal_year=fiscal_year,
        start=start,
        end=end,
        result=result,
        tables=tables,
        bureau=ctx["bureau"],
        district=ctx["district"],
        title=report_title(kind, label),
        data_cutoff=data_cutoff(end, updated),
        data_updated_at=updated,
        source_titles=ctx.get("source_titles") or {},
        ytd=ytd,
        ytd_tables=ytd_tables,
    )


def render_pdf(data: pdf.ReportData) -> tuple[bytes, list[str]]:
    """PDF bytes of the annual report or the monthly brief, and the charts drawn."""
    return pdf.annual(data) if data.kind == "year" else pdf.monthly(data)


def reads(data: pdf.ReportData) -> dict[str, dict[str, list[str]]]:
    """The date ranges the report reads, per source (its period, year to date, 上年同期), as
    recorded in its registry entry so a refresh knows which new data touches it."""
    ranges = Period.parse(data.label).read_ranges()
    return {source: ranges for source in SOURCES}


def publish(reports_dir: Path, data: pdf.ReportData, pdf_bytes: bytes) -> tuple[dict, bool]:
    """Write the file and its index entry (nothing when the bytes are unchanged)."""
    name = report_title(data.kind, data.label) + ".pdf"
    meta = {
        "id": report_id(data.kind, data.label),
        "kind": "annual" if data.kind == "year" else "monthly",
        "period": data.label,
        "title": report_title(data.kind, data.label),
        "file": name,
        "ascii_name": ascii_name(data.kind, data.label),
        "data_cutoff": data.data_cutoff.isoformat(),
        "data_updated_at": json_safe(data.data_updated_at),
        "headline": headline(data.result),
        "reads": reads(data),
    }
    return registry.publish(reports_dir, data.fiscal_year, meta, pdf_bytes, pdf.preview_png)


def _entry(folder: Path, raw: Mapping[str, Any], changed: bool, **extra: Any) -> ReportEntry:
    return ReportEntry(
        id=raw["id"],
        kind=raw["kind"],
        period=raw["period"],
        title=raw["title"],
        path=folder / raw["file"],
        ascii_name=raw["ascii_name"],
        sha256=raw["sha256"],
        size=raw["size"],
        generated_at=raw["generated_at"],
        data_cutoff=raw["data_cutoff"],
        data_updated_at=raw.get("data_updated_at"),
        headline=dict(raw.get("headline") or {}),
        preview=folder / raw["preview"] if raw.get("preview") else None,
        versions=list(raw.get("versions") or []),
        changed=changed,
        **extra,
    )


def render_data(reports_dir: Path, data: pdf.ReportData) -> ReportEntry:
    """Lay out and register a report from already computed figures."""
    started = time.perf_counter()
    pdf_bytes, chart_names = render_pdf(data)
    raw, changed = publish(reports_dir, data, pdf_bytes)
    folder = Path(reports_dir) / str(data.fiscal_year)
    return _entry(folder, raw, changed, charts=chart_names, seconds=time.perf_counter() - started)


def gather(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    settings: Settings,
) -> pdf.ReportData:
    """Compute the period's figures (and, for a month, the year to date) from the warehouse."""
    result = indicators.compute(con, period, settings)
    tables = indicators.breakdowns(con, period, settings)
    ytd = ytd_tables = None
    if period.kind == "month":
        ytd_period = period.year_to_date()
        ytd = indicators.compute(con, ytd_period, settings)
        ytd_tables = indicators.breakdowns(con, ytd_period, settings)
    return report_data(
        period.kind,
        period.label,
        period.fiscal_year,
        period.start,
        period.end,
        result,
        tables,
        context(settings),
        ytd=ytd,
        ytd_tables=ytd_tables,
    )


def render(
    settings: Settings, period: Period, con: duckdb.DuckDBPyConnection | None = None
) -> ReportEntry:
    """Render the period's PDF into ``reports/<fy>/`` and register it.

    ``con`` lets a flow that already holds the warehouse (under the write lock) pass it in;
    otherwise a read-only connection is opened for the duration of the computation.
    """
    if con is None:
        with warehouse.reader(settings) as own:
            data = gather(own, period, settings)
    else:
        data = gather(con, period, settings)
    return render_data(settings.reports_dir, data)
