"""DuckDB warehouse access: one writer at a time, SQL read from files under sql/.

Why a lock of our own on top of DuckDB's: DuckDB refuses a second read-write process with an
opaque I/O error; the bureau's operator should instead see that another run is in progress,
and a scheduled run should wait for a manual rerun to finish rather than fail at once.
"""

from __future__ import annotations

import fcntl
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from urbanreport.core.config import SQL_DIR, Settings

_PARAMETER = re.compile(r"\$([A-Za-z_]\w*)")


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse write lock."""


@cache
def sql_text(relpath: str) -> str:
    """The text of `sql/<relpath>`; cached because the files never change while running."""
    return (SQL_DIR / relpath).read_text(encoding="utf-8")


def execute_file(
    con: duckdb.DuckDBPyConnection, relpath: str, params: Mapping[str, Any] | None = None
) -> duckdb.DuckDBPyConnection:
    """Run one SQL file, binding only the `$name` parameters it uses.

    Callers can pass one dict of period parameters to every file; DuckDB refuses unused ones.
    """
    text = sql_text(relpath)
    used = set(_PARAMETER.findall(text))
    bound = {k: v for k, v in (params or {}).items() if k in used}
    return con.execute(text, bound) if bound else con.execute(text)


def query(
    con: duckdb.DuckDBPyConnection, relpath: str, params: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Run a SELECT file and return its rows as dicts (column name → value)."""
    cur = execute_file(con, relpath, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Session settings every connection needs: local wall time is Asia/Shanghai."""
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    con.execute(sql_text("macros.sql"))
    con.execute(sql_text("indicators/definitions.sql"))


@contextmanager
def _flock(settings: Settings) -> Iterator[None]:
    settings.home.mkdir(parents=True, exist_ok=True)
    lock_path = settings.home / "warehouse.lock"
    timeout = float(settings["ingest"]["lock_timeout_seconds"])
    with lock_path.open("a+") as fh:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.seek(0)
                    holder = fh.read().strip() or "另一个进程"
                    raise WarehouseBusy(
                        f"仓库正被占用（{holder}），等待 {timeout:g} 秒后放弃。"
                        f" The warehouse {settings.warehouse_path} is being written by another "
                        f"run ({holder}); try again when it has finished."
                    ) from None
                time.sleep(0.2)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


# Lock files this process holds, with how many `exclusive` blocks are open on each.
_HELD: dict[Path, int] = {}
_HELD_GUARD = threading.Lock()


@contextmanager
def exclusive(settings: Settings) -> Iterator[None]:
    """Hold the single-writer lock; re-entrant within this process.

    Why re-entrant: a flow run holds the lock across all its steps (no other run may write or
    register reports in between), while each step opens its own connection with `writer`.
    flock would make the second acquisition in the same process wait for the first forever.
    """
    path = settings.home.resolve() / "warehouse.lock"
    with _HELD_GUARD:
        nested = _HELD.get(path, 0) > 0
        if nested:
            _HELD[path] += 1
    if nested:
        try:
            yield
        finally:
            with _HELD_GUARD:
                _HELD[path] -= 1
        return
    with _flock(settings):
        with _HELD_GUARD:
            _HELD[path] = 1
        try:
            yield
        finally:
            with _HELD_GUARD:
                del _HELD[path]


@contextmanager
def writer(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection, held under the single-writer lock, with the schema in place."""
    with exclusive(settings):
        con = duckdb.connect(str(settings.warehouse_path))
        try:
            con.execute(sql_text("schema.sql"))
            _prepare(con)
            yield con
        finally:
            con.close()


@contextmanager
def reader(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection. Fails clearly if the warehouse was never created."""
    path: Path = settings.warehouse_path
    if not path.exists():
        raise FileNotFoundError(
            f"仓库不存在：{path}。请先运行 `urbanreport ingest`"
            "（或先用 `urbanreport sample` 生成示例数据）。"
        )
    con = duckdb.connect(str(path), read_only=True)
    try:
        _prepare(con)
        yield con
    finally:
        con.close()
