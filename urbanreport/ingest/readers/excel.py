"""Excel workbooks (.xlsx, .xlsm, .xls) through calamine: every sheet whose header matches.

Why calamine (python-calamine): one maintained reader for all three formats that gives each
cell as Excel stores it (a date, a datetime, a number, text, a boolean), the merged ranges,
and the sheets' visibility, and opens a file by its content, so an `.xls` saved as `.xlsx`
reads too. A cell becomes the text the value rules read: a date `2023-07-05`, a datetime
`2023-07-05 10:30:00`, a number by its 15 significant digits as Excel shows them (1234.5 stays
1234.5 and is stored 1234.50; 12.0 is 12). A formula cell gives its cached value; one without a
cached value, or one holding an error such as #DIV/0!, is refused with that reason (found in
the sheet XML of .xlsx/.xlsm; an .xls always stores a formula's result).

Each visible worksheet whose header matches is loaded into the same batch, its rejects shown
as `sheet!row`; every other sheet is named in the batch notes with the reason it was skipped.
A header cell covered by a merged range from the row above (a two-row header whose 案件编号
spans both rows) takes that range's text: a merged header cell counts as one header.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from urbanreport.ingest.readers.header import (
    HEADER_SEARCH_ROWS,
    HeaderIndex,
    HeaderMatch,
    extras_note,
    find_header,
)
from urbanreport.ingest.readers.sink import RawSink, add_sheet, sheet_row
from urbanreport.ingest.refusal import FileRefused

Merge = tuple[tuple[int, int], tuple[int, int]]
Flags = dict[tuple[int, int], tuple[str | None, str]]  # (row, col) → (raw value, reason)

UNREADABLE = (
    "Excel文件无法读取：文件已损坏，或设有打开密码 "
    "(cannot read the workbook: it is damaged or protected by a password)"
)


def read_workbook(
    con: duckdb.DuckDBPyConnection, path: Path, index: HeaderIndex, kind: str
) -> list[str]:
    """Load the matching sheets into raw_batch; returns the batch notes."""
    try:
        with path.open("rb") as fh:
            workbook = CalamineWorkbook.from_filelike(fh)
            sheets = [
                (i, meta, _grid(workbook, meta))
                for i, meta in enumerate(workbook.sheets_metadata, 1)
            ]
    except (CalamineError, OSError, ValueError) as exc:
        raise FileRefused(UNREADABLE) from exc
    flags = xlsx_flags(path) if kind == "xlsx" else {}
    sink = RawSink(con, index.fields)
    notes: list[str] = []
    skipped: list[tuple[str, FileRefused | str]] = []
    loaded = has_cells = 0
    header_rows: dict[int, list[str]] = {}  # header row → sheets with their header there
    for sheet_no, meta, grid in sheets:
        if grid is None:
            skipped.append((meta.name, _skip_reason(meta)))
            continue
        rows, merges = grid
        where = f"工作表“{meta.name}”："
        candidates = _header_rows(rows, merges)
        if not candidates:
            skipped.append((meta.name, "空白工作表 (empty sheet)"))
            continue
        has_cells += 1
        try:
            match = find_header(candidates, index, where=where)
        except FileRefused as exc:
            skipped.append((meta.name, exc))
            continue
        loaded += 1
        add_sheet(con, sheet_no, meta.name)
        _load_rows(sink, sheet_no, rows, match, index, flags.get(meta.name, {}))
        header_rows.setdefault(match.row, []).append(meta.name)
        notes += [n for n in (extras_note(match.extras),) if n]
    if not loaded:
        raise (
            _refusal(skipped)
            if has_cells
            else FileRefused("工作簿中没有数据 (the workbook has no data)")
        )
    sink.flush()
    notes = _header_notes(header_rows) + notes
    if skipped:
        notes.append(_skipped_note(skipped, index))
    return notes


def _header_notes(header_rows: dict[int, list[str]]) -> list[str]:
    """Rows above the header, once per header row: sheets laid out alike share one note."""
    notes = []
    for row, names in header_rows.items():
        match = HeaderMatch(row, 0, (), ())
        note = match.skipped_note("工作表" + "".join(f"“{n}”" for n in names) + "：")
        if note:
            notes.append(note)
    return notes


def _grid(workbook: CalamineWorkbook, meta: Any) -> tuple[list[list[Any]], list[Merge]] | None:
    """All cells of a visible worksheet from A1 on, and its merged ranges; None to skip it."""
    if meta.typ != SheetTypeEnum.WorkSheet or meta.visible != SheetVisibleEnum.Visible:
        return None
    sheet = workbook.get_sheet_by_name(meta.name)
    return sheet.to_python(skip_empty_area=False), list(sheet.merged_cell_ranges or [])


def _skip_reason(meta: Any) -> str:
    if meta.typ != SheetTypeEnum.WorkSheet:
        return "不是数据工作表（如图表） (not a worksheet)"
    return "隐藏的工作表 (hidden sheet)"


def _refusal(skipped: list[tuple[str, FileRefused | str]]) -> FileRefused:
    """No sheet loaded: the file is refused, with each sheet's reason."""
    reasons = [r for _, r in skipped if isinstance(r, FileRefused)]
    if len(reasons) == 1:
        return reasons[0]
    text = "；".join(r.reason for r in reasons)
    first = next((r.column for r in reasons if r.column), None)
    return FileRefused(f"没有一个工作表含有本数据源的表头 (no sheet has the header): {text}", first)


def _skipped_note(skipped: list[tuple[str, FileRefused | str]], index: HeaderIndex) -> str:
    parts = []
    for name, why in skipped:
        if isinstance(why, FileRefused):
            column = index.headers.get(why.column or "")
            why = f"缺少必填列“{column}”" if column else "没有表头 (no header)"
        parts.append(f"“{name}”（{why}）")
    return "未读取的工作表 (sheets not loaded): " + "；".join(parts)


def _header_rows(rows: list[list[Any]], merges: list[Merge]) -> list[tuple[int, list[str | None]]]:
    """The first 20 non-empty rows as text, each with the text of merges reaching it from above."""
    found = []
    for r, row in enumerate(rows):
        if not _non_empty(row):
            continue
        cells = [cell_text(v) for v in row]
        for (r0, c0), (r1, _c1) in merges:
            if r0 < r <= r1 and c0 < len(cells) and cells[c0] is None:
                cells[c0] = cell_text(rows[r0][c0])
        found.append((r + 1, cells))
        if len(found) >= HEADER_SEARCH_ROWS:
            break
    return found


def _load_rows(
    sink: RawSink,
    sheet_no: int,
    rows: list[list[Any]],
    match: HeaderMatch,
    index: HeaderIndex,
    flags: Flags,
) -> None:
    columns = [match.fields.index(f) if f in match.fields else None for f in index.fields]
    for r in range(match.row, len(rows)):
        row = rows[r]
        if not _non_empty(row):
            continue
        number = sheet_row(sheet_no, r + 1)
        sink.add(
            number, [cell_text(row[c]) if c is not None and c < len(row) else None for c in columns]
        )
        for name, c in zip(index.fields, columns, strict=True):
            if c is not None and (r, c) in flags:
                raw, reason = flags[(r, c)]
                sink.problem(number, name, raw, reason)


def _non_empty(row: Sequence[Any]) -> bool:
    return any(v is not None and v != "" for v in row)


# --- cells as text --------------------------------------------------------------------------------


def cell_text(value: Any) -> str | None:
    """A cell's value as the text the value rules read (None for an empty cell)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return _round_second(value).isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="seconds")
    return str(value)


def number_text(value: float) -> str:
    """A number as Excel shows it: 15 significant digits, no exponent, no trailing zeros."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = format(Decimal(format(value, ".15g")).normalize(), "f")
    return text


def _round_second(value: dt.datetime) -> dt.datetime:
    """Excel stores times as fractions of a day; 10:29:59.9999 is 10:30:00 on screen."""
    return (value + dt.timedelta(microseconds=500_000)).replace(microsecond=0)


# --- formulas and error values in the sheet XML (.xlsx, .xlsm) ------------------------------------

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_MAYBE = re.compile(rb'<(?:\w+:)?f[ >/]|t="e"')
_CELL_REF = re.compile(r"([A-Z]+)(\d+)")
NO_CACHED_VALUE = (
    "公式单元格没有保存计算结果：请在Excel中打开、重新计算并保存后再导出 "
    "(formula without a cached value: open the file in Excel, recalculate and save it)"
)


def error_reason(value: str | None) -> str:
    return (
        f"单元格是Excel错误值 {value or ''}（公式计算出错） (the cell holds an Excel error value)"
    )


def xlsx_flags(path: Path) -> dict[str, Flags]:
    """Per sheet name: cells whose formula has no cached value, and cells holding an error."""
    try:
        with zipfile.ZipFile(path) as zf:
            return {
                name: _part_flags(zf, part)
                for name, part in _sheet_parts(zf).items()
                if _maybe(zf, part)
            }
    except (zipfile.BadZipFile, KeyError, ET.ParseError, OSError):
        return {}


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    workbook = ET.fromstring(zf.read("xl/workbook.xml"))
    rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PKG_RELS}Relationship")}
    parts = {}
    for sheet in workbook.iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_RELS}id"), "")
        if target:
            parts[sheet.get("name", "")] = (
                target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            )
    return parts


def _maybe(zf: zipfile.ZipFile, part: str) -> bool:
    """A quick byte scan: does the sheet hold any formula or error cell at all?"""
    tail = b""
    with zf.open(part) as fh:
        while chunk := fh.read(1 << 20):
            if _MAYBE.search(tail + chunk):
                return True
            tail = chunk[-8:]
    return False


def _part_flags(zf: zipfile.ZipFile, part: str) -> Flags:
    flags: Flags = {}
    with zf.open(part) as fh:
        for _, el in ET.iterparse(fh, events=("end",)):
            if el.tag != f"{_MAIN}c":
                if el.tag == f"{_MAIN}row":
                    el.clear()
                continue
            formula, value, kind = el.find(f"{_MAIN}f"), el.find(f"{_MAIN}v"), el.get("t")
            cached = value is not None and bool(value.text)
            where = _cell_position(el.get("r", ""))
            if where is None:
                continue
            if kind == "e":
                flags[where] = (
                    value.text if value is not None else None,
                    error_reason(value.text if value is not None else None),
                )
            elif formula is not None and not cached and kind not in ("str", "inlineStr"):
                flags[where] = (f"={formula.text or ''}", NO_CACHED_VALUE)
    return flags


def _cell_position(ref: str) -> tuple[int, int] | None:
    """A1 → (0, 0): row and column, zero-based."""
    match = _CELL_REF.fullmatch(ref)
    if not match:
        return None
    col = 0
    for ch in match.group(1):
        col = col * 26 + ord(ch) - 64
    return int(match.group(2)) - 1, col - 1
