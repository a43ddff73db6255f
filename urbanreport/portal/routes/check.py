"""核对文稿: an editor uploads a draft and sees each figure's verdict against the warehouse;
for a Word draft with mismatches, the annotated copy comes from a second upload (`drafts`).

Editors and admins only (viewers 403, like publishing). Every upload is audited without its
content or name. Result pages and the copy are sent ``no-store``: they quote the draft.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anyio
from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from urbanreport.check import CheckResult
from urbanreport.check.compare import VERDICT_NAMES
from urbanreport.check.rows import ignored_groups, rows
from urbanreport.portal import drafts
from urbanreport.portal.access import Principal
from urbanreport.portal.context import Portal, portal_of
from urbanreport.portal.responses import content_disposition
from urbanreport.portal.routes.common import Editor, audit_action

router = APIRouter(include_in_schema=False)  # pages, not API: no OpenAPI entries


@dataclass(frozen=True)
class Upload:
    """What one check form sent: the file's bytes and name, and the other fields."""

    data: bytes
    name: str
    period: str
    checked: str  # the hash of the file the page showed (the annotated copy's form)


async def _upload(request: Request) -> Upload:
    """The form read (CSRF checked, size bounded) and closed again: the bytes are all we keep,
    for this request only."""
    form = await portal_of(request).pages.forms.read(request, max_files=1)
    try:
        file = form.get("file")
        data, name = b"", ""
        if isinstance(file, UploadFile):
            data, name = await file.read(), drafts.base_name(file.filename)
        return Upload(data, name, _text(form.get("period")), _text(form.get("checked")))
    finally:
        await form.close()


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _page(
    request: Request,
    portal: Portal,
    *,
    result: CheckResult | None = None,
    data: bytes = b"",
    period: str = "",
    error: str = "",
    note: str = "",
    status: int = 200,
) -> Response:
    years = drafts.report_years(portal.reports_dir, portal.security.db.now())
    context: dict[str, Any] = {
        "groups": drafts.period_choices(years),
        "selected": period or (result.period.label if result else str(years[0])),
        "accept": drafts.ACCEPT,
        "max_mb": portal.config.upload_max_bytes >> 20,
        "error": error,
        "note": note,
        "result": result,
    }
    if result is not None:
        context |= {
            "rows": rows(result),
            "ignored": ignored_groups(result),
            "counts": [(k, VERDICT_NAMES[k], n) for k, n in result.summary.items()],
            "offer_copy": result.draft.format == "docx" and bool(result.mismatches),
            "checked": drafts.content_digest(data),
        }
    response = portal.pages.render(request, "check.html", context, status)
    if result is not None:
        response.headers["cache-control"] = "no-store"  # the page quotes the draft
    return response


def _audit(request: Request, who: Principal, upload: Upload, result: str, detail: str) -> None:
    key = portal_of(request).security.db.secret("audit-names")
    target = drafts.audit_object(key, upload.name, len(upload.data))
    audit_action(request, who, "upload", target, result, detail)


@router.api_route("/check", methods=["GET", "HEAD"], response_class=HTMLResponse)
def check_page(request: Request, who: Editor) -> Response:
    return _page(request, portal_of(request))


@router.post("/check")
async def check_draft(request: Request, who: Editor) -> Response:
    portal = portal_of(request)
    try:
        upload = await _upload(request)
    except HTTPException as exc:
        if exc.status_code != 413:
            raise
        await anyio.to_thread.run_sync(
            audit_action, request, who, "upload", "文稿（超过上传上限）", "refused"
        )
        return _page(request, portal, error=str(exc.detail), status=413)
    try:
        period = drafts.parse_period(upload.period)
        result = await anyio.to_thread.run_sync(
            drafts.run_check, portal.settings, upload.data, upload.name, period
        )
    except drafts.CheckFailed as exc:
        await anyio.to_thread.run_sync(_audit, request, who, upload, "refused", exc.reason)
        return _page(request, portal, period=upload.period, error=exc.message, status=exc.status)
    await anyio.to_thread.run_sync(_audit, request, who, upload, "ok", drafts.audit_detail(result))
    return _page(request, portal, result=result, data=upload.data)


async def _copy(portal: Portal, upload: Upload) -> tuple[CheckResult, bytes | None, str]:
    """(the check, the annotated copy, why there is none): the same file, checked again."""
    if upload.data and upload.checked and drafts.content_digest(upload.data) != upload.checked:
        raise drafts.CheckFailed(400, drafts.OTHER_FILE, "与核对的文稿不同")
    period = drafts.parse_period(upload.period)
    result = await anyio.to_thread.run_sync(
        drafts.run_check, portal.settings, upload.data, upload.name, period
    )
    if result.draft.format != "docx":
        return result, None, drafts.NOT_WORD
    if not result.mismatches:
        return result, None, drafts.NOTHING_TO_MARK
    copy = await anyio.to_thread.run_sync(drafts.annotated, portal.settings, upload.data, result)
    return result, copy, ""


@router.post("/check/annotated")
async def annotated_copy(request: Request, who: Editor) -> Response:
    """The annotated copy of the Word draft sent again with the page's form (see `drafts`)."""
    portal = portal_of(request)
    upload = await _upload(request)
    try:
        result, copy, why = await _copy(portal, upload)
    except drafts.CheckFailed as exc:
        await anyio.to_thread.run_sync(_audit, request, who, upload, "refused", exc.reason)
        return _page(request, portal, period=upload.period, error=exc.message, status=exc.status)
    detail = drafts.audit_detail(result, copy=copy is not None)
    await anyio.to_thread.run_sync(_audit, request, who, upload, "ok", detail)
    if copy is None:
        return _page(request, portal, result=result, data=upload.data, note=why)
    unicode_name, ascii_name = drafts.annotated_names(upload.name)
    headers = {
        "content-disposition": content_disposition("attachment", unicode_name, ascii_name),
        "cache-control": "no-store",
    }
    return Response(copy, media_type=drafts.DOCX_MEDIA_TYPE, headers=headers)
