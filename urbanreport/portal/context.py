"""What every route needs, built once per application: `Portal`, reached as `portal_of(request)`.

One object instead of closures inside a factory, so each route module stays small and can be
read (and tested) without the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from starlette.requests import HTTPConnection

from urbanreport.core import catalogue
from urbanreport.core.catalogue import Indicator
from urbanreport.core.config import Settings
from urbanreport.portal.access import VIA_OPEN, principal_of
from urbanreport.portal.config import PortalConfig
from urbanreport.portal.rendering import Pages
from urbanreport.portal.security import Security
from urbanreport.reports.fonts import font_file

log = logging.getLogger(__name__)

FontResolver = Callable[[str], Path | None]

STATIC_DIR = Path(__file__).resolve().parent / "static"


@dataclass
class Portal:
    settings: Settings
    config: PortalConfig
    security: Security
    pages: Pages
    fonts: FontResolver
    catalogue: dict[str, Indicator] = field(default_factory=catalogue.indicators)
    static_files: dict[str, bytes] = field(default_factory=dict)

    @property
    def reports_dir(self) -> Path:
        return self.settings.reports_dir

    def public_base(self, connection: HTTPConnection) -> str:
        """Absolute URLs for the API: the configured public address, else this request's."""
        return self.config.base_url or str(connection.base_url).rstrip("/")

    def cache_control(
        self, connection: HTTPConnection, *, public: bool = False, max_age: int | None = None
    ) -> str:
        """Only the open demo mode lets a shared cache keep anything."""
        principal = principal_of(connection)
        shared = self.security.open_mode() if principal is None else principal.via == VIA_OPEN
        tail = f"max-age={max_age}" if max_age else "no-cache"
        if not shared:
            return f"private, {tail}"
        return f"public, {tail}" if public else tail


def portal_of(connection: HTTPConnection) -> Portal:
    return connection.app.state.portal


def load_static() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in STATIC_DIR.glob("*.css") if p.is_file()}


def default_font_resolver() -> FontResolver:
    """Fonts from ``reports.fonts`` (the files the PDFs embed), looked up once and remembered.

    The first lookup on a new machine may convert the font (tens of seconds), so it is also
    started in the background when the portal starts.
    """
    found: dict[str, Path] = {}
    lock = threading.Lock()

    def resolve(role: str) -> Path | None:
        with lock:
            if role in found:
                return found[role]
            try:
                path = Path(font_file(role))
            except Exception:  # noqa: BLE001 - no font means boxes, not a broken portal
                log.warning("门户无法取得%s字体，页面将使用浏览器自带字体", role, exc_info=True)
                return None
            found[role] = path
            return path

    return resolve
