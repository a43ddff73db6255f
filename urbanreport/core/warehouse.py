"""Warehouse access: the embedded DuckDB file or DuckLake, one writer per home, SQL from sql/.

Two backends behind the same three context managers (`writer`, `reader`, `exclusive`) and the
same SQL files: `[warehouse] backend = "duckdb"` (default) opens `$URBANREPORT_HOME/
warehouse.duckdb`; `"ducklake"` attaches a DuckLake whose catalog is a PostgreSQL database and
whose data are Parquet files in `data_path`, so that many writers on many machines commit at
once. The SQL avoids what DuckLake lacks (primary keys, sequences, CHECK constraints); batch ids
come from a counter row instead of a sequence (`next_batch_id`).

Why a lock of our own on top of DuckDB's: DuckDB refuses a second read-write process with an
opaque I/O error; the bureau's operator should instead see that another run is in progress,
and a scheduled run should wait for a manual rerun to finish rather than fail at once. The lock
is a file lock, so it guards one home on one machine; on a lake shared by several machines the
guard against two runs of the same district is a lease row in the catalog (core/lease.py).
On the embedded file the lock is the home's (one writer at all); on a lake it is the district's,
so that the districts of one home write at the same time.

Every connection reads one district, or a city's districts (`set_scope`): the SQL reads the
core tables through the views of sql/scope.sql, filtered by DuckDB variables set here only, and
a writer stamps its district (`ur_district`) on every row, batch and reject it writes.

DuckLake checks conflicts when a transaction commits (two transactions changed the same table);
`transaction` runs such work again, a bounded number of times, then says so plainly.
"""

from __future__ import annotations

import fcntl
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from urbanreport.core.config import CATALOG_PASSWORD_ENV, SQL_DIR, Settings, WarehouseConfig

log = logging.getLogger(__name__)
T = TypeVar("T")

# The name the lake is attached under (and made the default catalog, so SQL names no catalog).
LAKE = "lake"
# The extensions DuckLake needs, as installed by their PyPI packages (loaded offline, by path).
_EXTENSIONS = {
    "postgres_scanner": "duckdb_extension_postgres_scanner",
    "ducklake": "duckdb_extension_ducklake",
}
_MAX_WAIT_SECONDS = 5.0
_CONNECT_TIMEOUT_SECONDS = "10"

_PARAMETER = re.compile(r"\$([A-Za-z_]\w*)")


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse write lock."""


class CatalogUnavailable(RuntimeError):
    """The DuckLake catalog cannot be reached or refuses us; the message says why, in words."""


class CommitConflict(RuntimeError):
    """A transaction still conflicted with other writers after every allowed attempt."""


class SchemaOutdated(RuntimeError):
    """The warehouse predates the district dimension; `urbanreport migrate` upgrades it."""


# The tables that carry `district` (sql/schema.sql); counters and calendar_days are shared.
DISTRICT_TABLES: tuple[str, ...] = (
    "batches", "rejects", "permits", "enforcement", "demolition", "demolition_targets",
    "dcm_cases", "legal_activities", "http_watermarks", "batch_touches",
)  # fmt: skip


@cache
def sql_text(relpath: str) -> str:
    """The text of `sql/<relpath>`; cached because the files never change while running."""
    return (SQL_DIR / relpath).read_text(encoding="utf-8")


def quote(identifier: str) -> str:
    """An SQL identifier, quoted (names from the source contract, never from a file)."""
    return '"' + identifier.replace('"', '""') + '"'


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


def outdated_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables of a warehouse written before districts were a dimension (no `district`)."""
    rows = query(con, "ingest/outdated_tables.sql", {"tables": list(DISTRICT_TABLES)})
    return [r["table_name"] for r in rows]


def _check_schema(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Refuse, in words, a warehouse of the single-district schema (before any write)."""
    old = outdated_tables(con)
    if old:
        raise SchemaOutdated(
            f"仓库 {describe(settings)} 是旧版（单区县）格式，表 {', '.join(old)} 没有区县列。"
            "请先运行 `urbanreport migrate`：原有数据全部保留，并标记为本区县"
            f"（[district] code = {settings.district_code}）。 The warehouse predates the"
            " district column: run `urbanreport migrate` once (every row is kept and stamped"
            f" with district {settings.district_code})."
        )


def set_scope(con: duckdb.DuckDBPyConnection, codes: list[str], whole_districts: list[str]) -> None:
    """The districts this connection reads from now on (the views of sql/scope.sql), and the
    words they use for a district-wide target (全区, 全县). The one place the filter is set."""
    con.execute("SET VARIABLE ur_districts = ?", [list(codes)])
    con.execute("SET VARIABLE ur_whole_districts = ?", [list(dict.fromkeys(whole_districts))])


@contextmanager
def scoped(
    con: duckdb.DuckDBPyConnection, codes: list[str], whole_districts: list[str]
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Read `codes` for the length of the block, then the scope the connection had before."""
    before = con.execute(
        "SELECT getvariable('ur_districts'), getvariable('ur_whole_districts')"
    ).fetchone()
    set_scope(con, codes, whole_districts)
    try:
        yield con
    finally:
        set_scope(con, before[0] or [], before[1] or [])


def scope_to(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Read (and, on a writer, stamp) the district of `settings` only."""
    con.execute("SET VARIABLE ur_district = ?", [settings.district_code])
    set_scope(con, [settings.district_code], [settings["district"]["whole_district"]])


def _prepare(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Session settings every connection needs: local wall time is Asia/Shanghai, the shared
    macros, the district views, and the district of `settings` as the scope."""
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    con.execute(sql_text("macros.sql"))
    con.execute(sql_text("scope.sql"))  # before the macros that read its views
    con.execute(sql_text("indicators/definitions.sql"))
    scope_to(con, settings)


def lock_path(settings: Settings) -> Path:
    """The single-writer lock: the home's for the embedded file (one writer at all), the
    district's for a lake (districts write at once; one district's runs never do)."""
    if settings.warehouse.is_lake:
        return settings.home.resolve() / f"warehouse-{settings.district_code}.lock"
    return settings.home.resolve() / "warehouse.lock"


@contextmanager
def _flock(settings: Settings) -> Iterator[None]:
    settings.home.mkdir(parents=True, exist_ok=True)
    lock_path_ = lock_path(settings)
    timeout = float(settings["ingest"]["lock_timeout_seconds"])
    with lock_path_.open("a+") as fh:
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
                        f" The warehouse {describe(settings)} is being written by another "
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
    path = lock_path(settings)
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


# --- connecting ------------------------------------------------------------------------------


def describe(settings: Settings) -> str:
    """The warehouse in words, for messages: a file path, or the catalog (never a password)."""
    cfg = settings.warehouse
    if not cfg.is_lake:
        return str(settings.warehouse_path)
    return f"DuckLake（目录库 catalog {cfg.catalog_dsn}，数据 data {cfg.data_path}）"


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _extension_path(name: str) -> Path:
    package = _EXTENSIONS[name]
    path = Path(str(files(package))) / "extensions" / f"v{duckdb.__version__}"
    return path / f"{name}.duckdb_extension"


def _scrub(text: str, secret: str) -> str:
    """Engine text with the password cut out, should libpq or DuckDB ever echo it."""
    return text.replace(secret, "***") if secret else text


def _explain(exc: duckdb.Error, cfg: WarehouseConfig) -> str:
    """What went wrong attaching the lake, in words an operator acts on (never the password)."""
    text = str(exc)
    where = f"DuckLake 目录库 (catalog) {cfg.catalog_dsn}"
    if "no password supplied" in text:
        return (
            f"{where} 要求密码，但环境变量 {CATALOG_PASSWORD_ENV} 未设置"
            f" (the catalog needs a password: set {CATALOG_PASSWORD_ENV})"
        )
    if "password authentication failed" in text or "authentication failed" in text:
        return (
            f"{where} 拒绝了登录：用户或密码（{CATALOG_PASSWORD_ENV}）不正确"
            f" (the catalog refused the login: wrong user or {CATALOG_PASSWORD_ENV})"
        )
    if re.search(r'database "[^"]*" does not exist', text):
        return (
            f"{where} 中没有该数据库：请先创建，例如 createdb"
            " (the catalog database does not exist: create it first)"
        )
    if "does not match existing data path" in text:
        return (
            f"[warehouse] data_path {cfg.data_path} 与该目录库建立时登记的数据目录不同；"
            "每台机器须在同一路径挂载共享文件夹 (data_path differs from the folder the lake was"
            " created with; mount the shared folder at the same path on every machine)"
        )
    if "could not connect" in text or "Connection refused" in text or "timeout" in text:
        return (
            f"无法连接 {where}：服务器未启动或网络不通"
            " (cannot reach the catalog server: is PostgreSQL running and reachable?)"
        )
    lines = _scrub(text, cfg.catalog_password).strip().splitlines() or ["?"]
    reason = lines[-1][:300]
    return f"无法打开 {where}（原因 reason: {reason}）"


def _open_lake(cfg: WarehouseConfig, read_only: bool) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake attached as the default catalog (engine errors raw).

    The password travels in a temporary secret, bound as a query parameter: it is never part of
    an SQL text, a connection string or a message, and lives only in this connection's memory.
    """
    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        for name in _EXTENSIONS:
            con.execute(f"LOAD {_sql_literal(str(_extension_path(name)))}")
        if cfg.catalog_password:
            secret = "CREATE TEMPORARY SECRET (TYPE postgres, PASSWORD ?)"
            con.execute(secret, [cfg.catalog_password])
        dsn = cfg.catalog_dsn
        if "connect_timeout" not in cfg.catalog:
            dsn += f" connect_timeout={_CONNECT_TIMEOUT_SECONDS}"
        options = f"DATA_PATH {_sql_literal(str(cfg.data_path) + os.sep)}"
        if read_only:
            options += ", READ_ONLY"
        else:
            assert cfg.data_path is not None
            cfg.data_path.mkdir(parents=True, exist_ok=True)
        con.execute(f"ATTACH {_sql_literal('ducklake:postgres:' + dsn)} AS {LAKE} ({options})")
        con.execute(f"USE {LAKE}")
    except BaseException:
        con.close()
        raise
    return con


def _attach_lake(cfg: WarehouseConfig, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Attach the lake; errors become messages in words (CatalogUnavailable, FileNotFoundError).

    Two writers attaching a catalog database that holds no lake yet both start creating
    DuckLake's tables there, and PostgreSQL refuses the second ("already exists"); that one
    waits and attaches again, and then finds the lake the first one created.
    """
    for attempt in range(1, cfg.commit_attempts + 1):
        try:
            return _open_lake(cfg, read_only)
        except duckdb.Error as exc:
            text = str(exc)
            if read_only and "creating a new DuckLake is explicitly disabled" in text:
                raise FileNotFoundError(_missing(cfg.catalog_dsn)) from None
            if "already exists" not in text or attempt == cfg.commit_attempts:
                raise CatalogUnavailable(_explain(exc, cfg)) from None
            pause = _wait(cfg, attempt)
            log.info("lake being created by another writer, attaching again in %.2f s", pause)
            time.sleep(pause)
    raise AssertionError("unreachable: commit_attempts >= 1")


def _missing(where: str) -> str:
    return (
        f"仓库不存在：{where}。请先运行 `urbanreport ingest`"
        "（或先用 `urbanreport sample` 生成示例数据）。"
    )


def _connect(settings: Settings, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    cfg = settings.warehouse
    if cfg.is_lake:
        return _attach_lake(cfg, read_only)
    path: Path = settings.warehouse_path
    if read_only and not path.exists():
        raise FileNotFoundError(_missing(str(path)))
    return duckdb.connect(str(path), read_only=read_only)


def _use(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """A cursor starts in DuckDB's own in-memory catalog; point it at the lake again."""
    if settings.warehouse.is_lake:
        con.execute(f"USE {LAKE}")


# --- transactions --------------------------------------------------------------------------


def is_conflict(exc: BaseException) -> bool:
    """A commit refused because another writer changed the same table (worth another try)."""
    return isinstance(exc, duckdb.TransactionException) and "conflict" in str(exc).lower()


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back if a transaction is still open (a failed COMMIT has already ended it)."""
    with suppress(duckdb.TransactionException):
        con.execute("ROLLBACK")


def _wait(cfg: WarehouseConfig, attempt: int) -> float:
    """Exponential backoff with jitter, so two writers that collided do not collide again."""
    base = min(cfg.retry_wait_seconds * 2 ** (attempt - 1), _MAX_WAIT_SECONDS)
    return base * random.uniform(0.5, 1.5)


def transaction(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    work: Callable[[duckdb.DuckDBPyConnection], T],
    what: str,
) -> T:
    """Run `work(con)` in one transaction; on a commit conflict run it again, a bounded number
    of times (`[warehouse] commit_attempts`). `work` must do everything again, reads included:
    a retry sees what the other writer committed. Exhausted → CommitConflict, nothing written.
    """
    cfg = settings.warehouse
    for attempt in range(1, cfg.commit_attempts + 1):
        con.execute("BEGIN TRANSACTION")
        try:
            result = work(con)
            con.execute("COMMIT")
            return result
        except duckdb.TransactionException as exc:
            _rollback(con)
            if not is_conflict(exc):
                raise
            if attempt == cfg.commit_attempts:
                raise CommitConflict(
                    f"{what}：与其他写入者的提交冲突，已重试 {cfg.commit_attempts} 次仍未成功，"
                    "本次未写入任何内容，请稍后重新运行 (still conflicting with other writers after"
                    f" {cfg.commit_attempts} attempts; nothing was written, run it again later)"
                ) from None
            pause = _wait(cfg, attempt)
            log.info("%s: commit conflict, attempt %d, again in %.2f s", what, attempt, pause)
            time.sleep(pause)
        except BaseException:
            _rollback(con)
            raise
    raise AssertionError("unreachable: commit_attempts >= 1")


def next_batch_id(con: duckdb.DuckDBPyConnection, settings: Settings) -> int:
    """The next batch id, like a sequence: taken in a short transaction of its own.

    Why not inside the batch's transaction: on DuckLake two transactions that change the same
    table conflict, so a counter bumped by every batch would make any two concurrent batches
    conflict. Here only the two allocations meet (and retry); the batches then commit
    independently. A batch that fails leaves a gap in the ids, as a sequence does.
    """
    cur = con.cursor()
    try:
        _use(cur, settings)
        return transaction(
            cur,
            settings,
            lambda c: execute_file(c, "ingest/next_batch_id.sql").fetchone()[0],
            "分配批次号 (allocating a batch id)",
        )
    finally:
        cur.close()


# --- memory ----------------------------------------------------------------------------------

_MEMORY = re.compile(r"\d+(\.\d+)?\s*[KMGT]i?B", re.IGNORECASE)


def _memory_setting(settings: Settings) -> str:
    """`[ingest] memory_limit`, checked ("" = no limit)."""
    limit = str(settings["ingest"].get("memory_limit", "")).strip()
    if limit and not _MEMORY.fullmatch(limit):
        raise ValueError(f'[ingest] memory_limit 的格式应如 "1GB"：{limit!r}')
    return limit


@contextmanager
def _setting(con: duckdb.DuckDBPyConnection, name: str, value: object) -> Iterator[None]:
    """A DuckDB setting (of the whole database) for the length of the block, then as before."""
    before = con.execute(f"SELECT current_setting('{name}')").fetchone()[0]
    con.execute(f"SET {name} = '{value}'")
    try:
        yield
    finally:
        con.execute(f"SET {name} = '{before}'")


@contextmanager
def memory_limit(con: duckdb.DuckDBPyConnection, settings: Settings) -> Iterator[None]:
    """DuckDB's memory while batches load (`[ingest] memory_limit`): past it, DuckDB spills
    to disk, so a pull of millions of lines takes bounded memory. Restored afterwards."""
    limit = _memory_setting(settings)
    if not limit:
        yield
        return
    with _setting(con, "memory_limit", limit):
        yield


@contextmanager
def threads_beside(con: duckdb.DuckDBPyConnection, others: int) -> Iterator[None]:
    """DuckDB's worker threads while `others` more connections run statements beside con.

    Why fewer: each connection's statement runs on its caller's thread too, so with the default
    of one thread per core, three connections on two cores had a worker besides to contend with
    (six bench scale-100 files, two read ahead: 6.4 s and 11.9 s of CPU with two threads, 5.1 s
    and 8.8 s with one). Restored afterwards."""
    threads = int(con.execute("SELECT current_setting('threads')").fetchone()[0])
    with _setting(con, "threads", max(1, threads - others)):
        yield


def _close_writer(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Close a writer. DuckDB checkpoints the embedded file at close, writing out what the
    batches loaded: that runs within `[ingest] memory_limit` too, not DuckDB's default of most
    of the machine's memory (at bench scale 100, with 512MB: a peak of 686 MB, not 1276 MB).

    Why a writer's checkpoints do not compact by default: every batch appends its own row
    groups, the last one partly filled, and DuckDB's checkpoint merges partly filled row groups
    by rewriting every row group after them: at bench scale 100 that was 3.6 s of the ingest's
    last checkpoint, to save a few row groups nobody reads faster. A row group whose rows were
    all replaced (a month dropped again) is freed without it. So the checkpoint compacts only
    once the rows replaced but still stored reach a tenth of a table (`_worth_compacting`)."""
    if not settings.warehouse.is_lake:
        with suppress(ValueError, duckdb.Error):  # a bad setting or broken connection still closes
            if limit := _memory_setting(settings):
                con.execute(f"SET memory_limit = '{limit}'")
            if _worth_compacting(con, settings):
                con.execute("RESET max_vacuum_tasks")
    con.close()


def _worth_compacting(con: duckdb.DuckDBPyConnection, settings: Settings) -> bool:
    """Whether a core table stores at least a tenth more rows than it holds (replaced rows)."""
    for table in settings.sources:
        stored, live = con.execute(
            "SELECT (SELECT sum(count) FROM pragma_storage_info($t) "
            "        WHERE column_id = 0 AND column_path = '[0]'), "
            f"(SELECT count(*) FROM {quote(table)})",
            {"t": table},
        ).fetchone()
        if stored and stored - live >= max(live, 1) / 10:
            return True
    return False


# --- the context managers --------------------------------------------------------------------


@contextmanager
def unlocked_writer(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection with the schema in place, without the single-writer lock.

    Only for the catalog lease (urbanreport/core/lease.py), which must take and renew its row
    while another connection of the same run holds the lock and loads.
    """
    con = _connect(settings, read_only=False)
    try:
        _check_schema(con, settings)
        transaction(
            con,
            settings,
            lambda c: c.execute(sql_text("schema.sql")),
            "建立仓库表 (creating the warehouse tables)",
        )
        _prepare(con, settings)
        if not settings.warehouse.is_lake:
            con.execute("SET max_vacuum_tasks = 0")  # see _close_writer
        yield con
    finally:
        _close_writer(con, settings)


@contextmanager
def writer(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection, held under the single-writer lock, with the schema in place."""
    with exclusive(settings), unlocked_writer(settings) as con:
        yield con


@contextmanager
def companion(
    con: duckdb.DuckDBPyConnection, settings: Settings
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A second connection to the warehouse `con` has open, prepared as it is (macros, views,
    the district of `settings`): for work beside con's, such as staging the next file in its
    own temp tables while con writes this one. It holds no lock of its own: con's covers it."""
    cur = con.cursor()
    try:
        _use(cur, settings)
        _prepare(cur, settings)
        yield cur
    finally:
        cur.close()


@contextmanager
def connection(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to the warehouse as it is: no schema, no scope, no lock (the
    caller holds `exclusive`). For the migration only (urbanreport/core/migrate.py)."""
    if not settings.warehouse.is_lake and not settings.warehouse_path.exists():
        raise FileNotFoundError(_missing(str(settings.warehouse_path)))
    con = _connect(settings, read_only=False)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def reader(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection in one transaction: every figure read through it comes from the
    same snapshot, even while other writers commit to the lake. Fails clearly if the warehouse
    was never created."""
    con = _connect(settings, read_only=True)
    try:
        if not query(con, "ingest/created.sql")[0]["created"]:
            raise FileNotFoundError(_missing(describe(settings)))
        _check_schema(con, settings)
        _prepare(con, settings)
        con.execute("BEGIN TRANSACTION")
        yield con
    finally:
        _rollback(con)
        con.close()
