"""The PDF renderer: a `blocks.Document` → PDF bytes (reportlab), A4, Simplified Chinese.

The document says what is in the report; this module only decides how each block looks:
headings numbered 一、 and （一）, tables as 三线表 (`pdf_tables`), charts at their print size
with 图N captions, the brief's charts two by two with its data-quality box beside them, the
annual report's cover. Pages and styles are in `layout`, Chinese line breaking in `typeset`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import pypdfium2 as pdfium
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    Spacer,
    Table,
    TableStyle,
)

from urbanreport.core import formatting
from urbanreport.reports import blocks, layout, pdf_tables
from urbanreport.reports.fonts import register_fonts
from urbanreport.reports.layout import ACCENT, RULE, TEXT_WIDTH, Styles
from urbanreport.reports.pdf_images import draw_png
from urbanreport.reports.typeset import CJKParagraph, TextStyle

#: A table this long is not kept on one page: it starts where its first rows fit.
KEEP_WHOLE_ROWS = 16


@dataclass(frozen=True)
class Rendered:
    """A rendered PDF and the registry entries it shows, in order (tables and charts)."""

    pdf: bytes
    entry_ids: tuple[str, ...]


class ChartImage(Flowable):
    """A chart's PNG drawn at its print size."""

    def __init__(self, chart: blocks.Chart) -> None:
        super().__init__()
        self.chart = chart
        self.width = chart.width_mm * mm
        self.height = chart.height_mm * mm
        self.hAlign = "CENTER"

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        return self.width, self.height

    def draw(self) -> None:
        draw_png(self.canv, self.chart.png, self.width, self.height)


class Rule(Flowable):
    """A short centred rule (under the cover title, under the brief's heading)."""

    def __init__(self, length: float, color: object, width: float) -> None:
        super().__init__()
        self.length, self.color, self.line_width = length, color, width

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        self._avail = availWidth
        return availWidth, self.line_width

    def draw(self) -> None:
        self.canv.setStrokeColor(self.color)
        self.canv.setLineWidth(self.line_width)
        x0 = (self._avail - self.length) / 2
        self.canv.line(x0, 0, x0 + self.length, 0)


@dataclass
class Story:
    """Flowables from blocks, numbering headings, tables and figures as they are added.

    Headings wait for the block that follows them: a chart or a short table is kept on one
    page together with its headings (reportlab's keepWithNext does not reach into a
    KeepTogether, so a heading could otherwise be left alone at the foot of a page).
    """

    styles: Styles
    brief: bool
    flowables: list[Flowable] = field(default_factory=list)
    entry_ids: list[str] = field(default_factory=list)
    heads: list[Flowable] = field(default_factory=list)
    numbers: dict[str, int] = field(default_factory=lambda: {"h1": 0, "h2": 0, "表": 0, "图": 0})

    def add(self, *flowables: Flowable) -> None:
        self.flowables += self.heads
        self.heads = []
        self.flowables += flowables

    def keep_with_heads(self, parts: list[Flowable]) -> None:
        heads, self.heads = self.heads, []
        self.flowables.append(KeepTogether(heads + parts))

    def next(self, counter: str) -> int:
        self.numbers[counter] += 1
        return self.numbers[counter]

    # --- blocks ---------------------------------------------------------------------------
    def heading(self, block: blocks.Heading) -> None:
        s = self.styles
        if not block.numbered:
            self.heads.append(CJKParagraph(block.text, s.h3, keep_with_next=True))
        elif block.level == 1:
            self.numbers["h2"] = 0
            self.add(CondPageBreak(60 * mm))
            text = f"{blocks.cn_number(self.next('h1'))}、{block.text}"
            self.heads.append(CJKParagraph(text, s.h1, keep_with_next=True))
        elif block.level == 2:
            text = f"（{blocks.cn_number(self.next('h2'))}）{block.text}"
            self.heads.append(CJKParagraph(text, s.h2, keep_with_next=True))
        else:
            self.heads.append(CJKParagraph(block.text, s.h3, keep_with_next=True))

    def annex(self, block: blocks.Annex) -> None:
        """An attachment: a new page, its label and title; its headings number from 一、."""
        self.add(PageBreak())
        self.numbers["h1"] = self.numbers["h2"] = 0
        self.heads.append(CJKParagraph(block.label, self.styles.h2, keep_with_next=True))
        self.heads.append(CJKParagraph(block.title, self.styles.brief_title, keep_with_next=True))

    def paragraph(self, block: blocks.Paragraph | blocks.Placeholder) -> None:
        s = self.styles
        if isinstance(block, blocks.Placeholder):
            style = TextStyle(s.body.font, s.body.size, s.body.leading, s.body.indent, color=ACCENT)
        else:
            body = s.brief_body if self.brief else s.body
            signature = TextStyle(body.font, body.size, body.leading, align="right")
            style = {"note": s.note, "warning": s.warning, "signature": signature}.get(
                block.style, body
            )
        self.add(CJKParagraph(block.text, style))

    def table(self, block: blocks.Table) -> None:
        self.entry_ids.append(block.entry_id)
        parts, n_rows = pdf_tables.parts(block, self.next("表"), self.styles)
        if n_rows <= KEEP_WHOLE_ROWS:
            self.keep_with_heads(parts)
        else:
            self.flowables.append(CondPageBreak(50 * mm))
            self.add(*parts)
        self.add(Spacer(1, 4))

    def caption(self, chart: blocks.Chart, with_source: bool = True) -> str:
        text = f"图{self.next('图')}　{chart.title}"
        return text + (f"（数据来源：{chart.source}）" if with_source and chart.source else "")

    def chart(self, block: blocks.Chart) -> None:
        self.entry_ids.append(block.entry_id)
        caption = self.caption(block)
        if block.empty:
            # A large empty frame says nothing a sentence cannot: note the gap and move on.
            note = f"{caption}：统计期内{formatting.MISSING}，图从略。"
            self.keep_with_heads([CJKParagraph(note, self.styles.caption)])
            return
        self.keep_with_heads([ChartImage(block), CJKParagraph(caption, self.styles.caption)])

    def grid(self, charts: Sequence[blocks.Chart], box: Sequence[blocks.Block]) -> None:
        """Half-width charts two by two; the box (a title and notes) fills the last cell."""
        cells: list[list[object]] = []
        for chart in charts:
            self.entry_ids.append(chart.entry_id)
            cap = CJKParagraph(self.caption(chart, with_source=False), self.styles.caption)
            cells.append([ChartImage(chart), cap] if not chart.empty else [cap])
        box_at = None
        if box:
            row, col = divmod(len(cells), 2)
            box_at = (col, row)  # reportlab's cell coordinates
            cells.append(self._box(box))
        if len(cells) % 2:
            cells.append("")
        rows = [cells[i : i + 2] for i in range(0, len(cells), 2)]
        grid = Table(rows, colWidths=[TEXT_WIDTH / 2] * 2, hAlign="CENTER")
        grid.setStyle(TableStyle(_grid_commands(self.styles, box_at)))
        self.add(grid)

    def _box(self, box: Sequence[blocks.Block]) -> list[Flowable]:
        out: list[Flowable] = []
        for block in box:
            if isinstance(block, blocks.Heading):
                out.append(CJKParagraph(block.text, self.styles.h3))
            elif isinstance(block, blocks.Paragraph):
                out.append(CJKParagraph(block.text, self.styles.warning))
        return out


def _grid_commands(s: Styles, box: tuple[int, int] | None) -> list[tuple]:
    """The grid's cells flush, the box (at column, row) framed and padded."""
    commands: list[tuple] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        # Empty cells would otherwise set reportlab's default, unembedded Helvetica.
        ("FONT", (0, 0), (-1, -1), s.cell.font, 9),
        ("LEFTPADDING", (0, 0), (-1, -1), 1),
        ("RIGHTPADDING", (0, 0), (-1, -1), 1),
        ("TOPPADDING", (0, 0), (-1, -1), 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if box is not None:
        commands += [
            ("BOX", box, box, 0.5, RULE),
            ("LEFTPADDING", box, box, 8),
            ("RIGHTPADDING", box, box, 8),
            ("TOPPADDING", box, box, 6),
        ]
    return commands


# --- from blocks to the story -------------------------------------------------------------


def _is_half(block: blocks.Block) -> bool:
    return isinstance(block, blocks.Chart) and block.width_mm * mm <= TEXT_WIDTH / 2


def _is_box(block: blocks.Block) -> bool:
    if isinstance(block, blocks.Heading):
        return not block.numbered
    return isinstance(block, blocks.Paragraph) and block.style == "warning"


def _runs(items: Sequence[blocks.Block]) -> Iterator[tuple[str, list[blocks.Block]]]:
    """The blocks one by one, except a run of half-width charts (and the box after it)."""
    i = 0
    while i < len(items):
        if not _is_half(items[i]):
            yield "one", [items[i]]
            i += 1
            continue
        j = i
        while j < len(items) and _is_half(items[j]):
            j += 1
        k = j
        while k < len(items) and _is_box(items[k]):
            k += 1
        yield "grid", list(items[i:k])
        i = k


def fill_story(story: Story, items: Sequence[blocks.Block]) -> None:
    for how, run in _runs(items):
        if how == "grid":
            charts = [b for b in run if isinstance(b, blocks.Chart)]
            story.grid(charts, [b for b in run if not isinstance(b, blocks.Chart)])
            continue
        block = run[0]
        if isinstance(block, blocks.Heading):
            story.heading(block)
        elif isinstance(block, blocks.Paragraph | blocks.Placeholder):
            story.paragraph(block)
        elif isinstance(block, blocks.Table):
            story.table(block)
        elif isinstance(block, blocks.Chart):
            story.chart(block)
        elif isinstance(block, blocks.PageBreak):
            story.add(PageBreak())
        elif isinstance(block, blocks.Annex):
            story.annex(block)


# --- the first page -----------------------------------------------------------------------


def cover(doc: blocks.Document, s: Styles) -> list[Flowable]:
    """The annual report's cover: bureau, title, the data's facts, the data's own date."""
    rows = [
        ("编制单位", doc.bureau),
        ("统计期", doc.subtitle.removeprefix("统计期：")),
        ("数据截止日期", formatting.day(doc.data_cutoff)),
        ("数据更新时间", formatting.moment(doc.data_as_of)),
    ]
    if doc.meta.get("batches"):
        rows.append(("数据批次", f"共{doc.meta['batches']}批"))
    facts = Table(
        [[CJKParagraph(k, s.cover_meta), CJKParagraph(v, s.cover_meta)] for k, v in rows],
        colWidths=[34 * mm, 96 * mm],
        hAlign="CENTER",
    )
    facts.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("FONT", (0, 0), (-1, -1), s.cell.font, 9),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    # The document's date, as an official document carries one: the day of the data it shows
    # (not the wall clock), so the same data always prints the same cover.
    return [
        Spacer(1, 28 * mm),
        CJKParagraph(doc.bureau, s.cover_org),
        Spacer(1, 10 * mm),
        CJKParagraph(doc.title, s.cover_title),
        Spacer(1, 4 * mm),
        Rule(60 * mm, ACCENT, 1.2),
        Spacer(1, 36 * mm),
        facts,
        Spacer(1, 42 * mm),
        CJKParagraph(formatting.day(doc.data_as_of), s.cover_date),
        NextPageTemplate("body"),
        PageBreak(),
    ]


def brief_head(doc: blocks.Document, s: Styles) -> list[Flowable]:
    """The brief's head: bureau, title, period, cut-off and the data's own update time."""
    meta = (
        f"{doc.subtitle}\n数据截至：{formatting.day(doc.data_cutoff)}　　"
        f"数据更新时间：{formatting.moment(doc.data_as_of)}"
    )
    return [
        CJKParagraph(doc.bureau, s.brief_org),
        CJKParagraph(doc.title, s.brief_title),
        CJKParagraph(meta, s.meta),
        Rule(TEXT_WIDTH, ACCENT, 0.8),
        Spacer(1, 3 * mm),
    ]


def render(doc: blocks.Document) -> Rendered:
    """The document as PDF bytes, and the registry entries it shows."""
    styles = layout.make_styles(register_fonts())
    annual = doc.kind != "monthly"
    story = Story(styles, brief=not annual)
    story.add(*(cover(doc, styles) if annual else brief_head(doc, styles)))
    fill_story(story, doc.blocks)
    story.add()
    buf = io.BytesIO()
    template = layout.document(buf, doc.title, doc.bureau, doc.period_label, cover=annual)
    with layout.binary_streams():
        template.build(story.flowables)
    return Rendered(buf.getvalue(), tuple(story.entry_ids))


def preview_png(pdf_bytes: bytes, width_px: int = 300) -> bytes:
    """The first page as a small PNG, so the portal can show it without system tools."""
    pdf = pdfium.PdfDocument(pdf_bytes)
    try:
        page = pdf[0]
        image = page.render(scale=width_px / page.get_width()).to_pil()
        page.close()
    finally:
        pdf.close()
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG", optimize=True)
    return out.getvalue()
