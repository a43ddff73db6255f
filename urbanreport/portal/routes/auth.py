"""Sign-in and sign-out.

An unknown name and a wrong password get the same words and the same status; so does a
disabled account. Only the lockout is told apart, and it applies to names that are no account
as well, so it gives nothing away either.
"""

from __future__ import annotations

import anyio
from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from urbanreport.portal.access import VIA_SESSION, principal_of
from urbanreport.portal.context import Portal, portal_of
from urbanreport.portal.cookies import SESSION_COOKIE, clear_cookie, set_cookie
from urbanreport.portal.forms import client_address
from urbanreport.portal.routes.common import audit_action
from urbanreport.portal.security import LOCKED, SIGNED_IN

router = APIRouter(include_in_schema=False)  # pages, not API: no OpenAPI entries

INVALID_MESSAGE = "账户名或密码错误。"
LOCKED_MESSAGE = "登录失败次数过多，该账户和本机地址已暂时锁定，请 {minutes} 分钟后再试。"
EXPIRED_MESSAGE = "会话已超时，请重新登录。"


def safe_next(target: str | None) -> str:
    """A local path to go on to after sign-in; anything else (another site, ``//host``) is /."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if target.startswith("/login") or any(c in target for c in "\r\n\\"):
        return "/"
    return target


def _login_page(
    request: Request, portal: Portal, *, next_: str, message: str = "", status: int = 200
) -> Response:
    context = {
        "next": safe_next(next_),
        "message": message,
        "no_accounts": portal.security.open_mode(),
    }
    response = portal.pages.render(request, "login.html", context, status)
    response.headers["cache-control"] = "no-store"
    return response


@router.api_route("/login", methods=["GET", "HEAD"], response_class=HTMLResponse)
def login_page(request: Request, next: str = "/", expired: int = 0) -> Response:  # noqa: A002
    portal = portal_of(request)
    who = principal_of(request)
    if who is not None and who.via == VIA_SESSION:
        root = request.scope.get("root_path", "")
        return RedirectResponse(root + safe_next(next), status_code=303)
    return _login_page(request, portal, next_=next, message=EXPIRED_MESSAGE if expired else "")


@router.post("/login")
async def login(request: Request) -> Response:
    portal = portal_of(request)
    form = await portal.pages.forms.read(request)
    name, password = str(form.get("username") or ""), str(form.get("password") or "")
    next_ = str(form.get("next") or "/")
    result = await anyio.to_thread.run_sync(
        portal.security.sign_in, name, password, client_address(request)
    )
    if result.outcome != SIGNED_IN or result.session_id is None:
        minutes = int(portal.config.lockout_window.total_seconds() // 60)
        locked = result.outcome == LOCKED
        message = LOCKED_MESSAGE.format(minutes=minutes) if locked else INVALID_MESSAGE
        status = 429 if locked else 401
        return _login_page(request, portal, next_=next_, message=message, status=status)
    root = request.scope.get("root_path", "")
    response = RedirectResponse(root + safe_next(next_), status_code=303)
    set_cookie(response, SESSION_COOKIE, result.session_id, secure=portal.config.https)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    portal = portal_of(request)
    await portal.pages.forms.read(request)
    who = principal_of(request)
    root = request.scope.get("root_path", "")
    session_id = request.cookies.get(SESSION_COOKIE)
    if who is None or who.via != VIA_SESSION or not session_id:
        return RedirectResponse(root + "/", status_code=303)
    await anyio.to_thread.run_sync(portal.security.sessions.end, session_id)
    await anyio.to_thread.run_sync(audit_action, request, who, "logout", "")
    response = RedirectResponse(root + "/login", status_code=303)
    clear_cookie(response, SESSION_COOKIE, secure=portal.config.https)
    return response
