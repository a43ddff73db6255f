"""One place for configuration: defaults.toml merged with the operator's override file.

Why a file and not constants: another district, a renamed street, next year's holiday list or
the HTTP source's address are operator decisions, not code changes.
"""

from __future__ import annotations

import os
import re
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

# The DuckLake catalog's password: read from the environment only, never from a file.
CATALOG_PASSWORD_ENV = "URBANREPORT_CATALOG_PASSWORD"
BACKENDS = ("duckdb", "ducklake")
# libpq keywords a catalog connection string may use. No password (nor a password file):
# the password comes from CATALOG_PASSWORD_ENV, so the string is safe to log and to show.
CATALOG_KEYS = frozenset(
    {
        "host", "hostaddr", "port", "dbname", "user", "connect_timeout", "application_name",
        "sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl", "target_session_attrs",
        "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
    }
)  # fmt: skip
# libpq's `key=value` pairs: a value is 'quoted' or bare; in both a backslash escapes.
_CONNINFO_PAIR = re.compile(r"\s*([A-Za-z_]+)\s*=\s*('(?:[^'\\]|\\.)*'|(?:[^\s'\\]|\\.)*)")
# A division code (行政区划代码) of a county-level unit: six digits.
DIVISION_CODE = re.compile(r"[0-9]{6}")


class ConfigError(ValueError):
    """A configuration value that cannot work; the message names the setting."""


@dataclass(frozen=True)
class WarehouseConfig:
    """The `[warehouse]` table, checked: which engine holds the records, and how to reach it.

    Why validated here, once: a catalog string with a password in it, or a typo in a keyword,
    must fail before anything connects or logs, with a message naming the setting.
    """

    backend: str
    catalog: dict[str, str]  # libpq keyword → value, never a password (ducklake only)
    data_path: Path | None  # the lake's Parquet files (ducklake only)
    commit_attempts: int
    retry_wait_seconds: float

    @property
    def is_lake(self) -> bool:
        return self.backend == "ducklake"

    @property
    def catalog_dsn(self) -> str:
        """The catalog as a libpq connection string (no password: safe to show)."""
        return " ".join(f"{key}={_conninfo_value(value)}" for key, value in self.catalog.items())

    @property
    def catalog_password(self) -> str:
        """From the environment only; empty when the catalog trusts the connection."""
        return os.environ.get(CATALOG_PASSWORD_ENV, "")


def _conninfo_value(value: str) -> str:
    if value and not re.search(r"[\s'\\]", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def parse_catalog(text: str) -> dict[str, str]:
    """A libpq `key=value …` string → dict; refuses passwords, URLs and unknown keywords.

    The message never repeats the string itself: it might hold the very password it refuses.
    """
    where = "[warehouse] catalog"
    if "://" in text:
        raise ConfigError(
            f"{where} 须写成 key=value 形式，例如 host=… port=5432 dbname=… user=…，不能用网址"
            " (write the catalog as libpq key=value pairs, not as a URL)"
        )
    pairs: dict[str, str] = {}
    pos, text = 0, text.strip()
    while pos < len(text):
        match = _CONNINFO_PAIR.match(text, pos)
        if not match or match.end() == pos:
            raise ConfigError(
                f"{where} 无法解析：第 {pos + 1} 个字符附近不是 key=value"
                f" (cannot read the catalog string near character {pos + 1})"
            )
        key, raw = match.group(1).lower(), match.group(2)
        if raw.startswith("'"):
            raw = raw[1:-1]
        pairs[key] = re.sub(r"\\(.)", r"\1", raw)
        pos = match.end()
    if "password" in pairs or "passfile" in pairs:
        raise ConfigError(
            f"{where} 不能包含密码：请删除 password=…，改用环境变量 {CATALOG_PASSWORD_ENV}"
            f" (the catalog string must not hold a password; set {CATALOG_PASSWORD_ENV})"
        )
    unknown = sorted(set(pairs) - CATALOG_KEYS)
    if unknown:
        raise ConfigError(
            f"{where} 含有不支持的参数 {', '.join(unknown)}；"
            f"可用：{', '.join(sorted(CATALOG_KEYS))}"
            f" (unsupported keywords {', '.join(unknown)})"
        )
    missing = [k for k in ("host", "dbname") if not pairs.get(k)]
    if missing:
        raise ConfigError(
            f"{where} 缺少 {', '.join(missing)}，例如 host=127.0.0.1 port=5432 dbname=urbanreport"
            f" user=urbanreport (the catalog string needs {', '.join(missing)})"
        )
    return pairs


def _warehouse_config(home: Path, table: dict[str, Any]) -> WarehouseConfig:
    backend = str(table.get("backend", "duckdb"))
    if backend not in BACKENDS:
        raise ConfigError(
            f"[warehouse] backend 只能是 {' 或 '.join(BACKENDS)}，而不是 {backend!r}"
            f" (backend must be one of {', '.join(BACKENDS)})"
        )
    attempts = int(table.get("commit_attempts", 8))
    wait = float(table.get("retry_wait_seconds", 0.2))
    if attempts < 1 or wait < 0:
        raise ConfigError(
            "[warehouse] commit_attempts 至少为 1，retry_wait_seconds 不能为负数"
            " (commit_attempts must be at least 1, retry_wait_seconds not negative)"
        )
    if backend == "duckdb":
        return WarehouseConfig(backend, {}, None, attempts, wait)
    catalog = str(table.get("catalog", "")).strip()
    if not catalog:
        raise ConfigError(
            '[warehouse] backend = "ducklake" 需要 catalog，例如'
            ' catalog = "host=127.0.0.1 port=5432 dbname=urbanreport user=urbanreport"'
            " (the ducklake backend needs a catalog connection string)"
        )
    data_path = str(table.get("data_path", "")).strip()
    if not data_path or "://" in data_path:
        raise ConfigError(
            "[warehouse] data_path 须为本地或共享文件系统上的文件夹（对象存储尚不支持）"
            " (data_path must be a folder on a local or shared filesystem; object storage is"
            " not supported yet)"
        )
    return WarehouseConfig(backend, parse_catalog(catalog), home / data_path, attempts, wait)


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
    district["code"] = division_code(district.get("code"), "[district] code")
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


def division_code(value: Any, where: str) -> str:
    """A division code as configured (`440507`, also written as a TOML integer), checked."""
    text = str(value if value is not None else "").strip()
    if not DIVISION_CODE.fullmatch(text):
        raise ConfigError(
            f"{where} 须为六位行政区划代码，例如 440507，而不是 {text!r}"
            f" ({where} must be a six-digit division code such as 440507)"
        )
    return text


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
        """`[district] inbox` under the home: `inbox`, a city district `inbox/<code>`."""
        return self.home / str(self.data["district"].get("inbox") or "inbox")

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @cached_property
    def warehouse(self) -> WarehouseConfig:
        """The `[warehouse]` table, checked (raises ConfigError naming the bad setting)."""
        return _warehouse_config(self.home, self.data.get("warehouse", {}))

    @property
    def reports_dir(self) -> Path:
        """`[district] reports` under the home: `reports`, a city district `reports/<code>`."""
        return self.home / str(self.data["district"].get("reports") or "reports")

    def source_inbox(self, source: str) -> Path:
        return self.inbox / source

    # --- derived values --------------------------------------------------------------------
    @property
    def district_code(self) -> str:
        """The division code every record, batch and reject written with these settings carries."""
        return str(self.data["district"]["code"])

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


def home_path(home: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: `home`, else `$URBANREPORT_HOME`, else `var`, made absolute."""
    return Path(home or os.environ.get("URBANREPORT_HOME") or "var").resolve()


def _legacy(override: dict[str, Any]) -> dict[str, Any]:
    """An override file written before `[district] code` named it `[bureau] division_code`."""
    legacy = override.get("bureau", {}).get("division_code")
    if legacy is None or "code" in override.get("district", {}):
        return override
    return override | {"district": {**override.get("district", {}), "code": str(legacy)}}


def raw_settings(home: Path) -> dict[str, Any]:
    """Defaults merged with `$URBANREPORT_CONFIG` or `<home>/urbanreport.toml`, not normalised:
    the base a city's districts overlay their own streets and dictionaries on (core/city.py)."""
    with DEFAULTS_FILE.open("rb") as fh:
        data = tomllib.load(fh)
    override = os.environ.get("URBANREPORT_CONFIG")
    override_path = Path(override) if override else home / "urbanreport.toml"
    if override_path.is_file():
        with override_path.open("rb") as fh:
            data = _merge(data, _legacy(tomllib.load(fh)))
    return data


def merge_settings(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override`'s tables merged into `base` key by key (a list or value replaces the base's)."""
    return _merge(base, override)


def settings_from(home: Path, data: dict[str, Any]) -> Settings:
    """Settings over raw configuration data: the streets and dictionaries normalised, checked."""
    return Settings(home=home, data=_normalize_dictionaries(data))


def load_settings(home: str | os.PathLike[str] | None = None) -> Settings:
    """Read defaults, then `$URBANREPORT_CONFIG` or `<home>/urbanreport.toml` if present."""
    path = home_path(home)
    return settings_from(path, raw_settings(path))
