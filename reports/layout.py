"""The PDF's pages: geometry, text styles, page templates and the running decoration.

Why the pages look the way they do: page geometry follows GB/T 9704 (党政机关公文格式): A4,
37 mm top margin, 28 mm binding (left) margin, 26 mm right, 35 mm bottom, a 156 × 225 mm text
block, page numbers as ``— 3 —`` on the outer edge. Headings are sans (like 黑体), body text
serif (like 宋体). Output is byte-identical for identical data: reportlab's invariant mode
fixes the creation date and the document id.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

from urbanreport.reports.fonts import FontSet, register_fonts
from urbanreport.reports.typeset import INK, TextStyle

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_TOP = 37 * mm
MARGIN_LEFT = 28 * mm
MARGIN_RIGHT = 26 * mm
MARGIN_BOTTOM = 35 * mm
TEXT_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT  # 156 mm
TEXT_HEIGHT = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM  # 225 mm

GREY = colors.HexColor("#555555")
RULE = colors.HexColor("#999999")
ACCENT = colors.HexColor("#8c1c13")
HEADER_FILL = colors.HexColor("#ececec")
GROUP_FILL = colors.HexColor("#f5f5f5")
ROW_RULE = colors.HexColor("#d0d0d0")


@dataclass(frozen=True)
class Styles:
    body: TextStyle
    brief_body: TextStyle
    h1: TextStyle
    h2: TextStyle
    h3: TextStyle
    caption: TextStyle
    table_caption: TextStyle
    note: TextStyle
    warning: TextStyle
    cell: TextStyle
    head_cell: TextStyle
    cover_title: TextStyle
    cover_org: TextStyle
    cover_meta: TextStyle
    cover_date: TextStyle
    brief_org: TextStyle
    brief_title: TextStyle
    meta: TextStyle


def make_styles(fonts: FontSet) -> Styles:
    sans, serif = fonts.sans, fonts.serif
    body = 11.5
    return Styles(
        body=TextStyle(serif, body, 21, indent=2 * body, space_after=3),
        brief_body=TextStyle(serif, 10.5, 18, indent=21, space_after=2),
        h1=TextStyle(sans, 15, 24, align="left", space_before=14, space_after=6),
        h2=TextStyle(sans, 12, 20, align="left", space_before=8, space_after=4),
        h3=TextStyle(sans, 10, 16, align="left"),
        caption=TextStyle(sans, 9, 14, align="center", color=GREY, space_before=2, space_after=8),
        table_caption=TextStyle(
            sans, 9, 14, align="center", color=GREY, space_before=4, space_after=3
        ),
        note=TextStyle(serif, 8.5, 13, align="left", color=GREY, space_after=6),
        warning=TextStyle(serif, 8.5, 13.5, align="justify"),
        cell=TextStyle(sans, 8.5, 12, align="left"),
        head_cell=TextStyle(sans, 8.5, 12, align="center"),
        cover_title=TextStyle(sans, 26, 40, align="center"),
        cover_org=TextStyle(sans, 16, 26, align="center", color=GREY),
        cover_meta=TextStyle(serif, 12, 24, align="left"),
        cover_date=TextStyle(sans, 14, 22, align="center"),
        brief_org=TextStyle(sans, 11, 18, align="center", color=GREY),
        brief_title=TextStyle(sans, 19, 30, align="center", space_after=4),
        meta=TextStyle(serif, 9.5, 15, align="center", color=GREY, space_after=6),
    )


def decorate(fonts: FontSet, bureau: str, title: str) -> Callable[[Any, Any], None]:
    """Running header (bureau · title, rule below) and ``— n —`` page numbers on outer edges."""

    def on_page(canvas: Any, doc: Any) -> None:
        number = canvas.getPageNumber() - getattr(doc, "page_offset", 0)
        canvas.saveState()
        canvas.setFillColor(GREY)
        canvas.setStrokeColor(RULE)
        canvas.setFont(fonts.sans, 8.5)
        header_y = PAGE_HEIGHT - MARGIN_TOP + 8 * mm
        canvas.drawString(MARGIN_LEFT, header_y, bureau)
        canvas.drawRightString(PAGE_WIDTH - MARGIN_RIGHT, header_y, title)
        canvas.setLineWidth(0.5)
        rule_y = header_y - 2.5 * mm
        canvas.line(MARGIN_LEFT, rule_y, PAGE_WIDTH - MARGIN_RIGHT, rule_y)
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


def document(buf: io.BytesIO, title: str, bureau: str, label: str, cover: bool) -> BaseDocTemplate:
    """The document template: GB/T 9704 margins, a body template (and a cover without header
    and number), metadata without time or id, so the same content gives the same bytes."""
    fonts = register_fonts()
    doc = BaseDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=MARGIN_LEFT,
        rightMargin=MARGIN_RIGHT,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=title,
        author=bureau,
        subject=title,
        creator="urbanreport",
        producer="urbanreport",
        keywords=f"法治政府建设,{label}",
        lang="zh-CN",
        invariant=1,
        displayDocTitle=1,
        # Without this reportlab opens every page with Helvetica, a font that is not embedded.
        initialFontName=fonts.serif,
    )
    body = PageTemplate(id="body", frames=[_frame("body")], onPage=decorate(fonts, bureau, title))
    templates = [PageTemplate(id="cover", frames=[_frame("cover")]), body] if cover else [body]
    doc.addPageTemplates(templates)
    doc.page_offset = 1 if cover else 0  # the cover is not numbered
    return doc


@contextlib.contextmanager
def binary_streams() -> Iterator[None]:
    """Store streams as binary, not ASCII85: a quarter smaller and, without reportlab's
    optional C accelerator, about a second faster per annual report. Restored afterwards."""
    saved = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = saved
