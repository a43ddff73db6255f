"""Render one period's report and register it: ``render(settings, period) -> ReportEntry``.

Why split into gather → document → render → publish: the layout is tested from hand-made
figures (`report_data`) without a warehouse, the registry is tested without reportlab, and the
CLI, the Prefect flows and the benchmark all go through the same `render`.

Determinism: the PDF shows only values derived from the data (the data's own time, the newest
extract's, stands in for a "generated at" stamp), so the same data gives the same bytes, and a
rerun that changed nothing writes nothing: no file, no version, no index change. The wall-clock
generation time is kept in the registry only, and only when the bytes changed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from urbanreport import indicators
from urbanreport.core import catalogue, formatting, warehouse
from urbanreport.core.config import SOURCES, Settings
from urbanreport.core.periods import Period
from urbanreport.reports import (
    blocks,
    document,
    docx,
    draft,
    figures,
    narrative,
    pdf,
    registry,
    xlsx,
)
from urbanreport.reports.inputs import ReportData, frame_key


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
    generated_at: str  # wall clock, ISO, Asia/Shanghai (when these bytes were first written)
    data_cutoff: str
    data_updated_at: str | None
    headline: dict[str, Any]
    preview: Path | None
    versions: list[dict[str, Any]] = field(default_factory=list)
    changed: bool = False
    charts: list[str] = field(default_factory=list)  # registry ids of the charts shown
    figures: list[str] = field(default_factory=list)  # registry ids of every table and chart
    seconds: float = 0.0
    #: Every format's latest file: ``{"pdf": path, "docx": path, "xlsx": path}``.
    files: dict[str, Path] = field(default_factory=dict)


# --- names --------------------------------------------------------------------------------


def report_kind(period_kind: str) -> str:
    """The report a period gets: a fiscal year the annual report, a month the brief."""
    return "annual" if period_kind == "year" else "monthly"


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


def headline(result: Mapping[str, Any]) -> dict[str, Any]:
    """The figures the index and the portal show, in machine form (rates 4 places, money 2)."""
    values = result.get("indicators") or {}
    return {
        key: formatting.machine(catalogue.indicator(key).kind, values.get(key))
        for key in narrative.HEADLINE_KEYS
    }


def context(settings: Settings) -> dict[str, Any]:
    """The settings the layout needs: names of the bureau, district and sources."""
    bureau = settings["bureau"]
    titles = {name: spec.get("title", name) for name, spec in settings.sources.items()}
    return {
        "bureau": bureau["name"],
        "district": bureau.get("district") or settings["district"].get("name", ""),
        "source_titles": titles,
    }


# --- gathering ----------------------------------------------------------------------------


def _frames(
    tables: Mapping[str, Sequence[Mapping[str, Any]]] | None, span: str
) -> dict[str, pl.DataFrame]:
    """Breakdown rows (as `indicators.breakdowns` gives them) as frames, keyed for ReportData."""
    return {
        f"{span}:{name}": pl.DataFrame(list(rows), infer_schema_length=None)
        for name, rows in (tables or {}).items()
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
) -> ReportData:
    """A report's input from figures computed elsewhere (tests, the portal's demo).

    The period is the label's (`fiscal_year`, `start` and `end` are the callers' view of it).
    """
    period = Period.parse(label)
    return ReportData(
        report=report_kind(kind),
        period=period,
        result=result,
        frames={**_frames(tables, "period"), **_frames(ytd_tables, "year_to_date")},
        bureau=ctx["bureau"],
        district=ctx["district"],
        source_titles=ctx.get("source_titles") or {},
        ytd=ytd,
    )


def gather(con: duckdb.DuckDBPyConnection, period: Period, settings: Settings) -> ReportData:
    """The period's figures (and a month's year to date) and every breakdown frame the
    report's registry entries read, each SQL file run once."""
    report = report_kind(period.kind)
    result = indicators.compute(con, period, settings)
    ytd_period = period.year_to_date()
    ytd = indicators.compute(con, ytd_period, settings) if ytd_period else None
    frames: dict[str, pl.DataFrame] = {}
    for entry in figures.for_report(report):
        key = frame_key(entry, period)
        if entry.breakdown and key not in frames:
            span = ytd_period if key.startswith("year_to_date:") and ytd_period else period
            params = indicators.breakdown_params(span, settings)
            frames[key] = indicators.breakdown(con, entry.breakdown, params)
    ctx = context(settings)
    return ReportData(
        report,
        period,
        result,
        frames,
        ctx["bureau"],
        ctx["district"],
        ctx["source_titles"],
        ytd,
        charts_dir=charts_dir(settings),
    )


def charts_dir(settings: Settings) -> Path:
    """The data directory's cache of drawn charts (`chart_cache`): safe to delete any time."""
    return settings.home / ".cache" / "charts"


# --- rendering and publishing -------------------------------------------------------------


def render_pdf(data: ReportData) -> pdf.Rendered:
    """The report as a document of blocks, rendered to PDF."""
    return pdf.render(document.build(data))


def word_document(data: ReportData, report: blocks.Document) -> blocks.Document:
    """What the .docx shows: for a fiscal year the 年度报告 draft with the data report as its
    附件 (so every sentence of the PDF is in it too), for a month the brief itself."""
    if data.report != "annual":
        return report
    return draft.annual_draft(
        data.result,
        bureau=data.bureau,
        district=data.district,
        appendix=report.blocks,
        data_cutoff=report.data_cutoff,
        data_as_of=report.data_as_of,
    )


@dataclass(frozen=True)
class Outputs:
    """One render's files, all from the same `Document`."""

    pdf: pdf.Rendered
    docx: bytes
    xlsx: bytes

    def others(self) -> dict[str, bytes]:
        return {"docx": self.docx, "xlsx": self.xlsx}


def render_outputs(data: ReportData) -> Outputs:
    """PDF, Word and Excel of one report from one document."""
    report = document.build(data)
    word = docx.render(word_document(data, report))
    return Outputs(pdf.render(report), word, xlsx.render(report))


def reads(data: ReportData) -> dict[str, dict[str, list[str]]]:
    """The date ranges the report reads, per source (its period, year to date, 上年同期), as
    recorded in its registry entry so a refresh knows which new data touches it."""
    ranges = data.period.read_ranges()
    return {source: ranges for source in SOURCES}


def publish(
    reports_dir: Path,
    data: ReportData,
    pdf_bytes: bytes,
    others: Mapping[str, bytes] | None = None,
) -> tuple[dict, bool]:
    """Write the files and their index entry (nothing when all bytes are unchanged)."""
    kind = data.period.kind
    moment = data.data_as_of
    meta = {
        "id": report_id(kind, data.label),
        "kind": data.report,
        "period": data.label,
        "title": report_title(kind, data.label),
        "file": report_title(kind, data.label) + ".pdf",
        "ascii_name": ascii_name(kind, data.label),
        "data_cutoff": data.data_cutoff.isoformat(),
        "data_updated_at": moment.isoformat(timespec="seconds") if moment else None,
        "headline": headline(data.result),
        "reads": reads(data),
    }
    return registry.publish(
        reports_dir, data.fiscal_year, meta, pdf_bytes, pdf.preview_png, others=others
    )


def entry_from(folder: Path, raw: Mapping[str, Any], changed: bool, **extra: Any) -> ReportEntry:
    """A registry entry as the caller gets it (district and city reports alike)."""
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
        files={"pdf": folder / raw["file"]}
        | {fmt: folder / info["file"] for fmt, info in (raw.get("formats") or {}).items()},
        **extra,
    )


def render_data(reports_dir: Path, data: ReportData) -> ReportEntry:
    """Lay out and register a report from already computed figures."""
    started = time.perf_counter()
    outputs = render_outputs(data)
    rendered = outputs.pdf
    raw, changed = publish(reports_dir, data, rendered.pdf, outputs.others())
    folder = Path(reports_dir) / str(data.fiscal_year)
    shown = list(rendered.entry_ids)
    charts = [i for i in shown if figures.entry(i).type == "chart"]
    seconds = time.perf_counter() - started
    return entry_from(folder, raw, changed, charts=charts, figures=shown, seconds=seconds)


def render(
    settings: Settings, period: Period, con: duckdb.DuckDBPyConnection | None = None
) -> ReportEntry:
    """Render the period's PDF, Word and Excel files into ``reports/<fy>/`` and register it.

    ``con`` lets a flow that already holds the warehouse (under the write lock) pass it in;
    otherwise a read-only connection is opened for the duration of the computation.
    """
    if con is None:
        with warehouse.reader(settings) as own:
            data = gather(own, period, settings)
    else:
        data = gather(con, period, settings)
    return render_data(settings.reports_dir, data)
