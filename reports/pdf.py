"""reportlab layout of the annual report and the monthly brief (A4, Simplified Chinese).

Why the layout looks the way it does:

* Page geometry follows the spirit of GB/T 9704 (党政机关公文格式): A4, 37 mm top margin, 28 mm
  binding margin, a 156 × 225 mm text block, heading levels 一、 and （一）, page numbers as
  ``— 3 —`` on the outer edge. Headings are sans (like 黑体), body text serif (like 宋体).
* Chinese line breaking is done here, not by reportlab's ``wordWrap='CJK'``: that one lets a
  full-width comma (，), semicolon or colon start a line, ignores opening brackets at a line end
  and does not justify CJK text. :func:`break_lines` keeps numbers (``496793.68``, ``78.02%``)
  whole, applies 避头尾 (no closing punctuation at a line start, no opening bracket at a line
  end) and :class:`CJKParagraph` justifies with character spacing, as Chinese typesetting does.
* Text from the data is drawn as plain strings, never parsed as markup, so a street or category
  name cannot break the layout.
* Output is byte-identical for identical data: reportlab's invariant mode fixes the creation
  date and document id; the printed "generation time" is the data's update time.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Spacer,
    Table,
    TableStyle,
)

from urbanreport.reports import charts, narrative
from urbanreport.reports.fonts import FontSet, register_fonts
from urbanreport.reports.narrative import MISSING, Figures

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_TOP = 37 * mm
MARGIN_LEFT = 28 * mm
MARGIN_RIGHT = 26 * mm
MARGIN_BOTTOM = 35 * mm
TEXT_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT  # 156 mm
TEXT_HEIGHT = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM  # 225 mm

INK = colors.HexColor("#1a1a1a")
GREY = colors.HexColor("#555555")
RULE = colors.HexColor("#999999")
ACCENT = colors.HexColor("#8c1c13")
HEADER_FILL = colors.HexColor("#ececec")
GROUP_FILL = colors.HexColor("#f5f5f5")

CN_NUMERALS = "一二三四五六七八九十"


def cn_number(n: int) -> str:
    """1 → 一, 11 → 十一 (enough for a report's sections)."""
    if n <= 10:
        return CN_NUMERALS[n - 1]
    if n < 20:
        return "十" + CN_NUMERALS[n - 11]
    tens, ones = divmod(n, 10)
    return CN_NUMERALS[tens - 1] + "十" + (CN_NUMERALS[ones - 1] if ones else "")


# --- Chinese line breaking ----------------------------------------------------------------

#: May not begin a line (行首禁则): closing punctuation, stops, enumeration comma, percent…
CANNOT_START = set(
    "，。、；：？！）》」』】〕〉］｝”’…—～·%％‰℃°,.;:?!)]}>"
    "々ゝゞヽヾーぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"
)
#: May not end a line (行尾禁则): opening brackets and quotes, currency signs.
CANNOT_END = set("（《「『【〔〈［｛“‘([{<￥$#")

#: A run that must not be split: numbers with decimals, percent and signs, dates, latin words.
_TOKEN = re.compile(
    r"[+\-]?[0-9A-Za-z](?:[0-9A-Za-z._/:\-]*[0-9A-Za-z])?%?"  # 496793.68, 78.02%, 2023-07
    r"|\s+"  # spaces: break opportunities
    r"|.",  # any other single character (a Hanzi, a punctuation mark)
    re.S,
)


def _units(text: str) -> list[str]:
    """Split text into unbreakable units, with 避头尾 punctuation glued to its neighbour."""
    units: list[str] = []
    glue_next = False
    for token in _TOKEN.findall(text):
        if token.isspace():
            units.append(" ")
            glue_next = False
            continue
        if units and units[-1] != " " and (glue_next or token[0] in CANNOT_START):
            units[-1] += token
        else:
            units.append(token)
        glue_next = token[-1] in CANNOT_END
    return units


@dataclass(frozen=True)
class Line:
    text: str
    width: float  # natural width
    justify: bool  # stretch to the full measure (all lines but a paragraph's last)


def break_lines(
    text: str,
    font: str,
    size: float,
    width: float,
    first_width: float | None = None,
) -> list[Line]:
    """Greedy line breaking with 避头尾 and unbroken numbers.

    ``first_width`` is the measure of the first line (smaller when the first line is indented).
    Explicit newlines end a line without justification.
    """
    out: list[Line] = []
    measure = first_width if first_width is not None else width
    for p_index, piece in enumerate(text.split("\n")):
        if p_index:
            measure = width
        current: list[str] = []
        current_w = 0.0
        for unit in _units(piece):
            if unit == " " and not current:
                continue
            w = stringWidth(unit, font, size)
            if current and current_w + w > measure + 0.01:
                line = "".join(current).rstrip(" ")
                out.append(Line(line, stringWidth(line, font, size), True))
                measure = width
                current, current_w = [], 0.0
                if unit == " ":
                    continue
            if not current and w > measure + 0.01:
                # A single unit longer than the line (a long code): break it by characters.
                for ch in unit:
                    cw = stringWidth(ch, font, size)
                    if current and current_w + cw > measure + 0.01:
                        line = "".join(current)
                        out.append(Line(line, current_w, True))
                        measure = width
                        current, current_w = [], 0.0
                    current.append(ch)
                    current_w += cw
                continue
            current.append(unit)
            current_w += w
        line = "".join(current).rstrip(" ")
        out.append(Line(line, stringWidth(line, font, size), False))
    return out


@dataclass(frozen=True)
class TextStyle:
    font: str
    size: float
    leading: float
    indent: float = 0.0  # first-line indent in points
    align: str = "justify"  # justify | left | center | right
    color: Any = INK
    space_before: float = 0.0
    space_after: float = 0.0


class CJKParagraph(Flowable):
    """A paragraph of plain Chinese text: 避头尾 line breaking, justified by character spacing."""

    def __init__(
        self,
        text: str,
        style: TextStyle,
        keep_with_next: bool = False,
        lines: list[Line] | None = None,
        first: bool = True,
    ) -> None:
        super().__init__()
        self.text = text
        self.style = style
        self.keepWithNext = keep_with_next
        self._lines = lines
        self._for_width: float | None = None if lines is None else -1.0
        self._first = first
        self.width = 0.0
        self.height = 0.0

    def _layout(self, width: float) -> list[Line]:
        if self._lines is not None and (self._for_width in (-1.0, width)):
            return self._lines
        s = self.style
        self._lines = break_lines(self.text, s.font, s.size, width, width - s.indent)
        self._for_width = width
        return self._lines

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        lines = self._layout(availWidth)
        self.width = availWidth
        self.height = len(lines) * self.style.leading
        return availWidth, self.height

    def getSpaceBefore(self) -> float:  # noqa: N802 (reportlab API)
        return self.style.space_before if self._first else 0.0

    def getSpaceAfter(self) -> float:  # noqa: N802
        return self.style.space_after

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:  # noqa: N803
        lines = self._layout(availWidth)
        fit = int((availHeight + 0.01) // self.style.leading)
        if fit >= len(lines):
            return [self]
        if fit < 2 or len(lines) < 4:
            return []  # no orphan: move the whole paragraph on
        if len(lines) - fit < 2:
            fit = len(lines) - 2  # no widow
        head = CJKParagraph(self.text, self.style, lines=lines[:fit], first=self._first)
        tail = CJKParagraph(self.text, self.style, lines=lines[fit:], first=False)
        return [head, tail]

    def draw(self) -> None:
        s = self.style
        canvas = self.canv
        canvas.setFillColor(s.color)
        canvas.setFont(s.font, s.size)
        # Baseline of line i: the em box centred in the leading, ascent 0.88 em.
        y = self.height - (s.leading - s.size) / 2 - s.size * 0.88
        for i, line in enumerate(self._lines or []):
            indent = s.indent if (i == 0 and self._first) else 0.0
            measure = self.width - indent
            if s.align == "center":
                canvas.drawString(indent + (measure - line.width) / 2, y, line.text)
            elif s.align == "right":
                canvas.drawString(indent + measure - line.width, y, line.text)
            elif s.align == "justify" and line.justify:
                self._draw_justified(line, indent, measure, y)
            else:
                canvas.drawString(indent, y, line.text)
            y -= s.leading

    def _draw_justified(self, line: Line, x: float, measure: float, y: float) -> None:
        """Spread the slack between Hanzi (and around Latin runs), never inside a number."""
        s = self.style
        segments = _SEGMENT.findall(line.text)
        widths = [stringWidth(seg, s.font, s.size) for seg in segments]
        gaps = len(segments) - 1
        slack = measure - sum(widths)
        if gaps <= 0 or not 0 < slack / gaps <= s.size * 0.6:
            self.canv.drawString(x, y, line.text)
            return
        step = slack / gaps
        text = self.canv.beginText(x, y)
        text.setFont(s.font, s.size)
        pos = x
        for seg, w in zip(segments, widths, strict=True):
            text.setTextOrigin(pos, y)
            text.textOut(seg)
            pos += w + step
        self.canv.drawText(text)


#: Units of justification: a run of Latin letters/digits (with . % etc.) or one other character.
_SEGMENT = re.compile(r"[\x21-\x7e\u00b0-\u00ff]+|.", re.S)


class ChartImage(Flowable):
    """A chart's pixels drawn at its print size (named by content, so output is stable)."""

    def __init__(self, chart: charts.Chart) -> None:
        super().__init__()
        self.chart = chart
        self.width = chart.width_mm * mm
        self.height = chart.height_mm * mm
        self.hAlign = "CENTER"

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        return self.width, self.height

    def draw(self) -> None:
        self.canv.drawImage(ImageReader(self.chart.image), 0, 0, self.width, self.height)


# --- styles -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Styles:
    body: TextStyle
    h1: TextStyle
    h2: TextStyle
    caption: TextStyle
    table_caption: TextStyle
    note: TextStyle
    cell: TextStyle
    cell_right: TextStyle
    cell_center: TextStyle
    head_cell: TextStyle
    cover_title: TextStyle
    cover_org: TextStyle
    cover_meta: TextStyle
    cover_date: TextStyle
    brief_title: TextStyle
    meta: TextStyle


def make_styles(fonts: FontSet) -> Styles:
    sans, serif = fonts.sans, fonts.serif
    body = 11.5
    return Styles(
        body=TextStyle(serif, body, 21, indent=2 * body, space_after=3),
        h1=TextStyle(sans, 15, 24, align="left", space_before=14, space_after=6),
        h2=TextStyle(sans, 12, 20, align="left", space_before=8, space_after=4),
        caption=TextStyle(sans, 9, 14, align="center", color=GREY, space_before=2, space_after=8),
        table_caption=TextStyle(
            sans, 9, 14, align="center", color=GREY, space_before=4, space_after=3
        ),
        note=TextStyle(serif, 8.5, 13, align="left", color=GREY, space_after=6),
        cell=TextStyle(sans, 8.5, 12, align="left"),
        cell_right=TextStyle(sans, 8.5, 12, align="right"),
        cell_center=TextStyle(sans, 8.5, 12, align="center"),
        head_cell=TextStyle(sans, 8.5, 12, align="center"),
        cover_title=TextStyle(sans, 26, 40, align="center"),
        cover_org=TextStyle(sans, 16, 26, align="center", color=GREY),
        cover_meta=TextStyle(serif, 12, 24, align="left"),
        cover_date=TextStyle(sans, 14, 22, align="center"),
        brief_title=TextStyle(sans, 19, 30, align="center", space_after=4),
        meta=TextStyle(serif, 9.5, 15, align="center", color=GREY, space_after=6),
    )


# --- the input ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportData:
    """Everything one report shows: the period's results, breakdowns, and (monthly) YTD."""

    kind: str  # "year" | "month"
    label: str  # "2023" | "2023-07"
    fiscal_year: int
    start: date
    end: date
    result: Mapping[str, Any]
    tables: Mapping[str, Sequence[Mapping[str, Any]]]
    bureau: str
    district: str
    title: str
    data_cutoff: date
    data_updated_at: Any
    source_titles: Mapping[str, str] = field(default_factory=dict)
    ytd: Mapping[str, Any] | None = None
    ytd_tables: Mapping[str, Sequence[Mapping[str, Any]]] | None = None

    @property
    def month(self) -> int | None:
        return int(self.label[5:7]) if self.kind == "month" else None


# --- building blocks ----------------------------------------------------------------------


class Builder:
    """Collects flowables and numbers figures and tables as they are added."""

    def __init__(self, styles: Styles) -> None:
        self.s = styles
        self.story: list[Flowable] = []
        self.figure_no = 0
        self.table_no = 0
        self.section_no = 0
        self.sub_no = 0
        self.charts: list[str] = []
        self._heads: list[Flowable] = []

    def add(self, flowable: Flowable) -> None:
        self._flush()
        self.story.append(flowable)

    def finish(self) -> list[Flowable]:
        self._flush()
        return self.story

    def _flush(self) -> None:
        """Headings waiting for their block go into the story as they are (keepWithNext)."""
        self.story.extend(self._heads)
        self._heads = []

    def _block(self, parts: list[Flowable]) -> None:
        """A figure or short table, kept on one page together with the headings above it.

        reportlab's keepWithNext does not reach into a KeepTogether, so a heading followed by
        a chart would otherwise be left alone at the foot of a page.
        """
        heads, self._heads = self._heads, []
        self.story.append(KeepTogether(heads + parts))

    def h1(self, text: str) -> None:
        self.section_no += 1
        self.sub_no = 0
        self.add(CondPageBreak(60 * mm))
        self._heads.append(CJKParagraph(f"{cn_number(self.section_no)}、{text}", self.s.h1, True))

    def h2(self, text: str) -> None:
        self.sub_no += 1
        self._heads.append(CJKParagraph(f"（{cn_number(self.sub_no)}）{text}", self.s.h2, True))

    def para(self, text: str, style: TextStyle | None = None) -> None:
        self.add(CJKParagraph(text, style or self.s.body))

    def chart(self, chart: charts.Chart, source: str | None = None) -> None:
        self.figure_no += 1
        self.charts.append(chart.name)
        caption = f"图{self.figure_no}　{chart.title}"
        if source:
            caption += f"（数据来源：{source}）"
        if chart.empty:
            # A large empty frame says nothing a sentence cannot: note the gap and move on.
            note = f"{caption}：统计期内{MISSING}，图从略。"
            self._block([CJKParagraph(note, self.s.caption)])
            return
        self._block([ChartImage(chart), CJKParagraph(caption, self.s.caption)])

    def table(
        self,
        title: str,
        header: Sequence[str],
        rows: Sequence[Sequence[Any]],
        widths_mm: Sequence[float],
        align: Sequence[str],
        group_rows: Sequence[int] = (),
        note: str | None = None,
    ) -> None:
        """A 三线表: rules above and below, a thin one under the header, no vertical lines."""
        self.table_no += 1
        s = self.s
        cell_style = {"l": s.cell, "r": s.cell_right, "c": s.cell_center}
        data: list[list[Any]] = [[CJKParagraph(h, s.head_cell) for h in header]]
        for r_index, row in enumerate(rows):
            if r_index in group_rows:
                data.append([CJKParagraph(str(row[0]), s.cell)] + [""] * (len(header) - 1))
                continue
            data.append(
                [
                    CJKParagraph("" if v is None else str(v), cell_style[a])
                    for v, a in zip(row, align, strict=True)
                ]
            )
        total = sum(widths_mm)
        scale = TEXT_WIDTH / (total * mm) if total * mm > TEXT_WIDTH else 1.0
        widths = [w * mm * scale for w in widths_mm]
        commands: list[tuple[Any, ...]] = [
            ("LINEABOVE", (0, 0), (-1, 0), 1.0, INK),
            ("LINEBELOW", (0, 0), (-1, 0), 0.5, INK),
            ("LINEBELOW", (0, -1), (-1, -1), 1.0, INK),
            ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("FONT", (0, 0), (-1, -1), self.s.cell.font, 8.5),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
            ("LEFTPADDING", (0, 0), (-1, -1), 4),
            ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ]
        for i in range(1, len(data) - 1):
            commands.append(("LINEBELOW", (0, i), (-1, i), 0.25, colors.HexColor("#d0d0d0")))
        for g in group_rows:
            # A group heading row never stays alone at the foot of a page.
            commands.append(("NOSPLIT", (0, g + 1), (-1, min(g + 2, len(data) - 1))))
            commands.append(("SPAN", (0, g + 1), (-1, g + 1)))
            commands.append(("BACKGROUND", (0, g + 1), (-1, g + 1), GROUP_FILL))
        tbl = Table(data, colWidths=widths, repeatRows=1, hAlign="CENTER")
        tbl.setStyle(TableStyle(commands))
        caption = CJKParagraph(f"表{self.table_no}　{title}", self.s.table_caption)
        parts: list[Flowable] = [caption, tbl]
        if note:
            parts.append(Spacer(1, 2))
            parts.append(CJKParagraph(note, self.s.note))
        if len(rows) <= 16:
            self._block(parts)
        else:
            # Too long to keep whole: start it where at least its first rows fit.
            self.story.append(CondPageBreak(50 * mm))
            self._flush()
            self.story.extend(parts)
        self.add(Spacer(1, 4))


def _v(row: Mapping[str, Any], key: str, kind: str) -> str:
    value = row.get(key)
    return MISSING if value is None else narrative.fmt_value(kind, value)


def _missing_note(fig: Figures, keys: Sequence[str]) -> str | None:
    """One note under a table listing why its empty cells are empty."""
    reasons: dict[str, list[str]] = {}
    for key in keys:
        if fig.get(key) is None:
            reasons.setdefault(fig.reason(key), []).append(narrative.name_of(key))
    if not reasons:
        return None
    parts = [f"{'、'.join(names)}：{reason}" for reason, names in reasons.items()]
    return "注：“数据缺失”表示该项在统计期内无可用数据，不按零计。" + "；".join(parts) + "。"


SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("enforcement", "行政执法", "enforcement"),
    ("permits", "审批服务", "permits"),
    ("demolition", "违法建设治理", "demolition"),
    ("dcm", "数字城管", "dcm_cases"),
    ("legal", "学法普法", "legal_activities"),
)


def _source_title(data: ReportData, source: str) -> str:
    return data.source_titles.get(source) or narrative.SOURCE_TITLES.get(source, source)


# --- page decoration ----------------------------------------------------------------------


def _decorate(fonts: FontSet, bureau: str, title: str) -> Callable[[Any, Any], None]:
    """Running header (bureau · title, rule below) and ``— n —`` page numbers on outer edges."""

    def on_page(canvas: Any, doc: Any) -> None:
        page = canvas.getPageNumber()
        number = page - getattr(doc, "_page_offset", 0)
        canvas.saveState()
        canvas.setFillColor(GREY)
        canvas.setStrokeColor(RULE)
        canvas.setFont(fonts.sans, 8.5)
        header_y = PAGE_HEIGHT - MARGIN_TOP + 8 * mm
        canvas.drawString(MARGIN_LEFT, header_y, bureau)
        canvas.drawRightString(PAGE_WIDTH - MARGIN_RIGHT, header_y, title)
        canvas.setLineWidth(0.5)
        canvas.line(
            MARGIN_LEFT, header_y - 2.5 * mm, PAGE_WIDTH - MARGIN_RIGHT, header_y - 2.5 * mm
        )
        canvas.setFillColor(INK)
        canvas.setFont(fonts.serif, 11)
        text = f"— {number} —"
        y = MARGIN_BOTTOM - 7 * mm - 11
        if number % 2:
            canvas.drawRightString(PAGE_WIDTH - MARGIN_RIGHT - 11, y, text)
        else:
            canvas.drawString(MARGIN_LEFT + 11, y, text)
        canvas.restoreState()

    return on_page


@contextlib.contextmanager
def _binary_streams() -> Iterator[None]:
    """Store image streams as binary, not ASCII85: a quarter smaller and, without reportlab's
    optional C accelerator, about a second faster per annual report. Restored afterwards."""
    saved = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = saved


def _document(buf: io.BytesIO, data: ReportData, subject: str) -> BaseDocTemplate:
    doc = BaseDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=MARGIN_LEFT,
        rightMargin=MARGIN_RIGHT,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=data.title,
        author=data.bureau,
        subject=subject,
        creator="urbanreport",
        producer="urbanreport",
        keywords=f"法治政府建设,{data.label}",
        lang="zh-CN",
        invariant=1,
        displayDocTitle=1,
        # Without this reportlab opens every page with Helvetica, a font that is not embedded.
        initialFontName=register_fonts().serif,
    )
    return doc


def _frame(name: str) -> Frame:
    return Frame(
        MARGIN_LEFT,
        MARGIN_BOTTOM,
        TEXT_WIDTH,
        TEXT_HEIGHT,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id=name,
    )


# --- the annual report --------------------------------------------------------------------


def _months(data: ReportData) -> list[int]:
    last = data.end.month if data.kind == "year" else (data.month or 12)
    return list(range(1, last + 1))


def _cover(b: Builder, data: ReportData) -> None:
    s = b.s
    b.add(Spacer(1, 28 * mm))
    b.add(CJKParagraph(data.bureau, s.cover_org))
    b.add(Spacer(1, 10 * mm))
    b.add(CJKParagraph(data.title, s.cover_title))
    b.add(Spacer(1, 4 * mm))
    b.add(_Rule(60 * mm, ACCENT, 1.2))
    b.add(Spacer(1, 36 * mm))
    rows = [
        ("编制单位", data.bureau),
        ("统计期", f"{narrative.fmt_date(data.start)}至{narrative.fmt_date(data.end)}"),
        ("数据截止日期", narrative.fmt_date(data.data_cutoff)),
        ("数据更新时间", narrative.fmt_datetime(data.data_updated_at)),
    ]
    batches = (data.result.get("data_version") or {}).get("batches")
    if batches:
        rows.append(("数据批次", f"共{batches}批"))
    table = Table(
        [[CJKParagraph(k, s.cover_meta), CJKParagraph(v, s.cover_meta)] for k, v in rows],
        colWidths=[34 * mm, 96 * mm],
        hAlign="CENTER",
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                # Empty cells would otherwise set reportlab's default, unembedded Helvetica.
                ("FONT", (0, 0), (-1, -1), s.cell.font, 9),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    b.add(table)
    # The document's date, as an official document carries one: the day of the data it shows
    # (not the wall clock), so the same data always prints the same cover.
    b.add(Spacer(1, 42 * mm))
    b.add(CJKParagraph(narrative.fmt_date(data.data_updated_at), s.cover_date))


class _Rule(Flowable):
    """A short centred rule under the cover title."""

    def __init__(self, length: float, color: Any, width: float) -> None:
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


def _headline_table(b: Builder, data: ReportData, fig: Figures) -> None:
    year, prev = data.fiscal_year, data.fiscal_year - 1
    rows: list[list[Any]] = []
    groups: list[int] = []
    section_names = {
        "enforcement": "行政执法",
        "permits": "审批服务",
        "demolition": "违法建设治理",
        "dcm": "数字城管",
        "legal": "学法普法",
    }
    current = None
    for item in narrative.catalogue():
        section = item["key"].split(".")[0]
        if section != current:
            current = section
            groups.append(len(rows))
            rows.append([section_names.get(section, section)])
        unit = "%" if item["kind"] == "rate" else item["unit"]
        rows.append(
            [
                item["name"],
                unit,
                fig.cell(item["key"]),
                fig.cell(item["key"], previous=True),
                fig.change(item["key"]),
            ]
        )
    b.table(
        f"{year}年主要指标及与{prev}年对比",
        ["指标", "单位", f"{year}年", f"{prev}年", "同比变化"],
        rows,
        [62, 18, 26, 26, 24],
        ["l", "c", "r", "r", "r"],
        group_rows=groups,
        note=(
            "注：比率类指标的同比变化以百分点表示，其余指标以增减百分比表示；"
            "“数据缺失”表示该项在统计期内无可用数据，不按零计。"
            + ("" if not fig.missing else "缺失原因见各部分说明。")
        ),
    )


def _enforcement(b: Builder, data: ReportData, fig: Figures) -> None:
    year, prev = data.fiscal_year, data.fiscal_year - 1
    t = data.tables
    src = _source_title(data, "enforcement")
    b.h1("行政执法")
    for text in narrative.enforcement(fig, data.kind, data.label):
        b.para(text)
    b.h2("各月处罚情况")
    b.chart(charts.enforcement_monthly(t.get("enforcement_by_month", []), year, _months(data)), src)
    b.h2("按违法类别")
    b.chart(
        charts.category_bars(
            "enforcement_category",
            "各违法类别处罚案件数",
            t.get("enforcement_by_category", []),
            year,
            "category",
            "penalty_cases",
            "处罚案件",
            "宗",
        ),
        src,
    )
    b.h2("按街道")
    streets = sorted(
        t.get("enforcement_by_street", []), key=lambda r: -(r.get("penalty_cases") or 0)
    )
    b.table(
        "各街道处罚案件及罚款金额",
        [
            "街道",
            f"{year}年处罚案件（宗）",
            f"{prev}年（宗）",
            f"{year}年罚款（元）",
            f"{prev}年（元）",
        ],
        [
            [
                r.get("street"),
                _v(r, "penalty_cases", "count"),
                _v(r, "prev_penalty_cases", "count"),
                _v(r, "fines_yuan", "money"),
                _v(r, "prev_fines_yuan", "money"),
            ]
            for r in streets
        ]
        or [[MISSING, "", "", "", ""]],
        [28, 32, 26, 36, 34],
        ["l", "r", "r", "r", "r"],
    )
    b.h2("执法规范化")
    keys = [
        "enforcement.major_cases",
        "enforcement.major_legal_review_rate",
        "enforcement.major_collective_rate",
        "enforcement.disclosure_on_time_rate",
        "enforcement.no_penalty_cases",
        "enforcement.overdue_decisions",
        "enforcement.reviews",
        "enforcement.review_correction_rate",
    ]
    _indicator_table(b, fig, keys, "行政执法规范化指标", year, prev)


def _indicator_table(
    b: Builder, fig: Figures, keys: Sequence[str], title: str, year: int, prev: int
) -> None:
    b.table(
        title,
        ["指标", "单位", f"{year}年", f"{prev}年", "同比变化"],
        [
            [
                narrative.name_of(k),
                "%" if narrative.kind_of(k) == "rate" else narrative.unit_of(k),
                fig.cell(k),
                fig.cell(k, previous=True),
                fig.change(k),
            ]
            for k in keys
        ],
        [62, 18, 26, 26, 24],
        ["l", "c", "r", "r", "r"],
        note=_missing_note(fig, keys),
    )


def _permits(b: Builder, data: ReportData, fig: Figures) -> None:
    year, prev = data.fiscal_year, data.fiscal_year - 1
    t = data.tables
    src = _source_title(data, "permits")
    b.h1("审批服务")
    for text in narrative.permits(fig, data.kind, data.label):
        b.para(text)
    b.h2("各月受理及办结")
    b.chart(charts.permits_monthly(t.get("permits_by_month", []), year, _months(data)), src)
    b.h2("服务效能")
    keys = [
        "permits.received",
        "permits.concluded",
        "permits.completion_rate",
        "permits.on_time_rate",
        "permits.avg_working_days",
        "permits.online_rate",
        "permits.granted",
        "permits.e_license_rate",
        "permits.non_tax_revenue_yuan",
    ]
    _indicator_table(b, fig, keys, "审批服务效能指标", year, prev)
    b.h2("按许可事项")
    items = sorted(t.get("permits_by_item", []), key=lambda r: -(r.get("received") or 0))
    b.table(
        "各许可事项办理情况",
        [
            "许可事项",
            "受理（宗）",
            "办结（宗）",
            "按时办结率",
            "非税收入（元）",
            f"{prev}年受理（宗）",
        ],
        [
            [
                r.get("item_name"),
                _v(r, "received", "count"),
                _v(r, "concluded", "count"),
                _v(r, "on_time_rate", "rate"),
                _v(r, "non_tax_revenue_yuan", "money"),
                _v(r, "prev_received", "count"),
            ]
            for r in items
        ]
        or [[MISSING, "", "", "", "", ""]],
        [50, 19, 19, 21, 26, 21],
        ["l", "r", "r", "r", "r", "r"],
    )


def _demolition(b: Builder, data: ReportData, fig: Figures) -> None:
    t = data.tables
    src = _source_title(data, "demolition")
    campaign = data.result.get("campaign") or None
    b.h1("违法建设治理")
    for text in narrative.demolition(fig, data.kind, data.label, data.district):
        b.para(text)
    start = narrative.campaign_start(data.result)
    start_month = start.month if start and start.year == data.fiscal_year else None
    if start and start.year < data.fiscal_year:
        start_month = 1
    b.h2("专项行动进度")
    b.chart(
        charts.demolition_progress(
            t.get("demolition_by_month", []),
            _months(data),
            (campaign or {}).get("target_m2") or fig.get("demolition.campaign_target_m2"),
            start_month,
            (campaign or {}).get("name"),
        ),
        src,
    )
    b.h2("各街道完成情况")
    b.chart(charts.demolition_streets(t.get("demolition_by_street", [])), src)


def _dcm(b: Builder, data: ReportData, fig: Figures) -> None:
    year, prev = data.fiscal_year, data.fiscal_year - 1
    t = data.tables
    src = _source_title(data, "dcm_cases")
    b.h1("数字城管")
    for text in narrative.dcm(fig, data.kind, data.label):
        b.para(text)
    b.h2("案件办理环节")
    b.chart(charts.dcm_funnel(_funnel_stages(fig)), src)
    keys = [
        "dcm.registration_rate",
        "dcm.closure_rate",
        "dcm.on_time_disposal_rate",
        "dcm.rework_rate",
        "dcm.avg_disposal_hours",
    ]
    _indicator_table(b, fig, keys, "数字城管办理质量指标", year, prev)
    b.h2("案件来源")
    b.chart(
        charts.category_bars(
            "dcm_source",
            "各来源上报案件数及占比（12345热线单独标示）",
            t.get("dcm_by_source", []),
            year,
            "source",
            "reported",
            "上报案件",
            "件",
            compare=False,
            highlight="12345热线",
            share=True,
        ),
        src,
    )
    b.h2("各月案件量")
    b.chart(
        charts.monthly_lines(
            "dcm_monthly",
            f"各月上报案件数（{year}年与{prev}年对比）",
            t.get("dcm_by_month", []),
            year,
            _months(data),
            "reported",
            "上报案件",
            "件",
        ),
        src,
    )
    b.h2("各街道办理情况")
    streets = sorted(t.get("dcm_by_street", []), key=lambda r: -(r.get("reported") or 0))
    b.table(
        "各街道数字城管案件办理情况",
        ["街道", "上报（件）", "立案（件）", "结案（件）", "按期处置率", f"{prev}年上报（件）"],
        [
            [
                r.get("street"),
                _v(r, "reported", "count"),
                _v(r, "registered", "count"),
                _v(r, "closed", "count"),
                _v(r, "on_time_disposal_rate", "rate"),
                _v(r, "prev_reported", "count"),
            ]
            for r in streets
        ]
        or [[MISSING, "", "", "", "", ""]],
        [26, 24, 24, 24, 26, 30],
        ["l", "r", "r", "r", "r", "r"],
    )


def _funnel_stages(fig: Figures) -> list[tuple[str, Any]]:
    """上报→立案→处置→结案; the 处置 stage only when the data provide it."""
    stages: list[tuple[str, Any]] = [
        ("上报", fig.get("dcm.reported")),
        ("立案", fig.get("dcm.registered")),
    ]
    if "dcm.disposed" in fig.values:
        stages.append(("处置", fig.get("dcm.disposed")))
    stages.append(("结案", fig.get("dcm.closed")))
    return stages


def _legal(b: Builder, data: ReportData, fig: Figures) -> None:
    year, prev = data.fiscal_year, data.fiscal_year - 1
    t = data.tables
    src = _source_title(data, "legal_activities")
    b.h1("学法普法")
    for text in narrative.legal(fig, data.kind, data.label):
        b.para(text)
    rows = t.get("legal_by_type", [])
    b.chart(
        charts.category_bars(
            "legal_type",
            "各类学法普法活动次数",
            rows,
            year,
            "activity_type",
            "events",
            "活动次数",
            "次",
        ),
        src,
    )
    b.table(
        "学法普法活动及参与人次",
        [
            "活动类型",
            f"{year}年（次）",
            f"{prev}年（次）",
            f"{year}年参与（人次）",
            f"{prev}年参与（人次）",
        ],
        [
            [
                r.get("activity_type"),
                _v(r, "events", "count"),
                _v(r, "prev_events", "count"),
                _v(r, "participants", "count"),
                _v(r, "prev_participants", "count"),
            ]
            for r in rows
        ]
        or [[MISSING, "", "", "", ""]],
        [40, 27, 27, 31, 31],
        ["l", "r", "r", "r", "r"],
    )


def _quality(b: Builder, data: ReportData) -> None:
    b.h1("数据质量")
    texts = narrative.quality(
        data.result, data.data_cutoff, data.data_updated_at, data.source_titles
    )
    for text in texts:
        b.para(text)
    quality = data.result.get("quality") or {}
    period_months = narrative._period_months(data.start, data.end)
    rows = []
    for source, q in quality.items():
        months = list(q.get("months_without_data") or [])
        if source in narrative.NOT_MONTHLY:
            gap = "不按月报送"
        elif q.get("latest_record") is None or (months and len(months) >= period_months):
            gap = "全部月份"
        elif months:
            gap = "、".join(str(int(m[5:7])) + "月" for m in months)
        else:
            gap = "无"
        rows.append(
            [
                _source_title(data, source),
                narrative.fmt_count(q.get("rows_read") or 0),
                narrative.fmt_count(q.get("rows_loaded") or 0),
                narrative.fmt_count(q.get("rows_rejected") or 0),
                gap,
                narrative.fmt_date(q.get("latest_record")),
            ]
        )
    b.table(
        "各数据来源质量情况",
        [
            "数据来源",
            "累计读取行数",
            "累计入库行数",
            "累计拒收行数",
            "统计期内无数据月份",
            "最新记录日期",
        ],
        rows or [[MISSING, "", "", "", "", ""]],
        [28, 20, 20, 20, 36, 32],
        ["l", "r", "r", "r", "c", "c"],
        note="注：行数为截至数据更新时间的累计数，读取行数 = 入库行数 + 拒收行数；"
        "拒收的行已逐条登记原因，由业务科室核实更正后重新报送。",
    )
    provisional = list(data.result.get("provisional") or [])
    if provisional:
        b.h2("工作日历说明")
        for text in provisional:
            b.para(str(text))


def annual(data: ReportData) -> tuple[bytes, list[str]]:
    """The annual report as PDF bytes, and the names of the charts it contains."""
    fonts = register_fonts()
    styles = make_styles(fonts)
    fig = Figures(data.result)
    b = Builder(styles)
    _cover(b, data)
    b.add(NextPageTemplate("body"))
    b.add(PageBreak())
    b.para(
        f"本报告汇总{data.bureau}{data.fiscal_year}年度法治政府建设相关工作数据，"
        "包括行政执法、审批服务、违法建设治理、数字城管和学法普法五个方面，"
        "数据取自各业务系统按月报送的原始记录，按统一口径计算，并与上年同期对比。"
    )
    b.h1("核心指标")
    _headline_table(b, data, fig)
    _enforcement(b, data, fig)
    _permits(b, data, fig)
    _demolition(b, data, fig)
    _dcm(b, data, fig)
    _legal(b, data, fig)
    _quality(b, data)
    b.finish()

    buf = io.BytesIO()
    doc = _document(buf, data, f"{data.fiscal_year}年度法治政府建设数据报告")
    doc._page_offset = 1  # the cover is not numbered
    decorate = _decorate(fonts, data.bureau, data.title)
    doc.addPageTemplates(
        [
            PageTemplate(id="cover", frames=[_frame("cover")]),
            PageTemplate(id="body", frames=[_frame("body")], onPage=decorate),
        ]
    )
    with _binary_streams():
        doc.build(b.story)
    return buf.getvalue(), b.charts


# --- the monthly brief --------------------------------------------------------------------

BRIEF_KEYS = (
    "enforcement.penalty_cases",
    "enforcement.fines_yuan",
    "enforcement.disclosure_on_time_rate",
    "permits.received",
    "permits.completion_rate",
    "permits.on_time_rate",
    "permits.non_tax_revenue_yuan",
    "demolition.area_m2",
    "demolition.campaign_progress",
    "dcm.reported",
    "dcm.closure_rate",
    "dcm.on_time_disposal_rate",
    "legal.publicity_events",
    "legal.participants",
)


def monthly(data: ReportData) -> tuple[bytes, list[str]]:
    """The monthly brief (two pages at most) as PDF bytes, and its chart names."""
    fonts = register_fonts()
    s = make_styles(fonts)
    fig = Figures(data.result)
    ytd = Figures(data.ytd or {})
    month = data.month or 1
    year = data.fiscal_year
    b = Builder(s)
    b.add(CJKParagraph(data.bureau, TextStyle(fonts.sans, 11, 18, align="center", color=GREY)))
    b.add(CJKParagraph(f"{year}年{month}月法治政府建设数据月报", s.brief_title))
    b.add(
        CJKParagraph(
            f"统计期：{narrative.fmt_date(data.start)}至{narrative.fmt_date(data.end)}\n"
            f"数据截至：{narrative.fmt_date(data.data_cutoff)}　　"
            f"数据更新时间：{narrative.fmt_datetime(data.data_updated_at)}",
            s.meta,
        )
    )
    b.add(_Rule(TEXT_WIDTH, ACCENT, 0.8))
    b.add(Spacer(1, 3 * mm))

    brief_body = TextStyle(s.body.font, 10.5, 18, indent=21, space_after=2)
    b.h1("本月概况")
    paragraphs = [
        narrative.enforcement(fig, "month", data.label)[0],
        narrative.permits(fig, "month", data.label)[0],
        narrative.demolition(fig, "month", data.label, data.district)[0],
        narrative.dcm(fig, "month", data.label)[0],
        narrative.legal(fig, "month", data.label)[0],
    ]
    for text in paragraphs:
        b.para(text, brief_body)

    b.h1("主要指标")
    rows = []
    for key in BRIEF_KEYS:
        kind = narrative.kind_of(key)
        unit = "" if kind == "rate" else f"（{narrative.unit_of(key)}）"
        rows.append(
            [
                narrative.name_of(key) + unit,
                fig.cell(key),
                fig.cell(key, previous=True),
                fig.change(key),
                ytd.cell(key),
                ytd.change(key),
            ]
        )
    b.table(
        f"{year}年{month}月主要指标（与上年同期对比）",
        ["指标", "本月", "上年同月", "同比", f"1—{month}月累计", "累计同比"],
        rows,
        [44, 21, 21, 25, 21, 25],
        ["l", "r", "r", "r", "r", "r"],
        note=_missing_note(fig, BRIEF_KEYS)
        or "注：比率类指标的同比以百分点表示，其余指标以增减百分比表示。",
    )

    b.add(PageBreak())
    b.h1(f"1—{month}月分项情况")
    tables = data.ytd_tables or data.tables
    months = list(range(1, month + 1))
    half = charts.HALF_WIDTH_MM
    h = 56.0
    campaign = data.result.get("campaign") or {}
    start = narrative.campaign_start(data.result)
    start_month = start.month if start and start.year == year else (1 if start else None)
    grid = [
        charts.monthly_pair(
            "enforcement_monthly",
            "各月处罚案件数",
            tables.get("enforcement_by_month", []),
            year,
            months,
            "penalty_cases",
            "宗",
            "处罚案件",
            width_mm=half,
            height_mm=h,
            highlight=month,
        ),
        charts.permits_monthly(
            tables.get("permits_by_month", []),
            year,
            months,
            width_mm=half,
            height_mm=h,
            highlight=month,
        ),
        charts.demolition_progress(
            tables.get("demolition_by_month", []),
            months,
            campaign.get("target_m2") or fig.get("demolition.campaign_target_m2"),
            start_month,
            campaign.get("name"),
            width_mm=half,
            height_mm=h,
        ),
        charts.monthly_lines(
            "dcm_monthly",
            "各月数字城管上报案件数",
            tables.get("dcm_by_month", []),
            year,
            months,
            "reported",
            "上报案件",
            "件",
            width_mm=half,
            height_mm=h,
            highlight=month,
        ),
        charts.monthly_pair(
            "legal_monthly",
            "各月学法普法活动次数",
            tables.get("legal_by_month", []),
            year,
            months,
            "events",
            "次",
            "活动次数",
            width_mm=half,
            height_mm=h,
            highlight=month,
        ),
    ]
    cells: list[list[Any]] = []
    row: list[Any] = []
    for chart in grid:
        b.figure_no += 1
        b.charts.append(chart.name)
        img = ChartImage(chart)
        cap = CJKParagraph(f"图{b.figure_no}　{chart.title}", s.caption)
        row.append([img, cap])
        if len(row) == 2:
            cells.append(row)
            row = []
    warnings = narrative.source_warnings(
        data.result.get("quality") or {}, data.source_titles, period_months=1
    )
    warnings += [str(p) for p in data.result.get("provisional") or []]
    missing_sections = [
        title for key, title, _src in SECTIONS if fig.all_missing(_section_keys(key))
    ]
    box: list[Any] = [CJKParagraph("数据质量提示", TextStyle(fonts.sans, 10, 16, align="left"))]
    if missing_sections:
        warnings.insert(0, f"本月{'、'.join(missing_sections)}数据缺失，相关指标不按零计。")
    if not warnings:
        warnings = ["本月各数据来源均已按时报送，未发现数据缺口。"]
    note_style = TextStyle(fonts.serif, 8.5, 13.5, align="justify")
    for w in warnings[:8]:
        box.append(CJKParagraph(f"· {w}", note_style))
    row.append(box)
    cells.append(row)
    grid_table = Table(cells, colWidths=[TEXT_WIDTH / 2] * 2, hAlign="CENTER")
    grid_table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                # Empty cells would otherwise set reportlab's default, unembedded Helvetica.
                ("FONT", (0, 0), (-1, -1), s.cell.font, 9),
                ("LEFTPADDING", (0, 0), (-1, -1), 1),
                ("RIGHTPADDING", (0, 0), (-1, -1), 1),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("BOX", (1, -1), (1, -1), 0.5, RULE),
                ("LEFTPADDING", (1, -1), (1, -1), 8),
                ("RIGHTPADDING", (1, -1), (1, -1), 8),
                ("TOPPADDING", (1, -1), (1, -1), 6),
            ]
        )
    )
    b.add(grid_table)
    b.finish()

    buf = io.BytesIO()
    doc = _document(buf, data, f"{year}年{month}月法治政府建设数据月报")
    decorate = _decorate(fonts, data.bureau, f"{year}年{month}月法治政府建设数据月报")
    doc.addPageTemplates([PageTemplate(id="body", frames=[_frame("body")], onPage=decorate)])
    with _binary_streams():
        doc.build(b.story)
    return buf.getvalue(), b.charts


def _section_keys(section: str) -> list[str]:
    return [item["key"] for item in narrative.catalogue() if item["key"].startswith(section + ".")]


# --- preview ------------------------------------------------------------------------------


def preview_png(pdf_bytes: bytes, width_px: int = 300) -> bytes:
    """The first page as a small PNG, so the portal can show it without system tools."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(pdf_bytes)
    try:
        page = pdf[0]
        scale = width_px / page.get_width()
        image = page.render(scale=scale).to_pil()
        page.close()
    finally:
        pdf.close()
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG", optimize=True)
    return out.getvalue()
