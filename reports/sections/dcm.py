"""数字城管: the case cohort from report to closure, its timeliness, sources, months, streets."""

from __future__ import annotations

import polars as pl

from urbanreport.reports import blocks, narrative
from urbanreport.reports.figures import entry
from urbanreport.reports.inputs import ReportData
from urbanreport.reports.sections import common

SECTION = "dcm"


def sentences(data: ReportData) -> list[str]:
    return narrative.dcm(data.figures, data.kind, data.label)


def funnel_frame(data: ReportData) -> pl.DataFrame:
    """上报→立案→处置→结案 as rows (stage, cases); a stage the data lack is left out."""
    funnel = entry("dcm_funnel")
    stages = dict(zip(funnel.rows, funnel.option["stages"], strict=True))
    values = data.figures.values
    rows = [(stages[key], values.get(key)) for key in funnel.rows if key in values]
    return pl.DataFrame(rows, schema={"stage": pl.String, "cases": pl.Int64}, orient="row")


def annual(data: ReportData) -> list[blocks.Block]:
    frames = {"dcm_funnel": funnel_frame(data)}
    return common.section_blocks(data, SECTION, sentences(data), frames=frames)


def summary(data: ReportData) -> list[blocks.Block]:
    return [blocks.Paragraph(sentences(data)[0])]


def brief(data: ReportData) -> list[blocks.Block]:
    return common.figure_blocks(data, SECTION, frames={"dcm_funnel": funnel_frame(data)})
