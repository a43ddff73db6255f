"""Form tokens (CSRF) and form reading: every form the portal accepts goes through `Forms.read`.

A signed-in user's forms carry their session's own random token. Before sign-in (the login
form, and the open demo mode) the token is an HMAC, under a key kept in the portal database,
of a random seed in the form cookie: another site can neither read the seed nor compute the
token. Tokens are compared in constant time. API tokens cannot submit forms: a script has no
business changing state through a page meant for people.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import anyio
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from urbanreport.portal.access import VIA_SESSION, VIA_TOKEN, principal_of
from urbanreport.portal.audit import ANONYMOUS_ACTOR, AuditLog
from urbanreport.portal.cookies import FORM_COOKIE, set_cookie

CSRF_FIELD = "csrf"
_MINTED = "urbanreport.form_seed"

#: Largest ordinary (non-file) form field: names, passwords, hashes, a choice or two.
FIELD_LIMIT = 16 * 1024

STALE_FORM = "表单已失效，请刷新页面后重新提交。"
UPLOAD_TOO_LARGE = "上传的文件超过 {mb} MB 的限制。"
NO_FORMS_FOR_TOKENS = "API 令牌不能提交表单，请在浏览器中登录后操作。"


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class Forms:
    def __init__(self, key: bytes, secure: bool, audit: AuditLog, upload_limit: int) -> None:
        self.key = key
        self.secure = secure
        self.audit = audit
        self.upload_limit = upload_limit

    def token(self, request: Request) -> str:
        """The token a form rendered for this request must carry."""
        principal = principal_of(request)
        if principal is not None and principal.via == VIA_SESSION and principal.csrf:
            return principal.csrf
        seed = request.cookies.get(FORM_COOKIE) or request.scope.get(_MINTED)
        if not seed:
            seed = request.scope[_MINTED] = secrets.token_urlsafe(32)
        return self._sign(seed)

    def _sign(self, seed: str) -> str:
        return hmac.new(self.key, seed.encode(), hashlib.sha256).hexdigest()

    def finish(self, request: Request, response: Response) -> None:
        """Set the form cookie when `token` had to make a new seed for this page."""
        minted = request.scope.get(_MINTED)
        if minted and not request.cookies.get(FORM_COOKIE):
            set_cookie(response, FORM_COOKIE, minted, secure=self.secure)

    def _expected(self, request: Request) -> str | None:
        principal = principal_of(request)
        if principal is not None and principal.via == VIA_SESSION:
            return principal.csrf
        seed = request.cookies.get(FORM_COOKIE)
        return self._sign(seed) if seed else None

    async def read(self, request: Request, *, max_files: int = 0, max_fields: int = 32) -> FormData:
        """The submitted form, once its token is checked; 403 otherwise (and audited).

        A route that takes a file passes ``max_files=1``; a file larger than
        ``[portal] upload_max_mb`` is refused with 413 (the middleware has already bounded the
        whole body, so nothing larger was ever read).
        """
        principal = principal_of(request)
        if principal is not None and principal.via == VIA_TOKEN:
            raise HTTPException(403, NO_FORMS_FOR_TOKENS)
        form = await request.form(
            max_files=max_files, max_fields=max_fields, max_part_size=FIELD_LIMIT
        )
        given = form.get(CSRF_FIELD)
        expected = self._expected(request)
        if (
            not isinstance(given, str)
            or expected is None
            or not hmac.compare_digest(given.encode(), expected.encode())
        ):
            actor = principal.name if principal else ANONYMOUS_ACTOR
            address, path = client_address(request), request.url.path
            await anyio.to_thread.run_sync(
                lambda: self.audit.record(actor, address, "csrf", path, "refused")
            )
            raise HTTPException(403, STALE_FORM)
        for _, value in form.multi_items():
            if isinstance(value, UploadFile) and (value.size or 0) > self.upload_limit:
                raise HTTPException(413, UPLOAD_TOO_LARGE.format(mb=self.upload_limit >> 20))
        return form
