"""Check a draft: every figure in its text against the warehouse, with a verdict for each.

`check_file` (the CLI) and `check_bytes` (an upload) read the draft, find its figures, link
them to indicators, compute every period the draft names through the project's indicator
code on a read-only warehouse connection, and compare. A table cell of a street, an item or a
month is compared with that member's value in the breakdown tables, never with the total
(`tables.py`). Nothing is written anywhere; the annotated copy of a Word draft is a separate
step (`annotate.py`).
"""

from __future__ import annotations

import datetime as dt
from contextlib import ExitStack
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from urbanreport.check import tables
from urbanreport.check.compare import MISMATCH, MISSING, UNKNOWN, VERDICT_NAMES, Verdict, compare
from urbanreport.check.extract import Figure, Ignored, extract
from urbanreport.check.link import Link, link
from urbanreport.check.readers import Block, Draft, Limits, read_bytes, read_path
from urbanreport.check.tables import Scope
from urbanreport.core import formatting, warehouse
from urbanreport.core.catalogue import indicators, source_name
from urbanreport.core.config import Settings
from urbanreport.core.periods import Period
from urbanreport.indicators import breakdowns, compute


@dataclass(frozen=True)
class Checked:
    """One figure with its indicator, the period it was compared for, and the verdict; a table
    cell's figure also with its scope (the total, or the breakdown member it is of)."""

    figure: Figure
    link: Link
    period: Period | None
    verdict: Verdict
    scope: Scope | None = None

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
            "breakdown": self._breakdown(),
        }

    def _breakdown(self) -> dict[str, Any] | None:
        """The breakdown member a table cell's figure is of (None: a total, or prose)."""
        scope = self.scope
        if scope is None or scope.member is None:
            return None
        return {
            "dimension": scope.member.dimensions[0],
            "member": scope.member.value,
            "label": scope.member.label,
            "table": scope.table or None,
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
    with _Warehouse(settings, period) as wh:
        checked = [_check(settings, f, *_resolve(f, wh), period, wh) for f in found.figures]
    return CheckResult(period, draft, checked, found.ignored)


def _resolve(figure: Figure, wh: _Warehouse) -> tuple[Link, Scope | None]:
    """A prose figure's indicator; a table cell's, and whether it is a total or a member's."""
    if figure.cell is None:
        lk = link(figure)
        return lk, tables.prose_scope(figure, wh.index, wh.totals) if lk.key else None
    return tables.resolve(figure, wh.index, wh.totals)


class _Warehouse:
    """Indicator results and breakdown tables by period, computed once each, on one read-only
    connection opened at the first figure that needs it (a draft without figures needs none)."""

    def __init__(self, settings: Settings, check: Period) -> None:
        self.settings = settings
        self.check = check
        self.totals = tables.totals(settings)
        self._stack = ExitStack()
        self._con: Any = None
        self._results: dict[Period, dict[str, Any]] = {}
        self._tables: dict[Period, dict[str, list[dict[str, Any]]]] = {}
        self._index: tables.Breakdowns | None = None

    def __enter__(self) -> _Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    @property
    def con(self) -> Any:
        if self._con is None:
            self._con = self._stack.enter_context(warehouse.reader(self.settings))
        return self._con

    def result_of(self, period: Period) -> dict[str, Any]:
        if period not in self._results:
            self._results[period] = compute(self.con, period, self.settings)
        return self._results[period]

    def tables_of(self, period: Period) -> dict[str, list[dict[str, Any]]]:
        if period not in self._tables:
            self._tables[period] = breakdowns(self.con, period, self.settings)
        return self._tables[period]

    @property
    def index(self) -> tables.Breakdowns:
        if self._index is None:
            self._index = tables.Breakdowns(self.tables_of(self.check))
        return self._index


def _figure_period(figure: Figure, check: Period) -> Period | None:
    mention = figure.mention
    if mention is None:
        return check
    return mention.period


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
    scope: Scope | None,
    check: Period,
    wh: _Warehouse,
) -> Checked:
    member = scope.member if scope else None
    if lk.key is None:
        reason = f"分项数据（{member.shown}）暂不核对：{lk.reason}" if member else lk.reason
        return Checked(figure, lk, None, Verdict(UNKNOWN, reason=reason), scope)
    if scope is not None and scope.reason:
        return Checked(figure, lk, None, Verdict(UNKNOWN, reason=scope.reason), scope)
    period = _figure_period(figure, check)
    if period is None:
        note = figure.mention.note if figure.mention else ""
        return Checked(figure, lk, None, Verdict(MISSING, reason=note), scope)
    result = wh.result_of(period)
    if member is not None:
        return _check_member(settings, figure, lk, scope, period, wh)
    item = indicators()[lk.key]
    value = result["indicators"][lk.key]
    if figure.mention is not None and figure.mention.since is not None:
        refused = _since(figure, lk.key, period, result)
        if refused is not None:
            return Checked(figure, lk, period, refused, scope)
    if value is None:
        reason = result["missing"].get(lk.key, "")
        return Checked(figure, lk, period, Verdict(MISSING, reason=reason), scope)
    if gaps := _gaps(settings, item.source, period, result):
        return Checked(figure, lk, period, Verdict(MISSING, reason=gaps), scope)
    verdict = compare(figure, item, value, lk.unit_ok, lk.reason)
    return Checked(figure, lk, period, verdict, scope)


def _check_member(
    settings: Settings, figure: Figure, lk: Link, scope: Scope, period: Period, wh: _Warehouse
) -> Checked:
    """A figure of one breakdown member, against that member's value in the breakdown."""
    member = scope.member
    assert member is not None and lk.key is not None
    item = indicators()[lk.key]

    def unknown(why: str) -> Checked:
        return Checked(
            figure,
            lk,
            period,
            Verdict(UNKNOWN, reason=f"分项数据（{member.shown}）暂不核对：{why}"),
            scope,
        )

    found = wh.index.column(lk.key, member)
    if found is None:
        return unknown(f"库内没有按{tables.DIMENSIONS[member.dimensions[0]]}分列的{item.name}")
    if figure.mention is not None and figure.mention.since is not None:
        return unknown(f"“{figure.mention.text}”的分项库内不计算")
    table, dim, column = found
    base, why = tables.breakdown_period(period, member)
    if base is None:
        return unknown(why)
    row = next(r for r in wh.tables_of(base)[table] if r[dim] == member.value)
    value = row[column]
    where = f"按{member.shown}分项核对"
    scope = replace(scope, table=table)
    if value is None:
        reason = (
            wh.result_of(period)["missing"].get(lk.key)
            or f"库内{member.shown}在{base.chinese}没有{item.name}的数值"
        )
        return Checked(figure, lk, period, Verdict(MISSING, reason=reason), scope)
    if dim != "month" and (gaps := _gaps(settings, item.source, period, wh.result_of(period))):
        return Checked(figure, lk, period, Verdict(MISSING, reason=gaps), scope)
    verdict = compare(figure, item, value, lk.unit_ok, lk.reason)
    note = f"{where}；{verdict.reason}" if verdict.reason else where
    return Checked(figure, lk, period, replace(verdict, reason=note), scope)


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
