"""Crash safety, the single-writer lock and the HTTP watermark.

A load killed mid-batch (SIGKILL, no clean-up at all) must leave no trace of that batch; a second
writer must wait for the first and then give up with a clear message; the watermark of an HTTP
pull moves only with a committed batch.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

import urbanreport.ingest.batches
from tests.factories import (
    REPO_ROOT,
    check_batch,
    count,
    dcm_row,
    enforcement_row,
    inbox,
    make_settings,
    record,
    rejects,
    set_mtime,
    snapshot,
    write_jsonl,
    write_rows_csv,
)
from urbanreport.core import warehouse
from urbanreport.core.warehouse import WarehouseBusy
from urbanreport.ingest.batches import ingest_file, ingest_source

FAST_LOCK = "[ingest]\nlock_timeout_seconds = 1\n"

LOAD = """
import sys
import datetime as dt
from pathlib import Path
from urbanreport.core import warehouse
from urbanreport.core.config import load_settings
from urbanreport.ingest.batches import ingest_file, ingest_source
settings = load_settings(home=sys.argv[1])
with warehouse.writer(settings) as con:
    if len(sys.argv) > 3:  # one file, with an HTTP watermark
        ingest_file(con, settings, sys.argv[2], Path(sys.argv[3]),
                    watermark=dt.datetime.fromisoformat(sys.argv[4]))
    else:
        ingest_source(con, settings, sys.argv[2])
"""

HOLD = """
import sys
from urbanreport.core import warehouse
from urbanreport.core.config import load_settings
settings = load_settings(home=sys.argv[1])
with warehouse.writer(settings):
    print("holding", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("URBANREPORT_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    return env | extra


def run_child(*args: str, failpoint: str | None = None) -> subprocess.CompletedProcess:
    env = child_env(**({"URBANREPORT_FAILPOINT": failpoint} if failpoint else {}))
    return subprocess.run(
        [sys.executable, "-c", LOAD, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(autouse=True)
def _no_operator_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("URBANREPORT_CONFIG", "URBANREPORT_FAILPOINT", "URBANREPORT_DCM_URL"):
        monkeypatch.delenv(name, raising=False)


# --- crash safety -----------------------------------------------------------------------------


@pytest.mark.parametrize("failpoint", ["after_merge", "before_commit"])
def test_a_load_killed_mid_batch_leaves_nothing_partial(tmp_path: Path, failpoint: str) -> None:
    settings = make_settings(tmp_path, FAST_LOCK)
    folder = inbox(settings, "enforcement")
    set_mtime(
        write_rows_csv(folder / "2023-07.csv", [enforcement_row(case_id="A1", fine_yuan="100")]),
        1_690_000_000,
    )
    with warehouse.writer(settings) as con:
        ingest_source(con, settings, "enforcement")
        before = snapshot(con)
    # The second file corrects A1, adds A2 and has one bad row; the load is killed mid-batch.
    set_mtime(
        write_rows_csv(
            folder / "2023-08.csv",
            [
                enforcement_row(case_id="A1", fine_yuan="50"),
                enforcement_row(case_id="A2"),
                enforcement_row(case_id="A3", filed_date="不详"),
            ],
        ),
        1_692_000_000,
    )

    crashed = run_child(str(tmp_path), "enforcement", failpoint=failpoint)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr

    with warehouse.writer(settings) as con:  # the lock died with the process
        assert snapshot(con) == before  # no rows, no batch record, no rejects of 2023-08.csv
        assert rejects(con, "2023-08.csv") == []
        assert record(con, "enforcement", "case_id", "A1")["fine_yuan"] == Decimal("100.00")
        # the rerun, without the failpoint
        skipped, august = ingest_source(con, settings, "enforcement")
        assert skipped.status == "skipped"
        check_batch(con, august, "enforcement")
        assert (august.rows_read, august.rows_loaded, august.rows_rejected) == (3, 2, 1)
        assert record(con, "enforcement", "case_id", "A1")["fine_yuan"] == Decimal("50.00")
        assert count(con, "enforcement") == 2
        assert [(r["row_number"], r["column_name"]) for r in rejects(con, "2023-08.csv")] == [
            (4, "filed_date"),
        ]


def test_a_killed_http_batch_does_not_move_the_watermark(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, FAST_LOCK)
    pull = write_jsonl(
        tmp_path / "pulls" / "dcm_cases" / "pull-1.jsonl",
        [dcm_row(case_id="H1", updated_at="2023-07-05T10:00:00+08:00")],
    )
    mark = dt.datetime(2023, 7, 5, 10, 0)
    crashed = run_child(
        str(tmp_path), "dcm_cases", str(pull), mark.isoformat(), failpoint="before_commit"
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    with warehouse.writer(settings) as con:
        assert count(con, "http_watermarks") == count(con, "dcm_cases") == 0
        assert count(con, "batches") == 0
        result = ingest_file(con, settings, "dcm_cases", pull, watermark=mark)
        assert (result.status, result.rows_loaded) == ("loaded", 1)
        assert con.execute("SELECT source, updated_at FROM http_watermarks").fetchall() == [
            ("dcm_cases", mark)
        ]


# --- the single-writer lock -------------------------------------------------------------------


def hold_the_lock(home: Path) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(home)],
        cwd=REPO_ROOT,
        env=child_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "holding"
    return holder


def release(holder: subprocess.Popen) -> None:
    holder.stdin.close()
    assert holder.wait(timeout=30) == 0


def test_a_second_writer_gives_up_clearly_then_succeeds(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, FAST_LOCK)
    assert settings["ingest"]["lock_timeout_seconds"] == 1
    holder = hold_the_lock(tmp_path)
    try:
        started = time.monotonic()
        with pytest.raises(WarehouseBusy) as busy, warehouse.writer(settings):
            pytest.fail("the writer must not be handed out while another process holds it")
        waited = time.monotonic() - started
        assert 0.9 <= waited < 10
        message = str(busy.value)
        assert f"pid {holder.pid}" in message
        assert "仓库正被占用" in message and "another run" in message
        assert str(settings.warehouse_path) in message
    finally:
        release(holder)
    with warehouse.writer(settings) as con:
        assert con.execute("SELECT 42").fetchone() == (42,)


def test_a_second_writer_waits_for_the_first_to_finish(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "[ingest]\nlock_timeout_seconds = 30\n")
    write_rows_csv(inbox(settings, "enforcement") / "e.csv", [enforcement_row()])
    holder = hold_the_lock(tmp_path)
    timer = threading.Timer(0.5, holder.stdin.close)
    timer.start()
    try:
        started = time.monotonic()
        with warehouse.writer(settings) as con:
            assert time.monotonic() - started >= 0.4
            (result,) = ingest_source(con, settings, "enforcement")
            assert result.rows_loaded == 1
    finally:
        timer.cancel()
        holder.wait(timeout=30)


# --- the HTTP watermark -----------------------------------------------------------------------


def pull_file(tmp_path: Path, name: str, *case_ids: str) -> Path:
    return write_jsonl(
        tmp_path / "pulls" / "dcm_cases" / name,
        [dcm_row(case_id=c, updated_at="2023-07-05T10:00:00") for c in case_ids],
    )


def watermarks(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("SELECT source, updated_at FROM http_watermarks").fetchall()


def test_watermark_is_stored_with_the_batch_and_never_moves_back(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    t1, t0 = dt.datetime(2023, 7, 5, 10, 0), dt.datetime(2023, 7, 1, 8, 0)
    with warehouse.writer(settings) as con:
        first = ingest_file(
            con, settings, "dcm_cases", pull_file(tmp_path, "p1.jsonl", "H1"), watermark=t1
        )
        check_batch(con, first, "dcm_cases")
        assert watermarks(con) == [("dcm_cases", t1)]
        ingest_file(con, settings, "dcm_cases", pull_file(tmp_path, "p2.jsonl", "H2"), watermark=t0)
        assert watermarks(con) == [("dcm_cases", t1)]
        assert count(con, "dcm_cases") == 2
        ingest_file(con, settings, "dcm_cases", pull_file(tmp_path, "p3.jsonl", "H3"))
        assert watermarks(con) == [("dcm_cases", t1)]


def test_watermark_is_not_stored_when_the_batch_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path)
    path = pull_file(tmp_path, "p1.jsonl", "H1", "H2")
    mark = dt.datetime(2023, 7, 5, 10, 0)

    def fail(name: str) -> None:
        if name == "before_commit":
            raise OSError("disk full")

    with warehouse.writer(settings) as con:
        monkeypatch.setattr(urbanreport.ingest.batches, "_failpoint", fail)
        with pytest.raises(OSError, match="disk full"):
            ingest_file(con, settings, "dcm_cases", path, watermark=mark)
        assert watermarks(con) == []
        assert count(con, "batches") == count(con, "rejects") == count(con, "dcm_cases") == 0
        monkeypatch.undo()
        result = ingest_file(con, settings, "dcm_cases", path, watermark=mark)
        assert (result.status, result.rows_loaded) == ("loaded", 2)
        assert watermarks(con) == [("dcm_cases", mark)]


def test_watermark_is_not_stored_for_a_refused_pull(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    path = write_jsonl(tmp_path / "pulls" / "dcm_cases" / "p.jsonl", [{"case_id": "H1"}])
    with warehouse.writer(settings) as con:
        result = ingest_file(
            con, settings, "dcm_cases", path, watermark=dt.datetime(2023, 7, 5, 10, 0)
        )
        assert result.status == "refused"
        assert watermarks(con) == []
