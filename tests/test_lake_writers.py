"""Writers on a lake: a district's runs take turns through the catalog lease, a killed run leaves
no partial batch and no lasting lease, and a batch whose commit conflicts is run again whole.

Every test has a real PostgreSQL catalog (the `postgres` fixture) and a lake of its own; runs
that must not share a process (a lease is re-entrant within one) are separate processes.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.factories import (
    REPO_ROOT,
    check_batch,
    count,
    enforcement_row,
    every_batch_balances,
    inbox,
    record,
    set_mtime,
    write_rows_csv,
)
from tests.postgres_cluster import Cluster, child_env
from urbanreport.core import lease, warehouse
from urbanreport.core.config import CATALOG_PASSWORD_ENV, SOURCES, Settings
from urbanreport.core.warehouse import WarehouseBusy
from urbanreport.ingest import batches
from urbanreport.ingest.batches import ingest_all, ingest_source
from urbanreport.ingest.discover import discover_files
from urbanreport.sample import write_sample

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DISTRICT = "440507"

# A run that holds the district's lease for a while: says when it has it, then sleeps.
HOLD = r"""
import json, sys, time
from pathlib import Path
from urbanreport.core import lease
from urbanreport.core.config import load_settings
settings = load_settings(sys.argv[1])
with lease.district_lease(settings, sys.argv[2]) as owner:
    Path(sys.argv[3]).write_text(json.dumps({"owner": owner, "at": time.time()}))
    time.sleep(float(sys.argv[4]))
print(json.dumps({"released": time.time()}))
"""

# A whole ingest run, as `urbanreport ingest` does it (lease, lock, every source).
INGEST = r"""
import sys
from urbanreport.core.config import load_settings
from urbanreport.ingest.batches import ingest_all
ingest_all(load_settings(sys.argv[1]))
"""


def lake(postgres: Cluster, tmp_path: Path, extra: str = "") -> Settings:
    home, data = tmp_path / "home", tmp_path / "data"
    return postgres.lake_settings(home, postgres.new_database(), data, extra)


def start(script: str, *args: object, password: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)],
        cwd=REPO_ROOT,
        env=child_env(password),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(path: Path, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.05)


def lease_holder(settings: Settings) -> dict | None:
    with warehouse.reader(settings) as con:
        return lease.holder(con, DISTRICT)


# --- the lease ------------------------------------------------------------------------------


def test_a_second_run_of_the_district_waits_for_the_lease_or_gives_up_plainly(
    tmp_path: Path, postgres: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CATALOG_PASSWORD_ENV, postgres.password)
    settings = lake(postgres, tmp_path)
    taken = tmp_path / "taken"
    first = start(HOLD, settings.home, DISTRICT, taken, 25, password=postgres.password)
    wait_for(taken, first)
    holder = json.loads(taken.read_text())["owner"]
    assert lease_holder(settings)["owner"] == holder

    # Another district is not held up at all.
    with lease.district_lease(settings, "440511") as other:
        assert other and other != holder

    impatient = postgres.lake_settings(
        settings.home, settings.warehouse.catalog["dbname"], settings.warehouse.data_path,
        "[ingest]\nlock_timeout_seconds = 1\n",
    )  # fmt: skip
    with pytest.raises(WarehouseBusy) as busy, lease.district_lease(impatient, DISTRICT):
        pytest.fail("took a lease another run holds")
    assert first.poll() is None, "the holder finished before the second run asked"
    message = str(busy.value)
    assert DISTRICT in message and holder in message and "另一次运行" in message

    # With the default patience the second run waits, and takes the lease once it is given back.
    with lease.district_lease(settings, DISTRICT) as mine:
        took = time.time()
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert took >= json.loads(out.strip().splitlines()[-1])["released"]
    assert mine != holder
    assert lease_holder(settings) is None  # given back at the end of the block


def test_a_lease_is_renewed_while_its_run_works(
    tmp_path: Path, postgres: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CATALOG_PASSWORD_ENV, postgres.password)
    settings = lake(postgres, tmp_path, "lease_seconds = 3\n")
    taken = tmp_path / "taken"
    proc = start(HOLD, settings.home, DISTRICT, taken, 20, password=postgres.password)
    wait_for(taken, proc)
    first = lease_holder(settings)
    time.sleep(5)  # past the first expiry: the holder has renewed it
    later = lease_holder(settings)
    assert later["owner"] == first["owner"] and not later["expired"]
    assert later["expires_at"] > first["expires_at"]
    assert proc.poll() is None, "the holder finished too early to show its renewal"
    proc.communicate(timeout=60)
    assert proc.returncode == 0


def test_a_killed_run_leaves_no_partial_batch_and_the_next_run_takes_its_lease_over(
    tmp_path: Path, postgres: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CATALOG_PASSWORD_ENV, postgres.password)
    settings = lake(postgres, tmp_path, "lease_seconds = 4\n")
    write_sample(settings, years=[2022, 2023], scale=1)  # enough files to be mid-inbox
    files = {s: len(discover_files(settings, s)) for s in SOURCES}
    proc = start(INGEST, settings.home, password=postgres.password)
    deadline = time.monotonic() + 300
    while True:  # kill the run once some batches are in: it is in the middle of the inbox
        assert proc.poll() is None, "finished before it could be killed: " + proc.communicate()[1]
        assert time.monotonic() < deadline
        if visible_batches(settings) >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL

    with warehouse.reader(settings) as con:
        loaded = count(con, "batches")
        assert 2 <= loaded < sum(files.values())
        assert_only_whole_batches(con)
    dead = lease_holder(settings)
    assert dead is not None and f"pid {proc.pid} " in dead["owner"]

    results = ingest_all(settings)  # waits for the dead run's lease to expire, then takes it
    with warehouse.reader(settings) as con:
        assert_only_whole_batches(con)
        assert every_batch_balances(con)
        per_source = dict(
            con.execute("SELECT source, count(*) FROM batches GROUP BY source").fetchall()
        )
    assert per_source == {s: n for s, n in files.items() if n}
    assert sum(not r.skipped for rs in results.values() for r in rs) == sum(files.values()) - loaded
    assert lease_holder(settings) is None


def visible_batches(settings: Settings) -> int:
    try:
        with warehouse.reader(settings) as con:
            return count(con, "batches")
    except FileNotFoundError:  # the run has not created the lake yet
        return 0


def assert_only_whole_batches(con: duckdb.DuckDBPyConnection) -> None:
    """Every record and reject belongs to a recorded batch, and every batch's refused rows are
    all there: nothing of a batch that did not commit is visible."""
    known = {r[0] for r in con.execute("SELECT batch_id FROM batches").fetchall()}
    for table in [*SOURCES, "rejects"]:
        ids = {r[0] for r in con.execute(f"SELECT DISTINCT batch_id FROM {table}").fetchall()}
        assert ids <= known, table
    unbalanced = con.execute(
        "SELECT b.batch_id FROM batches b LEFT JOIN rejects r USING (batch_id) "
        "GROUP BY b.batch_id, b.rows_rejected, b.status "
        "HAVING b.status = 'loaded' AND b.rows_rejected <> "
        "count(DISTINCT (r.sheet, r.row_number)) FILTER (WHERE r.batch_id IS NOT NULL)"
    ).fetchall()
    assert unbalanced == []


# --- a batch that conflicts ------------------------------------------------------------------


def test_a_batch_whose_commit_conflicts_is_run_again_whole(
    tmp_path: Path, postgres: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CATALOG_PASSWORD_ENV, postgres.password)
    settings = lake(postgres, tmp_path, "retry_wait_seconds = 0\n")
    folder = inbox(settings, "enforcement")
    first = [enforcement_row(case_id=f"A{i}", fine_yuan="100") for i in range(1, 6)]
    set_mtime(write_rows_csv(folder / "2023-07.csv", first), 1_690_000_000)
    correction = [
        enforcement_row(case_id="A1", fine_yuan="50"),
        enforcement_row(case_id="A9"),
        enforcement_row(case_id="A10", filed_date="不详"),
    ]
    set_mtime(write_rows_csv(folder / "2023-08.csv", correction), 1_692_000_000)
    write_batch = batches._write_batch
    attempts: list[int] = []

    with warehouse.writer(settings) as con, warehouse.writer(settings) as other:

        def clashing(c: duckdb.DuckDBPyConnection, settings, batch, batch_id: int, notes):
            result = write_batch(c, settings, batch, batch_id, notes)
            attempts.append(batch_id)
            if batch.file_name == "2023-08.csv" and len(attempts) == 2:
                # Another writer corrects A1 and commits first: this batch's commit must fail.
                other.execute("UPDATE enforcement SET fine_yuan = 70 WHERE case_id = 'A1'")
            return result

        monkeypatch.setattr(batches, "_write_batch", clashing)
        july, august = ingest_source(con, settings, "enforcement")
        assert len(attempts) == 3  # July once, August twice: the first August commit conflicted
        assert august.status == "loaded" and august.batch_id == attempts[-1] != attempts[1]
        assert (july.status, july.rows_loaded) == ("loaded", 5)
        check_batch(con, august, "enforcement")
        assert (august.rows_read, august.rows_loaded, august.rows_rejected) == (3, 2, 1)
        # The retry ran after the other writer's commit, and the newer extract won.
        assert record(con, "enforcement", "case_id", "A1")["fine_yuan"] == Decimal("50.00")
        assert count(con, "enforcement") == 6
        files = con.execute("SELECT file_name FROM batches ORDER BY batch_id").fetchall()
        assert files == [("2023-07.csv",), ("2023-08.csv",)]
        assert count(con, "rejects") == 1
