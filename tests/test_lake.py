"""DuckLake on a real PostgreSQL catalog: the same records, figures and guarantees as the file.

The scale-1 sample (2022–2023) is ingested once into an embedded DuckDB file and once into a
lake by two writer processes at the same moment, each with its own home (as on two machines),
each loading three of the six sources. The lake must then hold what the file holds, give the
same indicators and breakdowns, skip everything on a second ingest without writing a snapshot,
survive a writer killed mid-batch, and never show the catalog's password anywhere.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.factories import (
    REPO_ROOT,
    check_batch,
    count,
    enforcement_row,
    inbox,
    lake_tables_written_since,
    make_settings,
    record,
    rejects,
    set_mtime,
    snapshot,
    write_rows_csv,
)
from tests.postgres_cluster import Cluster, child_env
from urbanreport.core import warehouse
from urbanreport.core.config import CATALOG_PASSWORD_ENV, SOURCES, Settings
from urbanreport.core.warehouse import CatalogUnavailable, CommitConflict
from urbanreport.indicators import Period, breakdowns, compute
from urbanreport.ingest.batches import ingest_all, ingest_source
from urbanreport.sample import write_sample

pytestmark = [pytest.mark.integration, pytest.mark.slow]

YEARS = [2022, 2023]
PERIODS = ["2023", "2023-07"]
# Two writers, three sources each: between them every source of the contract.
WRITERS = {
    "west": ["enforcement", "permits", "legal_activities"],
    "east": ["dcm_cases", "demolition", "demolition_targets"],
}
CORE_TABLES = ["permits", "enforcement", "demolition", "demolition_targets", "dcm_cases"]
CORE_TABLES += ["legal_activities", "calendar_days"]

# One writer process: waits for the go file (so several start at the same instant), then opens
# the warehouse, ingests its sources and refreshes the calendar, logging everything at DEBUG.
WRITER = r"""
import json, logging, sys, time
from pathlib import Path
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
from urbanreport.core import warehouse
from urbanreport.core.config import load_settings
from urbanreport.core.workdays import refresh_calendar
from urbanreport.ingest.batches import ingest_source
home, go, sources = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3].split(",")
settings = load_settings(home)
(home / "ready").touch()
while not go.exists():
    time.sleep(0.02)
started = time.time()
with warehouse.writer(settings) as con:
    results = [r for source in sources for r in ingest_source(con, settings, source)]
    refresh_calendar(con, settings)
print(json.dumps({"started": started, "finished": time.time(),
                  "statuses": [r.status for r in results]}))
"""


def start_writer(settings: Settings, go: Path, sources: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(settings.home), str(go), ",".join(sources)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def report(self) -> dict[str, Any]:
        return json.loads(self.stdout.strip().splitlines()[-1])


@dataclass
class City:
    root: Path
    embedded: Settings
    whole: Settings  # a third home on the same lake, with every source in its inbox
    runs: dict[str, Run]


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory, postgres: Cluster) -> Iterator[City]:
    root = tmp_path_factory.mktemp("city")
    embedded = make_settings(root / "embedded")
    write_sample(embedded, years=YEARS, scale=1)
    ingest_all(embedded)
    dbname, data = postgres.new_database(), root / "lake-data"
    go = root / "go"
    env = child_env(postgres.password)
    procs = {}
    for name, sources in WRITERS.items():
        settings = postgres.lake_settings(root / name, dbname, data)
        for source in sources:  # copies keep their modification times
            shutil.copytree(embedded.source_inbox(source), settings.source_inbox(source))
        procs[name] = start_writer(settings, go, sources, env)
    deadline = time.monotonic() + 120
    while not all((root / n / "ready").exists() for n in WRITERS):
        assert time.monotonic() < deadline, "the writers did not start"
        time.sleep(0.05)
    go.touch()
    runs = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=900)
        runs[name] = Run(proc.returncode, out, err)
    whole = postgres.lake_settings(root / "whole", dbname, data)
    shutil.copytree(embedded.inbox, whole.inbox)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CATALOG_PASSWORD_ENV, postgres.password)
        yield City(root, embedded, whole, runs)


def rows_without_batch(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    """A table's rows, sorted, without the batch id (the two warehouses number batches apart)."""
    columns = [c for c in con.table(table).columns if c != "batch_id"]
    return sorted(con.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall(), key=repr)


def batch_accounts(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return sorted(
        con.execute(
            "SELECT source, file_name, content_hash, rows_read, rows_loaded, rows_rejected, "
            "status FROM batches"
        ).fetchall()
    )


def lake_snapshot_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute(
        f"SELECT max(snapshot_id) FROM ducklake_snapshots('{warehouse.LAKE}')"
    ).fetchone()[0]


def figures(settings: Settings, label: str) -> dict[str, Any]:
    """compute + breakdowns, without the ingest clock (each warehouse was loaded at its time)."""
    with warehouse.reader(settings) as con:
        result = compute(con, Period.parse(label), settings)
        result["breakdowns"] = breakdowns(con, Period.parse(label), settings)
    result["data_version"].pop("data_as_of")
    return result


# --- two writers at once --------------------------------------------------------------------


def test_two_writers_on_two_machines_both_commit(city: City) -> None:
    for name, run in city.runs.items():
        assert run.returncode == 0, f"{name}: {run.stderr[-3000:]}"
    west, east = (city.runs[n].report for n in WRITERS)
    # Both held the lake at the same time: neither finished before the other started.
    assert west["started"] < east["finished"] and east["started"] < west["finished"]
    with warehouse.reader(city.embedded) as emb, warehouse.reader(city.whole) as lake:
        assert batch_accounts(lake) == batch_accounts(emb)
        ids = [r[0] for r in lake.execute("SELECT batch_id FROM batches").fetchall()]
        assert len(ids) == len(set(ids)) == count(emb, "batches")
        for name, report in zip(WRITERS, (west, east), strict=True):
            assert set(report["statuses"]) <= {"loaded", "refused"}, name


def test_the_lake_holds_the_same_records_as_the_file(city: City) -> None:
    with warehouse.reader(city.embedded) as emb, warehouse.reader(city.whole) as lake:
        for table in [*CORE_TABLES, "rejects"]:
            expected = rows_without_batch(emb, table)
            assert expected, f"the sample put nothing into {table}"
            assert rows_without_batch(lake, table) == expected, table


@pytest.mark.parametrize("label", PERIODS)
def test_the_lake_gives_the_same_indicators_as_the_file(city: City, label: str) -> None:
    expected = figures(city.embedded, label)
    values = [v for v in expected["indicators"].values() if v is not None]
    assert len(values) > len(expected["indicators"]) / 2, "the sample should fill most figures"
    assert figures(city.whole, label) == expected


def test_reingest_is_a_no_op(city: City) -> None:
    with warehouse.reader(city.whole) as con:
        before, tables = lake_snapshot_id(con), snapshot(con)
    results = ingest_all(city.whole)
    statuses = {b.status for batches in results.values() for b in batches}
    assert statuses == {"skipped"}
    assert sum(len(b) for b in results.values()) == sum(
        len(list(city.embedded.source_inbox(s).iterdir())) for s in SOURCES
    )
    with warehouse.reader(city.whole) as con:
        # No record, batch or reject written: the only commits take and give back the
        # district's write lease (urbanreport/core/lease.py).
        assert lake_tables_written_since(con, before) <= {"leases"}
        assert snapshot(con) == tables


# --- the catalog's password -------------------------------------------------------------------


def test_the_password_is_in_no_log_no_file_and_no_connection_detail(
    city: City, postgres: Cluster
) -> None:
    secret = postgres.password
    for name, run in city.runs.items():
        assert "DEBUG" in run.stderr or "INFO" in run.stderr, f"{name} logged nothing"
        assert secret not in run.stdout + run.stderr, name
    needle = secret.encode()
    for folder in (city.root, postgres.folder):
        for path in folder.rglob("*"):
            if path.is_file() and not path.is_symlink():
                assert needle not in path.read_bytes(), path
    with warehouse.reader(city.whole) as con:
        attached = con.execute("SELECT path FROM duckdb_databases()").fetchall()
        secrets_shown = con.execute("SELECT secret_string FROM duckdb_secrets()").fetchall()
    assert secret not in repr(attached)
    assert secret not in repr(secrets_shown) and "redacted" in repr(secrets_shown)


def run_cli(settings: Settings, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "urbanreport.cli", *args],
        cwd=REPO_ROOT,
        env=env | {"URBANREPORT_HOME": str(settings.home)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_cli_reads_the_lake_and_a_wrong_password_is_told_plainly(
    city: City, postgres: Cluster
) -> None:
    good = run_cli(
        city.whole, child_env(postgres.password), "indicators", "--period", "2023", "--json"
    )
    assert good.returncode == 0, good.stderr
    emb = run_cli(city.embedded, child_env(""), "indicators", "--period", "2023", "--json")
    shown, expected = json.loads(good.stdout), json.loads(emb.stdout)
    assert shown["indicators"] == expected["indicators"]

    wrong = postgres.password[::-1]
    bad = run_cli(city.whole, child_env(wrong), "indicators", "--period", "2023", "--json")
    assert bad.returncode == 2
    assert "URBANREPORT_CATALOG_PASSWORD" in bad.stderr and "Traceback" not in bad.stderr
    assert wrong not in bad.stderr + bad.stdout and postgres.password not in bad.stderr
    missing = run_cli(city.whole, child_env(""), "ingest")
    assert missing.returncode == 2
    assert "未设置" in missing.stderr and "URBANREPORT_CATALOG_PASSWORD" in missing.stderr


def test_wrong_or_missing_password_errors_name_the_variable_not_the_value(
    tmp_path: Path, postgres: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = postgres.lake_settings(tmp_path, postgres.new_database(), tmp_path / "data")
    wrong = "not-" + postgres.password
    monkeypatch.setenv(CATALOG_PASSWORD_ENV, wrong)
    with pytest.raises(CatalogUnavailable) as refused, warehouse.writer(settings):
        pytest.fail("a wrong password must not connect")
    text = str(refused.value)
    assert CATALOG_PASSWORD_ENV in text and "拒绝了登录" in text
    assert wrong not in text and postgres.password not in text
    assert refused.value.__cause__ is None and refused.value.__suppress_context__

    monkeypatch.delenv(CATALOG_PASSWORD_ENV)
    with pytest.raises(CatalogUnavailable, match="未设置"), warehouse.writer(settings):
        pytest.fail("no password must not connect")


def test_a_lake_never_created_is_missing_for_readers(
    tmp_path: Path, postgres: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CATALOG_PASSWORD_ENV, postgres.password)
    settings = postgres.lake_settings(tmp_path, postgres.new_database(), tmp_path / "data")
    with pytest.raises(FileNotFoundError, match="仓库不存在"), warehouse.reader(settings):
        pytest.fail("there is no lake to read yet")
    with warehouse.connection(settings):  # a first writer has attached it, not yet made tables
        pass
    with pytest.raises(FileNotFoundError, match="仓库不存在"), warehouse.reader(settings):
        pytest.fail("a lake without its tables is not there to read yet")
    moved = postgres.lake_settings(tmp_path / "b", settings.warehouse.catalog["dbname"], tmp_path)
    with warehouse.writer(settings) as con:
        assert count(con, "batches") == 0
    with pytest.raises(CatalogUnavailable, match="data_path"), warehouse.writer(moved):
        pytest.fail("another data path than the lake's own must be refused")


# --- a writer killed mid-batch --------------------------------------------------------------

LOAD = """
import sys
from urbanreport.core import warehouse
from urbanreport.core.config import load_settings
from urbanreport.ingest.batches import ingest_source
settings = load_settings(home=sys.argv[1])
with warehouse.writer(settings) as con:
    ingest_source(con, settings, sys.argv[2])
"""


@pytest.mark.parametrize("failpoint", ["after_merge", "before_commit"])
def test_a_writer_killed_mid_batch_leaves_nothing_in_the_lake(
    tmp_path: Path, postgres: Cluster, monkeypatch: pytest.MonkeyPatch, failpoint: str
) -> None:
    monkeypatch.setenv(CATALOG_PASSWORD_ENV, postgres.password)
    settings = postgres.lake_settings(tmp_path, postgres.new_database(), tmp_path / "data")
    folder = inbox(settings, "enforcement")
    rows = [enforcement_row(case_id=f"A{i}", fine_yuan="100") for i in range(1, 16)]
    set_mtime(write_rows_csv(folder / "2023-07.csv", rows), 1_690_000_000)
    with warehouse.writer(settings) as con:
        ingest_source(con, settings, "enforcement")
        before = snapshot(con)
    # The second file corrects A1, adds A20 and has one bad row; the load is killed mid-batch.
    changed = [
        enforcement_row(case_id="A1", fine_yuan="50"),
        enforcement_row(case_id="A20"),
        enforcement_row(case_id="A21", filed_date="不详"),
    ]
    set_mtime(write_rows_csv(folder / "2023-08.csv", changed), 1_692_000_000)
    crashed = subprocess.run(
        [sys.executable, "-c", LOAD, str(tmp_path), "enforcement"],
        cwd=REPO_ROOT,
        env=child_env(postgres.password, URBANREPORT_FAILPOINT=failpoint),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr

    with warehouse.writer(settings) as con:
        assert snapshot(con) == before
        assert rejects(con, "2023-08.csv") == []
        assert record(con, "enforcement", "case_id", "A1")["fine_yuan"] == Decimal("100.00")
        skipped, august = ingest_source(con, settings, "enforcement")
        assert skipped.status == "skipped"
        check_batch(con, august, "enforcement")
        assert (august.rows_read, august.rows_loaded, august.rows_rejected) == (3, 2, 1)
        assert record(con, "enforcement", "case_id", "A1")["fine_yuan"] == Decimal("50.00")
        assert count(con, "enforcement") == 16


# --- commit conflicts -----------------------------------------------------------------------


def bump(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("UPDATE counters SET value = value + 1 WHERE name = 'batch_id'")


def test_a_commit_conflict_is_retried_then_given_up_with_a_clear_message(
    tmp_path: Path, postgres: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CATALOG_PASSWORD_ENV, postgres.password)
    extra = "commit_attempts = 3\nretry_wait_seconds = 0\n"
    settings = postgres.lake_settings(tmp_path, postgres.new_database(), tmp_path / "data", extra)
    with warehouse.writer(settings) as con, warehouse.writer(settings) as other:
        attempts = []

        def clashing(times: int):
            def work(c: duckdb.DuckDBPyConnection) -> int:
                attempts.append(1)
                bump(c)
                if len(attempts) <= times:
                    bump(other)  # another writer commits the same change first
                return len(attempts)

            return work

        assert warehouse.transaction(con, settings, clashing(2), "test") == 3
        attempts.clear()
        with pytest.raises(CommitConflict) as exhausted:
            warehouse.transaction(con, settings, clashing(99), "测试写入 (test write)")
        assert len(attempts) == 3
        message = str(exhausted.value)
        assert "测试写入" in message and "3" in message and "nothing was written" in message
        assert "Transaction conflict" not in message  # not the engine's own text
        # First call: `other` bumped twice, then the third attempt's own bump (3); second call:
        # only `other`'s three bumps committed (6).
        value = con.execute("SELECT value FROM counters WHERE name = 'batch_id'").fetchone()[0]
        assert value == 6


def test_batch_ids_taken_at_the_same_time_are_all_different(
    tmp_path: Path, postgres: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CATALOG_PASSWORD_ENV, postgres.password)
    extra = "commit_attempts = 100\nretry_wait_seconds = 0.01\n"
    settings = postgres.lake_settings(tmp_path, postgres.new_database(), tmp_path / "data", extra)
    taken: dict[str, list[int]] = {"a": [], "b": []}
    with warehouse.writer(settings) as first, warehouse.writer(settings) as second:
        cons = {"a": first, "b": second}

        def take(name: str) -> None:
            for _ in range(12):
                taken[name].append(warehouse.next_batch_id(cons[name], settings))

        threads = [threading.Thread(target=take, args=(n,)) for n in cons]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
    every = taken["a"] + taken["b"]
    assert sorted(every) == list(range(1, 25))
    assert taken["a"] == sorted(taken["a"]) and taken["b"] == sorted(taken["b"])


def test_a_reader_sees_one_snapshot_while_a_writer_commits(
    tmp_path: Path, postgres: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CATALOG_PASSWORD_ENV, postgres.password)
    settings = postgres.lake_settings(tmp_path, postgres.new_database(), tmp_path / "data")
    folder = inbox(settings, "enforcement")
    write_rows_csv(folder / "a.csv", [enforcement_row(case_id="A1")])
    with warehouse.writer(settings) as con:
        ingest_source(con, settings, "enforcement")
    with warehouse.reader(settings) as report:
        assert count(report, "enforcement") == 1
        write_rows_csv(folder / "b.csv", [enforcement_row(case_id="B1")])
        with warehouse.writer(settings) as con:
            _, loaded = ingest_source(con, settings, "enforcement")
            assert loaded.status == "loaded"
        assert count(report, "enforcement") == count(report, "batches") == 1
    with warehouse.reader(settings) as later:
        assert count(later, "enforcement") == count(later, "batches") == 2
