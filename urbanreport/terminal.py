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

from urbanreport.check import CheckResult
from urbanreport.check.compare import VERDICT_NAMES
from urbanreport.check.rows import Row, ignored_groups, rows
from urbanreport.core import catalogue, formatting
from urbanreport.indicators import CityFigures

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


def city_table(figures: CityFigures) -> str:
    """A city's figures: the whole city as `indicators_table` prints a district, then every
    indicator by district (数据缺失 where a district sent nothing)."""
    items = catalogue.indicators()
    total = figures.total
    empty = total.get("empty") or {}
    rows = [
        (
            item.name,
            formatting.figure(item, total["indicators"][key], empty.get(key)),
            *(
                formatting.figure(
                    item, d.figures["indicators"][key], (d.figures.get("empty") or {}).get(key)
                )
                for d in figures.districts
            ),
        )
        for key, item in items.items()
        if key in total["indicators"]
    ]
    names = [d.name for d in figures.districts]
    right = tuple(range(1, len(names) + 2))
    return "\n".join(
        [
            f"{figures.city['name']}（{figures.city['code']}）全市",
            indicators_table(total),
            "",
            "分区县 (by district)",
            render_table(("指标", "全市", *names), rows, right=right),
        ]
    )


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


def _check_row(row: Row) -> tuple[str, ...]:
    return (str(row.number), row.excerpt, row.written, row.period, row.indicator, row.expected,
            row.verdict_name, row.reason)  # fmt: skip


def check_report(result: CheckResult) -> str:
    """A draft's check: one row per figure, the counts, and the numbers the rules left out."""
    draft = result.draft
    lines = [f"核对文稿：{draft.name}（{draft.described}）  统计期：{result.period.chinese}"]
    if result.figures:
        headers = ("#", "文稿原文（摘录）", "数字", "统计期", "指标", "库内数值", "结论", "说明")
        lines.append(render_table(headers, map(_check_row, rows(result)), right=(0, 2, 5)))
    else:
        lines.append("文稿中没有找到需要核对的数字。")
    summary = result.summary
    counts = "  ".join(f"{VERDICT_NAMES[k]} {n}" for k, n in summary.items())
    lines.append(f"{counts}  （共 {len(result.figures)} 个数字）")
    if result.ignored:
        groups = "；".join(g.line for g in ignored_groups(result))
        lines.append(f"按规则不作为数字核对：{groups}")
    return "\n".join(lines)
