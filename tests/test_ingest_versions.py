"""Record versions and idempotency: same bytes change nothing; newer files replace older versions
(files in modification-time order, then name order; within a file the last row wins)."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import duckdb

from tests.factories import (
    batches,
    check_batch,
    count,
    enforcement_row,
    inbox,
    make_settings,
    record,
    rejects,
    set_mtime,
    snapshot,
    write_rows_csv,
    write_xlsx,
)
from urbanreport.core import warehouse
from urbanreport.core.config import Settings
from urbanreport.ingest.batches import BatchResult, discover_files, ingest_source

JULY = 1_690_819_200  # 2023-08-01 00:00 Asia/Shanghai, when the July extract was made
AUGUST = JULY + 31 * 86_400


def new_batches(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[BatchResult]:
    """Ingest the inbox; the batches of files not seen before (earlier files are skipped)."""
    return [r for r in ingest_source(con, settings, "enforcement") if not r.skipped]


def fine(con: duckdb.DuckDBPyConnection, case_id: str) -> Decimal:
    return record(con, "enforcement", "case_id", case_id)["fine_yuan"]


def test_same_bytes_again_change_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    folder = inbox(settings, "enforcement")
    write_rows_csv(
        folder / "2023-07.csv",
        [enforcement_row(case_id="A1"), enforcement_row(case_id="A2", street="火星")],
    )
    with warehouse.writer(settings) as con:
        (first,) = ingest_source(con, settings, "enforcement")
        check_batch(con, first, "enforcement")
        before = snapshot(con)
    with warehouse.writer(settings) as con:  # a later run: the file is still in the inbox
        (again,) = ingest_source(con, settings, "enforcement")
        assert again.status == "skipped" and again.skipped and again.batch_id is None
        assert "2023-07.csv" in again.message
        assert snapshot(con) == before


def test_same_bytes_under_another_name_are_skipped(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    folder = inbox(settings, "enforcement")
    original = write_rows_csv(folder / "2023-07.csv", [enforcement_row(case_id="A1")])
    shutil.copyfile(original, folder / "2023-07 (copy).csv")
    with warehouse.writer(settings) as con:
        results = ingest_source(con, settings, "enforcement")
        assert [r.status for r in results] == ["loaded", "skipped"]
        before = snapshot(con)
    shutil.copyfile(original, folder / "resent-by-clerk.csv")
    with warehouse.writer(settings) as con:
        results = ingest_source(con, settings, "enforcement")
        assert [r.status for r in results] == ["skipped"] * 3
        assert snapshot(con) == before
        assert len(batches(con)) == 1


def test_same_bytes_in_another_source_are_not_skipped(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    path = write_rows_csv(inbox(settings, "enforcement") / "x.csv", [enforcement_row()])
    shutil.copyfile(path, inbox(settings, "permits") / "x.csv")
    with warehouse.writer(settings) as con:
        assert ingest_source(con, settings, "enforcement")[0].status == "loaded"
        assert ingest_source(con, settings, "permits")[0].status == "refused"  # wrong columns


def test_newer_file_corrects_a_fine(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    folder = inbox(settings, "enforcement")
    set_mtime(
        write_rows_csv(
            folder / "2023-07.csv",
            [
                enforcement_row(case_id="C1", fine_yuan="5000"),
                enforcement_row(case_id="C2", fine_yuan="200"),
            ],
        ),
        JULY,
    )
    with warehouse.writer(settings) as con:
        (july,) = ingest_source(con, settings, "enforcement")
        assert fine(con, "C1") == Decimal("5000.00")
    set_mtime(
        write_rows_csv(
            folder / "2023-08.csv",
            [
                enforcement_row(case_id="C1", fine_yuan="500", penalty_type="罚款"),
                enforcement_row(case_id="C3", fine_yuan="300"),
            ],
        ),
        AUGUST,
    )
    with warehouse.writer(settings) as con:
        (august,) = new_batches(con, settings)
        check_batch(con, august, "enforcement")
        assert fine(con, "C1") == Decimal("500.00")
        assert record(con, "enforcement", "case_id", "C1")["batch_id"] == august.batch_id
        assert fine(con, "C2") == Decimal("200.00")  # untouched by the newer file
        assert count(con, "enforcement") == 3


def test_files_are_taken_in_mtime_order_then_name(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    folder = inbox(settings, "enforcement")
    # The name sorts first but the file is newer: it is taken last and wins.
    set_mtime(
        write_rows_csv(
            folder / "a-correction.csv", [enforcement_row(case_id="C1", fine_yuan="500")]
        ),
        AUGUST,
    )
    set_mtime(
        write_rows_csv(
            folder / "b-original.csv", [enforcement_row(case_id="C1", fine_yuan="5000")]
        ),
        JULY,
    )
    # Same mtime: name order decides.
    set_mtime(
        write_rows_csv(folder / "c-1.csv", [enforcement_row(case_id="C2", fine_yuan="1")]), JULY
    )
    set_mtime(
        write_rows_csv(folder / "c-2.csv", [enforcement_row(case_id="C2", fine_yuan="2")]), JULY
    )
    assert [p.name for p in discover_files(settings, "enforcement")] == [
        "b-original.csv",
        "c-1.csv",
        "c-2.csv",
        "a-correction.csv",
    ]
    with warehouse.writer(settings) as con:
        results = ingest_source(con, settings, "enforcement")
        assert [r.file_name for r in results] == [
            "b-original.csv",
            "c-1.csv",
            "c-2.csv",
            "a-correction.csv",
        ]
        assert fine(con, "C1") == Decimal("500.00")
        assert fine(con, "C2") == Decimal("2.00")
        assert count(con, "enforcement") == 2


def test_an_older_file_arriving_later_does_not_undo_a_correction(tmp_path: Path) -> None:
    """A clerk copies last month's export into the inbox after this month's was loaded (copies
    keep their modification time): the newer version stays, the older rows are refused."""
    settings = make_settings(tmp_path)
    folder = inbox(settings, "enforcement")
    set_mtime(
        write_rows_csv(folder / "2023-08.csv", [enforcement_row(case_id="C1", fine_yuan="500")]),
        AUGUST,
    )
    with warehouse.writer(settings) as con:
        (august,) = ingest_source(con, settings, "enforcement")
    set_mtime(
        write_xlsx(
            folder / "2023-07.xlsx",
            ["案件编号", "立案日期", "街道", "违法类别", "罚款金额(元)"],
            [["C1", "2023-07-05", "金霞", "其他", 5000], ["C9", "2023-07-06", "金霞", "其他", 90]],
        ),
        JULY,
    )
    with warehouse.writer(settings) as con:
        (july,) = new_batches(con, settings)
        check_batch(con, july, "enforcement")
        assert (july.rows_read, july.rows_loaded, july.rows_rejected) == (2, 1, 1)
        assert fine(con, "C1") == Decimal("500.00")
        assert record(con, "enforcement", "case_id", "C1")["batch_id"] == august.batch_id
        assert fine(con, "C9") == Decimal("90.00")
        (line,) = rejects(con, "2023-07.xlsx")
        assert (line["row_number"], line["column_name"], line["raw_value"]) == (2, "case_id", "C1")
        assert "2023-08.csv" in line["reason"]


def test_newer_file_with_a_bad_row_keeps_the_old_version(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    folder = inbox(settings, "enforcement")
    set_mtime(
        write_rows_csv(folder / "2023-07.csv", [enforcement_row(case_id="C1", fine_yuan="500")]),
        JULY,
    )
    set_mtime(
        write_rows_csv(folder / "2023-08.csv", [enforcement_row(case_id="C1", fine_yuan="-500")]),
        AUGUST,
    )
    with warehouse.writer(settings) as con:
        july, august = ingest_source(con, settings, "enforcement")
        assert august.rows_rejected == 1
        assert fine(con, "C1") == Decimal("500.00")
        assert record(con, "enforcement", "case_id", "C1")["batch_id"] == july.batch_id
