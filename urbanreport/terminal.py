"""What the command line prints: tables aligned by display width, progress on a terminal.

Why rich: a Chinese character is two columns wide on a terminal, so `str.ljust` misaligns every
table that mixes 指标 names and numbers. rich measures display width, and prints plain text
(no colours, no progress bars) when the output is a file or a pipe, as in cron and CI logs.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.box import SIMPLE_HEAD
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from urbanreport.check import Checked, CheckResult
from urbanreport.check.compare import VERDICT_NAMES
from urbanreport.check.extract import Figure
from urbanreport.core import catalogue, formatting

#: Width of a table written to a file or a pipe: wide enough for a reject's reason.
PLAIN_WIDTH = 160


def render_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], right: Sequence[int] = ()
) -> str:
    """A table as text; columns listed in `right` (numbers) are right-aligned."""
    table = Table(box=SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for i, header in enumerate(headers):
        table.add_column(header, justify="right" if i in right else "left", overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    buf = io.StringIO()
    Console(file=buf, width=PLAIN_WIDTH, color_system=None, legacy_windows=False).print(table)
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines())


def indicators_table(result: dict[str, Any]) -> str:
    """Every indicator of a period: section, name, this period, a year before, change."""
    items = catalogue.indicators()
    empty = result.get("empty") or {}
    rows = []
    for key, value in result["indicators"].items():
        item = items[key]
        previous = result["previous"].get(key)
        rows.append(
            (
                item.section_name,
                item.name,
                formatting.figure(item, value, empty.get(key)),
                formatting.figure(item, previous),
                formatting.change(item.kind, value, previous),
            )
        )
    lines = [f"统计期：{result['period']}"]
    lines.append(render_table(("板块", "指标", "本期", "上年同期", "同比"), rows, right=(2, 3, 4)))
    for key, reason in (result.get("missing") or {}).items():
        lines.append(f"{empty.get(key, formatting.MISSING)}：{items[key].name}（{key}）— {reason}")
    lines.extend(f"注：{note}" for note in result.get("provisional", []))
    return "\n".join(lines)


@contextmanager
def progress(description: str, total: int) -> Iterator[Any]:
    """Yields `advance(label)`; draws a bar only when stdout is a terminal."""
    if not sys.stdout.isatty() or total <= 1:
        yield lambda label="": None
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[label]}"),
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=total, label="")

        def advance(label: str = "") -> None:
            bar.update(task, advance=1, label=label)

        yield advance


# --- the draft check ------------------------------------------------------------------------

_EXCERPT = 16  # characters of the words before a figure shown beside it


def _excerpt(figure: Figure) -> str:
    """The words naming a figure and the figure; a table cell's headers stand for the words."""
    words = figure.segment or (f"{figure.context}：" if figure.context else "")
    words = words if len(words) <= _EXCERPT else "…" + words[-_EXCERPT:]
    return f"{words}{figure.written}"


def _written(figure: Figure) -> str:
    """The figure as written; a unit taken from a table header in brackets after it."""
    return figure.written if figure.unit in figure.written else f"{figure.written}（{figure.unit}）"


def _check_row(number: int, checked: Checked) -> tuple[str, ...]:
    f, v = checked.figure, checked.verdict
    since = f.mention is not None and f.mention.since is not None
    if checked.period is not None and not since:
        period = checked.period.chinese
    else:
        period = f.mention.text if f.mention else "—"
    name = catalogue.indicator(checked.link.key).name if checked.link.key else "—"
    return (str(number), _excerpt(f), _written(f), period, name, v.expected_text or "—", v.name,
            v.reason)  # fmt: skip


def check_report(result: CheckResult) -> str:
    """A draft's check: one row per figure, the counts, and the numbers the rules left out."""
    draft = result.draft
    lines = [f"核对文稿：{draft.name}（{draft.described}）  统计期：{result.period.chinese}"]
    if result.figures:
        headers = ("#", "文稿原文（摘录）", "数字", "统计期", "指标", "库内数值", "结论", "说明")
        rows = [_check_row(i, c) for i, c in enumerate(result.figures, 1)]
        lines.append(render_table(headers, rows, right=(0, 2, 5)))
    else:
        lines.append("文稿中没有找到需要核对的数字。")
    summary = result.summary
    counts = "  ".join(f"{VERDICT_NAMES[k]} {n}" for k, n in summary.items())
    lines.append(f"{counts}  （共 {len(result.figures)} 个数字）")
    if result.ignored:
        lines.append(f"按规则不作为数字核对：{_ignored_line(result)}")
    return "\n".join(lines)


def _ignored_line(result: CheckResult) -> str:
    by_label: dict[str, dict[str, int]] = {}
    for item in result.ignored:
        texts = by_label.setdefault(item.label, {})
        texts[item.shown] = texts.get(item.shown, 0) + 1
    return "；".join(
        f"{label}：" + "、".join(t if n == 1 else f"{t}×{n}" for t, n in texts.items())
        for label, texts in by_label.items()
    )
