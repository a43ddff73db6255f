"""What happens to every request before a route sees it, as pure ASGI (so downloads stream).

In order:

1. security headers are added to every answer (`SECURITY_HEADERS`, HSTS behind https);
2. a credential in the address (``?token=``, ``?password=`` …) is refused with 400, before
   anything else looks at it; only the path is audited, never the value;
3. bodies larger than ``[portal] upload_max_mb`` (plus the form around it) are refused
   with 413;
4. the caller is identified — ``Authorization: Bearer`` token, session cookie, or the open
   demo mode (no account exists, caller on loopback) — and attached to the request. Without
   that, a page answers 303 to the login page and anything else 401. Sign-in is enforced here,
   for every path that is not public, so a new route cannot forget it; roles are checked by
   the routes (`routes.common.require`).
"""

from __future__ import annotations

import contextlib
import ipaddress
from urllib.parse import parse_qsl, quote

import anyio
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from urbanreport.portal.access import OPEN_PRINCIPAL, VIA_TOKEN, Principal, attach
from urbanreport.portal.audit import ANONYMOUS_ACTOR
from urbanreport.portal.context import Portal
from urbanreport.portal.cookies import SESSION_COOKIE, clear_cookie
from urbanreport.portal.forms import client_address
from urbanreport.portal.rendering import is_api

#: Answered without signing in: liveness for a monitor, and the stylesheet and open-licensed
#: font, so the login page itself renders (in Chinese).
PUBLIC_PATHS = frozenset({"/healthz", "/favicon.ico"})
PUBLIC_PREFIXES = ("/static/", "/fonts/")
#: Public, but told who is signed in (the login page sends a signed-in user on).
SIGN_IN_PATHS = frozenset({"/login"})

#: Query parameters that look like a credential: refused, never read.
URL_CREDENTIALS = frozenset(
    {"token", "access_token", "api_key", "apikey", "key", "password", "passwd", "secret",
     "session", "auth", "authorization", "bearer"}
)  # fmt: skip

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self'; style-src 'self'; font-src 'self'; "
        b"script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        b"frame-ancestors 'none'",
    ),
]
HSTS = (b"strict-transport-security", b"max-age=31536000")

#: Room for the multipart framing and the other fields around a file of the full allowed size.
MULTIPART_ALLOWANCE = 64 * 1024

URL_CREDENTIAL_REFUSED = (
    "不接受地址中的凭据：请登录，或在 Authorization: Bearer 请求头中提供 API 令牌。"
    " (No credentials in URLs.)"
)
TOKEN_REFUSED = "API 令牌无效、已过期或已吊销。"
OPEN_MODE_LOCAL_ONLY = (
    "门户尚未创建任何账户，开放模式只允许本机访问。请管理员用 urbanreport user add 创建账户。"
)
TOO_LARGE = "提交的内容超过大小限制。"


def security_headers(https: bool) -> list[tuple[bytes, bytes]]:
    return SECURITY_HEADERS + ([HSTS] if https else [])


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host).is_loopback
    return False


class _BodyTooLarge(Exception):
    pass


class PortalMiddleware:
    def __init__(self, app: ASGIApp, portal: Portal) -> None:
        self.app = app
        self.portal = portal
        self.headers = security_headers(portal.config.https)
        self.limit = portal.config.upload_max_bytes + MULTIPART_ALLOWANCE

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + self.headers
            await send(message)

        request = Request(scope)
        response = await self._refusal(request)
        if response is None:
            response = await self._authenticate(request)
        if response is not None:
            await response(scope, receive, send_with_headers)
            return
        try:
            await self.app(scope, self._limited(receive), send_with_headers)
        except _BodyTooLarge:
            await self.portal.pages.error(request, 413, TOO_LARGE)(scope, receive, send)

    # --- refusals before identification ----------------------------------------------------

    async def _refusal(self, request: Request) -> Response | None:
        names = {k.lower() for k, _ in parse_qsl(request.url.query, keep_blank_values=True)}
        if names & URL_CREDENTIALS:
            await self._audit(request, ANONYMOUS_ACTOR, "url.credential", "refused")
            return self.portal.pages.error(request, 400, URL_CREDENTIAL_REFUSED)
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.limit:
            return self.portal.pages.error(request, 413, TOO_LARGE)
        return None

    def _limited(self, receive: Receive) -> Receive:
        """Count the body as it arrives: a chunked upload has no Content-Length to check."""
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLarge
            return message

        return limited

    async def _audit(self, request: Request, actor: str, action: str, result: str) -> None:
        address, path = client_address(request), request.url.path
        audit = self.portal.security.audit
        await anyio.to_thread.run_sync(lambda: audit.record(actor, address, action, path, result))

    # --- identification -------------------------------------------------------------------

    async def _authenticate(self, request: Request) -> Response | None:
        path = request.url.path
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            return None
        header = request.headers.get("authorization")
        if header is not None:
            principal = await anyio.to_thread.run_sync(self._bearer, header)
            if principal is None:
                await self._audit(request, ANONYMOUS_ACTOR, "api.auth", "refused")
                return None if path in SIGN_IN_PATHS else self._unauthorized(request, True)
            attach(request.scope, principal)
            return None
        principal, expired, open_mode = await anyio.to_thread.run_sync(
            self._session_or_open, request
        )
        if principal is not None:
            attach(request.scope, principal)
            return None
        if path in SIGN_IN_PATHS:
            return None
        if open_mode:
            return self.portal.pages.error(request, 403, OPEN_MODE_LOCAL_ONLY)
        return self._to_login(request, expired)

    def _bearer(self, header: str) -> Principal | None:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        found = self.portal.security.accounts.verify_token(credentials.strip())
        if found is None:
            return None
        user, token_id = found
        return Principal(user.name, user.role, VIA_TOKEN, user_id=user.id, token_id=token_id)

    def _session_or_open(self, request: Request) -> tuple[Principal | None, bool, bool]:
        """(principal, whether a session cookie had expired, whether in open mode)."""
        security = self.portal.security
        session_id = request.cookies.get(SESSION_COOKIE)
        if session_id:
            found = security.sessions.resolve(session_id)
            if found.principal is not None or found.expired:
                return found.principal, found.expired, False
        if not security.open_mode():
            return None, False, False
        if request.client and is_loopback(request.client.host):
            return OPEN_PRINCIPAL, False, True
        return None, False, True

    def _unauthorized(self, request: Request, bad_token: bool) -> Response:
        message = TOKEN_REFUSED if bad_token else "需要登录。"
        response = self.portal.pages.error(request, 401, message)
        response.headers["www-authenticate"] = 'Bearer realm="urbanreport"'
        return response

    def _to_login(self, request: Request, expired: bool) -> Response:
        if request.method not in ("GET", "HEAD") or is_api(request):
            response = self._unauthorized(request, False)
        else:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            root = request.scope.get("root_path", "")
            query = f"next={quote(target, safe='/')}" + ("&expired=1" if expired else "")
            response = RedirectResponse(f"{root}/login?{query}", status_code=303)
        if expired or request.cookies.get(SESSION_COOKIE):
            clear_cookie(response, SESSION_COOKIE, secure=self.portal.config.https)
        return response
