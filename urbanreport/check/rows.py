"""A check result as people read it: one row per figure, and the numbers the rules left out.

Why here and not in each output: the terminal table and the portal's 核对文稿 page must say
the same about every figure (the same excerpt, period, indicator name and warehouse value), so
both draw from these rows. Excerpts come from the masked text: an ID or phone number in the
words before a figure shows as ``*``, never as its digits.
"""

from __future__ import annotations

from dataclasses import dataclass

from urbanreport.check.checker import Checked, CheckResult
from urbanreport.check.extract import Figure
from urbanreport.core import catalogue

#: Characters of the words before a figure shown beside it.
EXCERPT_CHARS = 16


@dataclass(frozen=True)
class Row:
    """One figure of a checked draft, every field already text."""

    number: int  # 1-based, in the order the draft states them
    words: str  # the words naming the figure (a table cell: its headers), maybe shortened
    figure: str  # the figure as the draft writes it: 1200余件, 约300万元
    written: str  # the same, a unit taken from a table header after it in brackets
    period: str  # the period it was compared for, or the mention that resolved to none
    indicator: str  # the catalogue name, or — for a figure tied to no indicator
    expected: str  # the warehouse value in the project's format, or —
    verdict: str  # match | mismatch | missing | unknown
    verdict_name: str  # 一致 | 不一致 | 数据缺失 | 无法核对
    reason: str
    sentence: str  # the whole sentence (personal numbers masked)

    @property
    def excerpt(self) -> str:
        return f"{self.words}{self.figure}"


def _words(figure: Figure) -> str:
    words = figure.shown_segment or (f"{figure.context}：" if figure.context else "")
    return words if len(words) <= EXCERPT_CHARS else "…" + words[-EXCERPT_CHARS:]


def _written(figure: Figure) -> str:
    return figure.written if figure.unit in figure.written else f"{figure.written}（{figure.unit}）"


def _period(checked: Checked) -> str:
    mention = checked.figure.mention
    since = mention is not None and mention.since is not None
    if checked.period is not None and not since:
        return checked.period.chinese
    return mention.text if mention else "—"


def row(number: int, checked: Checked) -> Row:
    f, v = checked.figure, checked.verdict
    key = checked.link.key
    return Row(
        number=number,
        words=_words(f),
        figure=f.written,
        written=_written(f),
        period=_period(checked),
        indicator=catalogue.indicator(key).name if key else "—",
        expected=v.expected_text or "—",
        verdict=v.verdict,
        verdict_name=v.name,
        reason=v.reason,
        sentence=f.sentence,
    )


def rows(result: CheckResult) -> list[Row]:
    return [row(i, c) for i, c in enumerate(result.figures, 1)]


@dataclass(frozen=True)
class IgnoredGroup:
    """The numbers one rule set aside, each once, with how often it occurs (2023年×4)."""

    label: str
    texts: tuple[str, ...]

    @property
    def line(self) -> str:
        return f"{self.label}：" + "、".join(self.texts)


def ignored_groups(result: CheckResult) -> list[IgnoredGroup]:
    by_label: dict[str, dict[str, int]] = {}
    for item in result.ignored:
        texts = by_label.setdefault(item.label, {})
        texts[item.shown] = texts.get(item.shown, 0) + 1
    return [
        IgnoredGroup(label, tuple(t if n == 1 else f"{t}×{n}" for t, n in texts.items()))
        for label, texts in by_label.items()
    ]
