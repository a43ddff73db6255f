"""batch_touches: each batch records the record dates of every record it changed (old and new
version), nothing for a record sent again unchanged, and a quality mark for rows read/rejected
or a refused file. All written in the batch's own transaction."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import pytest

from tests.factories import enforcement_row, inbox, make_settings, set_mtime, write_rows_csv
from urbanreport.core import warehouse
from urbanreport.core.config import Settings
from urbanreport.ingest.batches import ingest_source

JULY = 1_690_819_200  # 2023-08-01 00:00 Asia/Shanghai


def touched(con: duckdb.DuckDBPyConnection, batch_id: int) -> set[tuple]:
    rows = con.execute(
        "SELECT source, d, what FROM batch_touches WHERE batch_id = ?", [batch_id]
    ).fetchall()
    return set(rows)


def load(settings: Settings, name: str, rows: list[dict], when: int) -> tuple[int, set[tuple]]:
    path = write_rows_csv(inbox(settings, "enforcement") / name, rows)
    set_mtime(path, when)
    with warehouse.writer(settings) as con:
        (result,) = [r for r in ingest_source(con, settings, "enforcement") if not r.skipped]
        assert con.execute("SELECT count(*) FROM enforcement WHERE batch_id < 0").fetchone()[0] == 0
        return result.batch_id, touched(con, result.batch_id)


def dates(*days: str) -> set[tuple]:
    return {("enforcement", dt.date.fromisoformat(d), "record") for d in days}


COUNTS = {("enforcement", None, "counts")}


def test_a_correction_touches_old_and_new_dates_only_of_changed_records(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    a = enforcement_row(case_id="A1")
    b = enforcement_row(case_id="B1", filed_date="2023-06-02", decided_date="2023-06-10")
    first, got = load(settings, "2023-07.csv", [a, b], JULY)
    assert got == dates("2023-07-05", "2023-07-20", "2023-06-02", "2023-06-10") | COUNTS

    # B1 sent again unchanged; A1 moves from July to May and gains a review.
    moved = a | {
        "filed_date": "2023-05-02",
        "decided_date": "2023-05-20",
        "disclosed_date": "2023-05-25",
        "review_date": "2023-09-01",
        "review_outcome": "维持",
    }
    second, got = load(settings, "2023-07-corrected.csv", [moved, b], JULY + 86_400)
    assert second != first
    old, new = ("2023-07-05", "2023-07-20"), ("2023-05-02", "2023-05-20", "2023-09-01")
    assert got == dates(*old, *new) | COUNTS


def test_rejects_and_refusals_mark_quality(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    bad = enforcement_row(case_id="X1", filed_date="not a date")
    batch_id, got = load(settings, "bad.csv", [bad], JULY)
    assert got == COUNTS | {("enforcement", None, "rejects")}

    folder = inbox(settings, "enforcement")
    refused = folder / "empty.csv"
    refused.write_bytes(b"")
    os.utime(refused, (JULY + 10, JULY + 10))
    with warehouse.writer(settings) as con:
        (result,) = [r for r in ingest_source(con, settings, "enforcement") if not r.skipped]
        assert result.status == "refused"
        assert touched(con, result.batch_id) == COUNTS


def test_touches_roll_back_with_the_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(tmp_path)
    path = write_rows_csv(inbox(settings, "enforcement") / "a.csv", [enforcement_row()])
    set_mtime(path, JULY)
    from urbanreport.ingest import batches as module

    def boom(name: str) -> None:
        if name == "after_merge":
            raise RuntimeError("stop")

    monkeypatch.setattr(module, "_failpoint", boom)
    with warehouse.writer(settings) as con:
        with pytest.raises(RuntimeError):
            ingest_source(con, settings, "enforcement")
        assert con.execute("SELECT count(*) FROM batch_touches").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM enforcement").fetchone()[0] == 0
