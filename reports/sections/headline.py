"""核心指标 (annual) and 主要指标 (monthly): the catalogue's figures against the year before."""

from __future__ import annotations

from urbanreport.reports import blocks
from urbanreport.reports.figures import entry
from urbanreport.reports.inputs import ReportData
from urbanreport.reports.sections import common

SECTION = "headline"


def annual(data: ReportData) -> list[blocks.Block]:
    """The annual report's 核心指标: every catalogue figure, grouped by section."""
    note = entry("headline").note
    if data.figures.missing:
        note += "缺失原因见各部分说明。"
    tables = common.figure_blocks(data, SECTION, notes={"headline": note})
    return [blocks.Heading(1, common.TITLES[SECTION]), *tables]


def brief(data: ReportData) -> list[blocks.Block]:
    """The brief's 主要指标: the month, the month a year before and the year to date."""
    return common.figure_blocks(data, SECTION)
