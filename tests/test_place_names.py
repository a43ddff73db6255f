"""Real place names through the normaliser and the report fonts.

Every street (街道) and town (镇) of every district and county of 汕头市, and of a few other
districts of Guangdong (`urbanreport/districts.toml`), must normalise to itself, match itself
as a configured street (with or without 街道, in Traditional spelling, pinyin-annotated), and
have a glyph for every character in both report fonts, or a report of that district would
print boxes.
"""

from __future__ import annotations

from functools import cache

import pytest
import zhconv
from fontTools.ttLib import TTFont
from pypinyin import Style, pinyin

from urbanreport.core import districts
from urbanreport.core.config import load_settings
from urbanreport.core.normalize import (
    STREET_SUFFIX,
    match_dictionary,
    normalize_text,
    street_full_name,
    street_key,
)
from urbanreport.reports import fonts

SHANTOU = {"440507", "440511", "440512", "440513", "440514", "440515", "440523"}
ALL = districts.districts()
NAMES = [(d.code, d.name, name) for d in ALL.values() for name in d.divisions]


@cache
def cmap(role: str) -> frozenset[int]:
    """Code points the report font of `role` has a glyph for (the file the PDF embeds)."""
    return frozenset(TTFont(str(fonts.font_file(role)), lazy=True).getBestCmap())


def test_the_file_holds_every_district_and_county_of_shantou() -> None:
    shantou = {d.code: d for d in ALL.values() if d.city == "汕头市"}
    assert set(shantou) == SHANTOU
    assert [d.name for d in sorted(shantou.values(), key=lambda d: d.code)] == [
        "龙湖区", "金平区", "濠江区", "潮阳区", "潮南区", "澄海区", "南澳县",
    ]  # fmt: skip
    assert all(d.city_code == "440500" for d in shantou.values())
    assert {d.city for d in ALL.values()} >= {"广州市", "深圳市", "潮州市", "揭阳市"}
    assert districts.find("汕头市", "金平区") is ALL["440511"]
    assert districts.find("汕头市", "不存在区") is None


def test_every_division_is_a_street_or_a_town_and_none_repeats() -> None:
    for d in ALL.values():
        assert d.divisions, d.name
        assert len(set(d.divisions)) == len(d.divisions), d.name
        assert all(n.endswith((STREET_SUFFIX, "镇")) and len(n) > 2 for n in d.divisions), d.name


def test_the_default_district_is_the_file_entry() -> None:
    """The defaults' 龙湖区 streets are exactly those of the file (same order aside)."""
    settings = load_settings(home="unused-home")
    longhu = districts.find(settings["bureau"]["city"], settings["bureau"]["district"])
    assert longhu is not None and longhu.code == settings.district_code
    assert sorted(settings.streets) == sorted(longhu.streets)


@pytest.mark.parametrize(
    ("code", "district", "name"), NAMES, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(NAMES)]
)
def test_a_real_name_normalises_to_itself_and_matches_as_a_street(
    code: str, district: str, name: str
) -> None:
    assert normalize_text(name) == name
    key = street_key(name)
    assert street_full_name(key) == name
    configured = ALL[code].streets
    spellings = {
        name,
        key,
        zhconv.convert(name, "zh-hant"),  # a clerk's Traditional spelling
        zhconv.convert(name, "zh-tw"),
        f" {name}\u3000",
        f"{name[0]}({pinyin(name[0], style=Style.TONE)[0][0]}){name[1:]}",  # 鮀(tuó)江街道
    }
    for spelling in spellings:
        assert match_dictionary(spelling, configured, STREET_SUFFIX) == key, spelling


@pytest.mark.parametrize("role", fonts.ROLES)
def test_every_character_of_every_name_is_in_the_report_fonts(role: str) -> None:
    have = cmap(role)
    missing = {(name, c) for _, _, name in NAMES for c in name if ord(c) not in have}
    assert not missing, sorted(missing)


def test_zhconv_alone_would_break_these_names() -> None:
    """Why the guard exists: the bare zh-cn table turns them into other characters."""
    assert zhconv.convert("鮀江街道", "zh-cn") == "\U0002cd8d江街道"  # 𬶍, outside GBK
    assert zhconv.convert("礐石街道", "zh-cn") == "\U0002c488石街道"  # 𬒈
    assert zhconv.convert("乾塘镇", "zh-cn") == "干塘镇"
    for name in ("鮀江街道", "鮀莲街道", "礐石街道", "乾塘镇", "廻龙镇"):
        assert normalize_text(name) == name
