"""The report portal's application factory: `create_app(settings)`.

FastAPI + Jinja2 over ``$URBANREPORT_HOME/reports/``, without a front-end build step: the pages
are server-rendered HTML with one stylesheet and no script, so the portal runs on the same
machine as the pipeline with nothing else installed. The parts:

* `middleware` — security headers, refusal of credentials in URLs, body limit, sign-in;
* `routes/` — one module per area (pages, draft check, files, API, sign-in, admin);
* `security` — accounts, sessions, lockout and the audit log, in the portal's own SQLite file;
* `store` — the registry read safely (a URL never becomes a path), and publication state;
* `responses` — downloads streamed from one open descriptor, with ETag revalidation.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from argon2 import PasswordHasher
from fastapi import FastAPI

from urbanreport.core.config import Settings
from urbanreport.portal import errors
from urbanreport.portal.config import PortalConfig
from urbanreport.portal.context import FontResolver, Portal, default_font_resolver, load_static
from urbanreport.portal.database import Clock
from urbanreport.portal.forms import Forms
from urbanreport.portal.middleware import PortalMiddleware
from urbanreport.portal.rendering import Pages
from urbanreport.portal.routes import admin, api, auth, check, files, reports
from urbanreport.portal.security import Security

ROUTERS = (reports.router, check.router, files.router, api.router, auth.router, admin.router)


def build_portal(
    settings: Settings,
    *,
    font_resolver: FontResolver | None = None,
    clock: Clock | None = None,
    hasher: PasswordHasher | None = None,
) -> Portal:
    config = PortalConfig.from_settings(settings)
    security = Security(config, clock=clock, hasher=hasher)
    forms = Forms(
        security.db.secret("forms"), config.https, security.audit, config.upload_max_bytes
    )
    return Portal(
        settings=settings,
        config=config,
        security=security,
        pages=Pages(settings.data.get("bureau", {}), forms),
        fonts=font_resolver or default_font_resolver(),
        static_files=load_static(),
    )


def create_app(
    settings: Settings,
    *,
    font_resolver: FontResolver | None = None,
    clock: Clock | None = None,
    hasher: PasswordHasher | None = None,
) -> FastAPI:
    """The portal over ``settings.reports_dir``.

    ``font_resolver`` maps "sans"/"serif" to a font file (default: ``reports.fonts``);
    ``clock`` and ``hasher`` let tests move time forward and hash passwords cheaply.
    """
    portal = build_portal(settings, font_resolver=font_resolver, clock=clock, hasher=hasher)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Warm the font in the background: a first conversion must not delay the first page.
        threading.Thread(target=portal.fonts, args=("sans",), daemon=True).start()
        yield

    app = FastAPI(
        title="报告下载门户",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",  # behind sign-in like every /api/ path
        lifespan=lifespan,
    )
    app.state.portal = portal
    for router in ROUTERS:
        app.include_router(router)
    errors.install(app)
    app.add_middleware(PortalMiddleware, portal=portal)
    return app
