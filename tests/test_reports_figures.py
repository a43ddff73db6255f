"""The figure registry (reports/figures.toml): every entry resolves — its SQL file exists and
computes the columns it names, its catalogue keys exist, its chart kind is a function of
reports/charts.py, its test exists — and a rendered report shows exactly the entries listed
for it, no table or chart without one."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from tests.reports_data import (
    annual_result,
    annual_tables,
    monthly_result,
    pdf_text,
    ytd_result,
)
from urbanreport import indicators
from urbanreport.core import catalogue, warehouse
from urbanreport.core.config import SQL_DIR, load_settings
from urbanreport.core.periods import Period
from urbanreport.reports import blocks, build, charts, document, figures
from urbanreport.reports.inputs import ReportData

ROOT = Path(__file__).resolve().parent.parent
CTX = {"bureau": "汕头市龙湖区城市管理和综合执法局", "district": "龙湖区", "source_titles": {}}
ENTRIES = figures.entries()
#: Breakdowns no report shows yet, computed for the export and the CLI only.
EXPORT_ONLY = {"dcm_by_category"}


def annual_data() -> ReportData:
    return build.report_data(
        "year", "2023", 2023, date(2023, 1, 1), date(2023, 12, 31),
        annual_result(), annual_tables(), CTX,
    )  # fmt: skip


def monthly_data() -> ReportData:
    return build.report_data(
        "month", "2023-07", 2023, date(2023, 7, 1), date(2023, 7, 31),
        monthly_result(7), annual_tables([7]), CTX,
        ytd=ytd_result(7), ytd_tables=annual_tables(list(range(1, 8))),
    )  # fmt: skip


@pytest.fixture(scope="module")
def empty_frames(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Every breakdown file run on an empty warehouse: the columns it computes."""
    settings = load_settings(home=tmp_path_factory.mktemp("figures"))
    params = indicators.breakdown_params(Period.parse("2023"), settings)
    with warehouse.writer(settings) as con:
        return {
            name: indicators.breakdown(con, name, params).columns for name in indicators.BREAKDOWNS
        }


def test_ids_are_unique_and_every_report_has_entries() -> None:
    ids = [e.id for e in ENTRIES]
    assert len(ids) == len(set(ids))
    for report in figures.REPORTS:
        assert figures.for_report(report), report


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_every_entry_resolves(entry: figures.Entry, empty_frames: dict[str, list[str]]) -> None:
    for path in entry.sql:
        assert (SQL_DIR / path).is_file(), path
    keys = [c.key for c in entry.columns if c.key] + list(entry.rows)
    assert all(key in catalogue.indicators() for key in keys), keys
    for col in entry.columns:
        assert not col.dimension or col.dimension in figures.DIMENSIONS, col
        assert not col.figure or col.figure in figures.FIGURE_COLUMNS, col
        assert not col.kind or col.kind in figures.COLUMN_KINDS, col
    if entry.type == "chart":
        assert callable(charts.KINDS.get(entry.chart)), entry.chart
        assert entry.measures and any(c.dimension for c in entry.columns)
    if entry.breakdown:
        computed = empty_frames[entry.breakdown]
        wanted = [c.name for c in entry.columns]
        if entry.type == "chart":  # every chart draws last year beside this year
            wanted += [f"prev_{c.name}" for c in entry.measures]
        assert set(wanted) <= set(computed), set(wanted) - set(computed)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_every_entry_names_a_test_that_exists(entry: figures.Entry) -> None:
    path, _, name = entry.test.partition("::")
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    functions = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert name in functions, entry.test


def test_every_breakdown_file_is_shown_or_exported() -> None:
    used = {e.breakdown for e in ENTRIES if e.breakdown}
    assert set(indicators.BREAKDOWNS) - used == EXPORT_ONLY
    assert used <= set(indicators.BREAKDOWNS)


def test_a_title_greps_to_its_entry() -> None:
    """The printed title (its years filled in) leads back to exactly one entry's title line."""
    text = (ROOT / "reports" / "figures.toml").read_text(encoding="utf-8")
    for entry in ENTRIES:
        literal = max(re.split(r"\{\w+\}", entry.title), key=len)
        lines = [line for line in text.splitlines() if line.startswith("title = ")]
        hits = [line for line in lines if literal in line]
        assert f'title = "{entry.title}"' in hits, entry.id


@pytest.mark.parametrize(("report", "make"), [("annual", annual_data), ("monthly", monthly_data)])
def test_a_rendered_report_shows_exactly_its_entries(
    report: str, make: Callable[[], ReportData]
) -> None:
    data = make()
    doc = document.build(data)
    registered = [e.id for e in figures.for_report(report)]
    in_document = [b.entry_id for b in doc.blocks if isinstance(b, blocks.Table | blocks.Chart)]
    assert in_document == registered
    rendered = build.render_pdf(data)
    assert list(rendered.entry_ids) == registered
    text = pdf_text(rendered.pdf)
    tables = [e for e in figures.for_report(report) if e.type == "table"]
    chart_entries = [e for e in figures.for_report(report) if e.type == "chart"]
    assert re.findall(r"表(\d+)\s", text) == [str(i) for i in range(1, len(tables) + 1)]
    assert re.findall(r"图(\d+)\s", text) == [str(i) for i in range(1, len(chart_entries) + 1)]
