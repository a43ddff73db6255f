"""Helpers every route module uses: the role check, audit entries, the 404 with a message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends
from starlette.exceptions import HTTPException
from starlette.requests import Request

from urbanreport.portal.access import Principal, Role, principal_of
from urbanreport.portal.context import portal_of
from urbanreport.portal.forms import client_address

NOT_FOUND = "未找到该页面或报告。"


def not_found(message: str = NOT_FOUND) -> HTTPException:
    return HTTPException(status_code=404, detail=message)


def audit_action(
    request: Request,
    who: Principal,
    action: str,
    object_: str,
    result: str = "ok",
    detail: str = "",
) -> None:
    """One audit entry for what ``who`` just did through this request."""
    if who.token_id and not detail:
        detail = f"API令牌 {who.token_id}"
    portal_of(request).security.audit.record(
        who.name, client_address(request), action, object_, result, detail
    )


def require(role: Role) -> Callable[[Request], Principal]:
    """A FastAPI dependency: the caller, if their role includes ``role``; 403 (audited) if not.

    Sign-in itself is enforced by the middleware; this only decides what the signed-in may do.
    """

    def dependency(request: Request) -> Principal:
        who = principal_of(request)
        if who is None:
            raise HTTPException(status_code=401, detail="需要登录。")
        if not who.has(role):
            audit_action(request, who, "denied", request.url.path, "refused", f"需要{role.label}")
            raise HTTPException(status_code=403, detail=f"权限不足：此操作需要{role.label}权限。")
        return who

    return dependency


viewer = require(Role.VIEWER)
editor = require(Role.EDITOR)
admin = require(Role.ADMIN)

#: Route parameter types: ``who: Viewer`` is the caller, at least a viewer.
Viewer = Annotated[Principal, Depends(viewer)]
Editor = Annotated[Principal, Depends(editor)]
Admin = Annotated[Principal, Depends(admin)]
