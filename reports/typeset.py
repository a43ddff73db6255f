"""Chinese line breaking for the PDF: reportlab's own where it does the job, ours where not.

Which is which is decided by `tests/test_reports_typeset.py`, which runs reportlab's
``wordWrap='CJK'`` on the report's own sentences and finds these failures:

1. 行首禁则: a full-width comma, semicolon, colon, question or exclamation mark, a closing
   quote or 》, or the % of a number starts a line (reportlab's list has only 。、）」』】〕］
   and ASCII punctuation).
2. 行尾禁则: an opening bracket or quote (（《“) ends a line (reportlab applies no such rule).
3. A number is cut in two (``4967|93.68``) in a narrow measure, and a number is split from its
   unit (``502|宗``).
4. A line runs past the measure: reportlab hangs a closing mark in the margin instead of
   pulling a character down.
5. Justified Chinese text stays ragged: reportlab justifies by stretching spaces only, and
   Chinese has none.

So body text, headings, captions, notes and table headers (all of which carry punctuation,
numbers and units) use :class:`CJKParagraph` (:func:`break_lines` plus justification by
character spacing). A table cell whose text fits its column is a plain string that reportlab's
table draws itself; one that must wrap and is only Hanzi (a street, category or item name —
no punctuation, no digits) uses reportlab's ``Paragraph`` with ``wordWrap='CJK'``, which breaks
such text correctly. Text from the data is never parsed as markup in our own flowable, and is
escaped where reportlab's Paragraph reads markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Paragraph

INK = colors.HexColor("#1a1a1a")

#: May not begin a line (行首禁则): closing punctuation, stops, enumeration comma, percent…
CANNOT_START = set(
    "，。、；：？！）》」』】〕〉］｝”’…—～·%％‰℃°,.;:?!)]}>"
    "々ゝゞヽヾーぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"
)
#: May not end a line (行尾禁则): opening brackets and quotes, currency signs.
CANNOT_END = set("（《「『【〔〈［｛“‘([{<￥$#")

#: A run that must not be split: numbers with decimals, percent and signs, dates, Latin words.
_TOKEN = re.compile(
    r"[+\-]?[0-9A-Za-z](?:[0-9A-Za-z._/:\-]*[0-9A-Za-z])?%?"  # 496793.68, 78.02%, 2023-07
    r"|\s+"  # spaces: break opportunities
    r"|.",  # any other single character (a Hanzi, a punctuation mark)
    re.S,
)
#: Units of justification: a run of Latin letters/digits (with . % etc.) or one other character.
_SEGMENT = re.compile(r"[\x21-\x7e\u00b0-\u00ff]+|.", re.S)
#: Text reportlab's CJK wrapping breaks correctly: Hanzi only (names from the dictionaries).
_HANZI_ONLY = re.compile(r"[\u4e00-\u9fff]+")
#: Units that stay with the number before them (502宗, 936292.39平方米, 4个工作日, 2023年):
#: GB/T 15835 keeps a number and its unit on one line. Longest first.
_UNITS = tuple(
    sorted(
        ("万平方米", "平方米", "个工作日", "工作日", "万元", "人次", "小时", "宗", "件", "元")
        + ("次", "个", "批", "行", "项", "人", "年", "月", "日"),
        key=len,
        reverse=True,
    )
)


def _unit_length(units: list[str], i: int) -> int:
    """How many units from `i` on spell a measure unit (0 if they do not)."""
    for word in _UNITS:
        joined = ""
        for n, unit in enumerate(units[i : i + len(word)], 1):
            joined += unit
            if joined.startswith(word):
                return n
            if not word.startswith(joined):
                break
    return 0


def _glue_units(units: list[str]) -> list[str]:
    """Glue a measure unit to the number before it, so ``502|宗`` cannot be split."""
    out: list[str] = []
    i = 0
    while i < len(units):
        n = _unit_length(units, i) if out and out[-1][-1:].isdigit() else 0
        if n:
            out[-1] += "".join(units[i : i + n])
            i += n
        else:
            out.append(units[i])
            i += 1
    return out


def _punctuated(text: str) -> list[str]:
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


def _units(text: str) -> list[str]:
    """The unbreakable units of a line: punctuation glued, numbers kept with their units."""
    return _glue_units(_punctuated(text))


def _pieces(unit: str, fits: Callable[[str], bool]) -> list[str]:
    """A unit too long for a line, as pieces that may break: its number and its unit apart,
    and a part still too long by characters, a closing mark kept with the one before it."""
    pieces: list[str] = []
    for part in _punctuated(unit):
        if fits(part):
            pieces.append(part)
            continue
        for ch in part:
            if pieces and ch in CANNOT_START:
                pieces[-1] += ch
            else:
                pieces.append(ch)
    return pieces


@dataclass(frozen=True)
class Line:
    text: str
    width: float  # natural width
    justify: bool  # stretch to the full measure (all lines but a paragraph's last)


#: Justification may add at most this much space between two characters (in em) before a
#: number is let go from its unit: a loose line is worse than ``496793.68`` | ``元``.
LOOSE_EM = 0.25


def _loose(text: str, width: float, measure: float, size: float) -> bool:
    gaps = max(len(_SEGMENT.findall(text)) - 1, 1)
    return (measure - width) / gaps > LOOSE_EM * size


def _part(
    unit: str, line: str, line_w: float, measure: float, font: str, size: float
) -> tuple[str, str]:
    """(number, rest) when a number with its unit does not fit and moving it whole would leave
    `line` loose; ("", unit) when the unit moves on whole."""
    parts = _punctuated(unit)
    if len(parts) < 2 or not _loose(line, line_w, measure, size):
        return "", unit
    if line_w + stringWidth(parts[0], font, size) > measure + 0.01:
        return "", unit
    return parts[0], "".join(parts[1:])


def _fill(units: list[str], font: str, size: float, measure: float, width: float) -> list[Line]:
    """Greedy filling of one paragraph piece.

    A unit that does not fit moves to the next line; a number with its unit is parted only
    when moving it whole would leave the line loose; a unit longer than a line breaks inside.
    """
    out: list[Line] = []
    current: list[str] = []
    current_w = 0.0

    def fits(text: str) -> bool:
        return stringWidth(text, font, size) <= width + 0.01

    def flush(justify: bool) -> None:
        nonlocal current, current_w, measure
        line = "".join(current).rstrip(" ")
        out.append(Line(line, stringWidth(line, font, size), justify))
        current, current_w, measure = [], 0.0, width

    for unit in units:
        if unit == " " and not current:
            continue
        w = stringWidth(unit, font, size)
        if current and current_w + w > measure + 0.01:
            head, unit = _part(unit, "".join(current), current_w, measure, font, size)
            if head:
                current.append(head)  # the number stays, its unit moves on
                w = stringWidth(unit, font, size)
            flush(True)
            if unit == " ":
                continue
        if not current and w > measure + 0.01:
            for piece in _pieces(unit, fits):  # longer than a line: break it inside
                pw = stringWidth(piece, font, size)
                if current and current_w + pw > measure + 0.01:
                    flush(True)
                current.append(piece)
                current_w += pw
            continue
        current.append(unit)
        current_w += w
    flush(False)
    return out


def break_lines(
    text: str, font: str, size: float, width: float, first_width: float | None = None
) -> list[Line]:
    """Greedy line breaking with 避头尾, whole numbers and numbers kept with their units.

    ``first_width`` is the measure of the first line (smaller when it is indented). Explicit
    newlines end a line without justification.
    """
    out: list[Line] = []
    for index, piece in enumerate(text.split("\n")):
        measure = first_width if (first_width is not None and index == 0) else width
        out += _fill(_units(piece), font, size, measure, width)
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
    """A paragraph of plain Chinese text: 避头尾 line breaking, justified by character spacing,
    never split so that one line is left alone at a page's foot or head."""

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
        fit = min(fit, len(lines) - 2)  # no widow
        head = CJKParagraph(self.text, self.style, lines=lines[:fit], first=self._first)
        tail = CJKParagraph(self.text, self.style, lines=lines[fit:], first=False)
        return [head, tail]

    def draw(self) -> None:
        s = self.style
        self.canv.setFillColor(s.color)
        self.canv.setFont(s.font, s.size)
        # Baseline of line i: the em box centred in the leading, ascent 0.88 em.
        y = self.height - (s.leading - s.size) / 2 - s.size * 0.88
        for i, line in enumerate(self._lines or []):
            indent = s.indent if (i == 0 and self._first) else 0.0
            self._draw_line(line, indent, self.width - indent, y)
            y -= s.leading

    def _draw_line(self, line: Line, x: float, measure: float, y: float) -> None:
        align = self.style.align
        if align == "center":
            self.canv.drawString(x + (measure - line.width) / 2, y, line.text)
        elif align == "right":
            self.canv.drawString(x + measure - line.width, y, line.text)
        elif align == "justify" and line.justify:
            self._draw_justified(line, x, measure, y)
        else:
            self.canv.drawString(x, y, line.text)

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


# --- table cells --------------------------------------------------------------------------

_ALIGNMENTS = {"left": TA_LEFT, "center": TA_CENTER, "right": TA_RIGHT, "justify": TA_LEFT}


@cache
def _reportlab_style(style: TextStyle) -> ParagraphStyle:
    return ParagraphStyle(
        f"cjk-{style.font}-{style.size}-{style.align}",
        fontName=style.font,
        fontSize=style.size,
        leading=style.leading,
        alignment=_ALIGNMENTS[style.align],
        textColor=style.color,
        wordWrap="CJK",
    )


def cell(text: str, style: TextStyle, width: float) -> str | Flowable:
    """A table cell's content for a column of `width` points (padding already taken off).

    Fits on one line → the plain string (reportlab's table draws it). Must wrap and is only
    Hanzi → reportlab's own CJK wrapping. Anything else that must wrap → :class:`CJKParagraph`.
    """
    if stringWidth(text, style.font, style.size) <= width:
        return text
    if _HANZI_ONLY.fullmatch(text):
        return Paragraph(escape(text), _reportlab_style(style))
    return CJKParagraph(text, style)
