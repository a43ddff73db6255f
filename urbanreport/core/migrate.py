"""`urbanreport migrate`: a single-district warehouse upgraded to the district dimension.

Why a command and not a silent upgrade at the next run: the migration stamps every existing
row with a district code, and which one is the operator's decision (`[district] code` of the
home); the warehouse refuses to be read or written until it is done (warehouse.SchemaOutdated).

How: in one transaction, the current schema's shared tables are put in place (the batch
counter then starts after the old batches), each table without `district` is copied aside and
dropped, the current schema creates it again, and the copy is inserted by column name with the
district stamped. Counting the rows of every table before and after in the same transaction
proves nothing was lost, or nothing is committed. It works the same on the embedded file and
on a lake; a warehouse already up to date is left untouched, so running it twice is harmless.
(Tables of the old embedded files lose their primary keys, which held a case number unique
across the whole warehouse; the MERGE statements keep (district, key) unique instead.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from urbanreport.core import warehouse
from urbanreport.core.config import Settings

_ASIDE = "{table}__before_districts"


@dataclass(frozen=True)
class Migration:
    """What `migrate` did: the rows of each table it upgraded (empty: nothing to do)."""

    where: str
    district: str
    tables: dict[str, int] = field(default_factory=dict)


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]


def _upgrade(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, int]:
    """Inside one transaction: every outdated table rebuilt with `district`, rows counted."""
    old = warehouse.outdated_tables(con)
    before = {table: _count(con, table) for table in old}
    # First over the old tables: the batch counter starts after their last batch id.
    con.execute(warehouse.sql_text("schema.sql"))
    for table in old:
        aside = _ASIDE.format(table=table)
        con.execute(f'CREATE TABLE "{aside}" AS SELECT * FROM "{table}"')
        con.execute(f'DROP TABLE "{table}"')
    con.execute(warehouse.sql_text("schema.sql"))
    for table in old:
        aside = _ASIDE.format(table=table)
        con.execute(
            f'INSERT INTO "{table}" BY NAME SELECT *, ? AS district FROM "{aside}"',
            [settings.district_code],
        )
        con.execute(f'DROP TABLE "{aside}"')
    after = {table: _count(con, table) for table in old}
    if after != before:  # cannot happen with INSERT … SELECT; checked so it is never assumed
        raise RuntimeError(f"迁移前后行数不一致，已全部撤销 (row counts differ: {before}, {after})")
    return before


def migrate(settings: Settings) -> Migration:
    """Upgrade the warehouse of `settings` in place, stamping `settings.district_code`."""
    where = warehouse.describe(settings)
    with warehouse.exclusive(settings), warehouse.connection(settings) as con:
        if not warehouse.outdated_tables(con):
            return Migration(where, settings.district_code)
        tables = warehouse.transaction(
            con, settings, lambda c: _upgrade(c, settings), "迁移仓库 (migrating the warehouse)"
        )
    return Migration(where, settings.district_code, tables)
