"""A draft's text made comparable, with every character traced back to where it was written.

Why a character map: the checker reads figures from the normalised text (Simplified, half-width
digits, no pinyin, no thousands separators), but the annotated copy must highlight the figure
where the author typed it. Each step below therefore rewrites a `Mapped` text and keeps, for
every character it produces, the index of the raw character it came from.

Steps, in order:

1. full-width → half-width (NFKC, character by character: ３００ → 300, ％ → %, ，→ ,, ㎡ → m2).
   Circled and parenthesised numbers (①, ⑴) are enumerators, not digits, and stay as written;
2. pinyin annotations after a Han character are dropped (區(qū) → 區), with the project's rule;
3. Traditional → Simplified (the project's converter, which keeps the characters of mainland
   place names), one run of Han characters at a time, so digits and punctuation keep their
   place even where a phrase changes length;
4. thousands separators inside a number are dropped (3,009,408 → 3009408) — only ASCII commas
   between groups of exactly three digits: the full-width comma is the Chinese comma;
5. spaces are dropped except between two Latin letters or digits (Chinese prose has none; PDF
   text layers and justified Word lines put them in: "936 宗", "罚款 3009408 元"), and spaces
   between digit groups of three (3 009 408) go as thousands separators do.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from urbanreport.core.normalize import PINYIN_ANNOTATION, to_simplified

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
#: Enumerators that NFKC would turn into plain digits (① → 1, ⑴ → (1), ⒈ → 1.).
_ENUMERATORS = re.compile(r"[\u2460-\u24ff\u2776-\u2793\u3251-\u325f\u32b1-\u32bf]")
_COMMA_GROUPS = re.compile(r"(?<![\d.,])[1-9]\d{0,2}(?:,\d{3})+(?![\d]|,\d)")
_SPACE_GROUPS = re.compile(r"(?<![\d.])(?<!\d )[1-9]\d{0,2}(?: \d{3})+(?![\d]| \d)")
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")


@dataclass(frozen=True)
class Mapped:
    """Text plus, for each of its characters, the index of the raw character it stands for."""

    text: str
    origin: tuple[int, ...]

    @classmethod
    def raw(cls, text: str) -> Mapped:
        return cls(text, tuple(range(len(text))))

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """The raw [start, end) that produced text[start:end] (end exclusive)."""
        return self.origin[start], self.origin[end - 1] + 1

    def rewrite(self, pattern: re.Pattern[str], replace: Callable[[re.Match[str]], str]) -> Mapped:
        """Replace every match; replaced characters map to the raw characters they replace.

        A replacement that only drops characters of its match (10,000 → 10000) maps each kept
        character to the raw one it was; any other maps each output character to the raw
        character at the same position, or the match's last one.
        """
        out: list[str] = []
        origin: list[int] = []
        last = 0
        for m in pattern.finditer(self.text):
            out.append(self.text[last : m.start()])
            origin.extend(self.origin[last : m.start()])
            new = replace(m)
            old = self.origin[m.start() : m.end()]
            out.append(new)
            origin.extend(_align(new, m.group(0), old))
            last = m.end()
        out.append(self.text[last:])
        origin.extend(self.origin[last:])
        return Mapped("".join(out), tuple(origin))


def _align(new: str, matched: str, old: tuple[int, ...]) -> list[int]:
    """Raw indices for the characters of `new`, replacing `matched` (whose indices are `old`)."""
    out: list[int] = []
    j = 0
    for ch in new:
        while j < len(matched) and matched[j] != ch:
            j += 1
        if j == len(matched):  # not a subsequence: position by position
            return [old[min(i, len(old) - 1)] for i in range(len(new))]
        out.append(old[j])
        j += 1
    return out


def _half_width(text: Mapped) -> Mapped:
    chars: list[str] = []
    origin: list[int] = []
    for ch, where in zip(text.text, text.origin, strict=True):
        new = ch if _ENUMERATORS.match(ch) else unicodedata.normalize("NFKC", ch)
        chars.append(new)
        origin.extend([where] * len(new))
    return Mapped("".join(chars), tuple(origin))


def _simplified(run: re.Match[str]) -> str:
    return to_simplified(run.group(0))


def _drop_separators(text: Mapped, raw: str) -> Mapped:
    """Thousands separators: ASCII commas as typed (a full-width comma is never one), spaces."""

    def commas(m: re.Match[str]) -> str:
        typed = [raw[text.origin[m.start() + i]] for i, c in enumerate(m.group(0)) if c == ","]
        return m.group(0).replace(",", "") if all(c == "," for c in typed) else m.group(0)

    text = text.rewrite(_COMMA_GROUPS, commas)
    return text.rewrite(_SPACE_GROUPS, lambda m: m.group(0).replace(" ", ""))


def _drop_spaces(text: Mapped) -> Mapped:
    def keep_between_words(m: re.Match[str]) -> str:
        before = text.text[m.start() - 1] if m.start() else ""
        after = text.text[m.end()] if m.end() < len(text.text) else ""
        if before.isascii() and before.isalnum() and after.isascii() and after.isalnum():
            return " "
        return ""

    return text.rewrite(_SPACES, keep_between_words)


def normalize(raw: str) -> Mapped:
    """The comparable form of one block of a draft (see the module docstring for the steps)."""
    text = _half_width(Mapped.raw(raw))
    text = text.rewrite(PINYIN_ANNOTATION, lambda m: "")
    text = text.rewrite(_HAN, _simplified)
    text = _drop_separators(text, raw)
    return _drop_spaces(text)
