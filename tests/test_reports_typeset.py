"""Chinese line breaking: where reportlab's own ``wordWrap='CJK'`` fails on the report's text
(each failure a named test that asserts reportlab still fails, so a reportlab that learns the
rule tells us to drop our code), that our line breaker passes the same cases, and that
reportlab's is used where it does the job (table cells of Hanzi-only names)."""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Callable
from itertools import pairwise

import pypdfium2 as pdfium
import pytest
from reportlab.lib.enums import TA_JUSTIFY
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas
from reportlab.platypus import Flowable, Paragraph

from urbanreport.reports import fonts
from urbanreport.reports.typeset import (
    CANNOT_END,
    CANNOT_START,
    CJKParagraph,
    TextStyle,
    break_lines,
    cell,
)

SAMPLE = (
    "2023年，我局共办理审批许可事项502宗，办结率100%；实现非税收入496793.68元。"
    "2023年7月以来龙湖区完成拆违936292.39平方米，完成进度78.02%。"
    "坚持“柔性”执法，作出不予处罚决定214宗（占比18.6%），《行政处罚法》规定的期限内完成公示。"
)
NUMBERS = ("496793.68", "936292.39", "78.02%", "100%", "18.6%", "2023")
WIDTHS = [float(w) for w in range(60, 330, 7)]
SIZE = 11.5
#: Punctuation reportlab's CJK wrap lets start a line (its own list lacks them).
FULL_WIDTH_CLOSERS = set("，；：？！”》%")
#: The first characters of the units in SAMPLE (宗, 元, 平方米, 年, 月).
UNIT_STARTS = "宗元平年月"


def serif() -> str:
    return fonts.register_fonts().serif


def reportlab_lines(text: str, width: float) -> list[str]:
    """The lines reportlab's ``wordWrap='CJK'`` breaks `text` into."""
    style = ParagraphStyle("t", fontName=serif(), fontSize=SIZE, leading=21, wordWrap="CJK")
    paragraph = Paragraph(text, style)
    paragraph.wrap(width, 10_000)
    return ["".join(words) for _, words in paragraph.blPara.lines]


def our_lines(text: str, width: float) -> list[str]:
    return [line.text for line in break_lines(text, serif(), SIZE, width)]


def at_any_width(check: Callable[[float, str], bool]) -> list[tuple[float, str]]:
    """Every (width, line) of reportlab's breaking of SAMPLE for which `check` holds."""
    return [(w, line) for w in WIDTHS for line in reportlab_lines(SAMPLE, w) if check(w, line)]


# --- where reportlab fails ----------------------------------------------------------------


def test_reportlab_starts_lines_with_full_width_punctuation() -> None:
    """Case 1, 行首禁则: ，；：？！”》 and the % of a number at a line start."""
    assert at_any_width(lambda w, line: line[0] in FULL_WIDTH_CLOSERS)


def test_reportlab_ends_lines_with_opening_brackets() -> None:
    """Case 2, 行尾禁则: （《“ at a line end."""
    assert at_any_width(lambda w, line: line[-1] in CANNOT_END)


def test_reportlab_cuts_numbers_and_parts_them_from_their_units() -> None:
    """Case 3: ``4967|93.68`` in a narrow measure; ``502|宗``, ``.39|平方米``."""
    cut = [
        (w, n)
        for w in WIDTHS
        for n in NUMBERS
        if not any(n in line for line in reportlab_lines(SAMPLE, w))
    ]
    assert cut
    parted = [
        (w, a, b)
        for w in WIDTHS
        for a, b in pairwise(reportlab_lines(SAMPLE, w))
        if a[-1].isdigit() and b[0] in UNIT_STARTS
    ]
    assert parted


def test_reportlab_runs_lines_past_the_measure() -> None:
    """Case 4: a closing mark hangs in the margin instead of a character moving down."""
    assert at_any_width(lambda w, line: stringWidth(line, serif(), SIZE) > w + 0.01)


def line_ends(flowable: Flowable, width: float) -> list[float]:
    """The right edge of every line but the last, in points from the flowable's left edge."""
    buf = io.BytesIO()
    page = canvas.Canvas(buf, pagesize=A4)
    _, height = flowable.wrapOn(page, width, 10_000)
    flowable.drawOn(page, 50, 800 - height)
    page.save()
    text = pdfium.PdfDocument(buf.getvalue())[0].get_textpage()
    rights: dict[int, float] = defaultdict(float)
    for i in range(text.count_chars()):
        left, bottom, right, _ = text.get_charbox(i, loose=True)
        if right > left:
            line = round(bottom / 21)  # the leading: one key per line
            rights[line] = max(rights[line], right - 50)
    return [rights[k] for k in sorted(rights, reverse=True)][:-1]


def test_reportlab_leaves_justified_chinese_ragged() -> None:
    """Case 5: justification stretches spaces only, and Chinese has none."""
    style = ParagraphStyle(
        "j", fontName=serif(), fontSize=SIZE, leading=21, wordWrap="CJK", alignment=TA_JUSTIFY
    )
    ragged = [right for right in line_ends(Paragraph(SAMPLE, style), 300) if right < 299]
    assert ragged


# --- our line breaking passes the same cases ----------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_ours_keeps_numbers_whole_and_punctuation_off_line_starts_and_ends(width: float) -> None:
    lines = our_lines(SAMPLE, width)
    assert "".join(lines) == SAMPLE
    for line in lines:
        assert line[0] not in CANNOT_START, (width, line)
        assert line[-1] not in CANNOT_END, (width, line)
    for number in NUMBERS:
        assert any(number in line for line in lines), (width, number)


@pytest.mark.parametrize("width", WIDTHS)
def test_ours_keeps_numbers_with_their_units_and_within_the_measure(width: float) -> None:
    """A number leaves its unit only where taking both to the next line would leave the line
    loose (more than a quarter em between characters), or where both do not fit on a line."""
    lines = our_lines(SAMPLE, width)
    for a, b in pairwise(lines):
        if a[-1].isdigit() and b[0] in UNIT_STARTS:
            rest = re.sub(r"[0-9.]+$", "", a)
            gaps = len(re.findall(r"[\x21-\x7e]+|.", rest)) - 1
            slack = (width - stringWidth(rest, serif(), SIZE)) / max(gaps, 1)
            assert width < 110 or slack > 0.25 * SIZE, (width, a, b)
    for line in lines:
        assert stringWidth(line, serif(), SIZE) <= width + 0.01, (width, line)


def test_ours_respects_the_first_line_indent() -> None:
    lines = break_lines(SAMPLE, serif(), SIZE, 200, first_width=177)
    assert stringWidth(lines[0].text, serif(), SIZE) <= 177.01
    assert all(stringWidth(line.text, serif(), SIZE) <= 200.01 for line in lines[1:])
    assert not lines[-1].justify and all(line.justify for line in lines[:-1])


def test_ours_justifies_to_the_measure() -> None:
    style = TextStyle(serif(), SIZE, 21)
    ends = line_ends(CJKParagraph(SAMPLE, style), 300)
    assert ends and all(abs(right - 300) < 1.0 for right in ends), ends


# --- where reportlab does the job ---------------------------------------------------------

NAMES = ["城市建筑垃圾处置核准", "城市绿化树木迁移砍伐审批", "市容环境卫生", "中心组学习"]


@pytest.mark.parametrize("width", [20.0, 27.0, 35.0, 48.0])
def test_reportlab_wraps_hanzi_only_names_and_cells_use_it(width: float) -> None:
    """A name (no punctuation, no digits) breaks between any two Hanzi: nothing to get wrong."""
    style = TextStyle(serif(), 8.5, 12, align="left")
    for name in NAMES:
        lines = reportlab_lines(name, width) if stringWidth(name, serif(), SIZE) > width else []
        assert "".join(lines) in ("", name)
        assert all(stringWidth(line, serif(), SIZE) <= width + 0.01 for line in lines)
        content = cell(name, style, width)
        fits = stringWidth(name, style.font, style.size) <= width
        assert isinstance(content, str) if fits else type(content) is Paragraph, (name, width)


def test_cells_with_punctuation_or_numbers_use_ours() -> None:
    style = TextStyle(serif(), 8.5, 12, align="left")
    assert isinstance(cell("2023年处罚案件（宗）", style, 30), CJKParagraph)
    assert isinstance(cell("12345热线", style, 20), CJKParagraph)
    assert cell("936", style, 30) == "936"
