"""A `blocks.Table` as a reportlab 三线表: rules above and below, a thin one under the header,
no vertical lines; numbers right-aligned and written by the one formatter, units in the header.
"""

from __future__ import annotations

from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Table, TableStyle

from urbanreport.core import formatting
from urbanreport.reports import blocks
from urbanreport.reports.layout import GROUP_FILL, HEADER_FILL, ROW_RULE, TEXT_WIDTH, Styles
from urbanreport.reports.typeset import INK, CJKParagraph, TextStyle, cell

PADDING = 4.0  # points left and right of a cell's text
_ALIGN = {"l": "LEFT", "c": "CENTER", "r": "RIGHT"}
_TEXT_ALIGN = {"l": "left", "c": "center", "r": "right"}


def cell_text(col: blocks.Column, value: Any) -> str:
    """A value as the one formatter writes it; null is 数据缺失, never 0."""
    if value is None:
        return formatting.MISSING
    if col.kind == "text":
        return str(value)
    return formatting.number(col.kind, value)


def align(col: blocks.Column) -> str:
    return col.align or ("l" if col.kind == "text" else "r")


def widths(table: blocks.Table) -> list[float]:
    """Column widths in points: the registry's millimetres, scaled down to fit the text block;
    columns without a width share what is left."""
    given = [c.width_mm * mm for c in table.columns]
    free = [i for i, w in enumerate(given) if not w]
    rest = max(TEXT_WIDTH - sum(given), 20 * mm * len(free))
    for i in free:
        given[i] = rest / len(free)
    total = sum(given)
    scale = TEXT_WIDTH / total if total > TEXT_WIDTH else 1.0
    return [w * scale for w in given]


def _rows(table: blocks.Table) -> tuple[list[list[str]], list[int]]:
    """The body rows as text, and the indexes of group rows (their first cell is the group)."""
    rows: list[list[str]] = []
    groups: list[int] = []
    current = object()
    for record in table.frame.iter_rows(named=True):
        if table.group_by and record.get(table.group_by) != current:
            current = record.get(table.group_by)
            groups.append(len(rows))
            rows.append([str(current)] + [""] * (len(table.columns) - 1))
        rows.append([cell_text(c, record.get(c.name)) for c in table.columns])
    if not rows:
        rows.append([formatting.MISSING] + [""] * (len(table.columns) - 1))
    return rows, groups


def _cell_style(style: TextStyle, col: blocks.Column) -> TextStyle:
    return TextStyle(style.font, style.size, style.leading, align=_TEXT_ALIGN[align(col)])


def _commands(table: blocks.Table, n_rows: int, groups: list[int], s: Styles) -> list[tuple]:
    commands: list[tuple[Any, ...]] = [
        ("LINEABOVE", (0, 0), (-1, 0), 1.0, INK),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, INK),
        ("LINEBELOW", (0, -1), (-1, -1), 1.0, INK),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("FONT", (0, 0), (-1, -1), s.cell.font, s.cell.size, s.cell.leading),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), PADDING),
    ]
    commands += [("LINEBELOW", (0, i), (-1, i), 0.25, ROW_RULE) for i in range(1, n_rows)]
    for i, col in enumerate(table.columns):
        commands.append(("ALIGN", (i, 1), (i, -1), _ALIGN[align(col)]))
    for g in groups:
        # A group heading row never stays alone at the foot of a page.
        commands.append(("NOSPLIT", (0, g + 1), (-1, min(g + 2, n_rows))))
        commands.append(("SPAN", (0, g + 1), (-1, g + 1)))
        commands.append(("BACKGROUND", (0, g + 1), (-1, g + 1), GROUP_FILL))
        commands.append(("ALIGN", (0, g + 1), (-1, g + 1), "LEFT"))
    return commands


def table_flowable(table: blocks.Table, s: Styles) -> tuple[Table, int]:
    """The reportlab table (header repeated on every page) and its number of body rows."""
    col_widths = widths(table)
    rows, groups = _rows(table)
    header = [CJKParagraph(c.label, s.head_cell) for c in table.columns]
    body: list[list[Any]] = []
    for r, row in enumerate(rows):
        spans = r in groups  # a group row spans the table
        measures = [sum(col_widths)] * len(col_widths) if spans else col_widths
        body.append(
            [
                cell(text, _cell_style(s.cell, col), width - 2 * PADDING)
                for text, col, width in zip(row, table.columns, measures, strict=True)
            ]
        )
    flowable = Table([header, *body], colWidths=col_widths, repeatRows=1, hAlign="CENTER")
    flowable.setStyle(TableStyle(_commands(table, len(body), groups, s)))
    return flowable, len(body)


def parts(table: blocks.Table, number: int, s: Styles) -> tuple[list[Flowable], int]:
    """Caption (表N), table and note, and the number of body rows."""
    flowable, n_rows = table_flowable(table, s)
    out: list[Flowable] = [CJKParagraph(f"表{number}　{table.title}", s.table_caption), flowable]
    if table.note:
        out.append(CJKParagraph(table.note, s.note))
    return out, n_rows
