"""One place for configuration: defaults.toml merged with the operator's override file.

Why a file and not constants: another district, a renamed street, next year's holiday list or
the HTTP source's address are operator decisions, not code changes.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import cached_property
from importlib.resources import files
from pathlib import Path
from typing import Any

from urbanreport.core.normalize import normalize_dictionary, normalize_text

# Package resources, so an installed wheel works from any folder (no checkout paths).
PACKAGE_DIR = Path(str(files("urbanreport")))
SQL_DIR = Path(str(files("urbanreport.sql")))
DEFAULTS_FILE = PACKAGE_DIR / "defaults.toml"
SOURCES_FILE = PACKAGE_DIR / "sources.toml"
# The sources of the data contract, in contract order (the [sources.*] tables of sources.toml).
SOURCES: tuple[str, ...] = tuple(tomllib.loads(SOURCES_FILE.read_text("utf-8"))["sources"])


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge nested tables key by key, so an override file names only what differs."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _normalize_dictionaries(data: dict[str, Any]) -> dict[str, Any]:
    """The streets and dictionaries as the ingest matches incoming values: normalised alike.

    Why here: a configured `鷗汀街道` or `佔道經營` is then stored as `鸥汀` / `占道经营`, the very
    value an incoming row normalises to, so a configured name always matches itself.
    """
    district = dict(data["district"])
    district["streets"] = normalize_dictionary(district["streets"], "district.streets", True)
    district["whole_district"] = normalize_text(str(district["whole_district"]))
    dictionaries: dict[str, Any] = {}
    for key, values in data["dictionaries"].items():
        where = f"dictionaries.{key}"
        if isinstance(values, dict):  # values by parent (dcm_categories by case class)
            parents = normalize_dictionary(values, where)
            dictionaries[key] = {
                parent: normalize_dictionary(children, f"{where}.{raw}")
                for parent, (raw, children) in zip(parents, values.items(), strict=True)
            }
        else:
            dictionaries[key] = normalize_dictionary(values, where)
    return data | {"district": district, "dictionaries": dictionaries}


@dataclass(frozen=True)
class Settings:
    """The merged configuration plus the data directory it applies to."""

    home: Path
    data: dict[str, Any]

    def __getitem__(self, section: str) -> Any:
        return self.data[section]

    # --- locations under $URBANREPORT_HOME -------------------------------------------------
    @property
    def inbox(self) -> Path:
        return self.home / "inbox"

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    def source_inbox(self, source: str) -> Path:
        return self.inbox / source

    # --- derived values --------------------------------------------------------------------
    @property
    def streets(self) -> list[str]:
        return list(self.data["district"]["streets"])

    @cached_property
    def sources(self) -> dict[str, dict[str, Any]]:
        """The data contract (sources.toml): fields, Chinese headers, types, keys."""
        with SOURCES_FILE.open("rb") as fh:
            return tomllib.load(fh)["sources"]

    @property
    def http_token(self) -> str:
        """Bearer token: environment first, so it need never be written into a file."""
        return os.environ.get("URBANREPORT_DCM_TOKEN") or self.data["http"].get("token", "")

    @property
    def http_base_url(self) -> str:
        return os.environ.get("URBANREPORT_DCM_URL") or self.data["http"].get("base_url", "")


def load_settings(home: str | os.PathLike[str] | None = None) -> Settings:
    """Read defaults, then `$URBANREPORT_CONFIG` or `<home>/urbanreport.toml` if present."""
    home_path = Path(home or os.environ.get("URBANREPORT_HOME") or "var").resolve()
    with DEFAULTS_FILE.open("rb") as fh:
        data = tomllib.load(fh)
    override = os.environ.get("URBANREPORT_CONFIG")
    override_path = Path(override) if override else home_path / "urbanreport.toml"
    if override_path.is_file():
        with override_path.open("rb") as fh:
            data = _merge(data, tomllib.load(fh))
    return Settings(home=home_path, data=_normalize_dictionaries(data))
