"""The report as a list of blocks: what it says, in order, before any page is laid out.

Why a model of its own: the PDF, the Word draft and the Excel workbook must state the same
sentences, tables and charts. Each section module writes blocks once (from the figures, the
registry and the one formatter); each renderer (`pdf`, `docx`, `xlsx`) only decides how a block
looks. A sentence can then never differ between the PDF and the Word file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import polars as pl

from urbanreport.core.clock import SHANGHAI
from urbanreport.core.formatting import as_datetime


@dataclass(frozen=True)
class Heading:
    """Level 1 is numbered 一、, level 2 （一）, level 3 1. (GB/T 9704 heading levels).

    The renderer numbers; `text` is the bare title. `numbered=False` for a title that stands
    apart from the numbering (the brief's 数据质量提示 box).
    """

    level: int
    text: str
    numbered: bool = True


@dataclass(frozen=True)
class Paragraph:
    """Body text. `style` is "body", "note" (smaller, grey), "warning" (data-quality) or
    "signature" (the sender's name under the text of a 公文, set to the right)."""

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
    width_mm: float = 0.0  # the column's printed width (0: share the rest equally)
    align: str = ""  # "l" | "c" | "r"; "" = left for text, right for numbers

    @property
    def label(self) -> str:
        """The header with its unit, ``罚款金额（元）``; a rate's cells carry their own %."""
        if self.unit and self.kind != "rate":
            return f"{self.header}（{self.unit}）"
        return self.header


@dataclass(frozen=True)
class Table:
    """A table of the registry: `entry_id` leads to its registry entry, SQL file and test."""

    entry_id: str
    title: str
    columns: tuple[Column, ...]
    frame: pl.DataFrame
    note: str = ""
    #: A frame column whose value starts a group: a spanning row with that value goes above
    #: each group (the headline table's sections). The column itself is not printed.
    group_by: str = ""


@dataclass(frozen=True)
class Chart:
    """A chart of the registry, as PNG bytes (≥ 200 dpi) at its printed width."""

    entry_id: str
    title: str
    png: bytes
    width_mm: float
    height_mm: float
    empty: bool = False
    source: str = ""  # the data source named in the caption (数据来源：…)


@dataclass(frozen=True)
class PageBreak:
    pass


@dataclass(frozen=True)
class Annex:
    """An attachment (附件) after the main text: a new page, the label, its own title.

    Heading numbers start again at 一、 inside it, as in an attachment of a 公文, so a section
    module's blocks read the same whether they stand alone or follow a draft's text.
    """

    title: str
    label: str = "附件"


Block = Heading | Paragraph | Placeholder | Table | Chart | PageBreak | Annex


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

    def data_moment(self) -> datetime:
        """The Beijing wall time the data stands at (naive): data-as-of, else the cut-off day.

        Outputs stamp their files with it (document properties, zip entries) instead of the
        clock, so the same data gives the same bytes.
        """
        try:
            moment = as_datetime(self.data_as_of)
        except ValueError:
            moment = None
        if moment is None:
            return datetime.combine(self.data_cutoff, time())
        if moment.tzinfo is not None:
            moment = moment.astimezone(SHANGHAI).replace(tzinfo=None)
        return moment

    def data_moment_utc(self) -> datetime:
        """The same moment as naive UTC, which is what a package's W3CDTF ``Z`` stamp means."""
        return self.data_moment().replace(tzinfo=SHANGHAI).astimezone(UTC).replace(tzinfo=None)


# --- heading numbers (GB/T 9704: 一、 → （一） → 1.) -----------------------------------------

CN_NUMERALS = "一二三四五六七八九十"


def cn_number(n: int) -> str:
    """1 → 一, 11 → 十一, 23 → 二十三 (enough for a report's sections)."""
    if n <= 10:
        return CN_NUMERALS[n - 1]
    if n < 20:
        return "十" + CN_NUMERALS[n - 11]
    tens, ones = divmod(n, 10)
    return CN_NUMERALS[tens - 1] + "十" + (CN_NUMERALS[ones - 1] if ones else "")


class HeadingNumbers:
    """The number in front of each heading, counted in document order.

    Why here and not in a renderer: the PDF and the Word file must number the same heading
    the same way; a renderer asks `label(heading)` for each heading and `restart()` at an Annex.
    """

    def __init__(self) -> None:
        self.counts = [0, 0, 0]

    def restart(self) -> None:
        self.counts = [0, 0, 0]

    def label(self, heading: Heading) -> str:
        if heading.level not in (1, 2, 3):
            raise ValueError(f"标题层级只有1—3级，收到：{heading.level} (heading level 1–3)")
        i = heading.level - 1
        self.counts[i] += 1
        self.counts[i + 1 :] = [0] * (2 - i)
        n = self.counts[i]
        return (f"{cn_number(n)}、", f"（{cn_number(n)}）", f"{n}.")[i]
