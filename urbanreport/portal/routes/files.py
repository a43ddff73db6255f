"""Files: report downloads and previews (by fiscal year and id, never by path), the web font,
the stylesheet, and liveness for a monitor."""

from __future__ import annotations

import hashlib
import logging

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from urbanreport.portal import store
from urbanreport.portal.access import Principal, ReportView
from urbanreport.portal.context import Portal, portal_of
from urbanreport.portal.responses import content_disposition, etag_of, file_response
from urbanreport.portal.routes.common import Viewer, audit_action, not_found
from urbanreport.portal.views import file_names, find_view

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)  # pages, not API: no OpenAPI entries
GET_HEAD = ["GET", "HEAD"]

FONT_ROLES = ("sans", "serif")
FONT_MEDIA_TYPES = {
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".ttc": "font/collection",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
}
#: Fonts change only with an upgrade; revalidate daily rather than on every page.
FONT_MAX_AGE = 86400


@router.api_route("/download/{fiscal_year}/{report_id}", methods=GET_HEAD)
def download(
    request: Request,
    fiscal_year: int,
    report_id: str,
    who: Viewer,
    fmt: str = Query(default="pdf", alias="format"),
) -> Response:
    """The newest version the caller may see (for a viewer: the newest published one), as PDF,
    Word (``?format=docx``) or Excel (``?format=xlsx``): one access rule for every format."""
    portal = portal_of(request)
    view = find_view(portal.reports_dir, fiscal_year, report_id, who)
    if view is None:
        raise not_found()
    return _send(request, portal, who, view, view.shown, fmt)


@router.api_route("/download/{fiscal_year}/{report_id}/versions/{number}", methods=GET_HEAD)
def download_version(
    request: Request,
    fiscal_year: int,
    report_id: str,
    number: int,
    who: Viewer,
    fmt: str = Query(default="pdf", alias="format"),
) -> Response:
    portal = portal_of(request)
    view = find_view(portal.reports_dir, fiscal_year, report_id, who)
    version = view.older_version(number) if view else None
    if view is None or version is None:
        raise not_found()
    return _send(request, portal, who, view, version, fmt)


def _send(
    request: Request,
    portal: Portal,
    who: Principal,
    view: ReportView,
    version: store.Version,
    fmt: str = "pdf",
) -> Response:
    report = view.report
    ref = version.file_of(fmt)
    if ref is None:
        raise not_found()
    opened = store.open_registered(portal.reports_dir, report.fiscal_year, ref.file)
    if opened is None:
        if version.number == report.current_version:
            log.warning("报告 %s 登记的文件不可用：%s", report.id, ref.file)
        raise not_found()
    if ref.sha256 and ref.sha256 != opened.sha256:
        # Between the builder's rename and its index rewrite; what is sent is still whole.
        log.info("报告 %s 的文件与索引中的校验值不一致（可能正在重新生成）", report.id)
    unicode_name, ascii_name = file_names(report, version, fmt)
    response = file_response(
        request,
        opened,
        media_type=store.FORMATS[fmt],
        cache_control=portal.cache_control(request),
        disposition=content_disposition("attachment", unicode_name, ascii_name),
    )
    if request.method == "GET" and response.status_code == 200:
        state = "已发布" if version.published else "内部"
        kind = "" if fmt == "pdf" else f" {fmt}"
        target = f"{report.fiscal_year}/{report.id} 第{version.number}版{kind}（{state}）"
        audit_action(request, who, "download", target)
    return response


@router.api_route("/preview/{fiscal_year}/{report_id}", methods=GET_HEAD)
def preview(request: Request, fiscal_year: int, report_id: str, who: Viewer) -> Response:
    """The current file's first page, for whoever may see the current file."""
    portal = portal_of(request)
    view = find_view(portal.reports_dir, fiscal_year, report_id, who)
    if view is None or not view.is_current or not view.report.preview:
        raise not_found()
    opened = store.open_registered(portal.reports_dir, fiscal_year, view.report.preview)
    if opened is None:
        raise not_found()
    control = portal.cache_control(request, public=True)
    return file_response(request, opened, media_type="image/png", cache_control=control)


@router.api_route("/fonts/{name}", methods=GET_HEAD)
def font(request: Request, name: str) -> Response:
    role, _, _ = name.partition(".")
    if role not in FONT_ROLES:
        raise not_found()
    portal = portal_of(request)
    path = portal.fonts(role)
    opened = store.open_file(path) if path else None
    if path is None or opened is None:
        raise not_found()
    media_type = FONT_MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
    control = portal.cache_control(request, public=True, max_age=FONT_MAX_AGE)
    return file_response(request, opened, media_type=media_type, cache_control=control)


@router.api_route("/static/{name}", methods=GET_HEAD)
def static(request: Request, name: str) -> Response:
    portal = portal_of(request)
    body = portal.static_files.get(name)
    if body is None:
        raise not_found()
    etag = etag_of(hashlib.sha256(body).hexdigest())
    headers = {"etag": etag, "cache-control": portal.cache_control(request, public=True)}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/css; charset=utf-8", headers=headers)


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    return Response(status_code=204)


@router.api_route("/healthz", methods=GET_HEAD, include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}
