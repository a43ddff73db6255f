"""数据质量: the period and cut-off, each source's gaps and refused rows, the calendar's notes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from urbanreport.core import catalogue, formatting
from urbanreport.reports import blocks, narrative
from urbanreport.reports.inputs import ReportData
from urbanreport.reports.sections import common

SECTION = "quality"
#: At most this many notes in the brief's box (it shares a page with the charts).
BRIEF_NOTES = 8


def gaps(source: str, q: Mapping[str, Any], period_months: int) -> str:
    """A source's months without data in the period, as the quality table writes them."""
    months = list(q.get("months_without_data") or [])
    if source in narrative.NOT_MONTHLY:
        return "不按月报送"
    if q.get("latest_record") is None or (months and len(months) >= period_months):
        return "全部月份"
    if months:
        return "、".join(f"{int(m[5:7])}月" for m in months)
    return "无"


def sources_frame(data: ReportData) -> pl.DataFrame:
    """One row per source: rows read, loaded and refused (ever), gaps, latest record."""
    months = narrative.months_in(data.period.start, data.period.end)
    rows = [
        {
            "source": data.source_title(source),
            "rows_read": int(q.get("rows_read") or 0),
            "rows_loaded": int(q.get("rows_loaded") or 0),
            "rows_rejected": int(q.get("rows_rejected") or 0),
            "gaps": gaps(source, q, months),
            "latest_record": formatting.day(q.get("latest_record")),
        }
        for source, q in (data.result.get("quality") or {}).items()
    ]
    schema = {"source": pl.String, "rows_read": pl.Int64, "rows_loaded": pl.Int64}
    schema |= {"rows_rejected": pl.Int64, "gaps": pl.String, "latest_record": pl.String}
    return pl.DataFrame(rows, schema=schema)


def annual(data: ReportData) -> list[blocks.Block]:
    texts = narrative.quality(data.result, data.data_cutoff, data.data_as_of, data.source_titles)
    out = common.section_blocks(
        data, SECTION, texts, frames={"quality_sources": sources_frame(data)}
    )
    provisional = [str(p) for p in data.result.get("provisional") or []]
    if provisional:
        out.append(blocks.Heading(2, "工作日历说明"))
        out += [blocks.Paragraph(text) for text in provisional]
    return out


def brief_notes(data: ReportData) -> list[str]:
    """The brief's data-quality notes: sections without data, gaps, refused rows, calendar."""
    quality = data.result.get("quality") or {}
    notes = narrative.source_warnings(quality, data.source_titles, period_months=1)
    notes += [str(p) for p in data.result.get("provisional") or []]
    missing = [
        catalogue.SECTION_NAMES[section]
        for section in catalogue.SECTIONS
        if data.figures.all_missing(catalogue.section_keys(section))
    ]
    if missing:
        notes.insert(0, f"本月{'、'.join(missing)}数据缺失，相关指标不按零计。")
    return notes[:BRIEF_NOTES] or ["本月各数据来源均已按时报送，未发现数据缺口。"]


def brief(data: ReportData) -> list[blocks.Block]:
    """The brief's 数据质量提示 box (no registry table: a few sentences beside the charts)."""
    notes = [blocks.Paragraph(f"· {text}", style="warning") for text in brief_notes(data)]
    return [blocks.Heading(3, "数据质量提示", numbered=False), *notes]
