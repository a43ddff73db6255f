"""The report as a list of blocks: what it says, in order, before any page is laid out.

Why a model of its own: the PDF, the Word draft and the Excel workbook must state the same
sentences, tables and charts. Each section module writes blocks once (from the figures, the
registry and the one formatter); each renderer (`pdf`, `docx`, `xlsx`) only decides how a block
looks. A sentence can then never differ between the PDF and the Word file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl


@dataclass(frozen=True)
class Heading:
    """Level 1 is numbered 一、, level 2 （一）, level 3 1. (GB/T 9704 heading levels)."""

    level: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    """Body text. `style` is "body", "note" (smaller, grey) or "warning" (data-quality)."""

    text: str
    style: str = "body"


@dataclass(frozen=True)
class Placeholder:
    """A qualitative paragraph the legal section writes itself: 【待填写：…】, highlighted."""

    topic: str

    @property
    def text(self) -> str:
        return f"【待填写：{self.topic}】"


@dataclass(frozen=True)
class Column:
    """One table column: its frame column, header text, catalogue kind and unit.

    `kind` is a catalogue kind (count, money, area, rate, hours, days) or "text"; renderers
    format numbers with `urbanreport.core.formatting` and put the unit in the header.
    """

    name: str
    header: str
    kind: str = "text"
    unit: str = ""


@dataclass(frozen=True)
class Table:
    """A table of the registry: `entry_id` leads to its registry entry, SQL file and test."""

    entry_id: str
    title: str
    columns: tuple[Column, ...]
    frame: pl.DataFrame
    note: str = ""


@dataclass(frozen=True)
class Chart:
    """A chart of the registry, as PNG bytes (≥ 200 dpi) at its printed width."""

    entry_id: str
    title: str
    png: bytes
    width_mm: float
    height_mm: float
    empty: bool = False


@dataclass(frozen=True)
class PageBreak:
    pass


Block = Heading | Paragraph | Placeholder | Table | Chart | PageBreak


@dataclass(frozen=True)
class Document:
    """One report: its title page facts and its blocks, shared by every output format."""

    kind: str  # "annual" | "monthly" | "annual_draft"
    title: str
    subtitle: str
    bureau: str
    district: str
    period_label: str  # "2023" | "2023-07"
    data_cutoff: date
    data_as_of: str  # from the data (latest record), never the clock of the ingest
    blocks: tuple[Block, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    def charts(self) -> list[Chart]:
        return [b for b in self.blocks if isinstance(b, Chart)]

    def sentences(self) -> list[str]:
        return [b.text for b in self.blocks if isinstance(b, Paragraph)]

    def placeholders(self) -> list[str]:
        return [b.text for b in self.blocks if isinstance(b, Placeholder)]
