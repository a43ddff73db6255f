"""The pages: fiscal years, one year's reports, a report's versions; and publishing a version."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import anyio
from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from urbanreport.portal import store
from urbanreport.portal.access import Principal
from urbanreport.portal.context import Portal, portal_of
from urbanreport.portal.routes.common import Editor, Viewer, audit_action, not_found
from urbanreport.portal.views import (
    MONTH_NAMES,
    card,
    find_view,
    version_rows,
    visible_reports,
)

router = APIRouter(include_in_schema=False)  # pages, not API: no OpenAPI entries
PAGE = {"methods": ["GET", "HEAD"], "response_class": HTMLResponse}


def _sort_time(text: str) -> float:
    moment = store.parse_time(text)
    return moment.timestamp() if moment else 0.0


def _year_summary(portal: Portal, fiscal_year: int, who: Principal) -> dict[str, Any]:
    views = visible_reports(portal.reports_dir, fiscal_year, who)
    latest = max((v.shown.generated_at for v in views), default="", key=_sort_time)
    return {
        "year": fiscal_year,
        "annual": next((v for v in views if v.report.kind == "annual"), None),
        "monthly": sum(1 for v in views if v.report.kind == "monthly"),
        "latest": latest,
    }


@router.api_route("/", **PAGE)
def index(request: Request, who: Viewer) -> Response:
    portal = portal_of(request)
    years = [_year_summary(portal, y, who) for y in store.fiscal_years(portal.reports_dir)]
    return portal.pages.render(request, "index.html", {"years": years})


@router.api_route("/reports/{fiscal_year}", **PAGE)
def fiscal_year_page(request: Request, fiscal_year: int, who: Viewer):
    portal = portal_of(request)
    if fiscal_year not in store.fiscal_years(portal.reports_dir):
        raise not_found(f"没有 {fiscal_year} 年度的报告。")
    views = visible_reports(portal.reports_dir, fiscal_year, who)
    annual = next((v for v in views if v.report.kind == "annual"), None)
    by_month = {v.report.month: v for v in views if v.report.kind == "monthly" and v.report.month}
    months = [
        {"month": m, "label": MONTH_NAMES[m - 1], "view": by_month.get(m)} for m in range(1, 13)
    ]
    cards = {v.report.id: card(v, portal.reports_dir, portal.catalogue) for v in views}
    context = {"year": fiscal_year, "annual": annual, "months": months, "cards": cards}
    return portal.pages.render(request, "fiscal_year.html", context)


@router.api_route("/reports/{fiscal_year}/{report_id}/versions", **PAGE)
def versions_page(request: Request, fiscal_year: int, report_id: str, who: Viewer) -> Response:
    portal = portal_of(request)
    view = find_view(portal.reports_dir, fiscal_year, report_id, who)
    if view is None:
        raise not_found()
    context = {"report": view.report, "rows": version_rows(view)}
    return portal.pages.render(request, "versions.html", context)


@router.post("/reports/{fiscal_year}/{report_id}/publish")
async def publish(request: Request, fiscal_year: int, report_id: str, who: Editor) -> Response:
    """Publish (or withdraw) the version with the submitted hash: exactly what the editor saw,
    even if a rerun has put a newer file in front of it since the page was drawn."""
    portal = portal_of(request)
    form = await portal.pages.forms.read(request)
    sha256, action = str(form.get("sha256") or ""), str(form.get("action") or "publish")
    if action not in ("publish", "withdraw"):
        raise not_found()
    found = await anyio.to_thread.run_sync(
        _set_state, request, portal, who, (fiscal_year, report_id, sha256, action)
    )
    if not found:
        raise not_found("该报告版本已不存在，请刷新页面。")
    target = f"/reports/{fiscal_year}"
    if form.get("back") == "versions":
        target += f"/{quote(report_id, safe='')}/versions"
    return RedirectResponse(request.scope.get("root_path", "") + target, status_code=303)


def _set_state(
    request: Request, portal: Portal, who: Principal, what: tuple[int, str, str, str]
) -> bool:
    fiscal_year, report_id, sha256, action = what
    report = store.find_report(portal.reports_dir, fiscal_year, report_id)
    versions = (report.current, *report.versions) if report else ()
    version = next((v for v in versions if sha256 and v.sha256 == sha256), None)
    if report is None or version is None:
        return False
    state = store.PUBLISHED if action == "publish" else store.INTERNAL
    when = portal.security.db.now().isoformat()
    written = store.record_publication(
        portal.reports_dir, report, version, store.Publication(state, who.name, when)
    )
    target = f"{fiscal_year}/{report_id} 第{version.number}版 sha256:{sha256[:12]}"
    audit_action(request, who, action, target, "ok" if written else "failed")
    return written
