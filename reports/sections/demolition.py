"""违法建设治理: sites and area demolished, the district campaign's progress, by street."""

from __future__ import annotations

from typing import Any

from urbanreport.reports import blocks, narrative
from urbanreport.reports.inputs import ReportData
from urbanreport.reports.sections import common

SECTION = "demolition"


def sentences(data: ReportData) -> list[str]:
    return narrative.demolition(data.figures, data.kind, data.label, data.district)


def campaign(data: ReportData) -> dict[str, Any]:
    """What the progress chart needs of the period's campaign: target, start month, name.

    The start month is the campaign's own when it started this fiscal year, January when it
    started before; no campaign (or a later one) draws no start line.
    """
    facts = data.result.get("campaign") or {}
    start = narrative.campaign_start(data.result)
    start_month = None
    if start is not None and start.year == data.fiscal_year:
        start_month = start.month
    elif start is not None and start.year < data.fiscal_year:
        start_month = 1
    target = facts.get("target_m2") or data.figures.get("demolition.campaign_target_m2")
    return {"target_m2": target, "start_month": start_month, "campaign": facts.get("name")}


def _options(data: ReportData) -> dict[str, dict[str, Any]]:
    return {"demolition_progress": campaign(data)}


def annual(data: ReportData) -> list[blocks.Block]:
    return common.section_blocks(data, SECTION, sentences(data), options=_options(data))


def summary(data: ReportData) -> list[blocks.Block]:
    return [blocks.Paragraph(sentences(data)[0])]


def brief(data: ReportData) -> list[blocks.Block]:
    return common.figure_blocks(data, SECTION, options=_options(data))
