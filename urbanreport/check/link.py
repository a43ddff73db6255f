"""Which indicator a figure speaks of, through the phrases the bureau uses (catalogue `phrases`).

The rule a careful reader applies: the words right before a number name it. A phrase links a
figure when it stands in the figure's segment (from the last comma, or the previous figure,
up to the number) and only filler words (共, 为, 达, 人民币 …) or a period (2023年) lie between
the phrase and the number. A phrase `A…B` needs B there and A earlier in the same sentence:
generic words are bound to their subject that way (审批…办结率: the 办结率 of permits, not of
complaints; 月以来…完成拆违: the area of the campaign begun that month).

* The longest phrase wins (完成进度 over 完成, 按时办结率 over 办结率); among equally long
  phrases one of a compatible unit wins (拆违: 宗 → demolition.sites, 平方米 → the area).
* A change (较上年增加49宗, 同比增长8%) is not the level the phrase names: unknown, unless
  the phrase itself is a change (上报…同比增长).
* Other words between phrase and number (处罚案件中罚款案件120宗) make the figure unknown:
  a subset or another quantity is not checked against the whole.
* Two indicators with the same best phrase and unit: unknown, both named.
* A table cell's figure without a phrase of its own is named by its column header or a row
  label (`names`, read by `tables.py`); a context without that structure by both at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from urbanreport.check.extract import Figure
from urbanreport.check.periods import without_periods
from urbanreport.core.catalogue import Indicator, indicators

#: Measure words that count the same things (a case is 宗 or 件; an event 次 or 场).
_SAME_COUNT = {
    "宗": {"宗", "件", "起"},
    "件": {"件", "宗", "起"},
    "次": {"次", "场", "期"},
    "人次": {"人次"},
}
_KIND_UNITS = {
    "money": {"元"},
    "area": {"平方米"},
    "rate": {"%", "‰"},
    "hours": {"小时"},
    "days": {"工作日"},
}
_PERIOD_WORDS = r"(?:19|20)\d{2}年度?|\d{1,2}月份?(?:以来|起)?|全年|本年度?|今年|本月"
_FILLER = re.compile(
    rf"(?:{_PERIOD_WORDS}|共计|合计|累计|总计|总数|数量|金额|总额|人民币|达到|分别|全年|"
    r"共|数|达|为|是|有|计|的|了|已|约|近|超过|逾|超|[:“”\"()])*"
)
#: A table label's unit or note in brackets: 处罚案件（宗）, 罚款（万元）.
_UNIT_NOTE = re.compile(r"\([^()]{0,12}\)")
NO_PHRASE = "句中没有指标目录里的说法 (no catalogue phrase)"
_CHANGE = re.compile(r"同比|环比|较|比上|增长|下降|提高|降低|减少|增加|上升|增幅|降幅|增|减")


@dataclass(frozen=True)
class Link:
    """The indicator a figure speaks of, or why none (`key` None: the figure is unknown)."""

    key: str | None
    phrase: str = ""
    reason: str = ""
    unit_ok: bool = True


@dataclass(frozen=True)
class _Phrase:
    key: str
    text: str
    last: re.Pattern[str]  # the words next to the number
    earlier: re.Pattern[str] | None  # words that must come before them in the sentence
    length: int  # characters of the phrase itself (its specificity)


@cache
def _phrases() -> tuple[_Phrase, ...]:
    out = []
    for key, item in indicators().items():
        for text in item.phrases:
            *first, last = [p for p in text.split("…") if p]
            earlier = re.compile(".*?".join(re.escape(p) for p in first)) if first else None
            length = len(last) + sum(len(p) for p in first)
            out.append(_Phrase(key, text, re.compile(re.escape(last)), earlier, length))
    return tuple(out)


def unit_fits(item: Indicator, figure: Figure) -> bool:
    """The figure's unit measures what the indicator measures (元 vs 万元 is a scale, and fits)."""
    if item.kind == "count":
        return figure.base_unit in _SAME_COUNT.get(item.unit, {item.unit}) or (
            figure.base_unit == "" and figure.multiplier == 1
        )
    return figure.base_unit in _KIND_UNITS[item.kind]


def _matches(segment: str, before: str) -> list[tuple[_Phrase, str]]:
    """(phrase, text between it and the number) for each phrase found in the segment.

    `before` is the sentence up to the number; the segment is its end.
    """
    found = []
    offset = len(before) - len(segment)
    for phrase in _phrases():
        last = None
        for m in phrase.last.finditer(segment):
            last = m
        if last is None:
            continue
        if phrase.earlier is None or phrase.earlier.search(before, 0, offset + last.start()):
            found.append((phrase, segment[last.end() :]))
    return found


def link(figure: Figure) -> Link:
    """The indicator of a figure (see the module docstring for the rules)."""
    found = _matches(figure.segment, figure.before)
    if not found and figure.context:
        found = [(p, "") for p, _ in _matches(figure.context, figure.context)]
    if not found:
        return Link(None, reason=NO_PHRASE)
    return _choose(figure, found)


def own_words(figure: Figure) -> Link | None:
    """The indicator the figure's own words name (a table cell written as prose), or None."""
    found = _matches(figure.segment, figure.before)
    return _choose(figure, found) if found else None


def names(text: str, caption: str, figure: Figure) -> Link | None:
    """The indicator a table header or row label names; None when it has no catalogue word.

    The label's unit in brackets and the periods it names are set aside (上年处罚案件（宗）
    names 处罚案件); the caption may hold the subject of a generic phrase (各许可事项办理情况 +
    按时办结率: 许可…按时办结率). Without a phrase, a header names an indicator by its catalogue
    name, the name without its final 数 (上报 for 上报数), or the beginning of the name or of a
    phrase (受理 for 受理审批许可事项) — when only one indicator of a fitting unit has it.
    """
    words = _UNIT_NOTE.sub("", without_periods(text))
    words = re.sub(r"[\s:：]+", "", words)
    if not words:
        return None
    found = _matches(words, f"{caption} {words}")
    if found:
        return _choose(figure, found)
    return _by_name(words, figure)


def _by_name(words: str, figure: Figure) -> Link | None:
    items = indicators()
    keys = sorted(
        key
        for key, item in items.items()
        if len(words) >= 2
        and any(
            label.startswith(words)
            for label in (item.name, *(p for p in item.phrases if "…" not in p))
        )
    )
    if not keys:
        return None
    fitting = [k for k in keys if unit_fits(items[k], figure)]
    if len(fitting) == 1:
        return Link(fitting[0], words)
    if len(fitting) > 1:
        shown = "、".join(f"{items[k].name}（{k}）" for k in fitting)
        return Link(None, reason=f"“{words}”可能指多个指标：{shown}")
    return Link(None, reason=f"“{words}”的单位与指标{items[keys[0]].name}不符")


def _choose(figure: Figure, found: list[tuple[_Phrase, str]]) -> Link:
    usable, refused = [], []
    for phrase, gap in found:
        if _CHANGE.search(gap) and not _CHANGE.search(phrase.text):
            refused.append(f"“{phrase.text}”之后是增减变化量（{gap}），目录中没有对应指标")
        elif not _FILLER.fullmatch(gap):
            refused.append(f"“{phrase.text}”与数字之间另有“{gap}”，不能确定所指")
        else:
            usable.append(phrase)
    if not usable:
        return Link(None, reason=max(refused, key=len))
    return _best(figure, usable)


def _best(figure: Figure, usable: list[_Phrase]) -> Link:
    items = indicators()
    longest = max(p.length for p in usable)
    top = [p for p in usable if p.length == longest]
    fitting = [p for p in top if unit_fits(items[p.key], figure)]
    keys = sorted({p.key for p in fitting})
    if len(keys) > 1:
        names = "、".join(f"{items[k].name}（{k}）" for k in keys)
        return Link(None, reason=f"可能指多个指标：{names}")
    if keys:
        phrase = next(p for p in fitting if p.key == keys[0])
        return Link(phrase.key, phrase.text)
    shorter = [p for p in usable if p.length < longest and unit_fits(items[p.key], figure)]
    if shorter:
        return _best(figure, shorter)
    phrase = top[0]
    item = items[phrase.key]
    written = figure.unit or "（无单位）"
    return Link(
        phrase.key,
        phrase.text,
        reason=f"单位不符：文稿为“{written}”，{item.name}的单位是“{item.unit}”",
        unit_ok=False,
    )
