"""The one formatter: how every output (CLI, PDF, Word, Excel, portal, Prefect) writes a figure.

The bureau's rules: money and areas to two decimals at most, without thousands separators and
without ``.00`` (3009408.00 → ``3009408``); rates as percentages with at most two decimals and
no trailing zeros (``100%``, ``78.02%``); hours and working days to one decimal (``3.5个工作日``);
changes of rates in 百分点, of amounts relative (``+5.25%``). Every rounding is half-up on
Decimal: 0.79375 is ``79.38%`` everywhere, never ``79.37%`` through a binary float.

A figure that is not known is 数据缺失 (with its reason beside it where there is room), never 0;
a figure that cannot exist in the period (no campaign yet) says so in the catalogue's words.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from urbanreport.core.catalogue import Indicator

MISSING = "数据缺失"
NO_CHANGE = "持平"
NEW = "新增"
NOT_COMPARABLE = "—"

_CENT = Decimal("0.01")
_TENTH = Decimal("0.1")
#: Decimal places of each kind in machine output (JSON, Excel): rates as fractions.
_PLACES = {"rate": Decimal("0.0001"), "money": _CENT, "area": _CENT, "hours": _CENT, "days": _CENT}


def decimal(value: Any) -> Decimal:
    """A Decimal from int, float, Decimal or numeric text; floats via repr, so 0.7802 stays."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"不是数值：{value!r} (not a number)") from None


def half_up(value: Any, places: Decimal) -> Decimal:
    return decimal(value).quantize(places, rounding=ROUND_HALF_UP)


def plain(number: Decimal) -> str:
    """Fixed-point text without exponent and without trailing fractional zeros."""
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def amount(value: Any) -> str:
    """Money or area: ``3009408``, ``496793.68``."""
    return plain(half_up(value, _CENT))


def count(value: Any) -> str:
    return str(int(value))


def percent(fraction: Any) -> str:
    """A fraction as a percentage: 1 → ``100%``, 0.7802 → ``78.02%``, 0.79375 → ``79.38%``."""
    return f"{plain(half_up(decimal(fraction) * 100, _CENT))}%"


def one_decimal(value: Any) -> str:
    """Hours and working days: 3.46 → ``3.5``, 4.0 → ``4``."""
    return plain(half_up(value, _TENTH))


def number(kind: str, value: Any) -> str:
    """The bare number (no unit) of a non-null value of a catalogue kind."""
    if kind == "rate":
        return percent(value)
    if kind in ("money", "area"):
        return amount(value)
    if kind in ("hours", "days"):
        return one_decimal(value)
    return count(value)


def with_unit(kind: str, unit: str, text: str) -> str:
    """Attach the unit as Chinese prose does: ``78.02%``, ``936宗``, ``3.5个工作日``."""
    if kind == "rate":
        return text
    if unit == "工作日":
        return f"{text}个工作日"
    return f"{text}{unit}"


def figure(item: Indicator, value: Any, empty: str | None = None) -> str:
    """An indicator's value with its unit; ``empty`` (default 数据缺失) when it is null."""
    if value is None:
        return empty or MISSING
    return with_unit(item.kind, item.unit, number(item.kind, value))


def empty_text(item: Indicator, source_present: bool) -> str:
    """What a null figure says: 数据缺失, or the catalogue's words when nothing can be missing.

    A campaign that has not started while the demolitions are all there is 无专项行动: the
    reader must not hunt for data that does not exist.
    """
    return item.empty_text if source_present and item.empty_text else MISSING


def change(kind: str, current: Any, previous: Any) -> str:
    """Year-on-year change: in 百分点 for rates, relative for everything else.

    Why not a ratio for rates too: "on-time rate +1.3%" would be ambiguous between 1.3 points
    and 1.3 per cent of the old rate; the bureau's readers expect points.
    """
    if current is None or previous is None:
        return NOT_COMPARABLE
    cur, prev = decimal(current), decimal(previous)
    if kind == "rate":
        points = half_up((cur - prev) * 100, _CENT)
        if points == 0:
            return NO_CHANGE
        return f"{'+' if points > 0 else '-'}{plain(abs(points))}个百分点"
    if prev == 0:
        return NO_CHANGE if cur == 0 else NEW
    ratio = (cur - prev) / prev
    if half_up(ratio, Decimal("0.0001")) == 0:
        return NO_CHANGE
    return f"{'+' if ratio > 0 else '-'}{percent(abs(ratio))}"


def machine(kind: str, value: Any) -> int | float | None:
    """JSON and Excel form: counts as integers, rates as fractions to 4 places, money to 2.

    Rounded half-up on Decimal first, so the float written is the shortest one of that value.
    """
    if value is None:
        return None
    if kind == "count":
        return int(value)
    return float(half_up(value, _PLACES[kind]))


# --- dates ----------------------------------------------------------------------------------


def as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def as_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return datetime.fromisoformat(str(value))


def day(value: Any) -> str:
    """``2023年7月1日``."""
    d = as_date(value)
    return MISSING if d is None else f"{d.year}年{d.month}月{d.day}日"


def moment(value: Any) -> str:
    """``2023年12月31日 18:05``."""
    m = as_datetime(value)
    return MISSING if m is None else f"{m.year}年{m.month}月{m.day}日 {m:%H:%M}"


def month(value: Any) -> str:
    """``2023年7月``."""
    d = as_date(value)
    return MISSING if d is None else f"{d.year}年{d.month}月"
