"""`urbanreport migrate`: a single-district warehouse of the former schema keeps every row.

The former warehouse is built as an installation of it holds one: the former DDL (kept as
tests/fixtures/schema_single_district.sql, the schema before the district column), filled with
the batches, rejects and records of an ingested sample. Until migrated, it is refused in plain
words; the migration keeps every row of every table, stamps the configured district, gives the
very figures the records gave before, and a second run changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests import indicator_oracle as oracle
from tests.factories import REPO_ROOT, make_settings
from tests.postgres_cluster import Cluster
from urbanreport import cli
from urbanreport.core import warehouse
from urbanreport.core.config import CATALOG_PASSWORD_ENV, Settings
from urbanreport.core.migrate import migrate
from urbanreport.indicators import Period, breakdowns, compute
from urbanreport.ingest.batches import ingest_all
from urbanreport.sample import write_sample

pytestmark = pytest.mark.slow

OLD_SCHEMA = REPO_ROOT / "tests" / "fixtures" / "schema_single_district.sql"
TABLES = list(warehouse.DISTRICT_TABLES) + ["counters", "calendar_days"]
CONFIG = '[district]\ncode = "440511"\n'  # the code the operator stamps the old rows with


def rows(con: duckdb.DuckDBPyConnection, table: str, without: tuple[str, ...] = ()) -> list:
    columns = [c for c in con.table(table).columns if c not in without]
    quoted = ", ".join(f'"{c}"' for c in columns)
    return sorted(con.execute(f"SELECT {quoted} FROM {table}").fetchall(), key=repr)


def figures(settings: Settings) -> dict[str, Any]:
    with warehouse.reader(settings) as con:
        out = {}
        for label in ("2023", "2023-07"):
            result = compute(con, Period.parse(label), settings)
            result["breakdowns"] = breakdowns(con, Period.parse(label), settings)
            out[label] = result
        return out


@dataclass
class Old:
    source: Settings  # the sample ingested by the current code (district 440511)
    old: Settings  # the same rows in the former schema
    before: dict[str, Any]
    rows: dict[str, list]


def build_old(source: Settings, home: Path) -> Settings:
    """The source warehouse's rows written into a file of the former schema."""
    settings = make_settings(home, CONFIG)
    with warehouse.reader(source) as src:
        content = {t: src.sql(f"SELECT * FROM {t}").to_arrow_table() for t in TABLES}
        old = duckdb.connect(str(settings.warehouse_path))
        old.execute(OLD_SCHEMA.read_text(encoding="utf-8"))
        old.execute("DELETE FROM counters")
        for table, arrow in content.items():
            old.register("frame", arrow)
            names = [c for c in old.table(table).columns]
            listed = ", ".join(f'"{c}"' for c in names)
            old.execute(f"INSERT INTO {table} ({listed}) SELECT {listed} FROM frame")
            old.unregister("frame")
        old.close()
    return settings


@pytest.fixture(scope="module")
def former(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Old]:
    root = tmp_path_factory.mktemp("migrate")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("URBANREPORT_CONFIG", raising=False)
        mp.delenv("URBANREPORT_CITY", raising=False)
        source = make_settings(root / "source", CONFIG)
        # 龙湖区's sample into a home configured as 金平区 would be refused street by street:
        # the sample follows the configuration, so it is 金平区's own.
        write_sample(source, [2023])
        ingest_all(source)
        with warehouse.reader(source) as con:
            kept = {t: rows(con, t) for t in TABLES}
        old = build_old(source, root / "old")
        yield Old(source, old, figures(source), kept)


def test_the_former_warehouse_has_no_district_and_the_data_of_a_real_one(former: Old) -> None:
    con = duckdb.connect(str(former.old.warehouse_path), read_only=True)
    try:
        for table in warehouse.DISTRICT_TABLES:
            assert "district" not in con.table(table).columns, table
        for table in ("batches", "rejects", "enforcement", "dcm_cases", "calendar_days"):
            assert con.table(table).count("*").fetchone()[0] > 0, table
    finally:
        con.close()


def test_the_former_schema_is_refused_in_plain_words(
    former: Old, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    for opened in (warehouse.reader, warehouse.writer):
        with pytest.raises(warehouse.SchemaOutdated) as refused, opened(former.old):
            pytest.fail("the former schema must not be read or written")
        assert "urbanreport migrate" in str(refused.value)
        assert "440511" in str(refused.value)
    monkeypatch.setenv("URBANREPORT_HOME", str(former.old.home))
    assert cli.main(["indicators", "--period", "2023"]) == 2
    err = capsys.readouterr().err
    assert "urbanreport migrate" in err and "Traceback" not in err and "Binder" not in err


def test_the_migration_keeps_every_row_and_every_figure(
    former: Old, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("URBANREPORT_HOME", str(former.old.home))
    assert cli.main(["migrate"]) == 0
    assert "440511" in capsys.readouterr().out
    with warehouse.reader(former.old) as con:
        for table in TABLES:
            assert rows(con, table) == former.rows[table], table
        stamped = con.execute("SELECT DISTINCT district FROM enforcement").fetchall()
        assert stamped == [("440511",)]
    assert figures(former.old) == former.before
    # Idempotent: a second run finds nothing to do and changes nothing.
    assert migrate(former.old).tables == {}
    assert cli.main(["migrate"]) == 0
    assert "无需迁移" in capsys.readouterr().out
    with warehouse.writer(former.old) as con:  # and the warehouse takes new batches again
        nxt = warehouse.next_batch_id(con, former.old)
        assert nxt == max(r[0] for r in former.rows["batches"]) + 1
    assert json.dumps(figures(former.old)["2023"]["indicators"], default=str) == json.dumps(
        former.before["2023"]["indicators"], default=str
    )


@pytest.mark.integration
def test_a_lake_of_the_former_schema_migrates_the_same_way(
    tmp_path: Path, postgres: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CATALOG_PASSWORD_ENV, postgres.password)
    data = tmp_path / "data"
    settings = postgres.lake_settings(tmp_path, postgres.new_database(), data, CONFIG)
    cases = [oracle.case(f"ZF{i}", oracle.D(2023, 7, i), oracle.D(2023, 8, i)) for i in (1, 2, 3)]
    with warehouse.exclusive(settings), warehouse.connection(settings) as con:
        con.execute(OLD_SCHEMA.read_text(encoding="utf-8"))
        oracle.load(con, {"enforcement": cases})
        con.execute(
            "INSERT INTO batches VALUES (1, 'enforcement', 'a.csv', 'h', NULL, 3, 3, 0, 'loaded',"
            " NULL, TIMESTAMP '2023-09-01 08:00:00')"
        )
    refused = pytest.raises(warehouse.SchemaOutdated, match="urbanreport migrate")
    with refused, warehouse.reader(settings):
        pytest.fail("the former schema must not be read")
    done = migrate(settings)
    assert {t: n for t, n in done.tables.items() if n} == {"enforcement": 3, "batches": 1}
    assert migrate(settings).tables == {}
    with warehouse.reader(settings) as con:
        rows = con.execute("SELECT case_id, district FROM enforcement ORDER BY 1").fetchall()
        assert rows == [(f"ZF{i}", "440511") for i in (1, 2, 3)]
        result = compute(con, Period.parse("2023"), settings)["indicators"]
        assert result["enforcement.filed_cases"] == 3
