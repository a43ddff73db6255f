"""Excel ledgers as district offices keep them: .xlsx, .xlsm and legacy .xls, a sheet per month,
a merged title above the header, a two-row header, native date / number / formula cells.

Rejects of a workbook name their place as `sheet!row`; sheets that are not loaded are named in
the batch notes; rows read = rows loaded + rows rejected for every batch.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
import xlwt

from tests.factories import (
    batches,
    check_batch,
    chinese_headers,
    enforcement_row,
    inbox,
    make_settings,
    record,
    reject_places,
    table,
)
from urbanreport.core import warehouse
from urbanreport.core.config import Settings
from urbanreport.ingest.batches import BatchResult, ingest_source
from urbanreport.ingest.readers.excel import cell_text

Sheet = list[list[Any]]  # rows of cells; a tuple ("=formula", cached) is a formula cell
COLUMNS = ["case_id", "filed_date", "street", "category", "fine_yuan", "is_major"]
TITLE = "龙湖区城管局行政处罚案件台账（2025年）"


def header(settings: Settings) -> list[str]:
    names = chinese_headers(settings, "enforcement")
    return [names[c] for c in COLUMNS]


def case(case_id: str, **overrides: Any) -> list[Any]:
    """One ledger row with native cells: a date cell, a number cell."""
    row = {"filed_date": dt.date(2025, 1, 6), "fine_yuan": 500.0} | overrides
    return table([enforcement_row(case_id=case_id) | row], COLUMNS)[1][0]


def write_xlsx(
    path: Path,
    sheets: dict[str, Sheet],
    merges: dict[str, list[tuple[str, str]]] | None = None,
    hidden: tuple[str, ...] = (),
) -> Path:
    """A workbook written by xlsxwriter: dates and datetimes formatted, numbers as numbers."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    date, stamp = (
        wb.add_format({"num_format": "yyyy-mm-dd"}),
        wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
    )
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, tuple):
                    ws.write_formula(r, c, value[0], None, value[1])
                elif isinstance(value, dt.datetime):
                    ws.write_datetime(r, c, value, stamp)
                elif isinstance(value, dt.date):
                    ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date)
                elif value not in (None, ""):
                    ws.write(r, c, value)
        for first, text in (merges or {}).get(name, []):
            ws.merge_range(first, text)
        if name in hidden:
            ws.hide()
    wb.close()
    return path


def write_xls(path: Path, sheets: dict[str, Sheet], merges: dict[str, list] | None = None) -> Path:
    """A legacy Excel 97–2003 workbook (xlwt); merges as (r0, r1, c0, c1, text)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlwt.Workbook(encoding="utf-8")
    date = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for name, rows in sheets.items():
        ws = wb.add_sheet(name)
        for r0, r1, c0, c1, text in (merges or {}).get(name, []):
            ws.write_merge(r0, r1, c0, c1, text)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, dt.date):
                    ws.write(r, c, value, date)
                elif value not in (None, ""):
                    ws.write(r, c, value)
    wb.save(str(path))
    return path


def ingest_one(settings: Settings) -> BatchResult:
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "enforcement")
        if result.status == "loaded":
            check_batch(con, result, "enforcement")
        return result


def stored(settings: Settings, case_id: str) -> dict | None:
    with warehouse.reader(settings) as con:
        return record(con, "enforcement", "case_id", case_id)


def places(settings: Settings, name: str) -> list[tuple]:
    with warehouse.reader(settings) as con:
        return reject_places(con, name)


# --- title rows, merged title, month sheets ------------------------------------------------------


def test_title_row_and_blank_row_above_the_header(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    rows = [[TITLE], [], header(settings), case("A1"), case("A2", fine_yuan=-5.0)]
    write_xlsx(inbox(settings, "enforcement") / "台账.xlsx", {"2025年": rows})
    result = ingest_one(settings)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 1, 1), result
    assert places(settings, "台账.xlsx") == [("2025年!5", "fine_yuan", "-5")]
    assert "表头在第3行" in result.message and result.message.count("表头在第3行") == 1


def test_merged_title_across_the_header_counts_as_no_header(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    rows = [[TITLE], header(settings), case("M1")]
    merges = {"台账": [("A1:F1", TITLE)]}
    write_xlsx(inbox(settings, "enforcement") / "m.xlsx", {"台账": rows}, merges)
    result = ingest_one(settings)
    assert (result.status, result.rows_loaded) == ("loaded", 1), result
    assert "表头在第2行" in result.message


def test_every_month_sheet_loads_and_the_notes_sheet_is_named(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    sheets: dict[str, Sheet] = {}
    for month in (1, 2, 3):
        rows = [case(f"C{month}-{i}") for i in range(3)]
        if month == 2:
            rows[1] = case("C2-1", street="火星")
        sheets[f"{month}月"] = [[f"{month}月台账"], header(settings), *rows]
    sheets["说明"] = [["填表说明：每月一张工作表"], ["金额单位：元"]]
    write_xlsx(inbox(settings, "enforcement") / "2025台账.xlsx", sheets)
    result = ingest_one(settings)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (9, 8, 1), result
    assert places(settings, "2025台账.xlsx") == [("2月!4", "street", "火星")]
    assert "“说明”" in result.message and "未读取的工作表" in result.message
    assert stored(settings, "C3-2") is not None


def test_a_key_repeated_on_a_later_sheet_wins_and_the_reason_names_that_sheet(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    sheets = {
        "1月": [header(settings), case("D1", fine_yuan=100.0)],
        "2月": [header(settings), case("X"), case("D1", fine_yuan=200.0)],
    }
    write_xlsx(inbox(settings, "enforcement") / "dup.xlsx", sheets)
    result = ingest_one(settings)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 2, 1)
    assert stored(settings, "D1")["fine_yuan"] == Decimal("200.00")
    with warehouse.reader(settings) as con:
        (reason,) = con.execute("SELECT reason FROM rejects").fetchone()
    assert "工作表“2月”第3行" in reason


def test_a_hidden_sheet_and_a_sheet_without_header_are_skipped_and_named(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    sheets = {
        "台账": [header(settings), case("V1")],
        "旧表": [header(settings), case("OLD1")],
        "汇总": [["街道", "件数"], ["金霞", 3]],
    }
    write_xlsx(inbox(settings, "enforcement") / "h.xlsx", sheets, hidden=("旧表",))
    result = ingest_one(settings)
    assert result.rows_loaded == 1 and stored(settings, "OLD1") is None
    assert "“旧表”（隐藏的工作表" in result.message
    assert "“汇总”" in result.message and "案件编号" in result.message


def test_no_sheet_with_the_header_refuses_the_file_naming_each_sheet(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    sheets = {"甲": [["案件编号", "立案日期"], ["A", "B"]], "乙": [["说明"]]}
    write_xlsx(inbox(settings, "enforcement") / "n.xlsx", sheets)
    result = ingest_one(settings)
    assert result.status == "refused"
    assert "工作表“甲”" in result.message and "工作表“乙”" in result.message
    assert "街道" in result.message


# --- native cells ---------------------------------------------------------------------------------


def test_date_number_and_formula_cells_keep_their_values(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    rows = [
        header(settings) + ["处罚决定日期", "备注"],
        case("N1", fine_yuan=1234.5) + [dt.datetime(2025, 1, 20, 10, 30), "原始"],
        case("N2", fine_yuan=("=E2*2", 2469)) + [None, None],  # formula, cached value
        case("N3", fine_yuan=12.0, filed_date=dt.datetime(2025, 1, 7, 0, 0)) + [None, None],
        case("N4", fine_yuan=0.1 + 0.2) + [None, None],
        case("N5", fine_yuan=("=1/0", "#DIV/0!")) + [None, None],  # a formula's error value
    ]
    write_xlsx(inbox(settings, "enforcement") / "cells.xlsx", {"S": rows})
    result = ingest_one(settings)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (5, 4, 1), result
    n1, n2, n3, n4 = (stored(settings, f"N{i}") for i in range(1, 5))
    assert n1["fine_yuan"] == Decimal("1234.50") and n1["filed_date"] == dt.date(2025, 1, 6)
    assert n1["decided_date"] == dt.date(2025, 1, 20)
    assert n2["fine_yuan"] == Decimal("2469.00")
    assert n3["fine_yuan"] == Decimal("12.00") and n3["filed_date"] == dt.date(2025, 1, 7)
    assert n4["fine_yuan"] == Decimal("0.30")
    ((where, column, raw),) = places(settings, "cells.xlsx")
    assert (where, column, raw) == ("S!6", "fine_yuan", "#DIV/0!")
    with warehouse.reader(settings) as con:
        (reason,) = con.execute("SELECT reason FROM rejects").fetchone()
    assert "错误值" in reason and "error" in reason


def test_a_formula_without_a_cached_value_is_refused_with_a_reason(tmp_path: Path) -> None:
    """openpyxl writes formulas without their results, as a program that never calculates."""
    settings = make_settings(tmp_path)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(header(settings))
    ws.append(case("F1"))
    ws.append([*case("F2")[:4], "=E2*2", "否"])
    wb.save(inbox(settings, "enforcement") / "formula.xlsx")
    result = ingest_one(settings)
    assert (result.rows_loaded, result.rows_rejected) == (1, 1), result
    assert places(settings, "formula.xlsx") == [("台账!3", "fine_yuan", "=E2*2")]
    with warehouse.reader(settings) as con:
        (reason,) = con.execute("SELECT reason FROM rejects").fetchone()
    assert "公式" in reason and "cached value" in reason


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1234.5, "1234.5"),
        (12.0, "12"),
        (0.30000000000000004, "0.3"),
        (3009408.0, "3009408"),
        (1e-05, "0.00001"),
        (True, "true"),
        (dt.date(2023, 7, 5), "2023-07-05"),
        (dt.datetime(2023, 7, 5, 14, 3, 21, 999_999), "2023-07-05 14:03:22"),
        ("", None),
        (" 金霞 ", " 金霞 "),
    ],
)
def test_cell_text(value: Any, text: str | None) -> None:
    assert cell_text(value) == text


# --- merged header, .xls, .xlsm -------------------------------------------------------------------


def two_row_header(settings: Settings) -> Sheet:
    """A header in two rows: 处罚情况 groups 罚款金额 and 重大案件; the other header cells are
    merged down over both rows (only the top cell holds the text)."""
    names = header(settings)
    return [[TITLE], names[:4] + ["处罚情况", ""], ["", "", "", "", names[4], names[5]]]


def test_a_merged_header_cell_counts_as_one_header(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    names = header(settings)
    merges = [("A1:F1", TITLE), ("E2:F2", "处罚情况")]
    merges += [(f"{col}2:{col}3", names[i]) for i, col in enumerate("ABCD")]
    rows = [*two_row_header(settings), case("G1"), case("G2", street="火星")]
    write_xlsx(inbox(settings, "enforcement") / "g.xlsx", {"台账": rows}, {"台账": merges})
    result = ingest_one(settings)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 1, 1), result
    assert places(settings, "g.xlsx") == [("台账!5", "street", "火星")]
    assert stored(settings, "G1")["fine_yuan"] == Decimal("500.00")


def test_legacy_xls_with_title_merged_header_and_date_cells(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    names = header(settings)
    rows = [[], [], ["", "", "", "", names[4], names[5]], case("L1"), case("L2", fine_yuan=-1.0)]
    merges = [(0, 0, 0, 5, TITLE), (1, 1, 4, 5, "处罚情况")]
    merges += [(1, 2, i, i, names[i]) for i in range(4)]
    write_xls(inbox(settings, "enforcement") / "旧台账.xls", {"1月": rows}, {"1月": merges})
    result = ingest_one(settings)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 1, 1), result
    assert places(settings, "旧台账.xls") == [("1月!5", "fine_yuan", "-1")]
    l1 = stored(settings, "L1")
    assert l1["filed_date"] == dt.date(2025, 1, 6) and l1["fine_yuan"] == Decimal("500.00")


def test_an_xlsx_that_is_really_an_xls_is_read_by_its_content(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    xls = write_xls(tmp_path / "real.xls", {"S": [header(settings), case("R1")]})
    (inbox(settings, "enforcement") / "renamed.xlsx").write_bytes(xls.read_bytes())
    result = ingest_one(settings)
    assert (result.status, result.rows_loaded) == ("loaded", 1), result
    assert ".xls" in result.message and "Excel 97" in result.message


def test_xlsm_macro_workbook_loads(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    plain = write_xlsx(tmp_path / "plain.xlsx", {"S": [header(settings), case("X1"), case("X2")]})
    macro = io.BytesIO()
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(macro, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml"
                )
            dst.writestr(info, data)
    (inbox(settings, "enforcement") / "宏.xlsm").write_bytes(macro.getvalue())
    result = ingest_one(settings)
    assert (result.status, result.rows_loaded, result.message) == ("loaded", 2, ""), result


def test_an_empty_workbook_and_a_damaged_one_are_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    folder = inbox(settings, "enforcement")
    xlsxwriter.Workbook(str(folder / "a_empty.xlsx")).close()
    good = write_xlsx(tmp_path / "g.xlsx", {"S": [header(settings), case("Z1")]})
    (folder / "b_cut.xlsx").write_bytes(good.read_bytes()[:-300])
    with warehouse.writer(settings) as con:
        empty, cut = ingest_source(con, settings, "enforcement")
        assert empty.status == cut.status == "refused"
        assert "a_empty.xlsx" in empty.message and "没有数据" in empty.message
        assert "b_cut.xlsx" in cut.message and "损坏" in cut.message
        assert "Error" not in cut.message and "EOCD" not in cut.message
        assert [b["status"] for b in batches(con)] == ["refused", "refused"]
