"""The PDFs themselves, rendered from hand-made figures: fonts, sentences, sections, charts,
determinism, 数据缺失 and personal data (Chinese line breaking: test_reports_typeset.py)."""

from __future__ import annotations

import io
from datetime import date

import polars as pl
import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader

from tests.reports_data import (
    PERSONAL_VALUES,
    PUBLISHED_SENTENCES,
    annual_result,
    annual_tables,
    font_report,
    image_count,
    monthly_result,
    page_count,
    pdf_text,
    squeeze,
    tables_without,
    with_personal_data,
    without_source,
    ytd_result,
)
from urbanreport.reports import build, charts, document, figures, fonts, pdf
from urbanreport.reports.chart_kit import ChartSpec, Series
from urbanreport.reports.inputs import ReportData

CTX = {"bureau": "汕头市龙湖区城市管理和综合执法局", "district": "龙湖区", "source_titles": {}}
ANNUAL_SECTIONS = [
    "一、核心指标",
    "二、行政执法",
    "三、审批服务",
    "四、违法建设治理",
    "五、数字城管",
    "六、学法普法",
    "七、数据质量",
]
ANNUAL_CHARTS = [e.id for e in figures.for_report("annual") if e.type == "chart"]


def annual_data(result=None, tables=None) -> ReportData:
    return build.report_data(
        "year",
        "2023",
        2023,
        date(2023, 1, 1),
        date(2023, 12, 31),
        result or annual_result(),
        tables or annual_tables(),
        CTX,
    )


def monthly_data(result=None) -> ReportData:
    return build.report_data(
        "month",
        "2023-07",
        2023,
        date(2023, 7, 1),
        date(2023, 7, 31),
        result or monthly_result(7),
        annual_tables([7]),
        CTX,
        ytd=ytd_result(7),
        ytd_tables=annual_tables(list(range(1, 8))),
    )


def render(data: ReportData) -> tuple[bytes, list[str]]:
    """PDF bytes and the ids of the charts shown."""
    rendered = build.render_pdf(data)
    return rendered.pdf, [i for i in rendered.entry_ids if figures.entry(i).type == "chart"]


@pytest.fixture(scope="module")
def annual() -> tuple[bytes, list[str]]:
    return render(annual_data(tables=with_personal_data(annual_tables())))


@pytest.fixture(scope="module")
def annual_text(annual) -> str:
    return pdf_text(annual[0])


@pytest.fixture(scope="module")
def monthly() -> tuple[bytes, list[str]]:
    return render(monthly_data())


# --- fonts --------------------------------------------------------------------------------


def test_font_files_are_truetype_for_the_portal():
    for role in ("sans", "serif"):
        path = fonts.font_file(role)
        assert path.read_bytes()[:4] == b"\x00\x01\x00\x00", role
    with pytest.raises(ValueError):
        fonts.font_file("mono")


def test_every_font_is_embedded(annual, monthly):
    for pdf_bytes in (annual[0], monthly[0]):
        used = font_report(pdf_bytes)
        assert used, "no fonts found"
        assert all(used.values()), used
        assert any("NotoSerifSC" in name for name in used)
        assert any("NotoSansSC" in name for name in used)


# --- the annual report --------------------------------------------------------------------


def test_annual_states_the_published_sentences(annual_text):
    flat = squeeze(annual_text)
    for sentence in PUBLISHED_SENTENCES:
        assert squeeze(sentence) in flat, sentence


def test_annual_sections_in_order(annual_text):
    positions = [annual_text.find(heading) for heading in ANNUAL_SECTIONS]
    assert all(p >= 0 for p in positions), dict(zip(ANNUAL_SECTIONS, positions, strict=True))
    assert positions == sorted(positions)


def test_annual_cover_and_pages(annual, annual_text):
    pages = page_count(annual[0])
    assert 8 <= pages <= 14
    first_page = annual_text.split("—")[0]
    assert "汕头市龙湖区城市管理和综合执法局" in first_page
    assert "2023年度法治政府建设数据报告" in first_page
    assert "数据截止日期" in first_page and "2023年12月31日" in first_page
    assert "数据更新时间" in first_page and "2024年1月2日 02:00" in first_page
    assert "— 1 —" in annual_text  # page numbers after the cover


def test_annual_has_every_chart(annual):
    pdf_bytes, names = annual
    assert names == ANNUAL_CHARTS
    assert image_count(pdf_bytes) == len(ANNUAL_CHARTS)


def test_annual_is_byte_identical_for_the_same_data(annual):
    again, _ = render(annual_data(tables=with_personal_data(annual_tables())))
    assert again == annual[0]


def test_no_personal_data_in_the_pdf(annual_text):
    for value in PERSONAL_VALUES:
        assert value not in annual_text


def test_a_missing_source_says_data_missing():
    reason = "行政处罚案件在2023年没有任何记录"
    result = without_source(annual_result(), "enforcement", reason)
    tables = tables_without(annual_tables(), "enforcement_")
    text = pdf_text(render(annual_data(result, tables))[0])
    flat = squeeze(text)
    assert squeeze(f"2023年，行政处罚数据缺失（{reason}）。") in flat
    assert "处罚相关案件0宗" not in flat
    assert "数据缺失" in text.split("二、行政执法")[0]  # the headline table too
    assert "尚未报送任何记录" in text


# --- the monthly brief --------------------------------------------------------------------


def test_monthly_brief_is_two_pages_at_most(monthly):
    assert page_count(monthly[0]) <= 2


def test_monthly_brief_content(monthly):
    pdf_bytes, names = monthly
    text = pdf_text(pdf_bytes)
    flat = squeeze(text)
    assert squeeze("2023年7月，我局共处罚相关案件") in flat
    assert "上年同月" in text and "1—7月累计" in text
    assert "数据质量提示" in text
    assert len(names) == 5 and image_count(pdf_bytes) == 5
    assert all(font_report(pdf_bytes).values())


def test_monthly_brief_is_byte_identical(monthly):
    assert render(monthly_data())[0] == monthly[0]


# --- charts -------------------------------------------------------------------------------


def enforcement_chart(rows: list[dict]) -> charts.Chart:
    """The annual report's two-panel chart of cases and fines by month, from `rows`."""
    spec = ChartSpec(
        "enforcement_monthly",
        "各月处罚案件数及罚款金额",
        "month",
        (Series("penalty_cases", "处罚案件", "宗"), Series("fines_yuan", "罚款", "元")),
        2023,
        tuple(range(1, 13)),
    )
    return charts.monthly_bar_panels(pl.DataFrame(rows, infer_schema_length=None), spec)


def test_charts_are_deterministic_and_sharp():
    rows = annual_tables()["enforcement_by_month"]
    a, b = enforcement_chart(rows), enforcement_chart(rows)
    assert a.png == b.png
    dpi = a.image.width / (a.width_mm / 25.4)
    assert dpi >= 200


def test_a_chart_without_data_says_so():
    rows = [{"month": m, "penalty_cases": None, "fines_yuan": None} for m in range(1, 13)]
    chart = enforcement_chart(rows)
    assert chart.empty and chart.image.width > 0  # drawn, with 数据缺失 in place of bars


def test_a_month_without_records_is_a_gap_not_a_zero_bar():
    rows = annual_tables()["enforcement_by_month"]
    rows[2] = {
        "month": 3,
        "penalty_cases": None,
        "fines_yuan": None,
        "prev_penalty_cases": 60,
        "prev_fines_yuan": 190000,
    }
    chart = enforcement_chart(rows)
    full = enforcement_chart(annual_tables()["enforcement_by_month"])
    assert not chart.empty and chart.png != full.png


def test_an_empty_chart_becomes_a_note():
    reason = "数字城管案件在2023年没有任何记录"
    result = without_source(annual_result(), "dcm_cases", reason)
    pdf_bytes, names = render(annual_data(result, tables_without(annual_tables(), "dcm_")))
    text = pdf_text(pdf_bytes)
    assert "各月上报案件数" in text and "图从略" in text
    assert names == ANNUAL_CHARTS
    assert image_count(pdf_bytes) == len(ANNUAL_CHARTS) - 3  # funnel, sources, months


def test_charts_go_into_the_pdf_pixel_for_pixel():
    """The PNG of each chart block is the image stream itself: a PDF reader decodes exactly
    the chart's pixels (no shear from a wrong row length, no colour shift)."""
    doc = document.build(annual_data())
    rendered = pdf.render(doc)
    reader = PdfReader(io.BytesIO(rendered.pdf))
    in_pdf = [image.image.convert("RGB") for page in reader.pages for image in page.images]
    drawn = [Image.open(io.BytesIO(c.png)).convert("RGB") for c in doc.charts() if not c.empty]
    assert len(in_pdf) == len(drawn) == len(ANNUAL_CHARTS)
    for want in drawn:  # a page lists its images by name, not in drawing order
        same = [got for got in in_pdf if got.size == want.size]
        assert any(ImageChops.difference(got, want).getbbox() is None for got in same)
