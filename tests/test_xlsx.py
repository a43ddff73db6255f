"""The Excel renderer, read back with openpyxl: numbers as numbers with the report's rounding
and formats, Chinese sheet names, frozen headers, widths for Chinese text, 说明, same bytes."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from datetime import datetime

import openpyxl
import pytest
from rich.cells import cell_len

from tests.documents import render_elsewhere, synthetic
from urbanreport.core import catalogue, formatting
from urbanreport.reports import xlsx
from urbanreport.reports.blocks import Table


@pytest.fixture(scope="module")
def document():
    return synthetic()


@pytest.fixture(scope="module")
def rendered(document) -> bytes:
    return xlsx.render(document)


@pytest.fixture(scope="module")
def book(rendered: bytes):
    return openpyxl.load_workbook(io.BytesIO(rendered))


def about_values(book) -> list[str]:
    return [str(c.value) for row in book[xlsx.ABOUT_SHEET].iter_rows() for c in row if c.value]


def test_about_first_then_one_sheet_per_table_with_unique_names(book, document):
    assert book.sheetnames == [xlsx.ABOUT_SHEET, "各街道处罚情况", "各街道处罚情况（2）"]
    assert len(book.sheetnames) == 1 + len(document.tables())


def test_sheet_names_are_legal_unique_and_short():
    long = "各街道数字城管案件办理情况及与上年同期对比（按街道、按月份、按来源）"
    names = xlsx.sheet_names([long, long, "说明", "a/b:c*d?[e]", "", "Sheet", "sheet"])
    assert all(len(n.encode("utf-16-le")) // 2 <= 31 for n in names)
    assert len({n.casefold() for n in names} | {"说明"}) == len(names) + 1
    assert names[0] == long[:31] and names[1].endswith("（2）")
    assert names[2] == "说明（2）"
    assert names[3] == "abcde"
    assert names[4] == "表5"
    assert names[6] == "sheet（2）"  # Excel compares sheet names without case


def test_every_figure_is_a_number_equal_to_the_frame_value_in_the_report_format(book, document):
    table = document.tables()[0]
    sheet = book["各街道处罚情况"]
    formats = {"count": "0", "money": "0.00", "area": "0.00", "rate": "0.00%", "days": "0.00"}
    checked = 0
    for r, row in enumerate(table.frame.iter_rows(named=True), start=2):
        for c, column in enumerate(table.columns, start=1):
            cell = sheet.cell(r, c)
            value = row[column.name]
            if column.kind == "text":
                assert cell.value == value
            elif value is None:
                assert cell.value == formatting.MISSING
            else:
                assert isinstance(cell.value, int | float), (r, c, cell.value)
                assert cell.value == formatting.machine(column.kind, value)
                assert cell.number_format == formats[column.kind]
                checked += 1
    assert checked == 15  # 5 numeric columns × 4 streets, one street without any record


def test_rates_read_as_the_pdf_prints_them(book):
    sheet = book["各街道处罚情况"]
    rates = [sheet.cell(r, 5).value for r in (2, 3, 5)]
    assert rates == [0.7938, 1, 0.7802]  # 0.79375 → 79.38%, half-up on Decimal
    assert sheet.cell(3, 3).value == 0.01  # 0.005 yuan rounds half-up to a cent
    assert isinstance(sheet.cell(2, 2).value, int)


def test_header_row_has_units_is_frozen_and_filtered(book, document):
    sheet = book["各街道处罚情况"]
    header = [c.value for c in sheet[1]]
    assert header == [c.label for c in document.tables()[0].columns]
    assert "罚款金额（元）" in header and "按时公示率" in header
    assert sheet.freeze_panes == "A2"
    assert sheet.tables and next(iter(sheet.tables.values())).autoFilter is not None


def column_width(sheet, c: int) -> float:
    """Width of column `c` (1-based); openpyxl keeps equal neighbours as one range."""
    return next(d.width for d in sheet.column_dimensions.values() if d.min <= c <= d.max)


def test_column_widths_fit_chinese_text(book, document):
    sheet = book["各街道处罚情况"]
    for c, column in enumerate(document.tables()[0].columns, start=1):
        width = column_width(sheet, c)
        assert width >= cell_len(column.label), (column.label, width)
    assert column_width(sheet, 6) > len("平均办理时长（工作日）") + 8  # a CJK character counts 2


def test_about_sheet_states_period_cutoff_batches_and_every_definition(book):
    values = about_values(book)
    assert "2023年1月1日至2023年12月31日" in values
    assert "2023年12月31日" in values
    assert "enforcement_2023-12.csv" in values and "行政处罚案件" in values
    for item in catalogue.indicators().values():
        assert item.definition in values, item.key
        assert item.key in values
    sheet = book[xlsx.ABOUT_SHEET]
    counts = [c for row in sheet.iter_rows() for c in row if c.value == 9]
    assert counts and counts[0].number_format == "0"  # rows loaded, a number


def test_about_sheet_with_a_batch_count_and_a_month():
    doc = replace(synthetic(), period_label="2023-07", meta={"batches": 12})
    values = about_values(openpyxl.load_workbook(io.BytesIO(xlsx.render(doc))))
    assert "2023年7月" in values
    assert any(v.startswith("12批") for v in values)


def test_a_table_without_its_column_is_refused(document):
    table = document.tables()[0]
    broken = Table(table.entry_id, table.title, table.columns, table.frame.drop("fines"))
    with pytest.raises(KeyError, match="fines"):
        xlsx.render(replace(document, blocks=(broken,)))


def test_two_renders_give_the_same_bytes_created_at_the_data_time(rendered: bytes, document):
    assert xlsx.render(document) == rendered
    package = zipfile.ZipFile(io.BytesIO(rendered))
    assert {i.date_time for i in package.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    book = openpyxl.load_workbook(io.BytesIO(rendered))
    assert book.properties.created == datetime(2023, 12, 31, 10, 5)  # 18:05 Beijing, in UTC
    later = xlsx.render(replace(document, data_as_of="2024-01-05T09:00:00"))
    assert later != rendered


def test_another_process_and_time_zone_give_the_same_bytes(rendered: bytes):
    assert render_elsewhere("xlsx") == rendered
