"""Which rendered reports a set of batches affects, from what each report reads.

Why here: the registry entry of every report records the date ranges it reads per source
(``reads``, from ``Period.read_ranges``), and ingest records in ``batch_touches`` the record
dates each batch changed (urbanreport/ingest/touches.py). A report is affected when a touched
date of a source falls in a range it reads for that source, or when a batch changes quality
figures the report prints: rejected rows appear in every report's quality notes; rows read and
loaded and refused files only in the annual report's cumulative quality table. A change of the
working-day calendar of a year (no batch at all) affects every report reading that year or the
year before it, whose deadlines can run into it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from urbanreport.core import warehouse


@dataclass(frozen=True)
class Touch:
    """One row of batch_touches with the file it came from."""

    batch_id: int
    source: str
    file_name: str
    d: dt.date | None
    what: str  # record | counts | rejects | calendar


CALENDAR = "工作日历"  # the file name a calendar touch is reported under


def touches_since(con: duckdb.DuckDBPyConnection, batch_id: int) -> list[Touch]:
    """Every touch of the batches after ``batch_id`` (the last one a refresh saw)."""
    rows = warehouse.query(con, "ingest/touches_since.sql", {"batch_id": batch_id})
    return [Touch(**row) for row in rows]


def calendar_years(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Year → fingerprint of its working-day calendar, as stored now."""
    rows = warehouse.query(con, "ingest/calendar_years.sql")
    return {str(r["year"]): str(r["fingerprint"]) for r in rows}


def calendar_touches(before: Mapping[str, str], now: Mapping[str, str]) -> list[Touch]:
    """A touch per year whose calendar changed since ``before`` (nothing when never seen)."""
    if not before:
        return []
    years = sorted(y for y in before.keys() | now.keys() if before.get(y) != now.get(y))
    return [Touch(0, "calendar", CALENDAR, dt.date(int(y), 1, 1), "calendar") for y in years]


def last_batch_id(con: duckdb.DuckDBPyConnection) -> int:
    """The district's newest batch: its batches commit one after another (other districts'
    may commit meanwhile, with lower ids, so a city-wide maximum could skip them)."""
    last = "SELECT coalesce(max(batch_id), 0) FROM district_batches"
    return int(con.execute(last).fetchone()[0])


def _reads(entry: Mapping[str, Any], source: str, first: dt.date, last: dt.date) -> bool:
    """Does the report read a date of [first, last] of the source?"""
    for start, end in (entry.get("reads") or {}).get(source, {}).values():
        if dt.date.fromisoformat(start) <= last and first <= dt.date.fromisoformat(end):
            return True
    return False


def _reads_any(entry: Mapping[str, Any], first: dt.date, last: dt.date) -> bool:
    return any(_reads(entry, source, first, last) for source in entry.get("reads") or {})


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
    if touch.what == "calendar" and touch.d is not None:
        if _reads_any(
            entry, touch.d.replace(year=touch.d.year - 1), touch.d.replace(month=12, day=31)
        ):
            return f"{CALENDAR}：{touch.d.year} 年工作日有变化 (the working-day calendar changed)"
        return None
    if touch.d is not None and _reads(entry, touch.source, touch.d, touch.d):
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
