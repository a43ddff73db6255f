"""Normalisation of text dimension values before they are matched against their dictionaries.

Why in Python: dictionary columns have few distinct values (ten streets, a dozen categories),
so the ingest normalises each distinct raw value once here and joins the mapping back in SQL.
That keeps the Traditional→Simplified table (zhconv) out of SQL and costs nothing per row.

The configured dictionaries go through the same function when the settings load, so a value
written in the configuration always matches itself, however it was typed there.

Why the Traditional→Simplified step is guarded: zhconv's zh-cn table follows the 2013 standard
character list, which maps some characters that mainland place names keep to forms of its own.
汕头's 鮀江街道 would become 𬶍江 and 濠江's 礐石 would become 𬒈石, characters outside GBK that
most fonts (and every Windows 宋体/黑体) lack, so the name would print as a box and no longer
match the official division name. And 乾务镇 or 廻龙镇 would be "simplified" to 干/回, a
different name. So a character is kept as it is when its conversion leaves GBK or when it is
one of `PLACE_NAME_CHARACTERS`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import zhconv

# A pinyin annotation right after a Han character, as some web copies carry them: 區(qū) → 區.
# Pinyin letters may carry tone marks (āáǎà…, ü) or tone digits (qu1).
PINYIN_ANNOTATION = re.compile(
    r"(?<=[\u3400-\u9fff])\((?:[a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿê]+[1-5]?\s?)+\)"
)
STREET_SUFFIX = "街道"
#: Endings of township-level names that are not streets: a 镇 or 乡 keeps its own suffix.
TOWN_SUFFIXES = ("镇", "乡")

#: Characters of official township-level names (统计用区划代码, 2023) that zhconv's zh-cn table
#: would turn into another character: 鮀 (鮀江, 鮀莲), 礐 (礐石), 乾 (乾务, 乾塘), 廻 (廻龙),
#: 篢 (织篢), 輋 (河輋), 鴜 and 鷺 (鴜鷺树), 濛 (濛江), 塚 (尖塚), 馀 (昭馀), 磑 (南磑),
#: 氾 (氾水), 瀂 (瀂港), 钜 (钜桥), 砲 (砲里), 洩 (洩湖), 藉 (藉口). Mainland place names use
#: them as they are, so the normaliser never changes them.
PLACE_NAME_CHARACTERS = frozenset("鮀礐乾廻篢輋鴜鷺濛塚馀磑氾瀂钜砲洩藉")


def _in_gbk(char: str) -> bool:
    """Whether a character is in GBK, the repertoire every mainland system font covers."""
    try:
        char.encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


def _keep(original: str, converted: str) -> bool:
    return original in PLACE_NAME_CHARACTERS or not all(_in_gbk(c) for c in converted)


def to_simplified(text: str) -> str:
    """Traditional → Simplified (zhconv, zh-cn), keeping the characters of mainland place names.

    zhconv converts phrase by phrase; when a phrase changed the length, the text is converted
    character by character instead, so the guard can compare like with like.
    """
    converted = zhconv.convert(text, "zh-cn")
    if len(converted) != len(text):
        pairs = [(c, zhconv.convert(c, "zh-cn")) for c in text]
    else:
        pairs = list(zip(text, converted, strict=True))
    return "".join(o if o != c and _keep(o, c) else c for o, c in pairs)


@lru_cache(maxsize=4096)
def normalize_text(raw: str) -> str:
    """Trim, full-width → half-width (NFKC), drop pinyin annotations, Traditional → Simplified."""
    text = unicodedata.normalize("NFKC", raw).strip()
    text = PINYIN_ANNOTATION.sub("", text)
    text = re.sub(r"\s+", "", text)
    return to_simplified(text)


def match_dictionary(raw: str | None, allowed: Iterable[str], suffix: str = "") -> str | None:
    """The dictionary value `raw` stands for, or None if it is blank or unknown.

    `suffix` is an optional ending that may be present or absent (街道 for streets).
    """
    if raw is None or not raw.strip():
        return None
    text = normalize_text(raw)
    allowed_set = set(allowed)
    if text in allowed_set:
        return text
    if suffix and text.endswith(suffix) and text[: -len(suffix)] in allowed_set:
        return text[: -len(suffix)]
    return None


def street_key(name: str) -> str:
    """A street as the configuration and the warehouse hold it: normalised, without 街道.

    `金霞街道` → `金霞`; a town keeps its suffix (`海门镇`), as it is written that way.
    """
    text = normalize_text(name)
    if text.endswith(STREET_SUFFIX) and len(text) > len(STREET_SUFFIX):
        return text[: -len(STREET_SUFFIX)]
    return text


def street_full_name(key: str) -> str:
    """The name a street office writes: `金霞` → `金霞街道`; `海门镇` stays `海门镇`."""
    return key if key.endswith(TOWN_SUFFIXES) else key + STREET_SUFFIX


def normalize_dictionary(values: Iterable[str], name: str, street: bool = False) -> list[str]:
    """A configured dictionary as the ingest will match it: every value normalised.

    Refuses a blank value and two values that normalise to the same one (`鷗汀` and `鸥汀`),
    which would otherwise be one value counted under two names.
    """
    out: list[str] = []
    for value in values:
        text = street_key(str(value)) if street else normalize_text(str(value))
        if not text:
            raise ValueError(f"配置项 {name} 中有空值。 Setting {name} has an empty value.")
        if text in out:
            raise ValueError(
                f"配置项 {name} 中“{value}”与另一个值规范化后相同（{text}）。"
                f" Setting {name}: {value!r} is the same as another value once normalised."
            )
        out.append(text)
    return out
