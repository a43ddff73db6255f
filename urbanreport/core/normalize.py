"""Normalisation of text dimension values before they are matched against their dictionaries.

Why in Python: dictionary columns have few distinct values (ten streets, a dozen categories),
so the ingest normalises each distinct raw value once here and joins the mapping back in SQL.
That keeps the Traditional→Simplified table (zhconv) out of SQL and costs nothing per row.
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


@lru_cache(maxsize=4096)
def normalize_text(raw: str) -> str:
    """Trim, full-width → half-width (NFKC), drop pinyin annotations, Traditional → Simplified."""
    text = unicodedata.normalize("NFKC", raw).strip()
    text = PINYIN_ANNOTATION.sub("", text)
    text = re.sub(r"\s+", "", text)
    return zhconv.convert(text, "zh-cn")


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
