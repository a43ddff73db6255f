"""The JSON API for scripts (for example the province's platform), with per-user API tokens in
``Authorization: Bearer``; it lists what the token's user may see, with absolute URLs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from starlette.requests import Request

from urbanreport.portal import store
from urbanreport.portal.context import portal_of
from urbanreport.portal.routes.common import Viewer
from urbanreport.portal.views import report_json, visible_reports

router = APIRouter()


@router.head("/api/reports", include_in_schema=False)
@router.get("/api/reports")
def api_reports(
    request: Request,
    who: Viewer,
    fiscal_year: int | None = Query(default=None, ge=1900, le=9999),
) -> JSONResponse:
    """Every report the caller may see, with metadata and absolute download URLs.

    For a viewer an unpublished period is listed under ``missing_periods``, as one not yet
    generated would be: both mean "nothing to download yet".
    """
    portal = portal_of(request)
    base = portal.public_base(request)
    years = store.fiscal_years(portal.reports_dir)
    wanted = [fiscal_year] if fiscal_year is not None else years
    items = [
        report_json(view, base, portal.catalogue)
        for year in wanted
        if year in years
        for view in visible_reports(portal.reports_dir, year, who)
    ]
    body: dict[str, Any] = {"fiscal_years": years, "reports": items}
    if fiscal_year is not None:
        present = {r["period"] for r in items}
        periods = [str(fiscal_year)] + [f"{fiscal_year}-{m:02d}" for m in range(1, 13)]
        body["fiscal_year"] = fiscal_year
        body["missing_periods"] = [p for p in periods if p not in present]
    response = JSONResponse(body)
    response.headers["cache-control"] = portal.cache_control(request)
    return response
