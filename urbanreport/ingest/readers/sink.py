"""The temp tables every reader leaves behind for the staging SQL.

* `raw_batch`: `_row` plus one text column per contract field, in contract order (absent
  optional fields are NULL, extra columns are left out);
* `read_problems`: what a reader itself found wrong in a row (a malformed JSON line, a formula
  without a cached value, an Excel error value), merged into the row's problems after staging;
* `raw_sheets`: the workbook sheets a batch read, for showing a reject as `sheet!row`.

`_row` is the row number a user sees (the spreadsheet row, or the line of a JSON Lines file).
In a workbook it also carries the sheet: `sheet_no << 40 | row` (sheet 0 = no sheet), so rows
stay unique and in file order across sheets; sql/macros.sql takes it apart again.

Why chunks: a reader appends a few tens of thousands of rows at a time, so no reader ever
holds a whole file as Python objects (a 2-million-line pull stays in bounded memory).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import duckdb

from urbanreport.core.warehouse import quote

if TYPE_CHECKING:  # imported by the Python readers only: DuckDB's own CSV reader needs none
    import pyarrow as pa

ROW_BITS = 40  # rows of one sheet fit below this bit; the sheet number sits above it
CHUNK_ROWS = 50_000


def sheet_row(sheet_no: int, row: int) -> int:
    return sheet_no << ROW_BITS | row


def prepare(con: duckdb.DuckDBPyConnection, fields: Sequence[str]) -> None:
    """Fresh, empty temp tables for the next batch (identifiers from the contract only)."""
    drop_raw_batch(con)
    columns = ", ".join(f"{quote(f)} VARCHAR" for f in fields)
    con.execute(f"CREATE TEMP TABLE raw_batch (_row BIGINT, {columns})")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE read_problems "
        "(_row BIGINT, column_name VARCHAR, raw_value VARCHAR, reason VARCHAR)"
    )
    con.execute("CREATE OR REPLACE TEMP TABLE raw_sheets (sheet_no BIGINT, name VARCHAR)")


def drop_raw_batch(con: duckdb.DuckDBPyConnection) -> None:
    """raw_batch is a table a reader fills, or a view over DuckDB's own read of a CSV."""
    kind = con.execute(
        "SELECT 'VIEW' FROM duckdb_views() WHERE view_name = 'raw_batch' AND temporary "
        "UNION ALL SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = 'raw_batch' "
        "AND temporary"
    ).fetchall()
    for (what,) in kind:
        con.execute(f"DROP {what} raw_batch")


def add_sheet(con: duckdb.DuckDBPyConnection, sheet_no: int, name: str) -> None:
    con.execute("INSERT INTO raw_sheets VALUES (?, ?)", [sheet_no, name])


class RawSink:
    """Appends rows (a value per contract field) to raw_batch in chunks."""

    def __init__(self, con: duckdb.DuckDBPyConnection, fields: Sequence[str]) -> None:
        self.con = con
        self.fields = list(fields)
        self.rows = 0
        self._rows: list[Sequence[str | None]] = []
        self._numbers: list[int] = []
        self._problems: list[tuple[int, str | None, str | None, str]] = []

    def add(self, row: int, values: Sequence[str | None]) -> None:
        """One row: its number and a value per contract field (in contract order)."""
        self._numbers.append(row)
        self._rows.append(values)
        if len(self._rows) >= CHUNK_ROWS:
            self.flush()

    def problem(self, row: int, column: str | None, raw: str | None, reason: str) -> None:
        self._problems.append((row, column, raw, reason))

    def flush(self) -> None:
        import pyarrow as pa

        if self._rows:
            self.rows += len(self._rows)
            arrays = {"_row": pa.array(self._numbers, pa.int64())}
            for name, column in zip(self.fields, zip(*self._rows, strict=True), strict=True):
                arrays[name] = pa.array(column, pa.string())
            self._append("raw_batch", pa.table(arrays))
            self._rows, self._numbers = [], []
        if self._problems:
            rows, columns, raws, reasons = zip(*self._problems, strict=True)
            frame = pa.table(
                {
                    "_row": pa.array(rows, pa.int64()),
                    "column_name": pa.array(columns, pa.string()),
                    "raw_value": pa.array(raws, pa.string()),
                    "reason": pa.array(reasons, pa.string()),
                }
            )
            self._append("read_problems", frame)
            self._problems = []

    def _append(self, table: str, frame: pa.Table) -> None:
        self.con.register("sink_frame", frame)
        try:
            self.con.execute(f"INSERT INTO {table} SELECT * FROM sink_frame")
        finally:
            self.con.unregister("sink_frame")
