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


def test_the_district_with_the_highest_figure_is_named_and_a_tie_is_a_tie() -> None:
    filed = catalogue.indicator("enforcement.filed_cases")
    ahead = document(city_input())
    expected = formatting.figure(filed, city_input().districts[0].result["indicators"][filed.key])
    assert any(f"各区县中龙湖区最多（{expected}）" in s for s in ahead.sentences())
    level = city_input()
    level.districts[1].result["indicators"] = copy.deepcopy(level.districts[0].result["indicators"])
    sentences = document(level).sentences()
    assert any(f"各区县中龙湖区、金平区并列最多（{expected}）" in s for s in sentences)
    assert not any("龙湖区最多" in s for s in sentences)


def test_the_city_report_comes_in_every_format(doc: blocks.Document, rendered: bytes) -> None:
    assert rendered.startswith(b"%PDF-")
    word = docx.render(doc)
    assert word.startswith(b"PK")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.render(doc)), read_only=True)
    cells = [list(row) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]
    flat = [v for row in cells for v in row]
    # Numbers as numbers (a superior sums them); the district without data reads 数据缺失.
    filed = city_input().districts[0].result["indicators"]["enforcement.filed_cases"]
    assert filed in flat
    empty_rows = [row for row in cells if row and row[0] == EMPTY_DISTRICT]
    assert len(empty_rows) == len(catalogue.indicators())
    assert all(tuple(row[1:3]) == ("数据缺失", "数据缺失") for row in empty_rows)


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


# --- from records ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sampled_city(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Two districts' 2023 samples in one home, and a third district that sent nothing."""
    from urbanreport.core.city import load_city
    from urbanreport.ingest.batches import ingest_all
    from urbanreport.sample import write_sample

    home = tmp_path_factory.mktemp("city-home")
    (home / "city.toml").write_text(
        '[city]\ncode = "440500"\nname = "汕头市"\n\n[districts.440507]\nname = "龙湖区"\n\n'
        '[districts.440511]\nname = "金平区"\n\n[districts.440523]\nname = "南澳县"\n',
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("URBANREPORT_CONFIG", raising=False)
        mp.delenv("URBANREPORT_CITY", raising=False)
        city = load_city(home)
        for code in ("440507", "440511"):
            settings = city.settings_for(code)
            write_sample(settings, years=[2023])
            ingest_all(settings)
        yield city


def test_the_city_figures_are_recomputed_from_the_districts_records(sampled_city: Any) -> None:
    from urbanreport.core import warehouse

    city = sampled_city
    with warehouse.reader(city.settings_for("440507")) as con:
        source = city_report.gather(con, Period.parse("2023"), city)
    total = source.total["indicators"]
    longhu, jinping, nanao = (d.result["indicators"] for d in source.districts)
    assert all(v is None for v in nanao.values())  # nothing sent: 数据缺失, not 0
    for key, item in catalogue.indicators().items():
        if item.kind == "count" and longhu[key] is not None and not key.endswith("_yoy"):
            assert total[key] == longhu[key] + jinping[key], key
    assert (
        total["enforcement.fines_yuan"]
        == longhu["enforcement.fines_yuan"] + jinping["enforcement.fines_yuan"]
    )
    # A rate from the city's counts, never the mean of the districts' rates.
    rate = Decimal(total["dcm.registered"]) / Decimal(total["dcm.reported"])
    assert abs(Decimal(str(total["dcm.registration_rate"])) - rate) < Decimal("1e-9")
    mean = (
        Decimal(str(longhu["dcm.registration_rate"]))
        + Decimal(str(jinping["dcm.registration_rate"]))
    ) / 2
    assert longhu["dcm.reported"] != jinping["dcm.reported"]  # their own volumes
    assert abs(rate - mean) > Decimal("1e-12")


def test_the_city_report_of_sampled_districts_renders_in_every_format(
    sampled_city: Any, tmp_path
) -> None:
    from urbanreport.core import warehouse

    with warehouse.reader(sampled_city.settings_for("440507")) as con:
        source = city_report.gather(con, Period.parse("2023-07"), sampled_city)
    entry = city_report.render_input(tmp_path, source)
    assert entry.title == "2023年7月全市法治政府建设数据月报"
    assert {p.suffix for p in entry.files.values()} == {".pdf", ".docx", ".xlsx"}
    text = squeeze(pdf_text(entry.path.read_bytes()))
    assert "南澳县在本统计期内没有可用数据" in text
    assert "南澳县数据缺失数据缺失" in text
