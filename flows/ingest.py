"""Ingestion: inbox files (and HTTP pulls) → validated rows in the DuckDB warehouse.

Plain functions; the Prefect flows in flows/pipeline.py wrap them. One file is one batch, loaded
in one transaction: read every value as text, map the headers to canonical names, validate and
type it with sql/staging/<source>.sql, record refused rows with their reasons, then MERGE the
rest into the core table. A crash mid-batch leaves the warehouse as it was before the batch;
re-ingesting the same bytes is a no-op; rows read = rows loaded + rows rejected, always.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import logging
import os
import re
import signal
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import fastexcel
import pyarrow as pa

from urbanreport import warehouse
from urbanreport.config import Settings
from urbanreport.normalize import STREET_SUFFIX, match_dictionary
from urbanreport.workdays import refresh_calendar

log = logging.getLogger(__name__)

SOURCES = (
    "permits",
    "enforcement",
    "demolition",
    "demolition_targets",
    "dcm_cases",
    "legal_activities",
)
EXTENSIONS = (".csv", ".xlsx", ".jsonl")
SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


class FileRefused(Exception):
    """A whole file cannot be loaded (empty, unknown encoding, missing required column, …)."""

    def __init__(self, reason: str, column: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.column = column


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
    return dt.datetime.now(SHANGHAI).replace(tzinfo=None)


# --- discovering files ----------------------------------------------------------------------


def discover_files(settings: Settings, source: str) -> list[Path]:
    """Inbox files of a source in load order: modification time, then name.

    Hidden files and Office lock files (~$…) are not extracts and are left alone.
    """
    folder = settings.source_inbox(source)
    if not folder.is_dir():
        return []
    files = [
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in EXTENSIONS and not p.name.startswith((".", "~$"))
    ]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))


def discover_sources(settings: Settings) -> list[str]:
    """Sources with an inbox folder (all of them once `urbanreport sample` ran)."""
    return [s for s in SOURCES if settings.source_inbox(s).is_dir()]


# --- reading a file into raw text columns ---------------------------------------------------


def _hash_and_encoding(path: Path, text: bool) -> tuple[str, str]:
    """sha256 of the bytes and, for text files, the encoding (utf-8, utf-8-sig or gb18030).

    Decoding is strict and done in the same pass as hashing: a file that is neither valid
    UTF-8 nor valid GB18030 gets "unknown" and is refused rather than read as mojibake.
    """
    digest = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_ok = text
    head = b""
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            head = head or chunk[:3]
            digest.update(chunk)
            if utf8_ok:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    utf8_ok = False
    if not head:
        return digest.hexdigest(), "empty"
    if not text:
        return digest.hexdigest(), "binary"
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
    if utf8_ok:
        return digest.hexdigest(), "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    if _decodes(path, "gb18030"):
        return digest.hexdigest(), "gb18030"
    return digest.hexdigest(), "unknown"


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _header_key(text: str) -> str:
    """Header cells are matched trimmed, case-insensitively, full-width folded to half-width."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).lower()


def map_headers(
    headers: list[str], source_spec: dict[str, Any]
) -> tuple[list[str | None], list[str]]:
    """Canonical field name for each header (None = extra column) and the extra headers.

    Raises FileRefused naming the first missing required column.
    """
    lookup: dict[str, str] = {}
    for field in source_spec["fields"]:
        lookup[_header_key(field["name"])] = field["name"]
        lookup[_header_key(field["header"])] = field["name"]
    mapped: list[str | None] = []
    extras: list[str] = []
    seen: set[str] = set()
    for header in headers:
        name = lookup.get(_header_key(header))
        if name is None or name in seen:
            mapped.append(None)
            if str(header).strip():
                extras.append(str(header).strip())
        else:
            mapped.append(name)
            seen.add(name)
    for field in source_spec["fields"]:
        if field.get("required") and field["name"] not in seen:
            raise FileRefused(
                f"缺少必填列“{field['header']}”（{field['name']}） "
                f"(required column {field['name']} / {field['header']} is missing)",
                column=field["name"],
            )
    return mapped, extras


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _create_raw_batch(
    con: duckdb.DuckDBPyConnection,
    columns: list[str],
    mapped: list[str | None],
    source_spec: dict[str, Any],
    row_expr: str,
) -> None:
    """View raw_batch over temp table raw_file: _row plus every contract field, as text.

    Fields absent from the file (optional ones) are NULL; extra columns are left out. Only
    identifiers of the contract and of the file's own columns are spliced in here.
    """
    by_name = {name: col for col, name in zip(columns, mapped, strict=True) if name}
    select = [f"CAST({row_expr} AS BIGINT) AS _row"]
    for field in source_spec["fields"]:
        col = by_name.get(field["name"])
        expr = f"CAST({_quote(col)} AS VARCHAR)" if col else "CAST(NULL AS VARCHAR)"
        select.append(f"{expr} AS {_quote(field['name'])}")
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW raw_batch AS SELECT {', '.join(select)} FROM raw_file"
    )


def _read_csv(
    con: duckdb.DuckDBPyConnection, path: Path, encoding: str, tmp_dir: Path
) -> list[str]:
    """Load a CSV into raw_file (all text, file order). GB18030 is transcoded to UTF-8 first."""
    if encoding not in ("utf-8", "utf-8-sig", "gb18030"):
        raise FileRefused("无法识别文件编码：既不是UTF-8也不是GB18030 (unknown text encoding)")
    read_path = path
    if encoding == "gb18030":
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(suffix=".csv", dir=tmp_dir)
        with (
            os.fdopen(fd, "w", encoding="utf-8", newline="") as out,
            path.open(encoding="gb18030", newline="") as src,
        ):
            while block := src.read(1 << 20):
                out.write(block)
        read_path = Path(tmp_name)
    with read_path.open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(io.StringIO(fh.readline())), [])
    if not any(h.strip() for h in header):
        raise FileRefused("文件没有表头行 (no header row)")
    columns = [f"c{i}" for i in range(len(header))]
    try:
        warehouse.execute_file(
            con, "ingest/read_csv.sql", {"path": str(read_path), "names": columns}
        )
    except duckdb.Error as exc:
        raise FileRefused(f"CSV无法解析 (cannot parse CSV): {exc}") from exc
    finally:
        if read_path != path:
            read_path.unlink(missing_ok=True)
    return header


def _xlsx_first_row(path: Path) -> int:
    """Spreadsheet row number of the first used row of sheet 1 (its <dimension ref>)."""
    try:
        with zipfile.ZipFile(path) as zf:
            name = next(n for n in zf.namelist() if re.match(r"xl/worksheets/sheet\d+\.xml$", n))
            head = zf.open(name).read(4096).decode("utf-8", "replace")
    except (StopIteration, zipfile.BadZipFile, KeyError):
        return 1
    match = re.search(r'<dimension ref="[A-Z]+(\d+)', head)
    return int(match.group(1)) if match else 1


def _read_xlsx(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """Load the first sheet into raw_file; the header is the first non-empty row."""
    try:
        sheet = fastexcel.read_excel(str(path)).load_sheet(0, header_row=None, dtypes="string")
    except Exception as exc:  # fastexcel raises its own error types for broken workbooks
        raise FileRefused(f"Excel文件无法读取 (cannot read the workbook): {exc}") from exc
    table = sheet.to_arrow()
    rows = table.to_pylist()
    first_row = _xlsx_first_row(path)
    nonempty = [i for i, row in enumerate(rows) if any(v not in (None, "") for v in row.values())]
    if not nonempty:
        raise FileRefused("文件为空 (the workbook has no data)")
    header_idx = nonempty[0]
    names = list(table.column_names)
    header = [str(rows[header_idx][n] or "") for n in names]
    data_idx = [i for i in nonempty if i > header_idx]
    columns = [f"c{i}" for i in range(len(names))]
    frame = pa.table(
        {"_row": pa.array([first_row + i for i in data_idx], pa.int64())}
        | {
            c: pa.array([rows[i][n] for i in data_idx], pa.string())
            for c, n in zip(columns, names, strict=True)
        }
    )
    con.register("xlsx_frame", frame)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE raw_file AS SELECT * FROM xlsx_frame")
    finally:
        con.unregister("xlsx_frame")
    return header


def _read_jsonl(con: duckdb.DuckDBPyConnection, path: Path, encoding: str) -> list[str]:
    """Load JSON Lines into raw_file: one column per key seen, text values; bad lines flagged."""
    if encoding not in ("utf-8", "utf-8-sig"):
        raise FileRefused("JSON Lines 必须是UTF-8编码 (JSON Lines must be UTF-8)")
    warehouse.execute_file(con, "ingest/read_jsonl.sql", {"path": str(path)})
    keys = [
        r[0] for r in con.execute("SELECT key FROM jsonl_keys ORDER BY first_line, key").fetchall()
    ]
    if not keys:
        raise FileRefused("文件中没有JSON对象 (no JSON objects in the file)")
    columns = [f"c{i}" for i in range(len(keys))]
    extract = ", ".join(
        f"CASE WHEN valid THEN json_extract_string(line, {_sql_str('$.' + _quote(k))}) END AS {c}"
        for k, c in zip(keys, columns, strict=True)
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE raw_file AS SELECT _row, {extract} FROM jsonl_lines")
    return keys


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --- loading one batch ----------------------------------------------------------------------


def _build_dim_values(
    con: duckdb.DuckDBPyConnection, settings: Settings, spec: dict[str, Any]
) -> None:
    """Map each distinct raw value of each dictionary column to its normalised value."""
    dicts = settings["dictionaries"]
    streets = settings.streets
    rows: list[tuple[str, str, str | None, str | None]] = []
    for field in spec["fields"]:
        if field["type"] != "dim":
            continue
        name, dictionary = field["name"], field["dictionary"]
        raws = [
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT {_quote(name)} FROM raw_batch WHERE {_quote(name)} IS NOT NULL"
            ).fetchall()
        ]
        for raw in raws:
            if dictionary == "streets":
                rows.append((name, raw, match_dictionary(raw, streets, STREET_SUFFIX), None))
            elif dictionary == "streets_or_district":
                whole = settings["district"]["whole_district"]
                rows.append(
                    (name, raw, match_dictionary(raw, [*streets, whole], STREET_SUFFIX), None)
                )
            elif dictionary == "dcm_categories":
                for parent, allowed in dicts["dcm_categories"].items():
                    rows.append((name, raw, match_dictionary(raw, allowed), parent))
            else:
                rows.append((name, raw, match_dictionary(raw, dicts[dictionary]), None))
    frame = pa.table(
        {
            "col": pa.array([r[0] for r in rows], pa.string()),
            "raw": pa.array([r[1] for r in rows], pa.string()),
            "value": pa.array([r[2] for r in rows], pa.string()),
            "parent": pa.array([r[3] for r in rows], pa.string()),
        }
    )
    con.register("dim_frame", frame)
    try:
        warehouse.execute_file(con, "ingest/dim_values.sql")
    finally:
        con.unregister("dim_frame")


def _failpoint(name: str) -> None:
    """Crash on purpose at a named point (tests prove a killed load leaves nothing partial)."""
    if os.environ.get("URBANREPORT_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


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
    file_name = path.name
    mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, SHANGHAI).replace(tzinfo=None)
    content_hash, encoding = _hash_and_encoding(path, text=path.suffix.lower() != ".xlsx")
    seen = warehouse.query(
        con, "ingest/seen_hash.sql", {"source": source, "content_hash": content_hash}
    )
    if seen[0]["seen"]:
        return BatchResult(
            source, file_name, "skipped", message="已导入过相同内容 (same bytes already ingested)"
        )

    # Reading and validating touch only temp tables, so they happen before the transaction;
    # the transaction covers exactly the persistent writes (rejects, merge, batch, watermark).
    try:
        extras = _stage(con, settings, source, path, encoding)
        refused: FileRefused | None = None
    except FileRefused as exc:
        refused = exc
    con.execute("BEGIN TRANSACTION")
    try:
        batch_id = con.execute("SELECT nextval('batch_seq')").fetchone()[0]
        if refused is not None:
            result = _record_refused(con, source, file_name, content_hash, mtime, batch_id, refused)
        else:
            result = _write_batch(con, source, file_name, content_hash, mtime, batch_id, extras)
            if watermark is not None:
                warehouse.execute_file(
                    con, "ingest/set_watermark.sql", {"source": source, "updated_at": watermark}
                )
        _failpoint("before_commit")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    log.info(
        "%s %s: read %d, loaded %d, rejected %d%s",
        source,
        file_name,
        result.rows_read,
        result.rows_loaded,
        result.rows_rejected,
        f" ({result.message})" if result.message else "",
    )
    return result


def _stage(
    con: duckdb.DuckDBPyConnection, settings: Settings, source: str, path: Path, encoding: str
) -> list[str]:
    """Read, type and validate the file into temp table `staged`; returns ignored headers."""
    if encoding == "empty":
        raise FileRefused("文件为空 (the file is empty)")
    spec = settings.sources[source]
    suffix = path.suffix.lower()
    if suffix == ".csv":
        header, row_expr = _read_csv(con, path, encoding, settings.home / "tmp"), "rowid + 2"
    elif suffix == ".xlsx":
        header, row_expr = _read_xlsx(con, path), "_row"
    else:
        header, row_expr = _read_jsonl(con, path, encoding), "_row"
    columns = [c for c in con.sql("SELECT * FROM raw_file LIMIT 0").columns if c != "_row"]
    mapped, extras = map_headers(header, spec)
    _create_raw_batch(con, columns, mapped, spec, row_expr)
    _build_dim_values(con, settings, spec)
    warehouse.execute_file(con, f"staging/{source}.sql")
    if suffix == ".jsonl":
        warehouse.execute_file(con, "ingest/jsonl_invalid.sql")
    warehouse.execute_file(con, "ingest/supersede.sql", {"key_column": spec["key"][0]})
    return extras


def _record_refused(
    con: duckdb.DuckDBPyConnection,
    source: str,
    file_name: str,
    content_hash: str,
    mtime: dt.datetime,
    batch_id: int,
    exc: FileRefused,
) -> BatchResult:
    message = f"{file_name}: 整个文件被拒绝 (file refused): {exc.reason}"
    warehouse.execute_file(
        con,
        "ingest/refused_file.sql",
        {
            "batch_id": batch_id,
            "source": source,
            "file_name": file_name,
            "column_name": exc.column,
            "reason": message,
        },
    )
    _record_batch(
        con, batch_id, source, file_name, content_hash, mtime, (0, 0, 0), "refused", message
    )
    return BatchResult(source, file_name, "refused", batch_id=batch_id, message=message)


def _record_batch(
    con: duckdb.DuckDBPyConnection,
    batch_id: int,
    source: str,
    file_name: str,
    content_hash: str,
    mtime: dt.datetime,
    counts: tuple[int, int, int],
    status: str,
    message: str,
) -> None:
    warehouse.execute_file(
        con,
        "ingest/record_batch.sql",
        {
            "batch_id": batch_id,
            "source": source,
            "file_name": file_name,
            "content_hash": content_hash,
            "file_mtime": mtime,
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
    source: str,
    file_name: str,
    content_hash: str,
    mtime: dt.datetime,
    batch_id: int,
    extras: list[str],
) -> BatchResult:
    """Inside the batch transaction: rejects, MERGE into the core table, the batch record."""
    params = {"batch_id": batch_id, "source": source, "file_name": file_name}
    warehouse.execute_file(con, "ingest/rejects.sql", params)
    counts = warehouse.query(con, "ingest/counts.sql")[0]
    warehouse.execute_file(con, f"merge/{source}.sql", {"batch_id": batch_id})
    _failpoint("after_merge")
    message = f"忽略额外列 (extra columns ignored): {', '.join(extras)}" if extras else ""
    triple = (counts["rows_read"], counts["rows_loaded"], counts["rows_rejected"])
    _record_batch(con, batch_id, source, file_name, content_hash, mtime, triple, "loaded", message)
    return BatchResult(source, file_name, "loaded", *triple, batch_id=batch_id, message=message)


# --- whole inbox ----------------------------------------------------------------------------


def ingest_source(
    con: duckdb.DuckDBPyConnection, settings: Settings, source: str
) -> list[BatchResult]:
    """Load every file of one source's inbox that was not ingested yet, oldest first."""
    return [ingest_file(con, settings, source, p) for p in discover_files(settings, source)]


def ingest_all(settings: Settings, full_refresh: bool = False) -> dict[str, list[BatchResult]]:
    """Everything new in the inbox, plus the HTTP source when configured, under the write lock."""
    from flows.http_source import pull_dcm_cases

    results: dict[str, list[BatchResult]] = {}
    with warehouse.writer(settings) as con:
        for source in SOURCES:
            results[source] = ingest_source(con, settings, source)
        pulled = pull_dcm_cases(con, settings, full_refresh=full_refresh)
        if pulled is not None:
            results["dcm_cases"].append(pulled)
        refresh_calendar(con, settings)
    return results


def format_summary(results: dict[str, Iterable[BatchResult]]) -> str:
    """Per source: files, rows read, loaded, rejected — what `urbanreport ingest` prints."""
    lines = [f"{'数据源':<20}{'文件':>6}{'读取行':>10}{'入库行':>10}{'拒绝行':>10}  说明"]
    for source, batches in results.items():
        batches = [b for b in batches if not b.skipped]
        notes = [b.message for b in batches if b.message]
        lines.append(
            f"{source:<20}{len(batches):>6}{sum(b.rows_read for b in batches):>10}"
            f"{sum(b.rows_loaded for b in batches):>10}{sum(b.rows_rejected for b in batches):>10}"
            f"  {'; '.join(notes)}"
        )
    return "\n".join(lines)


def list_rejects(
    settings: Settings, source: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """Refused rows, newest batch first."""
    with warehouse.reader(settings) as con:
        return warehouse.query(con, "ingest/list_rejects.sql", {"source": source, "limit": limit})


def format_rejects(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "没有被拒绝的数据行 (no refused rows)"
    lines = ["数据源\t文件\t行号\t列\t原始值\t原因"]
    for r in rows:
        lines.append(
            f"{r['source']}\t{r['file_name']}\t{r['row_number'] or '-'}\t{r['column_name'] or '-'}"
            f"\t{r['raw_value'] if r['raw_value'] is not None else ''}\t{r['reason']}"
        )
    return "\n".join(lines)
