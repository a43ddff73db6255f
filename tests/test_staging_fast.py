"""The staging SQL's cheap test (ur_fast in sql/macros.sql) never changes what a row gets.

Each file in sql/staging/ lets a row that passes a cheap test built from its typed values skip
the detailed checks. That is only right if such a row has no problem at all: here every source
stages a few thousand rows, each a valid row with one cell replaced by an awkward value, once
with the cheap test and once with every row checked in full, and both stagings must agree on
every column of every row (typed values and problems alike).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.factories import ROW_BUILDERS, field_names, make_settings
from urbanreport.core import warehouse
from urbanreport.core.config import Settings
from urbanreport.ingest import staging
from urbanreport.ingest.readers.sink import RawSink, prepare

# Values that sit on the edges of the value rules (docs/sources.md), for every column.
AWKWARD: list[str | None] = [
    None, "", " ", "\u3000", "x", "十", "epoch", "infinity",
    "-1", "0", "1", "60", "61", "1000", "1001", "1000001", "1.5", "1.0", "1.234", "0012",
    " 7 ", "1234567890", "1,234.5平方米", "¥3,009,408", "-5元", "0.00", "99999999999999999",
    "2023", "45112", "45112.5", "2023-07-05", " 2023-07-05", "2023/7/5", "2023.07.05",
    "2023年7月5日", "2023年7月5日 10时30分", "2023-13-45", "2023-07-05T10:00:00+08:00",
    "2023-07-05T02:00:00Z", "2023-07-04 23:59:59", "2023-07-06 00:00:00", "2023-07-05 9:12",
    "2024-02-30", "2023-12-31", "2023-07-01", "是", "否", "Y", "no", "TRUE", "1.0", "0.0",
    "部件", "事件", "公用设施", "鷗汀", "全区", "金霞街道", "不存在的街道",
]  # fmt: skip


def _rows(source: str, fields: list[str]) -> list[list[str | None]]:
    """A valid row, then that row with each cell in turn replaced by each awkward value (and
    by every value the valid row holds elsewhere, so dictionary values meet other columns)."""
    base = ROW_BUILDERS[source]()
    pool = AWKWARD + [v for v in base.values() if v]
    rows = [[base.get(f) or None for f in fields]]
    for field in fields:
        for value in pool:
            rows.append([value if f == field else (base.get(f) or None) for f in fields])
    return rows


def _stage(con: duckdb.DuckDBPyConnection, settings: Settings, source: str) -> list[tuple[Any]]:
    warehouse.execute_file(con, f"staging/{source}.sql")
    return con.execute("SELECT * FROM staged ORDER BY _row").fetchall()


@pytest.mark.parametrize("source", sorted(ROW_BUILDERS))
def test_cheap_test_gives_every_row_the_problems_of_the_full_checks(
    tmp_path: Path, source: str
) -> None:
    settings = make_settings(tmp_path)
    fields = field_names(settings, source)
    with warehouse.writer(settings) as con:
        prepare(con, fields)
        sink = RawSink(con, fields)
        for number, row in enumerate(_rows(source, fields), start=2):
            sink.add(number, row)
        sink.flush()
        staging._build_dim_values(con, settings, settings.sources[source])
        fast = _stage(con, settings, source)
        con.execute("CREATE OR REPLACE TEMP MACRO ur_fast() AS FALSE")
        try:
            full = _stage(con, settings, source)
        finally:
            con.execute("CREATE OR REPLACE TEMP MACRO ur_fast() AS TRUE")
    problems = [row[-1] for row in full]
    assert not problems[0], "the valid row itself must load"
    assert sum(1 for p in problems if p) > len(fields), "the awkward values must be refused"
    assert sum(1 for p in problems if not p) > len(fields), "many replaced rows still load"
    assert fast == full


@pytest.mark.parametrize("rule", ["ur_int", "ur_amount", "ur_bool"])
def test_a_rules_shortcut_reads_every_value_as_its_careful_path(tmp_path: Path, rule: str) -> None:
    """ur_int / ur_amount / ur_bool cast plain values at once; the rest take the careful path."""
    with warehouse.writer(make_settings(tmp_path)) as con:
        values = [(v,) for v in AWKWARD]
        con.execute("CREATE TEMP TABLE awkward (v VARCHAR)")
        con.executemany("INSERT INTO awkward VALUES (?)", values)
        differ = con.execute(
            f"SELECT v FROM awkward WHERE {rule}(v) IS DISTINCT FROM {rule}_slow(v)"
        ).fetchall()
        read = con.execute(f"SELECT count({rule}(v)) FROM awkward").fetchone()[0]
    assert differ == []
    assert read > 3
