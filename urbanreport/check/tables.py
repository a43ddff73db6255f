"""Of what a table cell's figure is: the district's total, or one member of a breakdown.

Why: an annual report's appendix lists streets, permit items, categories and months, and a
reader knows that the row 金霞 with 71宗 is 金霞街道's count, not the district's 936宗. A checker
that compared it with the total would raise a false alarm on every row; one that skipped such
rows would let a mistyped street figure through. So each cell of a Word table is read with
its column header, the labels left of it in its row and the table's caption (`readers.Cell`):

* Its indicator is the one its column header or a row label names (`link.names`; the caption
  may give a generic phrase its subject); a header and a label naming different ones: unknown.
* A label that is a member of a breakdown makes the figure that member's: a configured street
  (金霞 or 金霞街道), a permit item, an enforcement or 数字城管 category, a case source, an
  activity type — the members the tables of `urbanreport.indicators.breakdowns` list, from the
  settings' `district.streets` and `dictionaries` — or a month (7月, 2023年7月, 2023-07; a bare
  7 under 月份). The figure is compared with that breakdown's value for the member when a
  breakdown computes the indicator by that dimension (`Breakdowns.column`), and is otherwise
  unknown: 分项数据（街道“金霞”）暂不核对, with the reason.
* A label 合计 / 总计 / 全区 / the district's name: the total, compared with the indicator.
  So is a cell whose row names only periods or the indicator itself (an indicator table).
* A row labelled by anything else (a street of another district, a category not configured,
  小计) is a part the checker does not know: unknown, never compared with the total.
* A row with two members (金霞 × 城市建筑垃圾处置核准) is a cross breakdown: unknown.

Prose is read the same way where it cannot be mistaken (`prose_scope`): a sentence that names a
street with its 街道 (金霞街道处罚相关案件71宗) or a permit item by its full name, after any
word of the whole (全区, 我局, the district), speaks of that member; one naming two members
before a figure lists them (金霞、珠池街道分别…), and the figure is unknown. Categories, sources
and activity types are ordinary words in prose (违法建设, 12345热线) and are left to tables.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from urbanreport.check import periods
from urbanreport.check.extract import Figure
from urbanreport.check.link import Link, names, own_words
from urbanreport.core.config import Settings
from urbanreport.core.periods import Period

#: A breakdown table's dimension column → what a reader calls it.
DIMENSIONS = {
    "street": "街道",
    "item_name": "许可事项",
    "category": "类别",
    "source": "来源",
    "activity_type": "活动类型",
    "month": "月份",
}
#: Catalogue keys whose breakdown column has another name: a street's share of the district
#: campaign's target, and the campaign's area completed by each month's end.
COLUMNS = {
    "demolition.campaign_target_m2": "target_m2",
    "demolition.campaign_area_m2": "campaign_cumulative_m2",
}
_TOTALS = frozenset({"合计", "总计", "共计", "全区", "全局", "全区合计", "全区总计", "全局合计"})
_STREET_SUFFIXES = ("街道办事处", "街道办", "街道")
#: Words of prose that speak of the whole district or bureau, besides the totals of a table.
_PROSE_TOTALS = ("我局", "本局", "各街道")
#: What may stand beside the periods of a label that names only a period: 上年同期, 1—7月累计.
_PERIOD_WORDS = re.compile(r"同期|同月|累计|合计|数据|数值|度|[\s()（）:：]")
_BARE_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class Member:
    """A breakdown member a label names: its dimensions (a label may be in two dictionaries),
    the value the breakdown tables list it by, and the label as written."""

    dimensions: tuple[str, ...]
    value: Any  # "金霞", "城市建筑垃圾处置核准", 7
    label: str
    year: int | None = None  # a month label's own year (2023-07)

    @property
    def shown(self) -> str:
        return f"{DIMENSIONS[self.dimensions[0]]}“{self.label}”"


@dataclass(frozen=True)
class Scope:
    """Of what a cell's figure is: the total (no member), one member, or unknown (`reason`)."""

    member: Member | None = None
    reason: str = ""
    table: str = ""  # the breakdown table the member's value was read from


class Breakdowns:
    """The dimension, columns and members of every breakdown table.

    Built from the tables of one period: a table's columns and its members (all streets, all
    dictionary values, zero or not) are the same in every period; months are read from labels.
    """

    def __init__(self, tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        self.tables: dict[str, tuple[str, frozenset[str]]] = {}
        self._members: dict[str, dict[str, Any]] = {}  # label → {dimension: value}
        self._prose: dict[str, Member] = {}  # 金霞街道 / a permit item's full name → member
        for name, rows in tables.items():
            dim = next((c for c in rows[0] if c in DIMENSIONS), None) if rows else None
            if dim is None:
                continue
            metrics = frozenset(c for c in rows[0] if c != dim and not c.startswith("prev_"))
            self.tables[name] = (dim, metrics)
            if dim != "month":
                for row in rows:
                    for label in _forms(dim, str(row[dim])):
                        self._members.setdefault(label, {})[dim] = row[dim]
                        if dim == "item_name" or (dim == "street" and _named_in_prose(label)):
                            self._prose[label] = Member((dim,), row[dim], label)
        names = sorted(self._prose, key=len, reverse=True)
        self._in_prose = re.compile("|".join(map(re.escape, names))) if names else None

    def in_prose(self, text: str) -> list[tuple[int, Member]]:
        """(end, member) of every street (with its 街道) and permit item a text names."""
        if self._in_prose is None:
            return []
        return [(m.end(), self._prose[m.group(0)]) for m in self._in_prose.finditer(text)]

    def member(self, text: str, header: str) -> Member | None:
        """The member a label names, or None."""
        if (month := periods.month_label(text, header)) is not None:
            return Member(("month",), month[1], text, month[0])
        found = self._members.get(text)
        if not found:
            return None
        dims = tuple(found)
        return Member(dims, found[dims[0]], text)

    def column(self, key: str, member: Member) -> tuple[str, str, str] | None:
        """(table, dimension column, value column) of the breakdown computing `key` by the
        member's dimension, or None when no breakdown does."""
        section, _, metric = key.partition(".")
        column = COLUMNS.get(key, metric)
        for name, (dim, metrics) in self.tables.items():
            if name.startswith(f"{section}_by_") and dim in member.dimensions and column in metrics:
                return name, dim, column
        return None


def _named_in_prose(street: str) -> bool:
    """A street is named in prose with its 街道 (金霞 alone may be part of another name); a
    town (a configured 镇 keeps its suffix) by its own name."""
    return street.endswith(("街道", "街道办", "街道办事处", "镇", "乡"))


def _forms(dim: str, value: str) -> list[str]:
    if dim == "street":
        return [value, *(value + suffix for suffix in _STREET_SUFFIXES)]
    return [value]


def prose_scope(figure: Figure, index: Breakdowns, total_labels: frozenset[str]) -> Scope | None:
    """The member a prose figure's sentence names before it, or None: the total (docstring)."""
    found = index.in_prose(figure.before)
    if not found:
        return None
    words = sorted((*total_labels, *_PROSE_TOTALS), key=len, reverse=True)
    whole = re.compile("|".join(map(re.escape, words)))
    if max((m.end() for m in whole.finditer(figure.before)), default=-1) >= found[-1][0]:
        return None
    members = {m.label: m for _, m in found}
    if len(members) > 1:
        shown = "、".join(m.shown for m in members.values())
        return Scope(
            reason=f"分项数据（{shown}）暂不核对：句中列举多个分项，不能确定数字属于哪一个"
        )
    return Scope(next(iter(members.values())))


def totals(settings: Settings) -> frozenset[str]:
    """The labels of a total row: 合计, 全区, and the district by its name (龙湖区)."""
    district = str(settings["bureau"]["district"])
    whole = str(settings["district"]["whole_district"])
    return _TOTALS | {district, whole, f"{district}合计", f"{whole}合计"}


@dataclass(frozen=True)
class _Side:
    """A column header or row label, and what it says."""

    text: str
    kind: str  # "member" | "total" | "period" | "measure" | "other"
    member: Member | None = None
    link: Link | None = None


def resolve(figure: Figure, index: Breakdowns, total_labels: frozenset[str]) -> tuple[Link, Scope]:
    """The indicator of a table cell's figure and of what it is (module docstring)."""
    cell = figure.cell
    assert cell is not None
    header = _side(cell.header, "", figure, index, total_labels)
    labels = [_side(text, head, figure, index, total_labels) for head, text in cell.labels]
    sides = [s for s in (header, *labels) if s is not None]
    lk = own_words(figure) or _measure([s for s in sides if s.kind == "measure"])
    return lk, _scope(sides, [s for s in labels if s is not None])


def _side(
    text: str, header: str, figure: Figure, index: Breakdowns, total_labels: frozenset[str]
) -> _Side | None:
    if not text or (_BARE_NUMBER.fullmatch(text) and "月" not in header):
        return None  # an empty cell, a 序号
    if text in total_labels:
        return _Side(text, "total")
    if (member := index.member(text, header)) is not None:
        return _Side(text, "member", member=member)
    if not _PERIOD_WORDS.sub("", periods.without_periods(text)):
        return _Side(text, "period")
    caption = figure.cell.caption if figure.cell else ""
    if (lk := names(text, caption, figure)) is not None:
        return _Side(text, "measure", link=lk)
    return _Side(text, "other")


def _measure(measures: list[_Side]) -> Link:
    if not measures:
        return Link(None, reason="表头和行名中没有指标目录里的说法 (no catalogue phrase)")
    linked = {s.link.key: s for s in measures if s.link and s.link.key}
    if len(linked) == 1:
        return next(iter(linked.values())).link  # type: ignore[return-value]
    if len(linked) > 1:
        said = "、".join(f"“{s.text}”" for s in linked.values())
        return Link(None, reason=f"{said}各指一个指标，不能确定所指")
    first = measures[0].link
    assert first is not None
    return first


def _scope(sides: list[_Side], labels: list[_Side]) -> Scope:
    members = {s.member.label: s.member for s in sides if s.member is not None}
    if len(members) > 1:
        shown = "×".join(m.shown for m in members.values())
        return Scope(reason=f"分项数据（{shown}）暂不核对：库内不按两个维度交叉分列")
    if members:
        return Scope(next(iter(members.values())))
    if any(s.kind == "total" for s in sides):
        return Scope()
    others = [s for s in labels if s.kind == "other"]
    if others and not any(s.kind == "measure" for s in labels):
        return Scope(
            reason=f"分项数据（“{others[0].text}”）暂不核对：不是本区配置的街道、许可事项、"
            "类别、来源或月份，也不是合计"
        )
    return Scope()


def breakdown_period(period: Period, member: Member) -> tuple[Period | None, str]:
    """The period of the table a member's figure comes from, or why there is none.

    A street's figure is of the cell's own period. A month row is a member of the by-month
    table of its year (of the year to date when the check is of a month: a monthly brief's
    table runs from January).
    """
    if "month" not in member.dimensions:
        return period, ""
    year = member.year or period.year
    if period.kind == "month":
        assert period.month is not None
        base = Period("year", year) if period.month == 12 else Period("ytd", year, period.month)
    elif year != period.year:
        base = Period(period.kind, year, period.month)
    else:
        base = period
    if member.value not in base.months():
        return None, f"{member.label}不在{base.chinese}之内"
    return base, ""
