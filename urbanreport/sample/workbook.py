"""One-sheet .xlsx workbooks written with xlsxwriter, byte for byte the same on every run.

Why these settings: xlsxwriter stamps the document's creation time with the clock unless told
otherwise, so the export time of the file is given instead (its zip entries carry a fixed date
already). Cells are written column by column with the typed writers (`write_string`,
`write_number`), which skip the type sniffing of `write()`: at scale 100 that halves the time.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl
import xlsxwriter

#: A cell: text, a number (an Excel day number in a date column), or nothing.
Cell = str | int | float | None


@dataclass(frozen=True)
class Column:
    """A worksheet column: its header, width in characters and cells, top to bottom."""

    header: str
    width: int
    cells: Sequence[Cell]
    is_date: bool = False


def text_or_number(rows: pl.DataFrame, text: pl.Expr | None, number: pl.Expr | None) -> list[Cell]:
    """A column's cells: the text where the system wrote text, else the number, else nothing."""
    none = pl.lit(None)
    both = rows.with_columns(
        _text=none if text is None else text, _number=none if number is None else number
    )
    texts, numbers = both.get_column("_text").to_list(), both.get_column("_number").to_list()
    return [t if t is not None else v for t, v in zip(texts, numbers, strict=True)]


@dataclass(frozen=True)
class Document:
    """The workbook's properties, as the exporting system sets them."""

    title: str
    author: str
    company: str
    created: datetime  # aware


def workbook_bytes(
    sheet: str,
    columns: Sequence[Column],
    document: Document,
    *,
    header_row: int = 0,
    date_format: str = "yyyy-mm-dd",
) -> bytes:
    """A workbook of one sheet: a bold header row at `header_row`, frozen, then the cells."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.set_properties(
        {
            "title": document.title,
            "author": document.author,
            "company": document.company,
            "created": document.created.astimezone(UTC).replace(tzinfo=None),
        }
    )
    ws = wb.add_worksheet(sheet)
    head = wb.add_format({"bold": True, "border": 1, "align": "center", "bg_color": "#DDEBF7"})
    date_cell = wb.add_format({"num_format": date_format, "align": "left"})
    ws.write_row(header_row, 0, [c.header for c in columns], head)
    ws.freeze_panes(header_row + 1, 0)
    first = header_row + 1
    for c, column in enumerate(columns):
        number_format = date_cell if column.is_date else None
        ws.set_column(c, c, column.width, number_format)
        write_string, write_number = ws.write_string, ws.write_number
        for r, value in enumerate(column.cells, start=first):
            if value is None:
                continue
            if isinstance(value, str):
                write_string(r, c, value)
            else:
                write_number(r, c, value, number_format)
    wb.close()
    return buf.getvalue()
