"""Ingestion batches: one file (or archive member, or HTTP pull) → one transaction.

Plain functions; the Prefect flows in flows/pipeline.py wrap them. A batch reads the file into
temp tables (staging.py and readers/), then, in one transaction, records the refused rows with
their reasons, upserts the rest into the core table (sql/merge/) and records the batch. A crash
mid-batch leaves the warehouse as it was before the batch; re-ingesting the same bytes is a
no-op; rows read = rows loaded + rows rejected, always. A file that cannot be loaded at all is
a refused batch with one reject line saying why, so nothing dropped into an inbox goes
unmentioned.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import signal
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from urbanreport.core import clock, lease, warehouse
from urbanreport.core.clock import SHANGHAI
from urbanreport.core.config import SOURCES, Settings
from urbanreport.core.workdays import refresh_calendar
from urbanreport.ingest import http_source, staging, touches
from urbanreport.ingest.discover import (
    discover_files,
    discover_sources,
    inbox_name,
    quietly_skipped,
)
from urbanreport.ingest.readers import archive, detect
from urbanreport.ingest.refusal import FileRefused

__all__ = [
    "SHANGHAI",
    "SOURCES",
    "BatchResult",
    "discover_files",
    "discover_sources",
    "format_rejects",
    "format_summary",
    "ingest_all",
    "ingest_file",
    "ingest_path",
    "ingest_pull",
    "ingest_source",
    "list_rejects",
    "pull_http",
]

log = logging.getLogger(__name__)

UNREADABLE = (
    "文件无法读取：内容已损坏或格式异常 (the file cannot be read: its content is damaged or "
    "malformed)"
)


OUT_OF_MEMORY = (
    "导入时内存不足：请调大 [ingest] memory_limit 后重试 (out of memory while loading this "
    "file: raise [ingest] memory_limit and try again)"
)


@dataclass(frozen=True)
class BatchResult:
    """What happened to one file."""

    source: str
    file_name: str
    status: str  # loaded | refused | skipped (same bytes already ingested)
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    batch_id: int | None = None
    message: str = ""

    @property
    def skipped(self) -> bool:
        return self.status == "skipped"


def now_shanghai() -> dt.datetime:
    """Wall-clock time in Asia/Shanghai, naive (the warehouse stores local time)."""
    return clock.local_naive(clock.now())


def _mtime(path: Path) -> dt.datetime:
    return clock.local_naive(dt.datetime.fromtimestamp(path.stat().st_mtime, SHANGHAI))


def _failpoint(name: str) -> None:
    """Crash on purpose at a named point (tests prove a killed load leaves nothing partial)."""
    if os.environ.get("URBANREPORT_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


# --- one batch ----------------------------------------------------------------------------------


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    source: str,
    path: Path,
    watermark: dt.datetime | None = None,
) -> BatchResult:
    """Load one file as one batch, in one transaction. Same bytes twice → skipped.

    `watermark` (HTTP pulls) advances http_watermarks in the same transaction, so the watermark
    never moves past records that did not commit.
    """
    return _ingest(con, settings, source, path, path.name, _mtime(path), watermark=watermark)


def _ingest(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    source: str,
    path: Path,
    name: str,
    mtime: dt.datetime,
    sniffed: detect.Sniffed | None = None,
    watermark: dt.datetime | None = None,
) -> BatchResult:
    sniffed = sniffed or detect.sniff(path)
    with warehouse.memory_limit(con, settings):
        staged = _stage(con, settings, source, path, name, mtime, sniffed)
        if isinstance(staged, BatchResult):
            return staged
        return _write(con, settings, staged, watermark)


@dataclass(frozen=True)
class _Staged:
    """A file read and validated into its connection's temp tables, not written yet."""

    batch: _Batch
    refused: FileRefused | None
    notes: list[str]


def _stage(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    source: str,
    path: Path,
    name: str,
    mtime: dt.datetime,
    sniffed: detect.Sniffed,
) -> BatchResult | _Staged:
    """Read and validate one file (temp tables only), or say it was ingested before."""
    seen = _seen(con, source, name, sniffed.content_hash)
    if seen is not None:
        return seen
    refused: FileRefused | None = None
    notes: list[str] = []
    try:
        notes = staging.read(con, settings, source, path, name, sniffed)
        staging.validate(con, settings, source)
    except FileRefused as exc:
        refused = exc
    except BaseException as exc:  # an engine's own error is never shown, only logged
        if not _engine_failure(exc):
            raise
        if _out_of_memory(exc):  # not the file's fault: nothing recorded, the next run retries
            raise RuntimeError(f"{name}: {OUT_OF_MEMORY}") from exc
        log.debug("%s %s: reading failed", source, name, exc_info=True)
        refused = FileRefused(UNREADABLE)
        log.warning("%s %s: %s (%s)", source, name, UNREADABLE, type(exc).__name__)
    return _Staged(_Batch(source, name, sniffed.content_hash, mtime), refused, notes)


def _write(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    staged: _Staged,
    watermark: dt.datetime | None = None,
) -> BatchResult:
    """A staged file's persistent writes, once every file before it is written (it is compared
    with what they stored), on the connection that staged it; then its temp tables go."""
    batch = staged.batch
    try:
        if staged.refused is None:
            staging.against_loaded(con, settings, batch.source, batch.file_name, batch.mtime)
        return _commit(con, settings, batch, staged.refused, staged.notes, watermark)
    finally:
        staging.release(con)


def _out_of_memory(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.OutOfMemoryException)


def _engine_failure(exc: BaseException) -> bool:
    """An error of a reading library, not an interrupt: a Rust reader's panic derives from
    BaseException, so it is named here rather than caught with everything else."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


@dataclass(frozen=True)
class _Batch:
    source: str
    file_name: str
    content_hash: str
    mtime: dt.datetime


def _seen(
    con: duckdb.DuckDBPyConnection, source: str, name: str, content_hash: str
) -> BatchResult | None:
    """A skipped result if these bytes were ingested before for this source."""
    seen = warehouse.query(
        con, "ingest/seen_hash.sql", {"source": source, "content_hash": content_hash}
    )
    if not seen:
        return None
    first = seen[0]
    was_refused = first["status"] == "refused"
    return BatchResult(
        source,
        name,
        "skipped",
        message=f"已导入过相同内容（{first['file_name']}，{first['loaded_at']:%Y-%m-%d %H:%M}"
        f"{'，当时整个文件被拒绝' if was_refused else ''}） (same bytes already ingested as "
        f"{first['file_name']}{', refused then' if was_refused else ''})",
    )


def _commit(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    batch: _Batch,
    refused: FileRefused | None,
    notes: list[str],
    watermark: dt.datetime | None,
) -> BatchResult:
    """The batch's persistent writes, all in one transaction, run again on a commit conflict.

    Why the whole transaction: on DuckLake another writer may commit a change to the same table
    (a record both batches correct) while this one runs; its COMMIT is then refused, and only a
    fresh run of every write (with a new batch id, seeing the other's records) can succeed.
    The staged rows are temp tables, untouched by a rollback, so a retry re-reads nothing.
    """

    def work(c: duckdb.DuckDBPyConnection) -> BatchResult:
        seen = _seen(c, batch.source, batch.file_name, batch.content_hash)
        if seen is not None:  # another writer loaded these bytes while this one waited
            return seen
        batch_id = warehouse.next_batch_id(c, settings)
        if refused is not None:
            result = _record_refused(c, batch, batch_id, refused)
        else:
            result = _write_batch(c, settings, batch, batch_id, notes)
            if watermark is not None:
                warehouse.execute_file(
                    c,
                    "ingest/set_watermark.sql",
                    {"source": batch.source, "updated_at": watermark},
                )
        _failpoint("before_commit")
        return result

    try:
        result = warehouse.transaction(
            con, settings, work, f"{batch.file_name} 入库 (loading {batch.file_name})"
        )
    except duckdb.OutOfMemoryException as exc:  # said to the operator in words, batch left undone
        raise RuntimeError(f"{batch.file_name}: {OUT_OF_MEMORY}") from exc
    if result.skipped:
        return result
    log.info(
        "%s %s: read %d, loaded %d, rejected %d%s",
        batch.source,
        batch.file_name,
        result.rows_read,
        result.rows_loaded,
        result.rows_rejected,
        f" ({result.message})" if result.message else "",
    )
    return result


def _record_refused(
    con: duckdb.DuckDBPyConnection, batch: _Batch, batch_id: int, exc: FileRefused
) -> BatchResult:
    message = f"{batch.file_name}: 整个文件被拒绝 (file refused): {exc.reason}"
    warehouse.execute_file(
        con,
        "ingest/refused_file.sql",
        {
            "batch_id": batch_id,
            "source": batch.source,
            "file_name": batch.file_name,
            "column_name": exc.column,
            "reason": message,
        },
    )
    _record_batch(con, batch, batch_id, (0, 0, 0), "refused", message)
    touches.record_quality(con, batch.source, batch_id, (0, 0, 0), refused=True)
    return BatchResult(batch.source, batch.file_name, "refused", batch_id=batch_id, message=message)


def _record_batch(
    con: duckdb.DuckDBPyConnection,
    batch: _Batch,
    batch_id: int,
    counts: tuple[int, int, int],
    status: str,
    message: str,
) -> None:
    warehouse.execute_file(
        con,
        "ingest/record_batch.sql",
        {
            "batch_id": batch_id,
            "source": batch.source,
            "file_name": batch.file_name,
            "content_hash": batch.content_hash,
            "file_mtime": batch.mtime,
            "rows_read": counts[0],
            "rows_loaded": counts[1],
            "rows_rejected": counts[2],
            "status": status,
            "message": message or None,
            "loaded_at": now_shanghai(),
        },
    )


def _write_batch(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    batch: _Batch,
    batch_id: int,
    notes: list[str],
) -> BatchResult:
    """Inside the batch transaction: rejects, the upsert into the core table, the batch record."""
    params = {"batch_id": batch_id, "source": batch.source, "file_name": batch.file_name}
    warehouse.execute_file(con, "ingest/rejects.sql", params)
    counts = warehouse.query(con, "ingest/counts.sql")[0]
    triple = (counts["rows_read"], counts["rows_loaded"], counts["rows_rejected"])
    touches.before_merge(con, settings, batch.source, batch_id)
    warehouse.execute_file(con, f"merge/{batch.source}.sql", {"batch_id": batch_id})
    touches.after_merge(con, batch.source, batch_id, triple)
    _failpoint("after_merge")
    message = "; ".join(dict.fromkeys(notes))
    _record_batch(con, batch, batch_id, triple, "loaded", message)
    return BatchResult(
        batch.source, batch.file_name, "loaded", *triple, batch_id=batch_id, message=message
    )


# --- archives -------------------------------------------------------------------------------------


def _ingest_archive(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    source: str,
    path: Path,
    name: str,
    sniffed: detect.Sniffed,
) -> list[BatchResult]:
    """Each file in a ZIP archive as its own batch `archive.zip!member`."""
    mtime = _mtime(path)
    limit = int(settings["ingest"]["archive_max_bytes"])
    try:
        with archive.open_archive(path) as zf:
            found = [
                m for m in archive.members(zf, limit) if m.refusal or not quietly_skipped(m.name)
            ]
            if not found:
                raise FileRefused("压缩包中没有文件 (the archive holds no files)")
            return [_ingest_member(con, settings, source, zf, m, name, mtime) for m in found]
    except FileRefused as exc:
        seen = _seen(con, source, name, sniffed.content_hash)
        if seen is not None:
            return [seen]
        batch = _Batch(source, name, sniffed.content_hash, mtime)
        return [_commit(con, settings, batch, exc, [], None)]


def _ingest_member(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    source: str,
    zf: Any,
    member: archive.Member,
    archive_name: str,
    mtime: dt.datetime,
) -> BatchResult:
    name = f"{archive_name}!{member.name}"
    if member.refusal is None:
        tmp_root = settings.home / "tmp"
        tmp_root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=tmp_root) as tmp:
            try:
                extracted = archive.extract(zf, member, Path(tmp))
            except FileRefused as exc:
                return _refuse_member(con, settings, source, name, member, mtime, exc)
            return _ingest(con, settings, source, extracted, name, mtime)
    refusal = FileRefused(member.refusal)
    return _refuse_member(con, settings, source, name, member, mtime, refusal)


def _refuse_member(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    source: str,
    name: str,
    member: archive.Member,
    mtime: dt.datetime,
    refusal: FileRefused,
) -> BatchResult:
    """A member refused unread, identified by its CRC, size and name (so a rerun skips it)."""
    token = f"{member.info.CRC}:{member.info.file_size}:{member.name}".encode()
    digest = "zip-member:" + hashlib.sha256(token).hexdigest()
    seen = _seen(con, source, name, digest)
    if seen is not None:
        return seen
    return _commit(con, settings, _Batch(source, name, digest, mtime), refusal, [], None)


# --- whole inbox ----------------------------------------------------------------------------------


def ingest_path(
    con: duckdb.DuckDBPyConnection, settings: Settings, source: str, path: Path
) -> list[BatchResult]:
    """One inbox file: one batch, or one per member of a ZIP archive."""
    with warehouse.memory_limit(con, settings):
        return _read_ahead(con, settings, source, path)()


def _read_ahead(
    con: duckdb.DuckDBPyConnection, settings: Settings, source: str, path: Path
) -> Callable[[], list[BatchResult]]:
    """Stage one inbox file on `con`; what is left to do, on the same connection, once every
    file before it is written. A ZIP archive is read member by member at that point."""
    name = inbox_name(settings, source, path)
    sniffed = detect.sniff(path)
    if sniffed.kind == "zip":
        try:
            reader = detect.plan(name, sniffed).reader
        except FileRefused:
            reader = None
        if reader == "archive":
            return lambda: _ingest_archive(con, settings, source, path, name, sniffed)
    staged = _stage(con, settings, source, path, name, _mtime(path), sniffed)
    if isinstance(staged, BatchResult):
        return lambda: [staged]
    return lambda: [_write(con, settings, staged)]


def ingest_source(
    con: duckdb.DuckDBPyConnection, settings: Settings, source: str
) -> list[BatchResult]:
    """Load every file of one source's inbox that was not ingested yet, oldest first.

    Each file is still its own batch, written in this order. Why several connections: staging a
    file touches only its connection's temp tables and runs mostly on one core, so the next
    `[ingest] read_ahead` files are read and validated, each on a connection of its own, while
    this one is written. A file is compared with what is stored (`staging.against_loaded`) only
    once every file before it has committed. Memory: at most read_ahead + 1 files' staged rows.
    """
    paths = discover_files(settings, source)
    ahead = min(int(settings["ingest"]["read_ahead"]), len(paths) - 1)
    if ahead < 1:  # nothing to read ahead: no second connection (23 ms to prepare), no thread
        return [r for path in paths for r in ingest_path(con, settings, source, path)]
    results: list[BatchResult] = []
    with ExitStack() as stack:
        stack.enter_context(warehouse.memory_limit(con, settings))
        stack.enter_context(warehouse.threads_beside(con, ahead))
        cons = [con] + [
            stack.enter_context(warehouse.companion(con, settings)) for _ in range(ahead)
        ]
        pool = ThreadPoolExecutor(ahead, thread_name_prefix="read-ahead")
        stack.callback(pool.shutdown, cancel_futures=True)  # a failed file stages no more

        def stage(j: int) -> Future[Callable[[], list[BatchResult]]]:
            # file j's connection last held file j - ahead - 1, written before j is submitted
            return pool.submit(_read_ahead, cons[j % len(cons)], settings, source, paths[j])

        staged = [stage(j) for j in range(ahead)]
        for i in range(len(paths)):
            if i + ahead < len(paths):
                staged.append(stage(i + ahead))
            results += staged[i].result()()
    return results


def ingest_pull(
    con: duckdb.DuckDBPyConnection, settings: Settings, pulled: http_source.Pull | None
) -> BatchResult | None:
    """Load a saved HTTP pull as one batch; its watermark moves in the same transaction."""
    if pulled is None:
        return None
    return ingest_file(con, settings, http_source.SOURCE, pulled.path, watermark=pulled.watermark)


def watermark(settings: Settings) -> dt.datetime | None:
    """The HTTP source's watermark, read under the write lock for a moment only."""
    if not settings.http_base_url:
        return None
    with warehouse.writer(settings) as con:
        return http_source.current_watermark(con)


def pull_http(
    settings: Settings, *, full_refresh: bool = False, since: dt.datetime | None = None
) -> http_source.Pull | None:
    """Pull the HTTP source with the write lock released (a pull may retry for minutes)."""
    return http_source.pull(settings, watermark(settings), full_refresh=full_refresh, since=since)


def ingest_all(
    settings: Settings, pulled: http_source.Pull | None = None
) -> dict[str, list[BatchResult]]:
    """Everything new in the inbox, plus a saved HTTP pull, under the write lock (and, on a
    lake, the district's catalog lease: another run of the district on any machine waits)."""
    results: dict[str, list[BatchResult]] = {}
    with (
        warehouse.exclusive(settings),
        lease.district_lease(settings, settings.district_code),
        warehouse.writer(settings) as con,
    ):
        for source in SOURCES:
            results[source] = ingest_source(con, settings, source)
        loaded = ingest_pull(con, settings, pulled)
        if loaded is not None:
            results[http_source.SOURCE].append(loaded)
        refresh_calendar(con, settings)
    return results


def format_summary(results: dict[str, Iterable[BatchResult]]) -> str:
    """What `urbanreport ingest` prints: per source files, rows read, loaded, rejected; then
    every refused file with its reason and every file's notes."""
    lines = [f"{'数据源':<20}{'文件':>6}{'读取行':>10}{'入库行':>10}{'拒绝行':>10}"]
    refused: list[str] = []
    notes: list[str] = []
    for source, batches in results.items():
        batches = [b for b in batches if not b.skipped]
        lines.append(
            f"{source:<20}{len(batches):>6}{sum(b.rows_read for b in batches):>10}"
            f"{sum(b.rows_loaded for b in batches):>10}{sum(b.rows_rejected for b in batches):>10}"
        )
        for b in batches:
            if b.status == "refused":
                refused.append(f"  {source}  {b.message}")
            elif b.message:
                notes.append(f"  {source}  {b.file_name}: {b.message}")
    if refused:
        lines += ["", f"整个文件被拒绝 (files refused): {len(refused)}", *refused]
    if notes:
        lines += ["", "说明 (notes):", *notes]
    if refused or any(b.rows_rejected for bs in results.values() for b in bs if not b.skipped):
        lines += [
            "",
            "被拒绝的行和文件及其原因：urbanreport rejects (rows and files refused, with reasons)",
        ]
    return "\n".join(lines)


def list_rejects(
    settings: Settings, source: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """Refused rows and files, newest batch first."""
    with warehouse.reader(settings) as con:
        return warehouse.query(con, "ingest/list_rejects.sql", {"source": source, "limit": limit})


def row_label(reject: dict[str, Any]) -> str:
    """Where a refused row is: `12`, or `sheet!12` in a workbook, `-` for a whole file."""
    if reject["row_number"] is None:
        return "-"
    sheet = reject.get("sheet")
    return f"{sheet}!{reject['row_number']}" if sheet else str(reject["row_number"])


def format_rejects(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "没有被拒绝的数据行 (no refused rows)"
    lines = ["数据源\t文件\t行号\t列\t原始值\t原因"]
    for r in rows:
        lines.append(
            f"{r['source']}\t{r['file_name']}\t{row_label(r)}\t{r['column_name'] or '-'}"
            f"\t{r['raw_value'] if r['raw_value'] is not None else ''}\t{r['reason']}"
        )
    return "\n".join(lines)
