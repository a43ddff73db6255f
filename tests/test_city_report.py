"""The city report: every figure over all districts, and each indicator by district.

The layout tests start from hand-made figures (tests/reports_data.py) for three districts, one of
which sent nothing for the period; the figures test computes them from sample records.
"""

from __future__ import annotations

import copy
import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest

from tests.reports_data import annual_result, pdf_text, scaled, squeeze
from urbanreport.core import catalogue, formatting
from urbanreport.core.periods import Period
from urbanreport.reports import blocks, docx, pdf, xlsx
from urbanreport.reports import city as city_report
from urbanreport.reports.sections.city import CityInput, District, document

EMPTY_DISTRICT = "南澳县"


def nothing(result: dict[str, Any]) -> dict[str, Any]:
    """A district that sent no record for the period: every figure None."""
    out = copy.deepcopy(result)
    out["indicators"] = {k: None for k in out["indicators"]}
    out["previous"] = {k: None for k in out["previous"]}
    return out


def city_input() -> CityInput:
    longhu = annual_result()
    jinping = copy.deepcopy(longhu)
    jinping["indicators"] = scaled(longhu["indicators"], 0.5)
    jinping["previous"] = scaled(longhu["previous"], 0.5)
    total = copy.deepcopy(longhu)
    total["indicators"] = scaled(longhu["indicators"], 1.5)
    total["previous"] = scaled(longhu["previous"], 1.5)
    districts = [
        District("440507", "龙湖区", longhu),
        District("440511", "金平区", jinping),
        District("440523", EMPTY_DISTRICT, nothing(longhu)),
    ]
    return CityInput("440500", "汕头市", Period.parse("2023"), total, districts)


@pytest.fixture(scope="module")
def doc() -> blocks.Document:
    return document(city_input())


@pytest.fixture(scope="module")
def rendered(doc: blocks.Document) -> bytes:
    return pdf.render(doc).pdf


def test_each_indicator_has_a_by_district_table_and_chart(doc: blocks.Document) -> None:
    items = list(catalogue.indicators().values())
    tables = [t for t in doc.tables() if t.entry_id == "city_by_district"]
    chart_blocks = [c for c in doc.charts() if c.entry_id == "city_by_district_chart"]
    assert [t.title for t in tables] == [f"{i.name}各区县对比表" for i in items]
    assert [c.title for c in chart_blocks] == [f"{i.name}各区县对比图" for i in items]
    for item, table in zip(items, tables, strict=True):
        names = table.frame.get_column("district").to_list()
        assert names == ["龙湖区", "金平区", EMPTY_DISTRICT, "全市合计"]
        assert [c.kind for c in table.columns][1:3] == [item.kind, item.kind]
        current = table.frame.get_column("current").to_list()
        assert current[2] is None  # the district without data: 数据缺失, not 0
    assert all(c.png.startswith(b"\x89PNG") for c in chart_blocks)


def test_a_district_without_data_reads_missing_never_zero(
    doc: blocks.Document, rendered: bytes
) -> None:
    assert any(EMPTY_DISTRICT in s and "数据缺失" in s for s in doc.sentences())
    text = squeeze(pdf_text(rendered))
    filed = catalogue.indicator("enforcement.filed_cases")
    # The table row of the district: its name, then 数据缺失 where its figures would be.
    assert f"{EMPTY_DISTRICT}数据缺失数据缺失" in text
    assert f"{EMPTY_DISTRICT}0" not in text
    total = city_input().total["indicators"][filed.key]
    assert f"全市{filed.name}{formatting.figure(filed, total)}" in text


def test_the_city_report_comes_in_every_format(doc: blocks.Document, rendered: bytes) -> None:
    assert rendered.startswith(b"%PDF-")
    word = docx.render(doc)
    assert word.startswith(b"PK")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.render(doc)), read_only=True)
    cells = [
        [c for c in row] for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
    ]
    flat = [v for row in cells for v in row]
    # Numbers as numbers (a superior sums them), 数据缺失 as an empty cell.
    filed = city_input().districts[0].result["indicators"]["enforcement.filed_cases"]
    assert filed in flat
    assert "数据缺失" not in [v for v in flat if isinstance(v, str) and v == "0"]


def test_the_same_figures_give_the_same_bytes(tmp_path) -> None:
    first = city_report.render_input(tmp_path, city_input())
    again = city_report.render_input(tmp_path, city_input())
    assert first.changed and not again.changed
    assert first.sha256 == again.sha256
    assert set(first.files) == {"pdf", "docx", "xlsx"}
    assert first.path.parent == tmp_path / "2023"
    assert first.title == "2023年度全市法治政府建设数据报告"
    assert Decimal(str(first.headline["enforcement.fines_yuan"])) == Decimal(
        str(formatting.machine("money", city_input().total["indicators"]["enforcement.fines_yuan"]))
    )
