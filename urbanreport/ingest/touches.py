"""What one batch touched, recorded in the batch's own transaction (table batch_touches).

Why: a late or corrected file must re-render exactly the reports that read what it changed.
A record counts in a period through its record dates (``record_dates()`` in
sql/indicators/definitions.sql), so a changed record touches the dates of its old version (it
leaves those periods) and of its new one (it enters them). A record sent again unchanged
touches nothing. The dates come from the one definition, ``record_dates_by_key()``, read for
the changed keys before the upsert (sql/merge/: old versions) and after it (new versions).
"""

from __future__ import annotations

import duckdb

from urbanreport.core import warehouse
from urbanreport.core.config import Settings
from urbanreport.core.warehouse import quote


def _record_dates(con: duckdb.DuckDBPyConnection, source: str, batch_id: int) -> None:
    warehouse.execute_file(con, "ingest/touch_dates.sql", {"batch_id": batch_id, "source": source})


def before_merge(
    con: duckdb.DuckDBPyConnection, settings: Settings, source: str, batch_id: int
) -> None:
    """List in temp table ``changed_keys`` the keys whose loadable row is new or differs from
    the stored record, and record the stored (old) versions' dates."""
    keys = settings.sources[source]["key"]
    spelled = ", ".join(
        [f"s.{quote(keys[0])}"] + [f"b := s.{quote(k)}" for k in keys[1:]]
    )  # record_key() in sql/indicators/definitions.sql
    columns = [
        r[0]
        for r in con.execute(f"DESCRIBE {quote(source)}").fetchall()
        if r[0] not in ("batch_id", "district")
    ]
    # Keys are unique in a district's table (sql/merge/ keeps them so), so the stored version of
    # a key is found by the key alone and then compared: one join on the key, not on every column.
    on = " AND ".join(f"t.{quote(k)} = s.{quote(k)}" for k in keys)
    same = " AND ".join(
        [f"t.{quote(c)} IS NOT DISTINCT FROM s.{quote(c)}" for c in columns if c not in keys]
        or ["TRUE"]
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE changed_keys AS SELECT DISTINCT record_key({spelled}) AS k "
        f"FROM staged s LEFT JOIN {quote('district_' + source)} t ON {on} "
        f"WHERE len(s.problems) = 0 AND (t.{quote(keys[0])} IS NULL OR NOT ({same}))"
    )
    _record_dates(con, source, batch_id)


def after_merge(
    con: duckdb.DuckDBPyConnection,
    source: str,
    batch_id: int,
    counts: tuple[int, int, int],
) -> None:
    """Record the new versions' dates of the changed keys, and what the batch changes in the
    cumulative quality figures."""
    _record_dates(con, source, batch_id)
    record_quality(con, source, batch_id, counts, refused=False)


def record_quality(
    con: duckdb.DuckDBPyConnection,
    source: str,
    batch_id: int,
    counts: tuple[int, int, int],
    *,
    refused: bool,
) -> None:
    """A refused file or a batch with rows changes the cumulative counts; rejected rows also
    change the rejected-rows note every report prints."""
    params = {"batch_id": batch_id, "source": source}
    if refused or counts[0]:
        warehouse.execute_file(con, "ingest/touch_quality.sql", {**params, "what": "counts"})
    if counts[2]:
        warehouse.execute_file(con, "ingest/touch_quality.sql", {**params, "what": "rejects"})
