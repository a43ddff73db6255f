"""Admin pages: the accounts (add, role, disable/enable, revoke API tokens) and the audit log.

Passwords of other people are not set here after the account is made: a reset goes through
``urbanreport user passwd`` on the server, where the operator can check who is asking.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import anyio
from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from urbanreport.portal.access import ROLE_LABELS, Role, principal_of
from urbanreport.portal.accounts import PolicyError
from urbanreport.portal.context import Portal, portal_of
from urbanreport.portal.forms import client_address
from urbanreport.portal.routes.common import Admin, admin
from urbanreport.portal.security import Actor

router = APIRouter(prefix="/admin", include_in_schema=False)
AUDIT_PAGE_SIZE = 100

DONE = {
    "add": "账户已创建。",
    "role": "角色已修改。",
    "disable": "账户已停用，其会话已结束。",
    "enable": "账户已启用。",
    "revoke": "API 令牌已吊销。",
}


def _users_context(portal: Portal) -> dict[str, Any]:
    accounts = portal.security.accounts
    users = accounts.all()
    now = portal.security.db.now().timestamp()
    tokens = {
        u.name: [
            t
            for t in accounts.tokens(u.name)
            if not t.revoked_at and (t.expires_at is None or t.expires_at > now)
        ]
        for u in users
    }
    roles = [(r.key, label) for r, label in ROLE_LABELS.items()]
    return {"users": users, "tokens": tokens, "roles": roles}


@router.api_route("/users", methods=["GET", "HEAD"], response_class=HTMLResponse)
def users_page(request: Request, who: Admin, done: str = "") -> Response:
    portal = portal_of(request)
    context = {**_users_context(portal), "done": DONE.get(done, ""), "error": ""}
    return portal.pages.render(request, "admin_users.html", context)


async def _change(request: Request, change: Callable[[FormData, Actor], str]) -> Response:
    """Check the form, run one audited change (it returns which `DONE` note to show); on a
    refusal show the page again with the reason."""
    portal = portal_of(request)
    who = principal_of(request)
    form = await portal.pages.forms.read(request)
    actor = Actor(who.name if who else "", client_address(request))
    try:
        done = await anyio.to_thread.run_sync(change, form, actor)
    except ValueError as exc:  # PolicyError, or an unknown role
        context = {**_users_context(portal), "done": "", "error": str(exc)}
        return portal.pages.render(request, "admin_users.html", context, 400)
    root = request.scope.get("root_path", "")
    return RedirectResponse(f"{root}/admin/users?done={done}", status_code=303)


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


@router.post("/users", dependencies=[Depends(admin)])
async def add_user(request: Request) -> Response:
    security = portal_of(request).security

    def add(form: FormData, actor: Actor) -> str:
        password = _text(form, "password")
        if password != _text(form, "password2"):
            raise PolicyError("两次输入的密码不一致（passwords differ）。")
        role = Role.parse(_text(form, "role") or "viewer")
        security.add_user(actor, _text(form, "username"), role, password)
        return "add"

    return await _change(request, add)


@router.post("/users/{name}/role", dependencies=[Depends(admin)])
async def set_role(request: Request, name: str) -> Response:
    security = portal_of(request).security

    def change(form: FormData, actor: Actor) -> str:
        security.set_role(actor, name, Role.parse(_text(form, "role")))
        return "role"

    return await _change(request, change)


@router.post("/users/{name}/active", dependencies=[Depends(admin)])
async def set_active(request: Request, name: str) -> Response:
    security = portal_of(request).security

    def change(form: FormData, actor: Actor) -> str:
        active = _text(form, "active") == "1"
        security.set_active(actor, name, active)
        return "enable" if active else "disable"

    return await _change(request, change)


@router.post("/users/{name}/tokens/{token_id}/revoke", dependencies=[Depends(admin)])
async def revoke_token(request: Request, name: str, token_id: str) -> Response:
    security = portal_of(request).security

    def revoke(form: FormData, actor: Actor) -> str:
        security.revoke_token(actor, name, token_id)
        return "revoke"

    return await _change(request, revoke)


@router.api_route("/audit", methods=["GET", "HEAD"], response_class=HTMLResponse)
def audit_page(
    request: Request,
    who: Admin,
    since: date | None = None,
    before: int | None = None,
) -> Response:
    """Newest first, a page at a time, with the result of checking the whole chain."""
    portal = portal_of(request)
    audit = portal.security.audit
    entries = audit.entries(since=since, before=before, limit=AUDIT_PAGE_SIZE)
    entries.reverse()
    older = entries[-1].seq if len(entries) == AUDIT_PAGE_SIZE and entries[-1].seq > 1 else None
    context = {
        "entries": entries,
        "verification": audit.verify(),
        "since": since.isoformat() if since else "",
        "older": older,
    }
    return portal.pages.render(request, "admin_audit.html", context)
