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
    return Settings(home=home_path, data=data)
