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
import json
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

from urbanreport.core import warehouse
from urbanreport.core.config import SOURCES, Settings
from urbanreport.core.normalize import STREET_SUFFIX, match_dictionary
from urbanreport.core.workdays import refresh_calendar
from urbanreport.ingest import http_source

log = logging.getLogger(__name__)

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
    UTF-8 nor plausible GB18030 gets "unknown" and is refused rather than read as mojibake.
    A NUL byte never occurs in a text export (it does in UTF-16), so it also means "unknown".
    """
    digest = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_ok = text
    has_nul = False
    head = b""
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            head = head or chunk[:3]
            digest.update(chunk)
            has_nul = has_nul or (text and b"\x00" in chunk)
            if utf8_ok:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    utf8_ok = False
    if not head:
        return digest.hexdigest(), "empty"
    if not text:
        return digest.hexdigest(), "binary"
    if has_nul:
        return digest.hexdigest(), "unknown"
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
    if utf8_ok:
        return digest.hexdigest(), "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    if _reads_as_gb18030(path):
        return digest.hexdigest(), "gb18030"
    return digest.hexdigest(), "unknown"


# Characters a Chinese administrative export does not hold but Big5 (Traditional Chinese) bytes
# read as GB18030 produce by the dozen: kana, bopomofo and private-use code points.
_NOT_GB_TEXT = re.compile("[\u3040-\u30ff\u3100-\u312f\ue000-\uf8ff]")


def _reads_as_gb18030(path: Path) -> bool:
    """Strictly decodable as GB18030 and not mojibake of another encoding (e.g. Big5).

    Big5 bytes are valid GB18030 byte pairs, so strict decoding alone would accept a Big5 file
    as gibberish. A few private-use characters (locally made 造字 in personal names) are
    tolerated; three or more that are also over one in fifty of the non-ASCII characters mean
    another encoding. (A Big5 file too small to tell still fails: its street, category or type
    values match no dictionary, so none of its rows load.)
    """
    decoder = codecs.getincrementaldecoder("gb18030")()
    non_ascii = suspicious = 0
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                text = decoder.decode(chunk)
                non_ascii += len(text) - len(text.encode("ascii", "ignore"))
                suspicious += len(_NOT_GB_TEXT.findall(text))
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return suspicious < 3 or suspicious * 50 <= non_ascii


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
    row_expr: str = "_row",
) -> None:
    """View raw_batch over temp table raw_file: _row plus every contract field, as text.

    `row_expr` gives the row number: raw_file's own _row column, or for a CSV read by DuckDB
    its rowid (file order) plus 2 for the header.

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


def _load_raw_file(
    con: duckdb.DuckDBPyConnection,
    row_numbers: list[int],
    records: list[list[str | None]],
    width: int,
) -> None:
    """Temp table raw_file: _row (the row number a user sees) and text columns c0..c{width-1}."""
    columns = {"_row": pa.array(row_numbers, pa.int64())}
    for i in range(width):
        columns[f"c{i}"] = pa.array(
            [rec[i] if i < len(rec) else None for rec in records], pa.string()
        )
    frame = pa.table(columns)
    con.register("raw_frame", frame)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE raw_file AS SELECT * FROM raw_frame")
    finally:
        con.unregister("raw_frame")


def _has_blank_lines(path: Path) -> bool:
    """Does the file hold an empty line (hand-edited files do; system exports do not)?"""
    tail = b"\n"  # a blank first line counts too
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            block = tail + chunk
            if b"\n\n" in block or b"\n\r\n" in block:
                return True
            tail = block[-2:]
    return False


def _read_csv_duckdb(
    con: duckdb.DuckDBPyConnection, path: Path, encoding: str, tmp_dir: Path
) -> list[str]:
    """The fast path: DuckDB's parallel CSV reader, never a Python object per row.

    GB18030 is transcoded to a temporary UTF-8 file first (DuckDB reads UTF-8 only).
    """
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
    try:
        with read_path.open(encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader([fh.readline()]), [])
        if not any(h.strip() for h in header):
            raise FileRefused("文件没有表头行 (no header row)")
        names = [f"c{i}" for i in range(len(header))]
        warehouse.execute_file(con, "ingest/read_csv.sql", {"path": str(read_path), "names": names})
        extra = [c for c in con.sql("SELECT * FROM raw_file LIMIT 0").columns if c not in names]
        if extra:
            # DuckDB pads short rows and widens the table for long ones: a cell beyond the
            # header would otherwise be dropped without a word.
            cond = " OR ".join(f"{_quote(c)} IS NOT NULL" for c in extra)
            first = con.execute(f"SELECT min(rowid) + 2 FROM raw_file WHERE {cond}").fetchone()[0]
            if first is not None:
                raise FileRefused(
                    f"第{first}行的单元格多于表头的{len(header)}列 (row {first} has more "
                    f"cells than the header; an unquoted comma?)"
                )
    except duckdb.Error as exc:
        raise FileRefused(f"CSV无法解析 (cannot parse CSV): {exc}") from exc
    finally:
        if read_path != path:
            read_path.unlink(missing_ok=True)
    return header


def _read_csv(
    con: duckdb.DuckDBPyConnection, path: Path, encoding: str, tmp_dir: Path
) -> list[str]:
    """Load a CSV into raw_file (all text, file order); the header is the first non-empty row.

    Row numbers are those a spreadsheet shows (header = row 1; a quoted line break stays inside
    its row). System exports have no blank lines and go through DuckDB's reader; a hand-edited
    file with blank lines is read here row by row so that blank rows still count in the
    numbering. Quoting is strict RFC 4180: a file that breaks it is refused whole.
    """
    if encoding not in ("utf-8", "utf-8-sig", "gb18030"):
        raise FileRefused(
            "无法识别文件编码：既不是UTF-8也不是GB18030（Big5、UTF-16等请另存为UTF-8） "
            "(unknown text encoding: neither UTF-8 nor GB18030; save the file as UTF-8)"
        )
    if not _has_blank_lines(path):
        return _read_csv_duckdb(con, path, encoding, tmp_dir)
    header: list[str] | None = None
    row_numbers: list[int] = []
    records: list[list[str | None]] = []
    number = 0
    with path.open(encoding="gb18030" if encoding == "gb18030" else "utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, strict=True)
        try:
            for number, record in enumerate(reader, start=1):
                if not any(record):
                    continue
                if header is None:
                    header = record
                    continue
                if len(record) > len(header) and any(record[len(header) :]):
                    raise FileRefused(
                        f"第{number}行的单元格多于表头的{len(header)}列 (row {number} has more "
                        f"cells than the header; an unquoted comma?)"
                    )
                row_numbers.append(number)
                records.append([cell if cell != "" else None for cell in record[: len(header)]])
        except csv.Error as exc:
            raise FileRefused(
                f"CSV无法解析，第{number + 1}行附近 (cannot parse CSV near row {number + 1}): {exc}"
            ) from exc
    if header is None:
        raise FileRefused("文件没有表头行 (no header row)")
    _load_raw_file(con, row_numbers, records, len(header))
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
    _load_raw_file(
        con,
        [first_row + i for i in data_idx],
        [[rows[i][n] for n in names] for i in data_idx],
        len(names),
    )
    return header


def _json_text(value: Any) -> str | None:
    """A JSON value as the text a CSV cell would hold (numbers keep their literal digits)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def _read_jsonl(con: duckdb.DuckDBPyConnection, path: Path, encoding: str) -> list[str]:
    """Load JSON Lines into raw_file: one column per key seen, text values; bad lines flagged.

    _row is the line number; blank lines are skipped. A line that is not a JSON object is kept
    with its text in temp table jsonl_lines (valid = false) and refused on its own.
    """
    if encoding not in ("utf-8", "utf-8-sig"):
        raise FileRefused("JSON Lines 必须是UTF-8编码 (JSON Lines must be UTF-8)")
    keys: dict[str, None] = {}
    numbers: list[int] = []
    lines: list[str] = []
    objects: list[dict[str, Any] | None] = []
    with path.open(encoding="utf-8-sig", newline=None) as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                # Numbers stay text, so 3009408.10 reaches the money rule exactly as written.
                obj = json.loads(line, parse_float=str, parse_int=str, parse_constant=str)
            except ValueError:
                obj = None
            if not isinstance(obj, dict):
                obj = None
            else:
                keys.update(dict.fromkeys(obj))
            numbers.append(number)
            lines.append(line.rstrip("\n"))
            objects.append(obj)
    if not keys:
        raise FileRefused("文件中没有JSON对象 (no JSON objects in the file)")
    header = list(keys)
    records = [[_json_text(o.get(k)) for k in header] if o else [] for o in objects]
    _load_raw_file(con, numbers, records, len(header))
    frame = pa.table(
        {
            "_row": pa.array(numbers, pa.int64()),
            "line": pa.array(lines, pa.string()),
            "valid": pa.array([o is not None for o in objects], pa.bool_()),
        }
    )
    con.register("jsonl_frame", frame)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE jsonl_lines AS SELECT * FROM jsonl_frame")
    finally:
        con.unregister("jsonl_frame")
    return header


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
    if seen:
        first = seen[0]
        was_refused = first["status"] == "refused"
        return BatchResult(
            source,
            file_name,
            "skipped",
            message=f"已导入过相同内容（{first['file_name']}，{first['loaded_at']:%Y-%m-%d %H:%M}"
            f"{'，当时整个文件被拒绝' if was_refused else ''}） (same bytes already ingested as "
            f"{first['file_name']}{', refused then' if was_refused else ''})",
        )

    # Reading and validating touch only temp tables, so they happen before the transaction;
    # the transaction covers exactly the persistent writes (rejects, merge, batch, watermark).
    try:
        extras = _stage(con, settings, source, path, encoding, mtime)
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
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    source: str,
    path: Path,
    encoding: str,
    mtime: dt.datetime,
) -> list[str]:
    """Read, type and validate the file into temp table `staged`; returns ignored headers."""
    if encoding == "empty":
        raise FileRefused("文件为空 (the file is empty)")
    spec = settings.sources[source]
    suffix = path.suffix.lower()
    if suffix == ".csv":
        header = _read_csv(con, path, encoding, settings.home / "tmp")
    elif suffix == ".xlsx":
        header = _read_xlsx(con, path)
    else:
        header = _read_jsonl(con, path, encoding)
    columns = [f"c{i}" for i in range(len(header))]
    mapped, extras = map_headers(header, spec)
    # A CSV read by DuckDB numbers its rows by rowid (file order); the other readers say _row.
    has_row = "_row" in con.sql("SELECT * FROM raw_file LIMIT 0").columns
    _create_raw_batch(con, columns, mapped, spec, "_row" if has_row else "rowid + 2")
    _build_dim_values(con, settings, spec)
    warehouse.execute_file(con, f"staging/{source}.sql")
    if suffix == ".jsonl":
        warehouse.execute_file(con, "ingest/jsonl_invalid.sql")
    key_column = ", ".join(spec["key"])
    warehouse.execute_file(con, "ingest/supersede.sql", {"key_column": key_column})
    older = {"source": source, "file_mtime": mtime, "file_name": path.name}
    if warehouse.query(con, "ingest/newer_loaded.sql", older)[0]["newer_loaded"]:
        # A newer file was loaded before this one: keep its versions (see older_file.sql).
        # The stored version of each key this file repeats (identifiers from the contract only).
        on = " AND ".join(f"t.{_quote(k)} = s.{_quote(k)}" for k in spec["key"])
        con.execute(
            "CREATE OR REPLACE TEMP TABLE stored_versions AS SELECT s._row, t.batch_id "
            f"FROM staged s JOIN {_quote(source)} t ON {on} WHERE len(s.problems) = 0"
        )
        warehouse.execute_file(con, "ingest/older_file.sql", {"key_column": key_column, **older})
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
    """Everything new in the inbox, plus a saved HTTP pull, under the write lock."""
    results: dict[str, list[BatchResult]] = {}
    with warehouse.writer(settings) as con:
        for source in SOURCES:
            results[source] = ingest_source(con, settings, source)
        loaded = ingest_pull(con, settings, pulled)
        if loaded is not None:
            results[http_source.SOURCE].append(loaded)
        refresh_calendar(con, settings)
    return results


def format_summary(results: dict[str, Iterable[BatchResult]]) -> str:
    """Per source: files, rows read, loaded, rejected — what `urbanreport ingest` prints."""
    lines = [f"{'数据源':<20}{'文件':>6}{'读取行':>10}{'入库行':>10}{'拒绝行':>10}  说明"]
    for source, batches in results.items():
        batches = [b for b in batches if not b.skipped]
        notes = list(dict.fromkeys(b.message for b in batches if b.message))
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
