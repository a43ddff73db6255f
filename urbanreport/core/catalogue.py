"""The indicator catalogue, the report sections and the data sources: names, units, kinds.

Why one module: the CLI table, the PDF, the portal, the Prefect artifacts, the docs and the
draft checker all print the same figures under the same Chinese names and units. They read
them here, loaded once from `sql/indicators/catalogue.toml` and `urbanreport/sources.toml`,
so a renamed indicator or a new unit is one edit in one data file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache

from urbanreport.core.config import SOURCES_FILE, SQL_DIR

CATALOGUE_FILE = SQL_DIR / "indicators" / "catalogue.toml"

#: Report sections in report order; each is one file `sql/indicators/<section>.sql`.
SECTIONS: tuple[str, ...] = ("enforcement", "permits", "demolition", "dcm", "legal")
SECTION_NAMES: dict[str, str] = {
    "enforcement": "行政执法",
    "permits": "审批服务",
    "demolition": "违法建设治理",
    "dcm": "数字城管",
    "legal": "学法普法",
}
#: The data source each section reads (a month without any record there is 数据缺失).
SECTION_SOURCES: dict[str, str] = {
    "enforcement": "enforcement",
    "permits": "permits",
    "demolition": "demolition",
    "dcm": "dcm_cases",
    "legal": "legal_activities",
}
KINDS = frozenset({"count", "money", "area", "rate", "hours", "days"})


@dataclass(frozen=True)
class Indicator:
    """One catalogued figure. `kind` decides its formatting; `unit` is how prose names it."""

    key: str
    name: str
    unit: str
    kind: str
    source: str
    definition: str
    null_reason: str = ""
    #: What a null says when its source has data (no campaign yet: 无专项行动), not 数据缺失.
    empty_text: str = ""
    phrases: tuple[str, ...] = field(default=())

    @property
    def section(self) -> str:
        return self.key.partition(".")[0]

    @property
    def section_name(self) -> str:
        return SECTION_NAMES[self.section]


@cache
def indicators() -> dict[str, Indicator]:
    """Every indicator by key, in catalogue order."""
    with CATALOGUE_FILE.open("rb") as fh:
        raw = tomllib.load(fh)["indicator"]
    out = {}
    for item in raw:
        item = dict(item)
        item["phrases"] = tuple(item.get("phrases", ()))
        out[item["key"]] = Indicator(**item)
    return out


def indicator(key: str) -> Indicator:
    """The catalogue entry of `key`; a KeyError names a key the catalogue does not have."""
    return indicators()[key]


def section_keys(section: str) -> list[str]:
    """The keys of one section, in catalogue order."""
    return [key for key, item in indicators().items() if item.section == section]


@cache
def source_names() -> dict[str, str]:
    """Source → Chinese title (行政处罚案件 …), from the data contract."""
    with SOURCES_FILE.open("rb") as fh:
        return {name: spec["title"] for name, spec in tomllib.load(fh)["sources"].items()}


def source_name(source: str) -> str:
    return source_names().get(source, source)
