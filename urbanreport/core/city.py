"""A city's districts: one configuration file (`city.toml`) lists them, each with its own inbox,
streets and dictionaries, all sharing one home and one warehouse.

Why a file of its own beside `urbanreport.toml`: that file says how this installation runs
(warehouse, portal, calendar) and is the same for every district; the city file says which
districts there are. A home without a city file is one district, exactly as before: its
`[district] code`, its inbox `<home>/inbox/<source>/`.

`City.settings_for(code)` is the one way to get a district's Settings: the home's configuration
with the district's entry laid over it (code, names, inbox, streets, dictionaries), so an
ingest, a figure or a report for that district reads nothing of another.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from urbanreport.core import districts
from urbanreport.core.config import (
    PACKAGE_DIR,
    ConfigError,
    Settings,
    division_code,
    home_path,
    load_settings,
    merge_settings,
    raw_settings,
    settings_from,
)

# The city file of a home, unless `$URBANREPORT_CITY` names another.
CITY_FILE = "city.toml"
CITY_ENV = "URBANREPORT_CITY"
# The shipped 汕头市 city file (all six districts and the county): copy it to `<home>/city.toml`.
SHANTOU_FILE = PACKAGE_DIR / "city.toml"
# Keys a district entry may set; anything else is a typo the operator should hear about.
_ENTRY_KEYS = frozenset(
    {"name", "bureau_name", "short_name", "inbox", "reports", "streets", "whole_district"}
    | {"dictionaries"}
)


@dataclass(frozen=True)
class DistrictEntry:
    """One district of the city file: division code, name, and what it overrides."""

    code: str
    name: str
    overrides: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class City:
    """The districts sharing one home and warehouse, in the order the city file lists them."""

    code: str
    name: str
    districts: list[DistrictEntry]
    home: Path
    single: bool  # no city file: the home's one district
    _base: dict[str, Any] = field(compare=False, repr=False)

    @property
    def codes(self) -> list[str]:
        return [d.code for d in self.districts]

    def district(self, code: str) -> DistrictEntry:
        """The entry of `code`; ConfigError naming the city's districts when it has none."""
        for entry in self.districts:
            if entry.code == str(code):
                return entry
        listed = "、".join(f"{d.code} {d.name}" for d in self.districts)
        raise ConfigError(
            f"{self.name}的配置中没有区划代码 {code}；已配置：{listed}"
            f" (district {code} is not configured for {self.code}; configured: {listed})"
        )

    @property
    def home_district(self) -> str:
        """The district of the home's own configuration (`[district] code`)."""
        return division_code(self._base["district"].get("code"), "[district] code")

    def settings_for(self, code: str | None = None) -> Settings:
        """That district's Settings: this home and warehouse, its own inbox, streets,
        dictionaries, names and `district_code`. No code: the home's own district."""
        entry = self.district(self.home_district if code is None else code)
        if self.single:
            return settings_from(self.home, self._base)
        return settings_from(self.home, merge_settings(self._base, _overlay(self, entry)))


def _overlay(city: City, entry: DistrictEntry) -> dict[str, Any]:
    """The configuration tables a district entry lays over the home's configuration."""
    given = entry.overrides
    known = districts.districts().get(entry.code)
    streets = given.get("streets") or _default_streets(city, entry, known)
    if not streets:
        raise ConfigError(
            f"city.toml [districts.{entry.code}] 须列出 streets（该区划代码不在内置的区划表中）"
            f" (district {entry.code} is not in the built-in list: give its streets)"
        )
    whole = given.get("whole_district", "全县" if entry.name.endswith("县") else "全区")
    district = {"code": entry.code, "inbox": given.get("inbox", f"inbox/{entry.code}")}
    district["reports"] = given.get("reports", f"reports/{entry.code}")
    district |= {"streets": list(streets), "whole_district": whole}
    bureau = {
        "name": given.get("bureau_name", f"{city.name}{entry.name}城市管理和综合执法局"),
        "short_name": given.get("short_name", f"{entry.name}城管局"),
        "district": entry.name,
        "city": city.name,
    }
    return {"bureau": bureau, "district": district, "dictionaries": given.get("dictionaries", {})}


def _default_streets(
    city: City, entry: DistrictEntry, known: districts.District | None
) -> list[str] | None:
    """The home's own district keeps the streets its configuration lists (in that order, so
    its sample and reports stay exactly those of the single-district home); any other
    district takes its real divisions from districts.toml."""
    if entry.code == str(city._base["district"].get("code")):
        return list(city._base["district"]["streets"])
    return known.streets if known else None


def city_file(home: Path) -> Path:
    """Where the city file of `home` is (it may not exist)."""
    named = os.environ.get(CITY_ENV)
    return Path(named) if named else home / CITY_FILE


def _entry(city_code: str, key: str, table: Any) -> DistrictEntry:
    where = f"city.toml [districts.{key}]"
    code = division_code(key, where)
    if not isinstance(table, dict):
        raise ConfigError(f"{where} 须为表 (must be a table)")
    unknown = sorted(set(table) - _ENTRY_KEYS)
    if unknown:
        raise ConfigError(
            f"{where} 含有未知的键 {', '.join(unknown)}；可用：{', '.join(sorted(_ENTRY_KEYS))}"
            f" (unknown keys {', '.join(unknown)})"
        )
    known = districts.districts().get(code)
    if known and known.city_code != city_code:
        raise ConfigError(
            f"{where}：{code} {known.name} 属于 {known.city}，不属于 {city_code}"
            f" (district {code} belongs to city {known.city_code}, not {city_code})"
        )
    name = str(table.get("name") or (known.name if known else ""))
    if not name:
        raise ConfigError(f'{where} 须写 name，例如 name = "金平区" (give the district\'s name)')
    return DistrictEntry(code, name, dict(table))


def _parse(home: Path, path: Path, base: dict[str, Any]) -> City:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name} 无法解析 (cannot read the city file): {exc}") from None
    head = data.get("city", {})
    code = division_code(head.get("code"), "city.toml [city] code")
    known = next((d.city for d in districts.districts().values() if d.city_code == code), "")
    name = str(head.get("name") or known)
    entries = [_entry(code, str(key), table) for key, table in data.get("districts", {}).items()]
    if not name or not entries:
        raise ConfigError(
            "city.toml 须有 [city] name 并至少列出一个 [districts.<代码>]"
            " (the city file needs [city] name and at least one [districts.<code>] table)"
        )
    return City(code, name, entries, home, False, base)


def load_city(home: str | os.PathLike[str] | None = None) -> City:
    """The city of `home`: its city file's districts, or, without one, the home's district."""
    path_home = home_path(home)
    base = raw_settings(path_home)
    path = city_file(path_home)
    if path.is_file():
        return _parse(path_home, path, base)
    settings = load_settings(path_home)
    code = settings.district_code
    known = districts.districts().get(code)
    city_code = known.city_code if known else code[:4] + "00"
    entry = DistrictEntry(code, str(settings["bureau"]["district"]))
    return City(city_code, str(settings["bureau"]["city"]), [entry], path_home, True, base)
