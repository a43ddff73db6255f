"""The portal's part of the configuration (``[portal]``), read and checked once at start-up.

Why a typed object: the security limits (session lifetime, lockout) are read on every request;
reading them from the raw TOML each time would spread the defaults and their checks around.
A wrong value stops the portal with a message naming the key, before anyone can sign in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from urbanreport.core.config import Settings

#: Keys of the shared-secret protection this portal used before accounts; see `_refuse_legacy`.
LEGACY_KEYS = ("token", "basic_user", "basic_password")
LEGACY_ENV = ("URBANREPORT_PORTAL_TOKEN", "URBANREPORT_PORTAL_PASSWORD")


@dataclass(frozen=True)
class PortalConfig:
    """``[portal]`` with defaults applied; durations as `timedelta`."""

    base_url: str
    host: str
    port: int
    database: Path
    session_idle: timedelta
    session_max: timedelta
    lockout_failures: int
    lockout_window: timedelta
    api_token_days: int
    upload_max_bytes: int

    @property
    def https(self) -> bool:
        """Cookies carry ``Secure`` (and HSTS is sent) when the public address is https."""
        return urlsplit(self.base_url).scheme == "https"

    @classmethod
    def from_settings(cls, settings: Settings) -> PortalConfig:
        portal = dict(settings.data.get("portal", {}))
        _refuse_legacy(portal)
        database = Path(str(portal.get("database") or "portal.sqlite3"))
        return cls(
            base_url=str(portal.get("base_url") or "").rstrip("/"),
            host=str(portal.get("host") or "127.0.0.1"),
            port=_positive(portal, "port", 8000),
            database=database if database.is_absolute() else settings.home / database,
            session_idle=timedelta(minutes=_positive(portal, "session_idle_minutes", 30)),
            session_max=timedelta(hours=_positive(portal, "session_max_hours", 8)),
            lockout_failures=_positive(portal, "lockout_failures", 5),
            lockout_window=timedelta(minutes=_positive(portal, "lockout_minutes", 15)),
            api_token_days=_positive(portal, "api_token_days", 365),
            upload_max_bytes=_positive(portal, "upload_max_mb", 10) * 1024 * 1024,
        )


def _positive(portal: dict[str, Any], key: str, default: int) -> int:
    value = portal.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"门户配置错误：portal.{key} 须为正整数（portal.{key} must be > 0）。")
    return value


def _refuse_legacy(portal: dict[str, Any]) -> None:
    """A shared token or basic-auth password is no longer honoured: say so instead of ignoring.

    Ignoring it silently would leave an operator believing the portal is protected; starting
    only once it is removed makes the move to personal accounts explicit.
    """
    configured = [f"portal.{k}" for k in LEGACY_KEYS if portal.get(k)]
    configured += [name for name in LEGACY_ENV if os.environ.get(name)]
    if configured:
        raise ValueError(
            f"门户不再支持共享令牌或基本认证（{'、'.join(configured)}）：请删除该设置，"
            "用 `urbanreport user add NAME --role viewer|editor|admin` 创建个人账户，"
            "API 客户端用 `urbanreport user token NAME` 取得个人令牌。"
            " (Shared tokens and basic auth were replaced by personal accounts.)"
        )
