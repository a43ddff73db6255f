"""A figure against the warehouse value, at the precision the text itself was written in.

The rule is the one a reader applies to rounded prose: the text says what the value rounds to.

* A figure with decimals, or with 万 / 亿, agrees with every value that rounds half-up to it:
  78.02% with [0.78015, 0.78025), 300.94万元 with [3009350, 3009450) yuan (within 50 yuan).
* A whole number without multiplier must be exact: 936宗 is 936, and 100% is exactly all.
* Approximate words widen it as they say: 约 / 左右 to the last significant digit (约300万元:
  2.5 to 3.5 million), 余 / 多 from the number up to the next step of its last nonzero digit
  (900余宗: 900 to 999), 近 up to a tenth below (近1000宗: 900 to 1000), 超过 / 逾 / 以上 /
  以下 one side only.
* The unit must measure what the indicator measures; 元 and 万元 are one unit at two scales,
  so 3009408万元 is compared as 30094080000 yuan and disagrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from urbanreport.check.extract import Figure
from urbanreport.core import formatting
from urbanreport.core.catalogue import Indicator

MATCH, MISMATCH, MISSING, UNKNOWN = "match", "mismatch", "missing", "unknown"
VERDICT_NAMES = {MATCH: "一致", MISMATCH: "不一致", MISSING: "数据缺失", UNKNOWN: "无法核对"}
_SCALE = {"%": Decimal("0.01"), "‰": Decimal("0.001")}


@dataclass(frozen=True)
class Verdict:
    verdict: str
    expected: Any = None  # the warehouse value (None when missing or unknown)
    expected_text: str = ""  # the warehouse value as the project's formatter writes it
    reason: str = ""

    @property
    def name(self) -> str:
        return VERDICT_NAMES[self.verdict]


def _unit_step(figure: Figure) -> Decimal:
    """One unit of the last written digit, in the indicator's unit (0.01% → 0.0001)."""
    return (
        Decimal(1).scaleb(-figure.decimals)
        * figure.multiplier
        * _SCALE.get(figure.base_unit, Decimal(1))
    )


def _significant_step(figure: Figure) -> Decimal:
    """One unit of the last nonzero digit of a whole number (900 → 100), else the unit step."""
    step = _unit_step(figure)
    if figure.decimals:
        return step
    digits = figure.number.lstrip("0") or "0"
    zeros = len(digits) - len(digits.rstrip("0")) if digits != "0" else 0
    return step * 10**zeros


def agrees(figure: Figure, value: Any) -> bool:
    """Whether the warehouse value is what the figure, at its own precision, says."""
    v = formatting.decimal(value)
    n = figure.value
    approx = figure.approx
    if approx in ("约", "左右"):
        half = _significant_step(figure) / 2
        return n - half <= v < n + half
    if approx in ("余", "多"):
        return n <= v < n + _significant_step(figure)
    if approx == "近":
        return n * Decimal("0.9") <= v <= n
    if approx in ("超过", "逾", "超"):
        return v > n
    if approx == "以上":
        return v >= n
    if approx == "以下":
        return v <= n
    if figure.decimals == 0 and figure.multiplier == 1:
        return v == n
    half = _unit_step(figure) / 2
    return n - half <= v < n + half


def compare(figure: Figure, item: Indicator, value: Any, unit_ok: bool, note: str) -> Verdict:
    """The verdict of a linked figure whose period has a warehouse value (`value` not None)."""
    expected = formatting.machine(item.kind, value)
    text = formatting.figure(item, value)
    if not unit_ok:
        return Verdict(MISMATCH, expected, text, note)
    if agrees(figure, value):
        return Verdict(MATCH, expected, text)
    if not note and figure.multiplier != 1:
        note = f"文稿数值即 {formatting.figure(item, figure.value)}"
    return Verdict(MISMATCH, expected, text, note)
