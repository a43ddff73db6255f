"""Which rendered reports a set of batches affects, from what each report reads.

Why here: the registry entry of every report records the date ranges it reads per source
(``reads``, from ``Period.read_ranges``), and ingest records in ``batch_touches`` the record
dates each batch changed (urbanreport/ingest/touches.py). A report is affected when a touched
date of a source falls in a range it reads for that source, or when a batch changes quality
figures the report prints: rejected rows appear in every report's quality notes; rows read and
loaded and refused files only in the annual report's cumulative quality table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb


@dataclass(frozen=True)
class Touch:
    """One row of batch_touches with the file it came from."""

    batch_id: int
    source: str
    file_name: str
    d: dt.date | None
    what: str  # record | counts | rejects


TOUCHES_SQL = """
SELECT t.batch_id, t.source, b.file_name, t.d, t.what
FROM batch_touches t JOIN batches b USING (batch_id)
WHERE t.batch_id > ?
ORDER BY t.batch_id, t.source, t.d NULLS FIRST, t.what
"""


def touches_since(con: duckdb.DuckDBPyConnection, batch_id: int) -> list[Touch]:
    """Every touch of the batches after ``batch_id`` (the last one a refresh saw)."""
    return [Touch(*row) for row in con.execute(TOUCHES_SQL, [batch_id]).fetchall()]


def last_batch_id(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("SELECT coalesce(max(batch_id), 0) FROM batches").fetchone()[0])


def _reads(entry: Mapping[str, Any], source: str, d: dt.date) -> bool:
    for start, end in (entry.get("reads") or {}).get(source, {}).values():
        if dt.date.fromisoformat(start) <= d <= dt.date.fromisoformat(end):
            return True
    return False


def why(entry: Mapping[str, Any], touch: Touch) -> str | None:
    """Why the touch affects the report, in words; None when it does not."""
    if not entry.get("reads"):
        return "报告未登记所用数据范围，按受影响处理 (the report does not record what it reads)"
    if touch.what == "rejects":
        return f"{touch.file_name}：新增拒收行，影响数据质量说明 (adds rejected rows)"
    if touch.what == "counts":
        if entry.get("kind") == "annual":
            return f"{touch.file_name}：累计读取/入库行数变化 (cumulative row counts change)"
        return None
    if touch.d is not None and _reads(entry, touch.source, touch.d):
        return f"{touch.file_name}：{touch.source} {touch.d.isoformat()} 的记录有变化"
    return None


def affected(
    entries: Iterable[Mapping[str, Any]], touches: Iterable[Touch]
) -> dict[str, list[str]]:
    """Report id → the reasons (one per file) it must be rendered again."""
    touches = list(touches)
    out: dict[str, list[str]] = {}
    for entry in entries:
        reasons = dict.fromkeys(r for t in touches if (r := why(entry, t)) is not None)
        if reasons:
            out[str(entry["id"])] = _one_per_file(list(reasons))
    return out


def _one_per_file(reasons: list[str]) -> list[str]:
    """The first reason per file (a correction touching many dates is said once)."""
    seen: dict[str, str] = {}
    for reason in reasons:
        seen.setdefault(reason.split("：", 1)[0], reason)
    return list(seen.values())
