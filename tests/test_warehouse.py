"""The `[warehouse]` configuration and the schema's batch counter (no PostgreSQL needed).

A catalog string is checked before anything connects: no password in it, no URL form (where a
password hides), only libpq keywords. An embedded warehouse made before the counters existed
keeps numbering after its highest batch.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.factories import enforcement_row, inbox, make_settings, write_rows_csv
from urbanreport.core import warehouse
from urbanreport.core.config import ConfigError, WarehouseConfig, parse_catalog
from urbanreport.core.migrate import migrate
from urbanreport.ingest.batches import ingest_source

LAKE = '[warehouse]\nbackend = "ducklake"\ncatalog = "{catalog}"\ndata_path = "{data}"\n'


def lake_config(catalog: str, data: str = "lake") -> str:
    return LAKE.format(catalog=catalog, data=data)


def test_the_embedded_file_is_the_default(tmp_path: Path) -> None:
    cfg = make_settings(tmp_path).warehouse
    assert (cfg.backend, cfg.is_lake, cfg.data_path) == ("duckdb", False, None)
    assert warehouse.describe(make_settings(tmp_path)) == str(tmp_path / "warehouse.duckdb")


def test_a_lake_configuration_is_read_and_shown_without_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("URBANREPORT_CATALOG_PASSWORD", "s3cret")
    catalog = "host=10.20.0.5 port=5432 dbname=lake user=urbanreport sslmode=require"
    settings = make_settings(tmp_path, lake_config(catalog, "/srv/share/lake"))
    cfg = settings.warehouse
    assert cfg.is_lake and cfg.data_path == Path("/srv/share/lake")
    assert cfg.catalog == {
        "host": "10.20.0.5",
        "port": "5432",
        "dbname": "lake",
        "user": "urbanreport",
        "sslmode": "require",
    }
    assert cfg.catalog_password == "s3cret"
    assert "s3cret" not in warehouse.describe(settings)
    assert cfg.catalog_dsn in warehouse.describe(settings)
    relative = make_settings(tmp_path / "b", lake_config("host=h dbname=d")).warehouse
    assert relative.data_path == tmp_path / "b" / "lake"


def test_quoted_values_survive_the_round_trip() -> None:
    text = r"host=h dbname='city lake' user='o\'brien' application_name=x\\y"
    parsed = parse_catalog(text)
    assert parsed == {"host": "h", "dbname": "city lake", "user": "o'brien",
                      "application_name": "x\\y"}  # fmt: skip
    cfg = WarehouseConfig("ducklake", parsed, Path("lake"), 1, 0.0)
    assert parse_catalog(cfg.catalog_dsn) == parsed


@pytest.mark.parametrize(
    ("catalog", "words"),
    [
        ("host=h dbname=d password=hunter2", "不能包含密码"),
        ("host=h dbname=d PASSWORD='hunter2'", "不能包含密码"),
        ("host=h dbname=d passfile=/root/.pgpass", "不能包含密码"),
        ("postgresql://u:hunter2@h/d", "不能用网址"),
        ("host=h dbname=d sslpassword=x", "不支持的参数"),
        ("dbname=d", "缺少 host"),
        ("host=h dbname=d =x", "无法解析"),
    ],
)
def test_a_bad_catalog_string_is_refused_without_repeating_it(
    tmp_path: Path, catalog: str, words: str
) -> None:
    settings = make_settings(tmp_path, lake_config(catalog))
    with pytest.raises(ConfigError) as refused:
        settings.warehouse  # noqa: B018 (validated on first use)
    message = str(refused.value)
    assert words in message and "[warehouse] catalog" in message
    assert "hunter2" not in message


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ('[warehouse]\nbackend = "sqlite"\n', "backend 只能是"),
        ('[warehouse]\nbackend = "ducklake"\n', "需要 catalog"),
        (lake_config("host=h dbname=d", "s3://bucket/lake"), "对象存储尚不支持"),
        ("[warehouse]\ncommit_attempts = 0\n", "commit_attempts 至少为 1"),
    ],
)
def test_other_bad_warehouse_settings_say_what_to_change(
    tmp_path: Path, config: str, words: str
) -> None:
    with pytest.raises(ConfigError, match=words):
        make_settings(tmp_path, config).warehouse  # noqa: B018


def test_a_warehouse_from_before_the_counters_keeps_numbering_after_its_last_batch(
    tmp_path: Path,
) -> None:
    """The former schema: a sequence, a primary key, a CHECK and no district. Refused until
    migrated; then its batches keep their ids (and the constraints are gone)."""
    settings = make_settings(tmp_path)
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute("CREATE SEQUENCE batch_seq START 1")
    con.execute(
        "CREATE TABLE batches (batch_id BIGINT PRIMARY KEY, source VARCHAR NOT NULL, "
        "file_name VARCHAR NOT NULL, content_hash VARCHAR NOT NULL, file_mtime TIMESTAMP, "
        "rows_read BIGINT NOT NULL, rows_loaded BIGINT NOT NULL, rows_rejected BIGINT NOT NULL, "
        "status VARCHAR NOT NULL, message VARCHAR, loaded_at TIMESTAMP NOT NULL, "
        "CHECK (rows_read = rows_loaded + rows_rejected))"
    )
    con.execute(
        "INSERT INTO batches VALUES (7, 'permits', 'old.csv', 'abc', NULL, 0, 0, 0, 'loaded', "
        "NULL, TIMESTAMP '2023-01-01 08:00:00')"
    )
    con.close()
    write_rows_csv(inbox(settings, "enforcement") / "e.csv", [enforcement_row()])
    with (
        pytest.raises(warehouse.SchemaOutdated, match="urbanreport migrate"),
        warehouse.writer(settings),
    ):
        pytest.fail("a warehouse without districts must be migrated first")
    assert migrate(settings).tables == {"batches": 1}
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "enforcement")
        assert result.batch_id == 8
        assert warehouse.next_batch_id(con, settings) == 9  # the gap a failed batch would leave
        ids = [r[0] for r in con.execute("SELECT batch_id FROM batches ORDER BY 1").fetchall()]
        assert ids == [7, 8]


# --- compaction at close ------------------------------------------------------------------------


def _stored_and_live(settings) -> tuple[int, int]:
    """Rows the enforcement table's row groups hold (replaced ones included) and rows it has."""
    with warehouse.reader(settings) as con:
        return con.execute(
            "SELECT (SELECT sum(count) FROM pragma_storage_info('enforcement') "
            "        WHERE column_id = 0 AND column_path = '[0]'), "
            "(SELECT count(*) FROM enforcement)"
        ).fetchone()


@pytest.mark.parametrize(("replaced", "compacted"), [(5, False), (20, True)])
def test_a_writer_compacts_only_once_replaced_rows_reach_a_tenth(
    tmp_path: Path, replaced: int, compacted: bool
) -> None:
    """Appending never rewrites the stored row groups at close; replaced rows are reclaimed
    once they reach a tenth of the table."""
    settings = make_settings(tmp_path)
    folder = inbox(settings, "enforcement")
    write_rows_csv(folder / "a.csv", [enforcement_row(case_id=f"E{i:03}") for i in range(100)])
    write_rows_csv(folder / "b.csv", [enforcement_row(case_id=f"N{i:03}") for i in range(30)])
    with warehouse.writer(settings) as con:
        ingest_source(con, settings, "enforcement")
    assert _stored_and_live(settings) == (130, 130)
    rows = [enforcement_row(case_id=f"E{i:03}", fine_yuan="900") for i in range(replaced)]
    write_rows_csv(folder / "c.csv", rows)
    with warehouse.writer(settings) as con:
        ingest_source(con, settings, "enforcement")
    stored, live = _stored_and_live(settings)
    assert live == 130
    assert stored == (130 if compacted else 130 + replaced)
