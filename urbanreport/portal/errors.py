"""Error answers: a Chinese page (JSON under ``/api/``), never a stack trace or internal text."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from urbanreport.portal.context import portal_of
from urbanreport.portal.middleware import security_headers
from urbanreport.portal.rendering import is_api
from urbanreport.portal.routes.common import NOT_FOUND

log = logging.getLogger("urbanreport.portal")

MESSAGES = {
    400: "请求无法完成。",
    401: "需要登录。",
    403: "权限不足。",
    404: NOT_FOUND,
    405: "不支持该请求方式。",
    413: "提交的内容超过大小限制。",
}
SERVER_ERROR = "服务器内部错误，请稍后重试或联系管理员。"


def install(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Exception, server_error)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = MESSAGES.get(exc.status_code, "请求无法完成。")
    # Our own messages are Chinese sentences; Starlette's English defaults are not shown.
    if isinstance(exc.detail, str) and exc.detail and not exc.detail.isascii():
        message = exc.detail
    response = portal_of(request).pages.error(request, exc.status_code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def invalid_request(request: Request, exc: Exception) -> Response:
    if is_api(request):
        return JSONResponse({"detail": "请求参数无效。"}, status_code=422)
    # A malformed page address is a page that does not exist.
    return portal_of(request).pages.error(request, 404, NOT_FOUND)


async def server_error(request: Request, exc: Exception) -> Response:
    """Runs outside the portal middleware (Starlette's outermost layer), so it adds the
    security headers itself."""
    log.error("门户处理 %s 时出错", request.url.path, exc_info=exc)
    portal = portal_of(request)
    response = portal.pages.error(request, 500, SERVER_ERROR)
    response.raw_headers.extend(security_headers(portal.config.https))
    return response
