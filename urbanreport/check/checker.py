"""Check a draft: every figure in its text against the warehouse, with a verdict for each.

`check_file` (the CLI) and `check_bytes` (an upload) read the draft, find its figures, link
them to indicators, compute every period the draft names through the project's indicator
code on a read-only warehouse connection, and compare. Nothing is written anywhere; the
annotated copy of a Word draft is a separate step (`annotate.py`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from urbanreport.check.compare import MISMATCH, MISSING, UNKNOWN, VERDICT_NAMES, Verdict, compare
from urbanreport.check.extract import Figure, Ignored, extract
from urbanreport.check.link import Link, link
from urbanreport.check.readers import Block, Draft, Limits, read_bytes, read_path
from urbanreport.core import formatting, warehouse
from urbanreport.core.catalogue import indicators, source_name
from urbanreport.core.config import Settings
from urbanreport.core.periods import Period
from urbanreport.indicators import compute


@dataclass(frozen=True)
class Checked:
    """One figure with its indicator, the period it was compared for, and the verdict."""

    figure: Figure
    link: Link
    period: Period | None
    verdict: Verdict

    def to_json(self) -> dict[str, Any]:
        f = self.figure
        return {
            "sentence": f.sentence,
            "number": f.number,
            "value": _json_number(f.value),
            "unit": f.unit,
            "indicator": self.link.key,
            "expected": _json_number(formatting.decimal(self.verdict.expected))
            if self.verdict.expected is not None
            else None,
            "verdict": self.verdict.verdict,
            "period": self.period.label if self.period else None,
            "named_period": f.mention.text if f.mention else None,
            "expected_text": self.verdict.expected_text or None,
            "reason": self.verdict.reason or None,
        }


@dataclass(frozen=True)
class CheckResult:
    period: Period
    draft: Draft
    figures: list[Checked]
    ignored: list[Ignored]

    @property
    def blocks(self) -> list[Block]:
        return self.draft.blocks

    @property
    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(VERDICT_NAMES, 0)
        for checked in self.figures:
            counts[checked.verdict.verdict] += 1
        return counts

    @property
    def mismatches(self) -> list[Checked]:
        return [c for c in self.figures if c.verdict.verdict == MISMATCH]

    def to_json(self) -> dict[str, Any]:
        return {
            "period": self.period.label,
            "figures": [c.to_json() for c in self.figures],
            "summary": self.summary,
            "ignored": [{"text": i.shown, "rule": i.rule, "label": i.label} for i in self.ignored],
            "file": {
                "name": self.draft.name,
                "format": self.draft.format,
                "encoding": self.draft.encoding or None,
            },
        }


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def check_file(settings: Settings, path: Path | str, period: Period | str) -> CheckResult:
    """Check a draft file for a period (2023, or 2023-07 for a monthly text)."""
    draft = read_path(Path(path), Limits.from_settings(settings))
    return check_draft(settings, draft, _period(period))


def check_bytes(settings: Settings, data: bytes, name: str, period: Period | str) -> CheckResult:
    """Check an uploaded draft held in memory (nothing is written to disk)."""
    draft = read_bytes(data, name, Limits.from_settings(settings))
    return check_draft(settings, draft, _period(period))


def _period(period: Period | str) -> Period:
    return period if isinstance(period, Period) else Period.parse(period)


def check_draft(settings: Settings, draft: Draft, period: Period) -> CheckResult:
    found = extract(draft.blocks, period)
    linked = [(f, link(f)) for f in found.figures]
    wanted = {p for f, lk in linked if lk.key and (p := _figure_period(f, period)) is not None}
    results = _compute(settings, wanted)
    checked = [_check(settings, f, lk, period, results) for f, lk in linked]
    return CheckResult(period, draft, checked, found.ignored)


def _figure_period(figure: Figure, check: Period) -> Period | None:
    mention = figure.mention
    if mention is None:
        return check
    return mention.period


def _compute(settings: Settings, periods: set[Period]) -> dict[Period, dict[str, Any]]:
    if not periods:
        return {}
    with warehouse.reader(settings) as con:
        return {p: compute(con, p, settings) for p in sorted(periods, key=lambda p: p.label)}


def _gaps(settings: Settings, source: str, period: Period, result: dict[str, Any]) -> str:
    """Why the warehouse cannot vouch for a figure: months of its period without any record.

    A year with records in only some months gives a number, but not the year's number; the
    text is then neither confirmed nor contradicted. Sources whose records are spans (a
    campaign target runs from its start date to its end date) have no monthly gaps.
    """
    fields = {f["name"] for f in settings.sources[source]["fields"]}
    if {"start_date", "end_date"} <= fields:
        return ""
    months = result["quality"].get(source, {}).get("months_without_data") or []
    if not months:
        return ""
    span = months[0] if len(months) == 1 else f"{months[0]}至{months[-1]}中的{len(months)}个月"
    return f"库内{source_name(source)}缺{span}的数据，{period.chinese}的数字不完整"


def _check(
    settings: Settings,
    figure: Figure,
    lk: Link,
    check: Period,
    results: dict[Period, dict[str, Any]],
) -> Checked:
    if lk.key is None:
        return Checked(figure, lk, None, Verdict(UNKNOWN, reason=lk.reason))
    period = _figure_period(figure, check)
    if period is None:
        note = figure.mention.note if figure.mention else ""
        return Checked(figure, lk, None, Verdict(MISSING, reason=note))
    result = results[period]
    item = indicators()[lk.key]
    value = result["indicators"][lk.key]
    if figure.mention is not None and figure.mention.since is not None:
        refused = _since(figure, lk.key, period, result)
        if refused is not None:
            return Checked(figure, lk, period, refused)
    if value is None:
        reason = result["missing"].get(lk.key, "")
        return Checked(figure, lk, period, Verdict(MISSING, reason=reason))
    if gaps := _gaps(settings, item.source, period, result):
        return Checked(figure, lk, period, Verdict(MISSING, reason=gaps))
    return Checked(figure, lk, period, compare(figure, item, value, lk.unit_ok, lk.reason))


def _since(figure: Figure, key: str, period: Period, result: dict[str, Any]) -> Verdict | None:
    """A "since month X" figure: the campaign that started then, or a period starting then.

    Why a campaign figure must name the campaign's own start: 2023年7月以来完成拆违 speaks of
    the campaign begun in July; a draft saying 8月以来 misstates it even if the area is right.
    """
    mention = figure.mention
    assert mention is not None and mention.since is not None
    year, month = mention.since
    if "campaign" in key:
        campaign = result.get("campaign")
        if not campaign:
            return Verdict(MISSING, reason=f"库内{period.chinese}没有全区专项行动")
        start: dt.date = campaign["start_date"]
        if (start.year, start.month) != (year, month):
            item = indicators()[key]
            value = result["indicators"][key]
            return Verdict(
                MISMATCH,
                formatting.machine(item.kind, value) if value is not None else None,
                formatting.figure(item, value),
                f"库内专项行动“{campaign['name']}”自{formatting.day(start)}开始，"
                f"不是{year}年{month}月",
            )
        return None
    if (period.start.year, period.start.month) != (year, month):
        return Verdict(
            MISSING,
            reason=f"“{mention.text}”至{period.chinese}末不是库内计算的统计期",
        )
    return None
