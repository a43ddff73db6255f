"""The annual report and the monthly brief as documents: the section modules in order.

Why here and not in a renderer: the PDF, Word and Excel outputs render the same `Document`,
so the order of the sections, the brief's summary and its chart grid are decided once.
"""

from __future__ import annotations

from urbanreport.core import formatting
from urbanreport.reports import blocks
from urbanreport.reports.inputs import ReportData
from urbanreport.reports.sections import (
    dcm,
    demolition,
    enforcement,
    headline,
    legal,
    permits,
    quality,
)

#: The sections with figures and sentences, in report order (headline and quality frame them).
SECTIONS = (enforcement, permits, demolition, dcm, legal)


def title(data: ReportData) -> str:
    """The printed title: ``2023年度法治政府建设数据报告`` / ``2023年7月法治政府建设数据月报``."""
    if data.report == "annual":
        return f"{data.fiscal_year}年度法治政府建设数据报告"
    return f"{data.fiscal_year}年{data.month}月法治政府建设数据月报"


def _intro(data: ReportData) -> blocks.Paragraph:
    return blocks.Paragraph(
        f"本报告汇总{data.bureau}{data.fiscal_year}年度法治政府建设相关工作数据，"
        "包括行政执法、审批服务、违法建设治理、数字城管和学法普法五个方面，"
        "数据取自各业务系统按月报送的原始记录，按统一口径计算，并与上年同期对比。"
    )


def annual(data: ReportData) -> blocks.Document:
    """The annual report: introduction, 核心指标, the five sections, 数据质量."""
    body: list[blocks.Block] = [_intro(data), *headline.annual(data)]
    for section in SECTIONS:
        body += section.annual(data)
    body += quality.annual(data)
    return _document(data, body)


def monthly(data: ReportData) -> blocks.Document:
    """The brief: 本月概况 (a sentence per section), 主要指标, then 1—N月 charts and notes."""
    body: list[blocks.Block] = [blocks.Heading(1, "本月概况")]
    for section in SECTIONS:
        body += section.summary(data)
    body += [blocks.Heading(1, "主要指标"), *headline.brief(data), blocks.PageBreak()]
    body.append(blocks.Heading(1, f"1—{data.month}月分项情况"))
    for section in SECTIONS:
        body += section.brief(data)
    body += quality.brief(data)
    return _document(data, body)


def _document(data: ReportData, body: list[blocks.Block]) -> blocks.Document:
    moment = data.data_as_of
    return blocks.Document(
        kind=data.report,
        title=title(data),
        subtitle=f"统计期：{formatting.day(data.period.start)}至{formatting.day(data.period.end)}",
        bureau=data.bureau,
        district=data.district,
        period_label=data.label,
        data_cutoff=data.data_cutoff,
        data_as_of=moment.isoformat(timespec="seconds") if moment else "",
        blocks=tuple(body),
        meta={
            "start": data.period.start,
            "end": data.period.end,
            "batches": data.batches,
            "fiscal_year": data.fiscal_year,
            # The figures behind the indicator tables (their frames hold text and the `key`
            # of each row): an output that stores numbers (Excel) reads them here.
            "result": data.result,
            "ytd": data.ytd,
        },
    )


def build(data: ReportData) -> blocks.Document:
    return annual(data) if data.report == "annual" else monthly(data)
