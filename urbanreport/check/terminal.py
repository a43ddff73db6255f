"""The check as people read it in a terminal: one row per figure, aligned by display width.

rich measures Chinese characters as two columns, so the table lines up; piped into a file it
prints the same table without colours at a fixed width.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from urbanreport.check.checker import CheckResult
from urbanreport.check.compare import MATCH, MISMATCH, MISSING, VERDICT_NAMES
from urbanreport.check.extract import Figure
from urbanreport.core.catalogue import indicators

_STYLES = {MATCH: "green", MISMATCH: "bold red", MISSING: "yellow"}
_EXCERPT = 16  # characters of the words before a figure shown beside it


def _excerpt(segment: str, context: str, text: str) -> str:
    """The words naming a figure and the figure; a table cell's headers stand for the words."""
    words = segment or (f"{context}：" if context else "")
    words = words if len(words) <= _EXCERPT else "…" + words[-_EXCERPT:]
    return f"{words}{text}"


def _number(f: Figure) -> str:
    """The figure as written; a unit taken from a table header in brackets after it."""
    return f.written if f.unit in f.written else f"{f.written}（{f.unit}）"


def table(result: CheckResult) -> Table:
    out = Table(show_lines=False, header_style="bold", expand=False)
    for title, justify in (
        ("#", "right"),
        ("文稿原文（摘录）", "left"),
        ("数字", "right"),
        ("统计期", "left"),
        ("指标", "left"),
        ("库内数值", "right"),
        ("结论", "left"),
        ("说明", "left"),
    ):
        out.add_column(title, justify=justify, overflow="fold")
    items = indicators()
    for number, checked in enumerate(result.figures, 1):
        f, v = checked.figure, checked.verdict
        name = items[checked.link.key].name if checked.link.key else "—"
        named = f.mention.text if f.mention else "—"
        since = f.mention is not None and f.mention.since is not None
        period = checked.period.chinese if checked.period and not since else named
        cells = [str(number), _excerpt(f.segment, f.context, f.written), _number(f), period, name]
        out.add_row(
            *(Text(c) for c in cells),
            Text(v.expected_text or "—"),
            Text(v.name, style=_STYLES.get(v.verdict, "dim")),
            Text(v.reason),
        )
    return out


def _ignored_line(result: CheckResult) -> str:
    by_label: dict[str, Counter[str]] = {}
    for item in result.ignored:
        by_label.setdefault(item.label, Counter())[item.shown] += 1
    parts = []
    for label, texts in by_label.items():
        shown = "、".join(t if n == 1 else f"{t}×{n}" for t, n in texts.items())
        parts.append(f"{label}：{shown}")
    return "；".join(parts)


def render(result: CheckResult, file: TextIO | None = None) -> None:
    """Print the header, the table, the summary and what the rules left out."""
    stream = file or sys.stdout
    console = Console(file=stream, width=None if stream.isatty() else 160, highlight=False)
    draft = result.draft
    console.print(
        f"核对文稿：{draft.name}（{draft.described}）  统计期：{result.period.chinese}",
        markup=False,
    )
    if result.figures:
        console.print(table(result))
    else:
        console.print("文稿中没有找到需要核对的数字。")
    summary = result.summary
    console.print(
        "  ".join(f"{VERDICT_NAMES[k]} {summary[k]}" for k in VERDICT_NAMES)
        + f"  （共 {len(result.figures)} 个数字）"
    )
    if result.ignored:
        console.print(f"按规则不作为数字核对：{_ignored_line(result)}", markup=False)
