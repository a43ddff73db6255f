"""审批服务: permits received and concluded, service efficiency, by month and by item."""

from __future__ import annotations

from urbanreport.reports import blocks, narrative
from urbanreport.reports.inputs import ReportData
from urbanreport.reports.sections import common

SECTION = "permits"


def sentences(data: ReportData) -> list[str]:
    return narrative.permits(data.figures, data.kind, data.label)


def annual(data: ReportData) -> list[blocks.Block]:
    return common.section_blocks(data, SECTION, sentences(data))


def summary(data: ReportData) -> list[blocks.Block]:
    return [blocks.Paragraph(sentences(data)[0])]


def brief(data: ReportData) -> list[blocks.Block]:
    return common.figure_blocks(data, SECTION)
