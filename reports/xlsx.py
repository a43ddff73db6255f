"""Excel output: the tables of a `blocks.Document` as a workbook a superior can merge.

Why it looks as it does: the district's tables go upward to be summed with other districts', so
every figure is a number in its cell (never text), rounded as the report prints it and shown with
the report's format; the header row stays in view (frozen, with filters) and holds the unit;
columns are wide enough for Chinese text. The first sheet, 说明, says what the figures are: the
period, the data cut-off, the extract batches the warehouse held, and every indicator's definition
from the catalogue, so a reader in another office needs nothing else.

* Values come from `urbanreport.core.formatting.machine`, the one rule for machine output
  (counts as integers, money and areas to 0.01, rates as fractions to 0.0001, hours and days to
  0.01), each rounded half-up on Decimal. A rate shown as ``0.00%`` therefore reads exactly as
  the PDF prints it (78.02%), and a sum in Excel adds the same cents the report states.
* A null is written as the text 数据缺失, never 0 and never an empty cell a sum would read as 0.
* polars' ``DataFrame.write_excel`` lays each table out (an Excel table with its formats, widths
  and frozen header); xlsxwriter underneath writes fixed zip timestamps, and the workbook's
  created date is the data's, so the same data gives the same bytes.
* Only the document's tables are written: aggregates by month, street or category, never a row
  of a source system, so no applicant, party or ID number can reach the file.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl
import xlsxwriter
from rich.cells import cell_len

from urbanreport.core import catalogue, formatting
from urbanreport.reports.blocks import Column, Document, Table

ABOUT_SHEET = "说明"
MAX_SHEET_NAME = 31
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")

#: Excel number format of each catalogue kind (the report's rounding, no thousands separator).
NUMBER_FORMATS = {
    "count": "0",
    "money": "0.00",
    "area": "0.00",
    "rate": "0.00%",
    "hours": "0.00",
    "days": "0.00",
}
_DTYPES = {"count": pl.Int64}
_MISSING_COLOUR = "#7f7f7f"
_HEADER = {"bold": True, "text_wrap": True, "valign": "vcenter", "align": "center"}


def render(document: Document) -> bytes:
    """The .xlsx bytes: 说明 first, then one sheet per table in document order."""
    buf = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buf,
        {
            "in_memory": True,  # members stamped 1980-01-01, not the clock
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    workbook.set_properties(
        {
            "title": document.title,
            "subject": document.subtitle,
            "author": document.bureau,
            "company": document.bureau,
            "category": document.kind,
            "keywords": document.period_label,
            "comments": f"数据截至{formatting.day(document.data_cutoff)}",
            "created": document.data_moment_utc(),
        }
    )
    tables = document.tables()
    names = sheet_names(t.title for t in tables)
    _about(workbook, document, list(zip(names, tables, strict=True)))
    for name, table in zip(names, tables, strict=True):
        write_table(workbook, name, table, indicator_cells(table, document.meta))
    workbook.close()
    return buf.getvalue()


# --- sheet names -----------------------------------------------------------------------------


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _clip(text: str, limit: int) -> str:
    while _utf16_len(text) > limit:
        text = text[:-1]
    return text


def sheet_names(titles: Iterable[str]) -> list[str]:
    """Excel-legal, unique sheet names from table titles: ≤ 31 characters, none is 说明.

    Excel counts UTF-16 units and compares names without case; a clash gets （2）, （3）….
    """
    taken = {ABOUT_SHEET.casefold()}
    out = []
    for i, title in enumerate(titles, start=1):
        base = _BAD_SHEET_CHARS.sub("", title).strip().strip("'") or f"表{i}"
        name, n = _clip(base, MAX_SHEET_NAME), 1
        while name.casefold() in taken:
            n += 1
            suffix = f"（{n}）"
            name = _clip(base, MAX_SHEET_NAME - _utf16_len(suffix)) + suffix
        taken.add(name.casefold())
        out.append(name)
    return out


# --- indicator tables (one kind per row) -----------------------------------------------------

#: An indicator table's figure columns and where their values are: (result, part of it).
FIGURE_SOURCES = {
    "current": ("result", "indicators"),
    "previous": ("result", "previous"),
    "ytd": ("ytd", "indicators"),
}


def indicator_cells(table: Table, meta: Mapping[str, Any]) -> dict[str, list[tuple[str, Any]]]:
    """For a table with a row per catalogue key (its frame holds the figures as text and the
    `key` of each row): each figure column's (kind, value) per row, from the document's result.

    Why: the text cells read 936宗 or 78.02%, which a superior cannot sum; the numbers behind
    them are the result's, and each row has its own kind, hence its own number format.
    """
    if "key" not in table.frame.columns:
        return {}
    keys = table.frame.get_column("key").to_list()
    out: dict[str, list[tuple[str, Any]]] = {}
    for column in table.columns:
        source = FIGURE_SOURCES.get(column.name)
        if source is None or not isinstance(meta.get(source[0]), Mapping):
            continue
        values = meta[source[0]].get(source[1]) or {}
        out[column.name] = [(catalogue.indicator(k).kind, values.get(k)) for k in keys]
    return out


# --- table sheets ----------------------------------------------------------------------------


def excel_value(kind: str, value: Any) -> Any:
    """A cell's value: the machine form of a figure, the text of a text column, None if null."""
    if value is None or kind == "text":
        return value
    return formatting.machine(kind, value)


def excel_frame(
    table: Table, cells: Mapping[str, list[tuple[str, Any]]] | None = None
) -> pl.DataFrame:
    """The table's frame as Excel gets it: its columns in order, headers with units, numbers
    in machine form (Int64 for counts, Float64 otherwise)."""
    missing = [c.name for c in table.columns if c.name not in table.frame.columns]
    if missing:
        raise KeyError(f"表“{table.title}”缺少列：{missing} (table {table.entry_id})")
    series = []
    for column, label in zip(table.columns, _labels(table.columns), strict=True):
        values = table.frame.get_column(column.name).to_list()
        if column.name in (cells or {}):
            figures = [excel_value(kind, v) for kind, v in (cells or {})[column.name]]
            series.append(pl.Series(label, [_float(v) for v in figures], dtype=pl.Float64))
            continue
        if column.kind == "text":
            source = table.frame.get_column(column.name)
            dtype = source.dtype if source.dtype.is_numeric() else pl.String
            values = (
                values if dtype != pl.String else [None if v is None else str(v) for v in values]
            )
        else:
            dtype = _DTYPES.get(column.kind, pl.Float64)
            values = [excel_value(column.kind, v) for v in values]
        series.append(pl.Series(label, values, dtype=dtype))
    return pl.DataFrame(series)


def _float(value: Any) -> float | None:
    """A machine value as Excel stores every number (a double); exact for cents and 0.0001."""
    return None if value is None else float(value)


def _labels(columns: Sequence[Column]) -> list[str]:
    """Header texts, made unique (an Excel table refuses two equal headers)."""
    seen: dict[str, int] = {}
    out = []
    for column in columns:
        label = column.label
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label}（{seen[label]}）")
    return out


def _display(kind: str, value: Any) -> str:
    """The text a cell shows, for its width: the formatter's number or 数据缺失."""
    if value is None:
        return formatting.MISSING
    return str(value) if kind == "text" else formatting.number(kind, value)


def column_pixels(header: str, texts: Iterable[str]) -> int:
    """Width in pixels for the widest text, a CJK character counting as two digits."""
    chars = max([cell_len(header), *(cell_len(t) for t in texts)]) + 2
    return min(chars, 60) * 7 + 5


def write_table(
    workbook: Any,
    name: str,
    table: Table,
    cells: Mapping[str, list[tuple[str, Any]]] | None = None,
) -> None:
    """One table on its own sheet: formats by kind, frozen header, 数据缺失 for nulls."""
    cells = cells or {}
    frame = excel_frame(table, cells)
    kinds = dict(zip(frame.columns, (c.kind for c in table.columns), strict=True))
    raw = table.frame.select([c.name for c in table.columns])
    widths = {
        label: column_pixels(label, (_display(kinds[label], v) for v in raw.get_column(c.name)))
        for label, c in zip(frame.columns, table.columns, strict=True)
    }
    formats = {label: NUMBER_FORMATS[k] for label, k in kinds.items() if k in NUMBER_FORMATS}
    formats |= {label: {"num_format": "@"} for label, k in kinds.items() if k == "text"}
    for label, column in zip(frame.columns, table.columns, strict=True):
        if column.name in cells:  # numbers, formatted row by row below
            formats[label] = NUMBER_FORMATS["hours"]
    frame.write_excel(
        workbook=workbook,
        worksheet=name,
        table_style="Table Style Light 1",
        column_formats=formats,
        column_widths=widths,
        header_format=_HEADER,
        freeze_panes=(1, 0),
        autofilter=True,
    )
    sheet = workbook.get_worksheet_by_name(name)
    _print_setup(sheet, header_rows=True)
    _row_formats(workbook, sheet, table, cells)
    _mark_missing(workbook, sheet, frame)


def _row_formats(
    workbook: Any, sheet: Any, table: Table, cells: Mapping[str, list[tuple[str, Any]]]
) -> None:
    """Rewrite an indicator table's figures with each row's own number format."""
    formats = {k: workbook.add_format({"num_format": f}) for k, f in NUMBER_FORMATS.items()}
    for c, column in enumerate(table.columns):
        for r, (kind, value) in enumerate(cells.get(column.name, ()), start=1):
            number = _float(excel_value(kind, value))
            if number is not None:
                sheet.write_number(r, c, number, formats.get(kind, formats["hours"]))


def _mark_missing(workbook: Any, sheet: Any, frame: pl.DataFrame, first_row: int = 1) -> None:
    """Write 数据缺失 (grey, right-aligned) where a figure is null."""
    grey = workbook.add_format({"font_color": _MISSING_COLOUR, "align": "right"})
    for c, column in enumerate(frame.columns):
        for r in frame.get_column(column).is_null().arg_true().to_list():
            sheet.write_string(first_row + r, c, formatting.MISSING, grey)


# --- 说明 ------------------------------------------------------------------------------------


def period_text(label: str) -> str:
    """``2023`` → 2023年, ``2023-07`` → 2023年7月."""
    if re.fullmatch(r"\d{4}", label):
        return f"{label}年"
    if m := re.fullmatch(r"(\d{4})-(\d{2})", label):
        return f"{m.group(1)}年{int(m.group(2))}月"
    return label


def _facts(document: Document) -> list[tuple[str, str]]:
    meta = document.meta
    facts = [
        ("报告", document.title),
        ("编制单位", document.bureau),
        ("统计期", period_text(document.period_label)),
        ("数据截至", formatting.day(document.data_cutoff)),
    ]
    if meta.get("period_start") and meta.get("period_end"):
        facts[2] = (
            "统计期",
            f"{formatting.day(meta['period_start'])}至{formatting.day(meta['period_end'])}",
        )
    if document.data_as_of:
        facts.append(("数据时间", document.data_as_of))
    batches = meta.get("batches")
    if isinstance(batches, int):
        facts.append(("使用的数据批次", f"{batches}批（各业务系统报送的文件）"))
    elif batches:
        facts.append(("使用的数据批次", f"{len(batches)}批，见下表"))
    facts.append(
        (
            "数值说明",
            "各表数值均以数字存储：件数为整数，金额、面积保留两位小数，比率以百分比显示并按"
            "四舍五入保留两位小数，与报告正文一致；“数据缺失”表示统计期内没有可用数据，不按零计。"
            "各表均为汇总数，不含当事人、申请人等个人信息。",
        )
    )
    return facts


#: 说明's column widths in characters: names, codes and files, units and ids, definitions, …
_ABOUT_WIDTHS = (30, 40, 24, 70, 10, 66)


def _print_setup(sheet: Any, header_rows: bool) -> None:
    """A4, as wide as the page; a table's header row repeats on every printed page."""
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    if header_rows:
        sheet.repeat_rows(0)


def _about(workbook: Any, document: Document, sheets: list[tuple[str, Table]]) -> None:
    """The first sheet: what, when, from which batches, and what each indicator means."""
    sheet = workbook.add_worksheet(ABOUT_SHEET)
    _print_setup(sheet, header_rows=False)
    sheet.set_landscape()
    for c, chars in enumerate(_ABOUT_WIDTHS):
        sheet.set_column_pixels(c, c, chars * 7 + 5)
    bold = workbook.add_format({"bold": True, "font_size": 14})
    key = workbook.add_format({"bold": True, "valign": "top"})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    sheet.write_string(0, 0, document.title, bold)
    row = 2
    for label, text in _facts(document):
        sheet.write_string(row, 0, label, key)
        sheet.merge_range(row, 1, row, 3, text, wrap)
        sheet.set_row(row, _height(text, sum(_ABOUT_WIDTHS[1:4])))
        row += 1
    row += 1
    row = _about_table(workbook, sheet, row, "各工作表", _sheet_list(sheets))
    batches = document.meta.get("batches")
    if isinstance(batches, list | tuple) and batches:
        row = _about_table(workbook, sheet, row, "使用的数据批次", _batch_frame(batches))
    _about_table(workbook, sheet, row, "指标定义", _definitions(document.meta.get("indicators")))


def _height(text: str, chars: int) -> float:
    """Row height in points for `text` wrapped in `chars` columns (rows do not grow by
    themselves in every spreadsheet program)."""
    return 15.0 * max(1, -(-cell_len(text) // (chars - 2)))


def _about_table(workbook: Any, sheet: Any, row: int, title: str, frame: pl.DataFrame) -> int:
    """A titled Excel table on 说明 at `row`; returns the row after it and a blank line."""
    sheet.write_string(row, 0, title, workbook.add_format({"bold": True}))
    frame.write_excel(
        workbook=workbook,
        worksheet=sheet,
        position=(row + 1, 0),
        table_style="Table Style Light 1",
        column_formats={c: {"text_wrap": True, "valign": "top"} for c in frame.columns},
        dtype_formats={pl.Int64: NUMBER_FORMATS["count"]},
        header_format=_HEADER,
        autofilter=False,
    )
    for r, values in enumerate(frame.iter_rows(), start=row + 2):
        lines = max(
            _height(str(v), _ABOUT_WIDTHS[c]) for c, v in enumerate(values) if v is not None
        )
        if lines > 15:
            sheet.set_row(r, lines)
    _mark_missing(workbook, sheet, frame, first_row=row + 2)
    return row + frame.height + 3


def _sheet_list(sheets: list[tuple[str, Table]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "工作表": [name for name, _ in sheets],
            "表名": [t.title for _, t in sheets],
            "编号": [t.entry_id for _, t in sheets],
            "注": [t.note or "" for _, t in sheets],
        },
        schema={"工作表": pl.String, "表名": pl.String, "编号": pl.String, "注": pl.String},
    )


def _batch_frame(batches: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """The batches the figures were computed from: source, file, rows, content hash."""
    names = catalogue.source_names()
    rows = [
        {
            "数据来源": names.get(str(b.get("source")), str(b.get("source"))),
            "文件": str(b.get("file_name") or ""),
            "读取行数": b.get("rows_read"),
            "入库行数": b.get("rows_loaded"),
            "拒收行数": b.get("rows_rejected"),
            "内容摘要（SHA-256）": str(b.get("content_hash") or ""),
        }
        for b in batches
    ]
    return pl.DataFrame(rows).with_columns(
        pl.col("读取行数", "入库行数", "拒收行数").cast(pl.Int64)
    )


def _definitions(keys: Sequence[str] | None) -> pl.DataFrame:
    """Each indicator's catalogue entry (all of them unless the document names its own)."""
    items = catalogue.indicators()
    chosen = [items[k] for k in keys] if keys else list(items.values())
    return pl.DataFrame(
        {
            "指标": [i.name for i in chosen],
            "代码": [i.key for i in chosen],
            "单位": [i.unit for i in chosen],
            "定义（口径）": [i.definition for i in chosen],
        }
    )
