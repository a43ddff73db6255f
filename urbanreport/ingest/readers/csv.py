"""CSV and tab-separated text: RFC 4180 quoting, any line ending, the header found, not assumed.

Why two paths: DuckDB's parallel reader is the fast path and reads nearly every system export
(UTF-8, or GB18030/UTF-16 transcoded to a temporary UTF-8 copy first). It numbers rows by
their order, so it is used only where that order gives the row a spreadsheet shows: no blank
line below the header (DuckDB skips blank lines, a spreadsheet counts them) and a one-line
record for every row above it. A quoted line break (a remark cell as Excel exports it) makes
the parallel reader give up, so the same read runs once more single-threaded. Whatever DuckDB
cannot read goes to Python's strict `csv` reader, streamed in chunks, which either reads it or
says in plain words where the quoting breaks. Either way a cell with line breaks stays one
row, and row numbers are those of the spreadsheet (the header's own row, titles above it and
blank rows all count).
"""

from __future__ import annotations

import csv
import mmap
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import duckdb

from urbanreport.core import warehouse
from urbanreport.core.warehouse import quote
from urbanreport.ingest.readers.detect import UNKNOWN_ENCODING
from urbanreport.ingest.readers.header import (
    HEADER_SEARCH_ROWS,
    HeaderIndex,
    HeaderMatch,
    extras_note,
    find_header,
)
from urbanreport.ingest.readers.sink import RawSink, drop_raw_batch
from urbanreport.ingest.refusal import FileRefused

DELIMITERS = (",", "\t")
_FIRST_LINES = 100  # physical lines read first to find the header in
_HEAD_LINES = 2000  # … and at most, when 20 records need more lines (multi-line cells)
_FIELD_LIMIT = 1 << 24  # a remark cell may be long; the csv module's default is 128 KiB
_BLANK = (b"\n\n", b"\n\r\n")  # CR-only files never take the DuckDB path
_TEXT = re.compile(rb"[^\r\n]")  # anything but a line ending


@dataclass(frozen=True)
class Head:
    """Where the header is: its match, the delimiter, and the physical lines up to it."""

    match: HeaderMatch
    delimiter: str
    lines_before: int  # physical lines above the header record
    lines_through: int  # physical lines up to and including the header record
    head: list[str]  # the physical lines read to find it


def read_table(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    encoding: str,
    index: HeaderIndex,
    tmp_dir: Path,
) -> list[str]:
    """Load a CSV/TSV into raw_batch (see sink.py); returns the batch notes."""
    csv.field_size_limit(_FIELD_LIMIT)
    head = find_table_header(path, encoding, index)
    notes = [n for n in (head.match.skipped_note(), _delimiter_note(head)) if n]
    notes += [n for n in (extras_note(head.match.extras),) if n]
    utf8 = path if encoding in ("utf-8", "utf-8-sig") else _transcode(path, encoding, tmp_dir)
    try:
        if _duckdb_can_number(utf8, encoding, head) and _read_duckdb(con, utf8, head, index):
            return notes
    finally:
        if utf8 != path:
            utf8.unlink(missing_ok=True)
    _read_python(con, path, encoding, head, index)
    return notes


def _delimiter_note(head: Head) -> str | None:
    return "以制表符分隔 (tab-separated)" if head.delimiter == "\t" else None


# --- the header -------------------------------------------------------------------------------


def _open_text(path: Path, encoding: str) -> TextIO:
    """Universal line splitting, line endings untranslated (a quoted CR LF stays in the cell)."""
    codec = {"utf-8": "utf-8-sig", "utf-8-sig": "utf-8-sig"}.get(encoding, encoding)
    return path.open(encoding=codec, newline="")


def _head_lines(path: Path, encoding: str, limit: int) -> list[str]:
    lines: list[str] = []
    try:
        with _open_text(path, encoding) as fh:
            for line in fh:
                lines.append(line)
                if len(lines) >= limit:
                    break
    except UnicodeError as exc:
        raise FileRefused(UNKNOWN_ENCODING) from exc
    return lines


def _records(lines: list[str], delimiter: str) -> Iterator[tuple[int, list[str], int, int]]:
    """(row, cells, physical lines before it, physical lines through it) of each record."""
    reader = csv.reader(iter(lines), delimiter=delimiter, strict=True)
    row = before = 0
    try:
        for cells in reader:
            row += 1
            yield row, cells, before, reader.line_num
            before = reader.line_num
    except csv.Error:
        return  # the whole read reports where the quoting breaks


def find_table_header(path: Path, encoding: str, index: HeaderIndex) -> Head:
    """The header and delimiter: whichever of comma and tab gives a complete header."""
    lines = _head_lines(path, encoding, _FIRST_LINES)
    if len(lines) == _FIRST_LINES and sum(1 for r in _records(lines, ",") if any(r[1])) < 20:
        lines = _head_lines(path, encoding, _HEAD_LINES)  # long multi-line cells near the top
    found: list[Head] = []
    refusals: list[tuple[int, FileRefused]] = []
    for delimiter in DELIMITERS:
        records = []
        for record in _records(lines, delimiter):
            if any(record[1]):
                records.append(record)
            if len(records) >= HEADER_SEARCH_ROWS:
                break
        try:
            match = find_header([(row, cells) for row, cells, _, _ in records], index)
        except FileRefused as exc:
            refusals.append((max((len(r[1]) for r in records), default=0), exc))
            continue
        _, _, before, through = records[match.position]
        found.append(Head(match, delimiter, before, through, lines))
    if found:
        return max(found, key=lambda h: len(h.match.matched))
    raise max(refusals, key=lambda r: r[0])[1]


# --- the fast path: DuckDB ----------------------------------------------------------------------


def _transcode(path: Path, encoding: str, tmp_dir: Path) -> Path:
    """A temporary UTF-8 copy (DuckDB reads UTF-8 only), decoded strictly."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(suffix=".csv", dir=tmp_dir)
    try:
        with (
            os.fdopen(fd, "w", encoding="utf-8", newline="") as out,
            _open_text(path, encoding) as src,
        ):
            while block := src.read(1 << 20):
                out.write(block)
    except UnicodeError as exc:
        Path(tmp_name).unlink(missing_ok=True)
        raise FileRefused(UNKNOWN_ENCODING) from exc
    return Path(tmp_name)


def _duckdb_can_number(utf8: Path, encoding: str, head: Head) -> bool:
    """Does DuckDB's row order give the spreadsheet row (no blank line below the header)?"""
    if head.lines_before != head.match.row - 1:
        return False  # a record above the header spans lines: DuckDB would skip too few
    if head.head[head.lines_through - 1].endswith("\r"):
        return False  # old Mac line ends (CR alone): DuckDB may split a quoted LF
    offset = sum(len(line.encode("utf-8")) for line in head.head[: head.lines_through])
    if encoding == "utf-8-sig":
        offset += 3
    return not _has_blank_lines(utf8, offset)


def _has_blank_lines(path: Path, offset: int) -> bool:
    """An empty line after `offset`, other than empty lines at the very end of the file.

    `offset` is where the line after the header starts, so the byte before it ends a line.
    Searched in a memory map: the file's bytes are scanned in place, never copied."""
    if path.stat().st_size <= offset:
        return False
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        found = [at for at in (mm.find(b, offset - 1) for b in _BLANK) if at >= 0]
        # only line endings after the first one: blank lines at the very end are harmless
        return bool(found) and _TEXT.search(mm, min(found)) is not None


def _read_duckdb(
    con: duckdb.DuckDBPyConnection, path: Path, head: Head, index: HeaderIndex
) -> bool:
    """raw_file via DuckDB (parallel, then single-threaded); False if DuckDB cannot read it."""
    width = len(head.match.fields)
    names = [f"c{i}" for i in range(width)]
    params = {
        "path": str(path),
        "names": names,
        "skip": head.lines_before,
        "delim": head.delimiter,
    }
    for parallel in (True, False):
        try:
            warehouse.execute_file(con, "ingest/read_csv.sql", params | {"parallel": parallel})
            break
        except duckdb.Error:
            continue
    else:
        return False
    extra = [c for c in con.sql("SELECT * FROM raw_file LIMIT 0").columns if c not in names]
    if extra:
        # DuckDB widens the table for a row longer than the header: say which row that is.
        cond = " OR ".join(f"{quote(c)} IS NOT NULL" for c in extra)
        first = con.execute(f"SELECT min(rowid) FROM raw_file WHERE {cond}").fetchone()[0]
        if first is not None:
            raise _too_many_cells(first + head.match.row + 1, width)
    _raw_batch_view(con, names, head, index)
    return True


def _raw_batch_view(
    con: duckdb.DuckDBPyConnection, names: list[str], head: Head, index: HeaderIndex
) -> None:
    """raw_batch over raw_file: the row a spreadsheet shows, contract fields, no empty rows."""
    by_field = {f: c for c, f in zip(names, head.match.fields, strict=True) if f}
    select = [f"CAST(rowid + {head.match.row + 1} AS BIGINT) AS _row"]
    for name in index.fields:
        col = by_field.get(name)
        select.append(f"{quote(col) if col else 'CAST(NULL AS VARCHAR)'} AS {quote(name)}")
    # Rows of only delimiters (`,,,,`) are empty rows, as blank lines are: left out, numbered.
    # System exports have none, so the filter is added only when there are some.
    not_empty = f"coalesce({', '.join(f'nullif({quote(c)}, {chr(39) * 2})' for c in names)})"
    where = f" WHERE {not_empty} IS NOT NULL"
    if not con.execute(f"SELECT count(*) FROM raw_file WHERE {not_empty} IS NULL").fetchone()[0]:
        where = ""
    drop_raw_batch(con)
    con.execute(f"CREATE TEMP VIEW raw_batch AS SELECT {', '.join(select)} FROM raw_file{where}")


def _too_many_cells(row: int, width: int) -> FileRefused:
    return FileRefused(
        f"第{row}行的单元格多于表头的{width}列（可能是未加引号的逗号） "
        f"(row {row} has more cells than the header; an unquoted comma?)"
    )


# --- the careful path: Python's csv module, streamed ---------------------------------------------


def _read_python(
    con: duckdb.DuckDBPyConnection, path: Path, encoding: str, head: Head, index: HeaderIndex
) -> None:
    """Every record after the header into raw_batch, numbered as a spreadsheet numbers rows."""
    width = len(head.match.fields)
    columns = [head.match.fields.index(f) if f in head.match.fields else None for f in index.fields]
    sink = RawSink(con, index.fields)
    row = 0
    with _open_text(path, encoding) as fh:
        reader = csv.reader(fh, delimiter=head.delimiter, strict=True)
        try:
            for row, cells in enumerate(reader, start=1):
                if row <= head.match.row or not any(cells):
                    continue
                if len(cells) > width and any(cells[width:]):
                    raise _too_many_cells(row, width)
                sink.add(row, [_cell(cells, i) for i in columns])
        except csv.Error as exc:
            raise FileRefused(
                f"CSV无法解析：第{row + 1}行附近的引号不配对，或引号后紧跟其他字符 "
                f"(cannot parse the CSV near row {row + 1}: a quote is not closed, or text "
                f"follows a closing quote)"
            ) from exc
        except UnicodeError as exc:
            raise FileRefused(UNKNOWN_ENCODING) from exc
    sink.flush()


def _cell(cells: list[str], i: int | None) -> str | None:
    if i is None or i >= len(cells) or cells[i] == "":
        return None
    return cells[i]
