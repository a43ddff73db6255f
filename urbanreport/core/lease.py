"""The catalog lease: one run per district writes to a shared lake at a time, on any machine.

Why a row in the lake and not the file lock: the lock (`warehouse.exclusive`) is a flock in
`$URBANREPORT_HOME`, which two machines do not share. Prefect's per-district concurrency limit
keeps its own runs apart, but not a run started by hand (`urbanreport ingest`) or through a
second Prefect server. So a run takes its district's row in the `leases` table, in a
transaction (two takers conflict on commit and the later one sees the earlier one's name),
renews it while it works and gives it back at the end.

A run that is killed cannot give it back: the row then expires (`[warehouse] lease_seconds`)
and the next run takes it over. The expiry is compared with each machine's own clock, so the
machines must keep time (NTP); a lease is renewed every third of its lifetime, so clocks a few
seconds apart do no harm.

On the embedded file there is nothing to lease: the file lock already keeps every writer of
that file apart, on the one machine that holds it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import duckdb

from urbanreport.core import warehouse
from urbanreport.core.config import Settings

log = logging.getLogger(__name__)

_POLL_SECONDS = 1.0


class LeaseLost(RuntimeError):
    """Our lease expired and another run took it over while we were still writing."""


@dataclass
class _Held:
    owner: str
    count: int = 1
    lost: threading.Event = field(default_factory=threading.Event)


# Leases this process holds, by (catalog, district): a run's nested steps share the outer one.
_HELD: dict[tuple[str, str], _Held] = {}
_GUARD = threading.Lock()


def lease_seconds(settings: Settings) -> float:
    """How long a lease lives without renewal (`[warehouse] lease_seconds`)."""
    seconds = float(settings["warehouse"].get("lease_seconds", 900))
    if seconds < 3:
        raise ValueError("[warehouse] lease_seconds 至少为 3 (lease_seconds must be at least 3)")
    return seconds


def new_owner() -> str:
    """This run's name in the lease row: machine, process and a random tag (no person)."""
    return f"{socket.gethostname()} pid {os.getpid()} {uuid.uuid4().hex[:8]}"


def holder(con: duckdb.DuckDBPyConnection, district: str) -> dict[str, Any] | None:
    """Who holds the district's lease (owner, expires_at, expired), or None when it is free."""
    rows = warehouse.query(con, "lease/holder.sql", {"district": district})
    return rows[0] if rows and rows[0]["owner"] else None


def try_take(
    con: duckdb.DuckDBPyConnection, settings: Settings, district: str, owner: str
) -> dict[str, Any] | None:
    """Take the lease if it is free, expired or ours; None when taken, else who holds it."""
    params = {"district": district, "owner": owner, "seconds": lease_seconds(settings)}

    def work(c: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
        warehouse.execute_file(c, "lease/seed.sql", params)
        warehouse.execute_file(c, "lease/take.sql", params)
        current = holder(c, district)
        return None if current and current["owner"] == owner else current

    what = f"区划 {district} 的写入租约 (the write lease of district {district})"
    return warehouse.transaction(con, settings, work, what)


def _renew(con: duckdb.DuckDBPyConnection, settings: Settings, district: str, owner: str) -> bool:
    params = {"district": district, "owner": owner, "seconds": lease_seconds(settings)}

    def work(c: duckdb.DuckDBPyConnection) -> bool:
        warehouse.execute_file(c, "lease/renew.sql", params)
        current = holder(c, district)
        return bool(current and current["owner"] == owner)

    return warehouse.transaction(con, settings, work, "续租 (renewing the write lease)")


def _release(con: duckdb.DuckDBPyConnection, settings: Settings, district: str, owner: str) -> None:
    params = {"district": district, "owner": owner}
    warehouse.transaction(
        con,
        settings,
        lambda c: warehouse.execute_file(c, "lease/release.sql", params),
        "归还写入租约 (releasing the write lease)",
    )


def _busy(settings: Settings, district: str, current: dict[str, Any], waited: float) -> str:
    until = f"{current['expires_at']:%Y-%m-%d %H:%M:%S}"
    return (
        f"区划 {district} 正由另一次运行写入（{current['owner']}，租约至 {until}），"
        f"等待 {waited:g} 秒后放弃。 District {district} is being written by another run "
        f"({current['owner']}, lease until {until}) in "
        f"{warehouse.describe(settings)}; try again when it has finished."
    )


def _take_waiting(
    con: duckdb.DuckDBPyConnection, settings: Settings, district: str, owner: str
) -> None:
    """Take the lease, waiting for the holder up to `[ingest] lock_timeout_seconds`."""
    timeout = float(settings["ingest"]["lock_timeout_seconds"])
    deadline = time.monotonic() + timeout
    logged = False
    while (current := try_take(con, settings, district, owner)) is not None:
        if time.monotonic() >= deadline:
            raise warehouse.WarehouseBusy(_busy(settings, district, current, timeout))
        if not logged:
            log.info("district %s: waiting for the lease held by %s", district, current["owner"])
            logged = True
        time.sleep(_POLL_SECONDS)
    if logged:
        log.info("district %s: lease taken", district)


def _heartbeat(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    district: str,
    held: _Held,
    stop: threading.Event,
) -> None:
    """Renew every third of the lease's life until told to stop; flag a lease taken over."""
    interval = lease_seconds(settings) / 3
    while not stop.wait(interval):
        try:
            if not _renew(con, settings, district, held.owner):
                log.error("district %s: the lease expired and was taken over", district)
                held.lost.set()
                return
        except Exception:  # the catalog is unreachable for now: try again at the next beat
            log.warning("district %s: renewing the lease failed", district, exc_info=True)


@contextmanager
def district_lease(settings: Settings, district: str) -> Iterator[str | None]:
    """Hold the district's write lease on a lake for the block (re-entrant in one process).

    Yields the owner name (None on the embedded file, where the file lock is the guard).
    Raises WarehouseBusy after waiting `[ingest] lock_timeout_seconds` for another run, and
    LeaseLost at the end if the lease expired and another run took it while this one wrote.
    """
    if not settings.warehouse.is_lake:
        yield None
        return
    key = (settings.warehouse.catalog_dsn, district)
    with _GUARD:
        nested = _HELD.get(key)
        if nested is not None:
            nested.count += 1
    if nested is not None:
        try:
            yield nested.owner
        finally:
            with _GUARD:
                nested.count -= 1
        return
    held = _Held(new_owner())
    with warehouse.unlocked_writer(settings) as con:
        _take_waiting(con, settings, district, held.owner)
        with _GUARD:
            _HELD[key] = held
        stop = threading.Event()
        beat = threading.Thread(
            target=_heartbeat, args=(con, settings, district, held, stop), daemon=True
        )
        beat.start()
        try:
            yield held.owner
        finally:
            stop.set()
            beat.join()
            with _GUARD:
                del _HELD[key]
            _release(con, settings, district, held.owner)
    if held.lost.is_set():
        raise LeaseLost(
            f"区划 {district} 的写入租约在运行中过期并被另一次运行接管；本次写入的批次均已各自"
            "完整提交，请核对后重新运行 (the district's lease expired during this run and was "
            "taken over; every batch committed whole, check and run again)"
        )
