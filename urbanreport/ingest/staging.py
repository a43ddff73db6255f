"""One file's rows, read, typed and validated into temp table `staged`, before any write.

Why apart from the batch transaction: reading and validating touch only temp tables, so they
run before the transaction opens, and the transaction covers exactly the persistent writes.
The steps: the format check picks the reader, the reader fills raw_batch (readers/sink.py),
dictionary values are normalised once per distinct value, sql/staging/<source>.sql types and
checks every row, the reader's own findings replace what they explain, and the last row of a
key wins within the file (`validate`). Only then is the file compared with what is stored: a
file older than a loaded one never overrides it (`against_loaded`).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb

from urbanreport.core import warehouse
from urbanreport.core.config import Settings
from urbanreport.core.normalize import STREET_SUFFIX, match_dictionary
from urbanreport.core.warehouse import quote
from urbanreport.ingest.readers import detect
from urbanreport.ingest.readers.csv import read_table
from urbanreport.ingest.readers.excel import read_workbook
from urbanreport.ingest.readers.header import HeaderIndex
from urbanreport.ingest.readers.jsonl import read_jsonl
from urbanreport.ingest.readers.sink import drop_raw_batch, prepare
from urbanreport.ingest.refusal import FileRefused


def read(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    source: str,
    path: Path,
    name: str,
    sniffed: detect.Sniffed,
) -> list[str]:
    """Fill raw_batch with the file's rows by the reader its content calls for; the notes."""
    text = detect.head_text(path, sniffed.encoding) if sniffed.kind == "text" else None
    plan = detect.plan(name, sniffed, text)
    index = HeaderIndex.of(settings.sources[source])
    prepare(con, index.fields)
    if plan.reader == "table":
        notes = read_table(con, path, plan.encoding or "", index, settings.home / "tmp")
    elif plan.reader == "workbook":
        notes = read_workbook(con, path, index, plan.kind)
    elif plan.reader == "jsonl":
        notes = read_jsonl(con, path, plan.encoding, index)
    else:
        raise FileRefused("压缩包须放在收件箱中 (archives are opened from the inbox)")
    return plan.notes + notes


def validate(con: duckdb.DuckDBPyConnection, settings: Settings, source: str) -> None:
    """Type and validate raw_batch into `staged`: one row per input row, with its problems.

    Temp tables only, so it may run on one connection while another writes the file before.
    """
    spec = settings.sources[source]
    _build_dim_values(con, settings, spec)
    warehouse.execute_file(con, f"staging/{source}.sql")
    if con.execute("SELECT count(*) FROM read_problems").fetchone()[0]:
        warehouse.execute_file(con, "ingest/read_problems.sql")
    warehouse.execute_file(con, "ingest/supersede.sql", {"key_column": _key_column(spec)})
    _drop_raw(con)  # everything later reads `staged`: the raw text need not sit beside it


def against_loaded(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    source: str,
    name: str,
    mtime: dt.datetime,
) -> None:
    """A file older than a loaded one never overrides it (see older_file.sql). Reads what is
    stored, so it runs once every file before this one is written."""
    spec = settings.sources[source]
    older = {"source": source, "file_mtime": mtime, "file_name": name}
    if warehouse.query(con, "ingest/newer_loaded.sql", older)[0]["newer_loaded"]:
        # The stored version of each key this file repeats (identifiers from the contract only).
        on = " AND ".join(f"t.{quote(k)} = s.{quote(k)}" for k in spec["key"])
        con.execute(
            "CREATE OR REPLACE TEMP TABLE stored_versions AS SELECT s._row, t.batch_id "
            f"FROM staged s JOIN {quote('district_' + source)} t ON {on} WHERE len(s.problems) = 0"
        )
        params = {"key_column": _key_column(spec), **older}
        warehouse.execute_file(con, "ingest/older_file.sql", params)


def _key_column(spec: dict[str, Any]) -> str:
    return ", ".join(spec["key"])


# The batch's temp tables besides the readers' raw ones (readers/sink.py).
_BATCH_TABLES = ("staged", "dim_values", "stored_versions", "changed_keys")


def _drop_raw(con: duckdb.DuckDBPyConnection) -> None:
    drop_raw_batch(con)
    con.execute("DROP TABLE IF EXISTS raw_file")


def release(con: duckdb.DuckDBPyConnection) -> None:
    """Drop one batch's temp tables once it is written: the next batch's copies are then never
    held beside these, which keeps the memory of a long ingest to that of one file."""
    _drop_raw(con)
    for table in _BATCH_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {table}")


def _dictionary_value(
    settings: Settings, dictionary: str, raw: str
) -> list[tuple[str | None, str | None]]:
    """(normalised value, parent) pairs a raw value may stand for in a dictionary."""
    dicts = settings["dictionaries"]
    if dictionary == "streets":
        return [(match_dictionary(raw, settings.streets, STREET_SUFFIX), None)]
    if dictionary == "streets_or_district":
        allowed = [*settings.streets, settings["district"]["whole_district"]]
        return [(match_dictionary(raw, allowed, STREET_SUFFIX), None)]
    if dictionary == "dcm_categories":
        return [(match_dictionary(raw, a), parent) for parent, a in dicts[dictionary].items()]
    return [(match_dictionary(raw, dicts[dictionary]), None)]


def _build_dim_values(
    con: duckdb.DuckDBPyConnection, settings: Settings, spec: dict[str, Any]
) -> None:
    """Map each distinct raw value of each dictionary column to its normalised value."""
    rows: list[tuple[str, str, str | None, str | None]] = []
    for field in spec["fields"]:
        if field["type"] != "dim":
            continue
        name = field["name"]
        raws = con.execute(
            f"SELECT DISTINCT {quote(name)} FROM raw_batch WHERE {quote(name)} IS NOT NULL"
        ).fetchall()
        for (raw,) in raws:
            for value, parent in _dictionary_value(settings, field["dictionary"], raw):
                rows.append((name, raw, value, parent))
    columns = list(zip(*rows, strict=True)) if rows else [(), (), (), ()]
    lists = dict(zip(("col", "raw", "value", "parent"), columns, strict=True))
    warehouse.execute_file(con, "ingest/dim_values.sql", {"columns": json.dumps(lists)})
