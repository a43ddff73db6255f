"""The periods a draft's sentences name: 2023年, 全年, 2023年7月以来, 1—7月, 本月, 上半年 ….

A figure is compared for the period its own sentence names (the nearest mention before it, or
else the first after it), and for the period being checked when the sentence names none. So a
sentence that says 2022年 is compared with 2022, never passed as if it spoke of 2023.

The statistical periods the warehouse computes are a fiscal year, a month and a year-to-date
span (January to a month). A mention is resolved to one of those; "since month X" keeps its
start so the checker can hold it against the campaign that started then; a span the warehouse
does not compute (二季度, 3—5月, 2022—2023年) is resolved to nothing and said so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from urbanreport.core.periods import Period

_SEP = r"[-—–~～至到]"
_Y = r"(?P<y>(?:19|20)\d{2})年"
#: The character before a period that makes it the base of a comparison (较2022年, 环比上月).
_BASE_MARKERS = frozenset("较比与同环")
_CN_QUARTER = {"一": 1, "二": 2, "三": 3, "四": 4}

#: Ordered: the first pattern that matches at a position wins (longest forms first).
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("years", re.compile(rf"(?P<y>(?:19|20)\d{{2}})(?:年)?{_SEP}(?P<y2>(?:19|20)\d{{2}})年")),
    (
        "since",
        re.compile(
            rf"(?P<pre>自|从)?{_Y}(?P<m>\d{{1,2}})月(?:份)?(?:(?P<d>\d{{1,2}})日)?"
            r"(?P<s>以来|起|至今)"
        ),
    ),
    ("range", re.compile(rf"{_Y}(?P<m1>\d{{1,2}})月?{_SEP}(?P<m2>\d{{1,2}})月(?:份)?")),
    ("until", re.compile(rf"截[至止](?:到)?{_Y}(?P<m>\d{{1,2}})月(?:份)?(?:底|末)?")),
    ("month", re.compile(rf"{_Y}(?P<m>\d{{1,2}})月(?:份)?(?:底|末)?(?!\d{{1,2}}日|\d)")),
    (
        "year",
        re.compile(rf"{_Y}(?:度)?(?P<part>上半年|下半年|全年|前三季度|第?[一二三四]季度)?"),
    ),
    (
        "since",
        re.compile(r"(?P<pre>自|从)?(?<![\d年])(?P<m>\d{1,2})月(?:份)?(?:1日)?(?P<s>以来|起|至今)"),
    ),
    ("range", re.compile(rf"(?<![\d年])(?P<m1>\d{{1,2}})月?{_SEP}(?P<m2>\d{{1,2}})月(?:份)?")),
    ("month", re.compile(r"(?<![\d年.])(?P<m>\d{1,2})月(?:份)?(?:底|末)?(?!\d{1,2}日|\d)")),
    ("part", re.compile(r"(?P<part>上半年|下半年|前三季度|第?[一二三四]季度)")),
    ("this_year", re.compile(r"全年|本年度|本年|今年")),
    ("last_year", re.compile(r"上年|去年|上一年")),
    ("this_month", re.compile(r"本月")),
    ("last_month", re.compile(r"上月")),
]


@dataclass(frozen=True)
class Mention:
    """A period named in a sentence, where it stands, and what it resolves to."""

    start: int
    end: int
    text: str
    period: Period | None  # None: not a period the warehouse computes (see `note`)
    since: tuple[int, int] | None = None  # (year, month) of a 以来 / 起 mention
    note: str = ""
    #: A base of comparison (较2022年, 比上年, 与去年同期相比): it is not what the figure is about.
    base: bool = False


def scan(text: str, check: Period, blocked: list[tuple[int, int]]) -> list[Mention]:
    """Every period mention in `text` outside the `blocked` spans (titles, document numbers)."""
    found: list[Mention] = []
    taken = list(blocked)
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < b_end and b_start < m.end() for b_start, b_end in taken):
                continue
            mention = _resolve(kind, m, text, check, found)
            if mention is not None:
                found.append(mention)
                taken.append((m.start(), m.end()))
    return sorted(found, key=lambda x: x.start)


def _context_year(text: str, at: int, check: Period, found: list[Mention]) -> int:
    """The year a bare month belongs to: the sentence's last year before it, else the check's."""
    years = [m.period.year for m in found if m.period is not None and m.end <= at]
    return years[-1] if years else check.year


def _month(year: int, month: int) -> Period | None:
    return Period("month", year, month) if 1 <= month <= 12 else None


def _ytd(year: int, month: int) -> Period | None:
    if month == 12:
        return Period("year", year)
    return Period("ytd", year, month) if 1 <= month <= 12 else None


def _part(year: int, part: str | None) -> tuple[Period | None, str]:
    """上半年 / 前三季度 / 一季度 are year-to-date spans; other quarters and 下半年 are not."""
    if not part or part == "全年":
        return Period("year", year), ""
    if part == "上半年":
        return Period("ytd", year, 6), ""
    if part == "前三季度":
        return Period("ytd", year, 9), ""
    quarter = _CN_QUARTER.get(part.strip("第季度"))
    if quarter == 1:
        return Period("ytd", year, 3), ""
    return None, f"{part}不是库内的统计期（库内按年、月和1月至某月计算）"


def _resolve(
    kind: str, m: re.Match[str], text: str, check: Period, found: list[Mention]
) -> Mention | None:
    groups = m.groupdict()
    year = int(groups["y"]) if groups.get("y") else _context_year(text, m.start(), check, found)
    period: Period | None = None
    since = None
    note = ""
    if kind == "years":
        note = f"{m.group(0)}跨越多个年度，库内按单个年度计算"
    elif kind == "since":
        month = int(groups["m"])
        if groups.get("d") and int(groups["d"]) != 1 or not 1 <= month <= 12:
            note = f"{m.group(0)}不是从月初开始的统计期"
        else:
            since, period = (year, month), check
    elif kind == "range":
        first, last = int(groups["m1"]), int(groups["m2"])
        if first == 1:
            period = _ytd(year, last)
        else:
            note = f"{m.group(0)}不是库内的统计期（库内按年、月和1月至某月计算）"
    elif kind == "until":
        period = _ytd(year, int(groups["m"]))
    elif kind == "month":
        period = _month(year, int(groups["m"]))
    elif kind in ("year", "part"):
        period, note = _part(year, groups.get("part"))
    elif kind == "this_year":
        period = Period("year", check.year)
    elif kind == "last_year":
        period = Period("year", check.year - 1)
    elif kind in ("this_month", "last_month"):
        period, note = _relative_month(kind, check, m.group(0))
    if period is None and not note:
        return None
    base = text[max(0, m.start() - 1) : m.start()] in _BASE_MARKERS
    return Mention(m.start(), m.end(), m.group(0), period, since, note, base)


def _relative_month(kind: str, check: Period, text: str) -> tuple[Period | None, str]:
    if check.kind != "month" or check.month is None:
        return None, f"核对的是{check.chinese}，“{text}”不确定指哪个月"
    if kind == "this_month":
        return check, ""
    year, month = (check.year, check.month - 1) if check.month > 1 else (check.year - 1, 12)
    return Period("month", year, month), ""


def named_for(mentions: list[Mention], sentence: tuple[int, int], at: int) -> Mention | None:
    """The mention a figure at `at` is about: the last one before it in its sentence, else the
    first one after it, else None (the period being checked)."""
    inside = [m for m in mentions if sentence[0] <= m.start and m.end <= sentence[1] and not m.base]
    before = [m for m in inside if m.end <= at]
    if before:
        return before[-1]
    after = [m for m in inside if m.start >= at]
    return after[0] if after else None


_MONTH_LABEL = re.compile(
    r"(?:(?P<y>(?:19|20)\d{2})(?:年|[-/.]))?(?P<m>\d{1,2})(?P<unit>月份?|月)?"
)


def month_label(text: str, header: str = "") -> tuple[int | None, int] | None:
    """(year or None, month) when a table label is a month and nothing else: 7月, 7月份,
    2023年7月, 2023-07; a bare 7 only under a 月份 header. None for anything else.

    Why a month label is not a period mention: a row 7月 of an annual table is a member of
    the table's by-month breakdown, not a sentence about July.
    """
    m = _MONTH_LABEL.fullmatch(text.strip())
    if m is None:
        return None
    bare = not m.group("y") and not m.group("unit")
    if bare and "月" not in header:
        return None
    if m.group("y") and not m.group("unit") and not re.search(r"[-/.]", text):
        return None
    month = int(m.group("m"))
    if not 1 <= month <= 12:
        return None
    return (int(m.group("y")) if m.group("y") else None), month


def without_periods(text: str) -> str:
    """The text with every period it names taken out (上年处罚案件 → 处罚案件)."""
    spans: list[tuple[int, int]] = []
    for _, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if not any(m.start() < e and s < m.end() for s, e in spans):
                spans.append((m.start(), m.end()))
    for s, e in sorted(spans, reverse=True):
        text = text[:s] + text[e:]
    return text
