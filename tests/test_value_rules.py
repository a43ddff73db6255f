"""The contract's value rules (dates, money and areas, yes/no), first on the SQL macros alone,
then end to end through real extract files into the warehouse."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.factories import (
    check_batch,
    dcm_row,
    demolition_row,
    enforcement_row,
    inbox,
    make_settings,
    permit_row,
    record,
    rejects,
    write_rows_csv,
    write_xlsx,
)
from urbanreport.core import warehouse
from urbanreport.ingest.batches import ingest_source


@pytest.fixture(scope="module")
def macros() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory connection with the value-rule macros, in the warehouse's time zone."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    con.execute(warehouse.sql_text("macros.sql"))
    yield con
    con.close()


def one(con: duckdb.DuckDBPyConnection, sql: str, value: str | None) -> object:
    return con.execute(sql, [value]).fetchone()[0]


# --- dates and timestamps ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2023-07-05",
        "2023/7/5",
        "2023/07/05",
        "2023.07.05",
        "2023年7月5日",
        "2023年07月05日",
        " 2023-07-05 ",
        "45112",  # Excel serial number written as text
        "45112.0",
        "2023-07-05T10:30:00",
        "2023-07-05 10:30:00",
        "2023-07-05T10:30:00+08:00",
        "2023-07-05T02:30:00Z",
        "2023-07-04T21:30:00-05:00",
    ],
)
def test_accepted_dates(macros: duckdb.DuckDBPyConnection, text: str) -> None:
    assert one(macros, "SELECT ur_date(?)", text) == dt.date(2023, 7, 5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-07-05 10:30:00", dt.datetime(2023, 7, 5, 10, 30)),
        ("2023-07-05T10:30:00", dt.datetime(2023, 7, 5, 10, 30)),
        ("2023/7/5 10:30", dt.datetime(2023, 7, 5, 10, 30)),
        ("2023年7月5日 10:30", dt.datetime(2023, 7, 5, 10, 30)),
        ("45112.4375", dt.datetime(2023, 7, 5, 10, 30)),  # serial with a time of day
        # ISO timestamps with an offset are converted to Asia/Shanghai wall time
        ("2023-07-05T10:30:00+08:00", dt.datetime(2023, 7, 5, 10, 30)),
        ("2023-07-05T10:30:00+0800", dt.datetime(2023, 7, 5, 10, 30)),
        ("2023-07-05T02:30:00Z", dt.datetime(2023, 7, 5, 10, 30)),
        ("2023-07-05T02:30:00+00:00", dt.datetime(2023, 7, 5, 10, 30)),
        ("2023-07-05T03:30:00+01:00", dt.datetime(2023, 7, 5, 10, 30)),
        ("2023-07-04T21:30:00-05:00", dt.datetime(2023, 7, 5, 10, 30)),
        ("2023-07-05T20:00:00Z", dt.datetime(2023, 7, 6, 4, 0)),  # crosses midnight in Shanghai
    ],
)
def test_timestamps_are_shanghai_wall_time(
    macros: duckdb.DuckDBPyConnection, text: str, expected: dt.datetime
) -> None:
    assert one(macros, "SELECT ur_timestamp(?)", text) == expected


def test_offset_date_takes_the_shanghai_day(macros: duckdb.DuckDBPyConnection) -> None:
    # 20:00 UTC on 5 July is 04:00 on 6 July in Shanghai: the date is the local one.
    assert one(macros, "SELECT ur_date(?)", "2023-07-05T20:00:00Z") == dt.date(2023, 7, 6)


@pytest.mark.parametrize(
    "text",
    ["2023-02-30", "2023-13-01", "2023/7/32", "05/07/2023", "yesterday", "2023", "7月5日", "-"],
)
def test_bad_dates_are_null_and_get_a_reason(macros: duckdb.DuckDBPyConnection, text: str) -> None:
    assert one(macros, "SELECT ur_timestamp(?)", text) is None
    problem = one(macros, "SELECT ur_check_date('filed_date', $1, ur_timestamp($1))", text)
    assert problem == {
        "column_name": "filed_date",
        "raw_value": text,
        "reason": "日期无法识别 (not a date in an accepted format)",
    }


@pytest.mark.parametrize("text", [None, "", "   "])
def test_blank_date_is_not_given(macros: duckdb.DuckDBPyConnection, text: str | None) -> None:
    assert one(macros, "SELECT ur_timestamp(?)", text) is None
    assert one(macros, "SELECT ur_check_date('x', $1, ur_timestamp($1))", text) is None


# --- money and areas ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3009408", Decimal("3009408.00")),
        ("3,009,408.00", Decimal("3009408.00")),
        ("¥3,009,408", Decimal("3009408.00")),
        ("￥3,009,408", Decimal("3009408.00")),
        ("3009408元", Decimal("3009408.00")),
        ("1,234.5平方米", Decimal("1234.50")),
        ("496793.68", Decimal("496793.68")),
        (" 0.1 ", Decimal("0.10")),
        ("0", Decimal("0.00")),
        ("999999999999.99", Decimal("999999999999.99")),  # the largest DECIMAL(14, 2)
    ],
)
def test_accepted_amounts(macros: duckdb.DuckDBPyConnection, text: str, expected: Decimal) -> None:
    value = one(macros, "SELECT ur_amount(?)", text)
    assert value == expected
    assert str(value) == str(expected)  # exactly two decimals, no float on the way
    assert one(macros, "SELECT ur_check_amount('fine_yuan', ?)", text) is None


@pytest.mark.parametrize("text", ["-500", "¥-3,009,408", "-0.01"])
def test_negative_amounts_are_refused(macros: duckdb.DuckDBPyConnection, text: str) -> None:
    problem = one(macros, "SELECT ur_check_amount('fine_yuan', ?)", text)
    assert problem == {
        "column_name": "fine_yuan",
        "raw_value": text,
        "reason": "金额/面积不能为负数 (negative value)",
    }


@pytest.mark.parametrize(
    "text", ["1.234", "12.3.4", "abc", "三百元", "1e5", "1000000000000", "99999999999999999999"]
)
def test_unreadable_or_too_large_amounts_are_refused(
    macros: duckdb.DuckDBPyConnection, text: str
) -> None:
    assert one(macros, "SELECT ur_amount(?)", text) is None
    problem = one(macros, "SELECT ur_check_amount('fine_yuan', ?)", text)
    assert problem["raw_value"] == text
    assert problem["reason"].startswith("金额/面积无法识别")


# --- yes/no -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("是", True),
        ("否", False),
        ("Y", True),
        ("N", False),
        ("y", True),
        ("n", False),
        ("true", True),
        ("false", False),
        ("TRUE", True),
        ("False", False),
        ("1", True),
        ("0", False),
        (" 是 ", True),
    ],
)
def test_yes_no(macros: duckdb.DuckDBPyConnection, text: str, expected: bool) -> None:
    assert one(macros, "SELECT ur_bool(?)", text) is expected
    assert one(macros, "SELECT ur_check_bool('is_major', ?)", text) is None


@pytest.mark.parametrize("text", ["有", "2", "maybe", "对"])
def test_unreadable_yes_no_is_refused(macros: duckdb.DuckDBPyConnection, text: str) -> None:
    problem = one(macros, "SELECT ur_check_bool('is_major', ?)", text)
    assert problem["column_name"] == "is_major" and problem["raw_value"] == text
    assert "是/否" in problem["reason"]


# --- end to end: the same rules through files -------------------------------------------------


DATE_TEXTS = [
    "2023-07-05",
    "2023/7/5",
    "2023.07.05",
    "2023年7月5日",
    "45112",
    "2023-07-05T10:00:00",
    "2023-07-05T02:00:00Z",
    "2023-07-05T10:00:00+08:00",
]
FINE_TEXTS = ["3009408", "3,009,408.00", "¥3,009,408", "3009408元", "3,009,408.00元"]
BOOL_TEXTS = [
    ("是", True),
    ("否", False),
    ("Y", True),
    ("N", False),
    ("true", True),
    ("false", False),
    ("1", True),
    ("0", False),
]


def test_every_date_and_money_form_loads_from_csv(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    rows = [
        enforcement_row(
            case_id=f"D{i}",
            filed_date=d,
            decided_date="",
            closed_date="",
            disclosed_date="",
            fine_yuan=FINE_TEXTS[i % len(FINE_TEXTS)],
        )
        for i, d in enumerate(DATE_TEXTS)
    ]
    write_rows_csv(inbox(settings, "enforcement") / "dates.csv", rows)
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "enforcement")
        check_batch(con, result, "enforcement")
        assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (8, 8, 0)
        for i in range(len(DATE_TEXTS)):
            stored = record(con, "enforcement", "case_id", f"D{i}")
            assert stored["filed_date"] == dt.date(2023, 7, 5)
            assert stored["fine_yuan"] == Decimal("3009408.00")
        dtype = con.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'enforcement' AND column_name = 'fine_yuan'"
        ).fetchone()[0]
        assert dtype == "DECIMAL(14,2)"


def test_yes_no_forms_load(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    rows = [
        enforcement_row(case_id=f"B{i}", is_major=t, legal_review=t, collective_decision="")
        for i, (t, _) in enumerate(BOOL_TEXTS)
    ]
    write_rows_csv(inbox(settings, "enforcement") / "bools.csv", rows)
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "enforcement")
        assert result.rows_loaded == len(BOOL_TEXTS)
        for i, (_, expected) in enumerate(BOOL_TEXTS):
            stored = record(con, "enforcement", "case_id", f"B{i}")
            assert stored["is_major"] is expected and stored["legal_review"] is expected
            assert stored["collective_decision"] is False  # empty → default no


def test_optional_money_and_yes_no_default_when_empty(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    write_rows_csv(
        inbox(settings, "permits") / "p.csv",
        [permit_row(fee_yuan="", e_license="", decided_date="", status="办理中")],
    )
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "permits")
        assert result.rows_loaded == 1
        stored = record(con, "permits", "permit_id", "XK2023070001")
        assert stored["fee_yuan"] == Decimal("0.00") and stored["e_license"] is False
        assert stored["decided_date"] is None


def test_area_forms_load_exactly(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    areas = {
        "A1": ("1,234.5平方米", "1234.50"),
        "A2": ("936292.39", "936292.39"),
        "A3": ("12㎡", "12.00"),
        "A4": ("3,009,408", "3009408.00"),
    }
    write_rows_csv(
        inbox(settings, "demolition") / "d.csv",
        [demolition_row(record_id=k, area_m2=v) for k, (v, _) in areas.items()],
    )
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "demolition")
        assert result.rows_loaded == 4
        total = con.execute("SELECT sum(area_m2) FROM demolition").fetchone()[0]
        assert total == sum(Decimal(e) for _, e in areas.values())
        for key, (_, expected) in areas.items():
            assert str(record(con, "demolition", "record_id", key)["area_m2"]) == expected


def test_xlsx_serial_numbers_date_cells_and_numbers(tmp_path: Path) -> None:
    """In a workbook, a date may be a real date cell, a bare serial number or text; money may be
    a number cell. All arrive as the same values."""
    settings = make_settings(tmp_path)
    header = [
        "案件编号",
        "立案日期",
        "处罚决定日期",
        "街道",
        "违法类别",
        "罚款金额(元)",
        "重大案件",
    ]
    write_xlsx(
        inbox(settings, "enforcement") / "x.xlsx",
        header,
        [
            ["X1", dt.datetime(2023, 7, 5), 45127, "金霞", "占道经营", 3009408, 1],
            ["X2", 45112, "2023年7月20日", "金霞", "占道经营", 496793.68, "是"],
            ["X3", "2023/7/5", 45127.0, "金霞", "占道经营", "¥3,009,408", 0],
        ],
    )
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "enforcement")
        check_batch(con, result, "enforcement")
        assert result.rows_loaded == 3, rejects(con)
        x1, x2, x3 = (record(con, "enforcement", "case_id", k) for k in ("X1", "X2", "X3"))
        for rec in (x1, x2, x3):
            assert rec["filed_date"] == dt.date(2023, 7, 5)
            assert rec["decided_date"] == dt.date(2023, 7, 20)
        assert x1["fine_yuan"] == Decimal("3009408.00") and x1["is_major"] is True
        assert x2["fine_yuan"] == Decimal("496793.68") and x2["is_major"] is True
        assert x3["fine_yuan"] == Decimal("3009408.00") and x3["is_major"] is False


def test_xlsx_timestamp_cells(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    fields = [
        "case_id",
        "source",
        "case_class",
        "category",
        "street",
        "reported_at",
        "registered_at",
    ]
    write_xlsx(
        inbox(settings, "dcm_cases") / "t.xlsx",
        fields,
        [
            [
                "T1",
                "群众举报",
                "事件",
                "街面秩序",
                "龙华",
                dt.datetime(2023, 7, 5, 9, 12),
                45112.4375,
            ]
        ],
        date_format="yyyy-mm-dd hh:mm",
    )
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "dcm_cases")
        assert result.rows_loaded == 1, rejects(con)
        stored = record(con, "dcm_cases", "case_id", "T1")
        assert stored["reported_at"] == dt.datetime(2023, 7, 5, 9, 12)
        assert stored["registered_at"] == dt.datetime(2023, 7, 5, 10, 30)


def test_iso_timestamps_with_offsets_through_a_file(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    write_rows_csv(
        inbox(settings, "dcm_cases") / "iso.csv",
        [
            dcm_row(
                case_id="Z1",
                reported_at="2023-07-05T01:12:00Z",
                registered_at="2023-07-05T09:40:00+08:00",
                dispatched_at="2023-07-05T10:00:00",
                deadline_at="2023-07-05T18:00:00+08:00",
                disposed_at="2023-07-05T07:00:00Z",
                closed_at="2023-07-05T04:00:00-04:00",
                updated_at="2023-07-05T08:00:00.250Z",
            )
        ],
    )
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "dcm_cases")
        assert result.rows_loaded == 1, rejects(con)
        stored = record(con, "dcm_cases", "case_id", "Z1")
        assert stored["reported_at"] == dt.datetime(2023, 7, 5, 9, 12)
        assert stored["registered_at"] == dt.datetime(2023, 7, 5, 9, 40)
        assert stored["disposed_at"] == dt.datetime(2023, 7, 5, 15, 0)
        assert stored["closed_at"] == dt.datetime(2023, 7, 5, 16, 0)
        assert stored["updated_at"] == dt.datetime(2023, 7, 5, 16, 0, 0, 250000)
