"""Every figure of a draft: its number (exact Decimal), multiplier, unit, sentence and period.

A figure is a number written in Arabic digits. Chinese numerals are not read as figures: the
national rule for numbers in print (GB/T 15835) has counts and measurements in Arabic digits,
and in the bureau's prose the Chinese numerals are ordinals (一是, 第二批), session and plan
names (十二届六次全会, “八五”普法), slogans (门前三包) and list counts (五个方面).

Numbers in digits that are not figures, each listed under its rule (`RULES`):

* the checker's own notes in an annotated copy, 【核对：库内数值 936宗】;
* book and document titles, 《汕头市2023年违法建设专项治理工作实施方案》 (a title names no
  period either);
* document numbers, 汕府〔2023〕34号;
* dates and clock times, 2023年7月1日, 2023-07-01, 9:30, 9时;
* the periods sentences name, 2023年, 7月, 1—7月 (see `periods.py`);
* ordinals, 第2批, 第34条; enumerators, (1), 1., 1、at the start of a sentence; section
  numbers, 3.2.1; list counts, 3个方面;
* caption labels and references to them, 表1, 图2, 附件3, 附表1-2 (如表1所示): a table's or a
  chart's number is not a figure, unless a unit follows it (附件3份);
* names made of digits: a quoted number (省委“1310”部署) and service numbers (12345热线);
* telephone numbers and identity numbers (masked wherever the sentence is shown, never
  echoed), and codes mixing digits and Latin letters (LHCF2023001, 5G);
* a block holding nothing but a number (a page number in a PDF, a cell of a numbering column:
  序号, 编号, or a 月份 column of month numbers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from urbanreport.check import periods
from urbanreport.check.normalize import Mapped, normalize
from urbanreport.check.periods import Mention
from urbanreport.check.readers import Block, Cell
from urbanreport.core.periods import Period

#: written unit → canonical unit. Longest first when matching.
UNITS: dict[str, str] = {
    "个百分点": "百分点",
    "百分点": "百分点",
    "个工作日": "工作日",
    "工作日": "工作日",
    "个小时": "小时",
    "小时": "小时",
    "平方米": "平方米",
    "平米": "平方米",
    "m2": "平方米",
    "人次": "人次",
    "宗次": "宗",
    **{u: u for u in "宗件起次场期个项家户处人名份批条台辆部座栋间元%‰亩天周年倍米吨"},
    "个月": "个月",
    "公顷": "公顷",
    "公里": "公里",
    "千米": "公里",
    "km": "公里",
    "分钟": "分钟",
    "公斤": "公斤",
    "kg": "公斤",
    "m": "米",
}
_UNIT_WORDS = "|".join(sorted((re.escape(u) for u in UNITS), key=len, reverse=True))

#: rule → (Chinese label, pattern). Order matters: earlier rules claim their text first.
RULES: dict[str, tuple[str, re.Pattern[str]]] = {
    "check_note": ("核对批注", re.compile(r"【核对:[^】]*】")),
    "title": ("书名", re.compile(r"《[^《》\n]*》")),
    "document_number": (
        "文号",
        re.compile(r"[\u4e00-\u9fff]{0,8}[〔\[【(]\s*(?:19|20)\d{2}\s*[〕\]】)]\s*第?\d+号"),
    ),
    "identifier": ("证件号码", re.compile(r"(?<![\dA-Za-z])(?:\d{17}[\dXx]|\d{15})(?![\dA-Za-z])")),
    "phone": (
        "电话号码",
        re.compile(
            r"(?<![\d.])(?:0\d{2,3}-\d{7,8}|1[3-9]\d{9}|\d{3,4}-\d{3,4}-\d{4})(?!\d)"
            r"|(?:电话|热线|手机|传真|拨打|号码)[:为是]?\d[\d-]{4,}"
        ),
    ),
    "service_number": (
        "服务号码",
        re.compile(r"(?<![\d.])\d{3,6}(?=(?:政务)?(?:服务)?(?:热线|专线|平台|指挥|报警))"),
    ),
    "date": (
        "日期",
        re.compile(
            r"(?:(?:19|20)\d{2}年)?\d{1,2}月\d{1,2}日"
            r"|(?<![\d.])(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2}(?![\d])"
            r"|(?<![\d.月])\d{1,2}日(?!\d)"
        ),
    ),
    "time": ("时刻", re.compile(r"(?<![\d.])\d{1,2}:\d{2}(?::\d{2})?(?!\d)|(?<![\d.])\d{1,2}时")),
    "caption": (
        "图表编号",
        re.compile(
            r"(?:^|(?<=[\s,;:()、见如和与及即据由]))(?:附件|附表|附图|表|图)\s*\d{1,3}"
            rf"(?:[-—–.]\d{{1,3}})?(?![\d.])(?!\s*(?:{_UNIT_WORDS}))"
        ),
    ),
    "ordinal": ("序数", re.compile(r"第\d+")),
    "enumerator": (
        "序号",
        re.compile(r"\(\d{1,2}\)|(?:^|(?<=[\n。!?;:]))\s*\d{1,2}(?:[、)]|\.(?!\d))"),
    ),
    "section_number": ("章节号", re.compile(r"(?<![\d.])\d+(?:\.\d+){2,}(?![\d.])")),
    "list_count": (
        "列举数",
        re.compile(
            r"(?<![\d.])\d{1,2}(?:个|大|项|条)?(?:方面|环节|举措|措施|步骤|阶段|领域|方向|原则|要点)"
        ),
    ),
    "quoted_name": ("名称", re.compile(r"[“\"「『]\d[\d+\-./]*[”\"」』]")),
}
_ONLY_NUMBER = re.compile(r"^\s*(?:[-—–]\s*)?(?:第)?\d{1,4}(?:页)?(?:\s*[-—–/]\s*\d{0,4})?\s*$")
#: Rules applied before periods are read, so a title's or a date's year names no period.
_BEFORE_PERIODS = ("check_note", "title", "document_number", "identifier", "phone", "date", "time")
PERSONAL = ("identifier", "phone")

_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?!\d)")
_MULTIPLIERS = {"亿": 10**8, "千万": 10**7, "百万": 10**6, "万": 10**4, "千": 10**3}
_UNIT = re.compile(_UNIT_WORDS)
_MULTIPLIER = re.compile("|".join(sorted(_MULTIPLIERS, key=len, reverse=True)))
_AFTER = re.compile(r"余|多")
_TRAILING = re.compile(r"以上|以下|左右")
_PREFIXES = ("约", "近", "超过", "逾", "超")
_BEFORE = re.compile(rf"(?:{'|'.join(_PREFIXES)})$")
_RANGE = re.compile(r"[-—–~～至到](\d+(?:\.\d+)?)")
_SENTENCE_END = re.compile(r"[。!?\n]")
_SEGMENT_END = re.compile(r"[,;、。!?\n]")
#: A column whose cells are labels, not figures: 序号 1, 2, 3 …; 月份 1 … 12.
_LABEL_COLUMN = re.compile(r"序号|编号|月份|^\s*月\s*$")
_HEADER_UNIT = re.compile(r"\((?P<u>[^()]{1,6})\)|单位:(?P<u2>[^,;。\s]{1,6})")


@dataclass(frozen=True)
class Ignored:
    """A number that is not a figure, and the rule that says so."""

    block: int
    text: str
    rule: str

    @property
    def label(self) -> str:
        return RULES[self.rule][0] if self.rule in RULES else _OTHER_LABELS[self.rule]

    @property
    def shown(self) -> str:
        """What outputs may print: personal numbers only as their length."""
        if self.rule in PERSONAL:
            return f"（{sum(c.isdigit() for c in self.text)}位号码，不显示）"
        return self.text


_OTHER_LABELS = {"period": "统计期", "code": "编号", "bare_number": "单独的数字（页码、序号）"}


@dataclass(frozen=True)
class Figure:
    """One number of the draft, with what is needed to say what it speaks of."""

    block: int
    start: int  # span of number + unit in the block's normalised text
    end: int
    number: str  # the digits as written, e.g. "300.94"
    multiplier: int  # 万 → 10000; 1 without
    unit: str  # as written after the number, multiplier included: "万元", "%", "宗", ""
    base_unit: str  # canonical unit: "元", "%", "平方米", "" (none)
    approx: str  # 约 / 近 / 超过 / 逾 / 余 / 多 / 以上 / 以下 / 左右, or ""
    sentence: str  # the sentence, personal numbers masked; a table cell's headers before it
    segment: str  # the words from the last comma (or figure) before it up to the number
    shown_segment: str  # the segment as outputs may show it: personal numbers masked
    before: str  # its sentence up to the number (the segment is the end of it)
    context: str  # a table cell's column header and row label; "" elsewhere
    cell: Cell | None  # a Word table cell's header, row labels and caption (normalised)
    mention: Mention | None  # the period its sentence names; None: the period being checked
    source_span: tuple[int, int]  # where the figure stands in the block's raw text

    written: str  # the figure as the normalised text has it: 1200余件, 约300万元

    @property
    def decimals(self) -> int:
        return len(self.number.partition(".")[2])

    @property
    def value(self) -> Decimal:
        """The number times its multiplier, in its canonical unit (a percentage as a fraction)."""
        value = Decimal(self.number) * self.multiplier
        if self.base_unit == "%":
            return value / 100
        if self.base_unit == "‰":
            return value / 1000
        return value


@dataclass(frozen=True)
class Extraction:
    figures: list[Figure]
    ignored: list[Ignored]


def extract(blocks: list[Block], check: Period) -> Extraction:
    """Figures and ignored numbers of every block, in document order."""
    figures: list[Figure] = []
    ignored: list[Ignored] = []
    for index, block in enumerate(blocks):
        found, skipped = _extract_block(index, block, check)
        figures.extend(found)
        ignored.extend(skipped)
    return Extraction(figures, ignored)


def _claims(text: str, names: tuple[str, ...], taken: list[tuple[int, int, str]]) -> None:
    for name in names:
        for m in RULES[name][1].finditer(text):
            if not any(m.start() < e and s < m.end() for s, e, _ in taken):
                taken.append((m.start(), m.end(), name))


def _excluded(text: str, check: Period) -> tuple[list[tuple[int, int, str]], list[Mention]]:
    """Spans that are not figures (rule by rule) and the periods the text names."""
    taken: list[tuple[int, int, str]] = []
    _claims(text, _BEFORE_PERIODS, taken)
    mentions = periods.scan(text, check, [(s, e) for s, e, _ in taken])
    taken.extend((m.start, m.end, "period") for m in mentions)
    _claims(text, tuple(r for r in RULES if r not in _BEFORE_PERIODS), taken)
    return taken, mentions


def _extract_block(index: int, block: Block, check: Period) -> tuple[list[Figure], list[Ignored]]:
    norm = normalize(block.text)
    text = norm.text
    if _ONLY_NUMBER.match(text) and _label_column(block):
        digits = re.sub(r"\D", "", text)
        return [], [Ignored(index, digits, "bare_number")] if digits else []
    taken, mentions = _excluded(text, check)
    ignored = [
        Ignored(index, text[s:e], rule)
        for s, e, rule in sorted(taken)
        if any(c.isdigit() for c in text[s:e])
    ]
    masked = _mask(text, taken)
    around = _around(block, check)
    figures: list[Figure] = []
    last_end = 0
    for m in _NUMBER.finditer(text):
        if any(m.start() < e and s < m.end() for s, e, _ in taken) or m.start() < last_end:
            continue
        if _is_code(text, m):
            ignored.append(Ignored(index, m.group(0), "code"))
            continue
        figure = _figure(index, norm, m, mentions, masked, last_end, around)
        figures.append(figure)
        last_end = figure.end
    return figures, ignored


def _label_column(block: Block) -> bool:
    """A block of a bare number is a page number, or a label of a 序号 / 月份 column."""
    if block.cell is not None:
        return bool(_LABEL_COLUMN.search(block.cell.header))
    return not block.context or "序号" in block.context


@dataclass(frozen=True)
class _Around:
    """What a table cell's figures take from around them: words, a period and a unit."""

    context: str = ""  # column header and row label, as shown
    cell: Cell | None = None  # normalised
    mentions: tuple[Mention, ...] = ()  # periods its caption, header and labels name
    unit: tuple[str, int, str] = ("", 1, "")  # (multiplier, factor, unit) of its headers


def _around(block: Block, check: Period) -> _Around:
    """The words, period and unit a table cell's headers, labels and caption give its figures.

    The period: the last one named by the caption, the column header, then the row labels
    (上年处罚案件 → the year before). A label that is a month (7月, 2023-07) is not a period of
    the figure but the member of a by-month table it belongs to (see `tables.py`).
    """
    if not block.context and block.cell is None:
        return _Around()
    context = normalize(block.context).text
    if block.cell is None:
        return _Around(context, None, tuple(periods.scan(context, check, [])), _unit_of([context]))
    raw = block.cell
    cell = Cell(
        normalize(raw.header).text,
        tuple((normalize(h).text, normalize(t).text) for h, t in raw.labels),
        normalize(raw.caption).text,
    )
    sides = [(cell.header, ""), *((t, h) for h, t in cell.labels)]
    named = [cell.caption] + [t for t, h in sides if periods.month_label(t, h) is None]
    mentions = tuple(
        m for t in named if t for m in periods.scan(t, check, _blocked(t)) if not m.base
    )
    units = [cell.header, *(t for _, t in cell.labels), cell.caption]
    return _Around(context, cell, mentions, _unit_of(units))


def _blocked(text: str) -> list[tuple[int, int]]:
    taken: list[tuple[int, int, str]] = []
    _claims(text, _BEFORE_PERIODS, taken)
    _claims(text, ("caption",), taken)
    return [(s, e) for s, e, _ in taken]


def _unit_of(texts: list[str]) -> tuple[str, int, str]:
    for text in texts:
        if text and (found := _header_unit(text))[2]:
            return found
    return "", 1, ""


def _mask(text: str, taken: list[tuple[int, int, str]]) -> str:
    chars = list(text)
    for s, e, rule in taken:
        if rule in PERSONAL:
            chars[s:e] = ["*" if c.isdigit() else c for c in chars[s:e]]
    return "".join(chars)


def _is_code(text: str, m: re.Match[str]) -> bool:
    """Digits glued to Latin letters (LHCF2023001, 5G), unless the letters are a unit (m2)."""
    before = text[m.start() - 1] if m.start() else ""
    if before.isascii() and before.isalpha():
        return True
    rest = text[m.end() :]
    letters = re.match(r"[A-Za-z]+\d*", rest)
    return bool(letters) and letters.group(0) not in UNITS


def _suffix(text: str, at: int) -> tuple[int, str, int, str]:
    """After the digits: (end, multiplier text, multiplier, unit text); 余 / 多 are stepped over.

    A multiplier is 万 / 亿 / 千 … before a unit or alone; 千米 is a unit, not 千 + 米.
    """
    pos = _skip(_AFTER, text, at)
    unit, mult = _UNIT.match(text, pos), _MULTIPLIER.match(text, pos)
    mult_text, factor = "", 1
    if mult and not (unit and len(unit.group(0)) > len(mult.group(0))):
        mult_text, factor = mult.group(0), _MULTIPLIERS[mult.group(0)]
        pos = _skip(_AFTER, text, mult.end())
        unit = _UNIT.match(text, pos)
    if unit:
        return unit.end(), mult_text, factor, unit.group(0)
    return pos, mult_text, factor, ""


def _skip(pattern: re.Pattern[str], text: str, pos: int) -> int:
    m = pattern.match(text, pos)
    return m.end() if m else pos


def _header_unit(context: str) -> tuple[str, int, str]:
    """A table's unit in its headers, 处罚案件数（宗） or 单位：万元: (multiplier, factor, unit)."""
    for m in _HEADER_UNIT.finditer(context):
        written = m.group("u") or m.group("u2")
        _, mult_text, factor, unit = _suffix(written, 0)
        if unit and len(mult_text) + len(unit) == len(written):
            return mult_text, factor, unit
    return "", 1, ""


def _figure(
    index: int,
    norm: Mapped,
    m: re.Match[str],
    mentions: list[Mention],
    masked: str,
    last_end: int,
    around: _Around,
) -> Figure:
    text = norm.text
    end, mult_text, mult, unit = _suffix(text, m.end())
    if not unit and (r := _RANGE.match(text, end)):  # 3—5个工作日: the unit comes after the range
        _, mult_text, mult, unit = _suffix(text, r.end())
    if not unit and not mult_text:
        mult_text, mult, unit = around.unit
    approx = _approx(text, m.start(), m.end(), end)
    if t := _TRAILING.match(text, end):
        end = t.end()
    s_start = max((x.end() for x in _SENTENCE_END.finditer(text, 0, m.start())), default=0)
    s_end = x.end() if (x := _SENTENCE_END.search(text, m.end())) else len(text)
    seg_start = max(
        [x.end() for x in _SEGMENT_END.finditer(text, 0, m.start())] + [last_end, s_start]
    )
    mention = periods.named_for(mentions, (s_start, s_end), m.start())
    if mention is None and around.mentions:
        mention = around.mentions[-1]
    sentence = masked[s_start:s_end].strip()
    context = around.context
    return Figure(
        block=index,
        start=m.start(),
        end=end,
        number=m.group(0),
        multiplier=mult,
        unit=f"{mult_text}{unit}",
        base_unit=UNITS.get(unit, ""),
        approx=approx,
        sentence=f"{context}：{sentence}" if context else sentence,
        segment=text[seg_start : m.start()],
        shown_segment=masked[seg_start : m.start()],
        before=text[s_start : m.start()],
        context=context,
        cell=around.cell,
        mention=mention,
        source_span=norm.source_span(m.start(), end),
        written=(approx if approx in _PREFIXES else "") + text[m.start() : end],
    )


def _approx(text: str, start: int, digits_end: int, end: int) -> str:
    """The word that makes a figure approximate: before it (约, 近 …) or after it (余, 左右 …)."""
    if b := _BEFORE.search(text, 0, start):
        return b.group(0)
    if a := _AFTER.search(text, digits_end, end):
        return a.group(0)
    if t := _TRAILING.match(text, end):
        return t.group(0)
    return ""
