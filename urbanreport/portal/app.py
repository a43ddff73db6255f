"""The report portal: staff find and download the generated PDFs in a browser.

FastAPI + Jinja2 over ``$URBANREPORT_HOME/reports/``, without a front-end build step: the pages
are server-rendered HTML with one stylesheet, so the portal runs on the same machine as the
pipeline with nothing else installed.

Design points, each for a reason:

* Reports are addressed by fiscal year and id (``/download/2023/2023-annual``), never by path;
  `store` turns an id into the path registered by the report builder and refuses anything
  outside the reports folder. A URL cannot name a file.
* A download is streamed from one open file descriptor, with its headers computed from that
  same descriptor: a report regenerated mid-download (temp file + rename) reaches the client
  whole, old or new.
* Chinese must render on a machine without Chinese fonts (a bare Debian Chromium draws boxes),
  so the page's font is the TrueType file the PDFs embed, served for ``@font-face``.
* Optional token or HTTP basic auth from ``[portal]`` in the configuration, compared in constant
  time; errors never show a stack trace.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import ipaddress
import logging
import os
import re
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from urbanreport.core.config import Settings
from urbanreport.portal import store
from urbanreport.portal.store import OpenFile, Report

log = logging.getLogger(__name__)

PORTAL_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PORTAL_DIR / "templates"
STATIC_DIR = PORTAL_DIR / "static"

#: Bytes per read while streaming: large enough to keep the thread hand-offs few.
CHUNK_SIZE = 256 * 1024

TOKEN_COOKIE = "urbanreport_portal"
FONT_ROLES = ("sans", "serif")
FONT_MEDIA_TYPES = {
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".ttc": "font/collection",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
}

#: Answered without credentials: liveness for a monitor, and the stylesheet and open-licensed
#: font, so the 401 page itself renders (in Chinese) before anyone has logged in.
PUBLIC_PATHS = frozenset({"/healthz", "/favicon.ico"})
PUBLIC_PREFIXES = ("/static/", "/fonts/")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    # A ?token= in the address must not leak to anything the page links to.
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self'; style-src 'self'; font-src 'self'; "
        b"script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        b"frame-ancestors 'none'",
    ),
]

MONTH_NAMES = [f"{m}月" for m in range(1, 13)]

FontResolver = Callable[[str], Path | None]


# --- configuration -------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthConfig:
    """What a request must present; both empty means the portal is open."""

    token: str = ""
    basic_user: str = ""
    basic_password: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.token or self.basic_user)

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthConfig:
        """Read ``[portal]``; the environment wins so secrets need not be written to a file."""
        portal = settings.data.get("portal", {})
        token = os.environ.get("URBANREPORT_PORTAL_TOKEN") or str(portal.get("token") or "")
        user = str(portal.get("basic_user") or "")
        password = os.environ.get("URBANREPORT_PORTAL_PASSWORD") or str(
            portal.get("basic_password") or ""
        )
        if bool(user) != bool(password):
            # Half a credential is a mistake; refusing to start beats running unprotected.
            raise ValueError("门户配置错误：portal.basic_user 和 basic_password 须同时设置。")
        return cls(token=token, basic_user=user, basic_password=password)


def _digest(value: str) -> bytes:
    """Fixed-length digest, so the constant-time comparison does not leak the secret's length."""
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).digest()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(_digest(given), _digest(expected))


def _cookie_value(token: str) -> str:
    """The cookie holds a value derived from the token, not the token itself."""
    return hmac.new(token.encode(), b"urbanreport-portal-cookie", hashlib.sha256).hexdigest()


def default_font_resolver() -> FontResolver:
    """Fonts from ``reports.fonts`` (the files the PDFs embed), looked up once and remembered.

    The first lookup on a new machine may convert the font (tens of seconds), so it is also
    started in the background when the portal starts.
    """
    found: dict[str, Path] = {}
    lock = threading.Lock()

    def resolve(role: str) -> Path | None:
        with lock:
            if role in found:
                return found[role]
            try:
                from urbanreport.reports.fonts import font_file

                path = Path(font_file(role))
            except Exception:  # noqa: BLE001 - no font means boxes, not a broken portal
                log.warning("门户无法取得%s字体，页面将使用浏览器自带字体", role, exc_info=True)
                return None
            found[role] = path
            return path

    return resolve


# --- responses -----------------------------------------------------------------------------


class OpenFileResponse(Response):
    """Streams an `OpenFile` from its descriptor and closes it, whatever happens.

    Reads go through ``pread`` in a worker thread, at explicit offsets, from the descriptor
    opened before the headers were computed: a rename of a newer report over the path changes
    nothing for a download already under way. A client that goes away stops the stream.
    """

    def __init__(
        self,
        opened: OpenFile,
        *,
        headers: dict[str, str],
        media_type: str,
        send_body: bool = True,
    ) -> None:
        self.opened = opened
        self.send_body = send_body
        self.status_code = 200
        self.media_type = media_type
        self.background = None
        self.body = b""
        self.init_headers({**headers, "content-length": str(opened.size)})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as tasks:

                async def watch_disconnect() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    tasks.cancel_scope.cancel()

                tasks.start_soon(watch_disconnect)
                await self._stream(send)
                tasks.cancel_scope.cancel()
        finally:
            # to_thread.run_sync waits for a read in progress even when cancelled, so the
            # descriptor is never closed under a reading thread.
            self.opened.close()

    async def _stream(self, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        size = self.opened.size
        if not self.send_body or size == 0:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        offset = 0
        while offset < size:
            chunk = await anyio.to_thread.run_sync(
                os.pread, self.opened.fd, min(CHUNK_SIZE, size - offset), offset
            )
            if not chunk:
                # Only an in-place truncation can do this; the builder never does one. Abort so
                # the client sees a short body against Content-Length, not a "complete" file.
                raise OSError(f"{self.opened.path} 在发送中变短：{offset}/{size} 字节")
            offset += len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": offset < size})


def _etag(sha256: str) -> str:
    return f'"{sha256}"'


def _not_modified(request: Request, etag: str, mtime: float) -> bool:
    """RFC 9110 revalidation: If-None-Match decides when present, else If-Modified-Since."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True
        candidates = [t.strip() for t in if_none_match.split(",")]
        return any(t.removeprefix("W/") == etag for t in candidates)
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False
        if since is None or since.tzinfo is None:
            return False
        return int(mtime) <= since.timestamp()
    return False


def _content_disposition(kind: str, unicode_name: str, ascii_name: str) -> str:
    """``attachment`` keeping the Chinese name (RFC 6266/5987) with an ASCII fallback."""
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(unicode_name, safe='')}"


_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._-]+")


def _safe_name(name: str, fallback: str) -> str:
    cleaned = _UNSAFE_NAME.sub("_", name).strip(" ._")
    return cleaned or fallback


def _safe_ascii(name: str, fallback: str) -> str:
    cleaned = _UNSAFE_ASCII.sub("_", name).strip("._")
    return cleaned or fallback


def _file_response(
    request: Request,
    opened: OpenFile,
    *,
    media_type: str,
    cache_control: str,
    disposition: str | None = None,
) -> Response:
    """200 streaming the open file, or 304 when the client's copy is current."""
    etag = _etag(opened.sha256)
    headers = {
        "etag": etag,
        "last-modified": formatdate(opened.mtime, usegmt=True),
        "cache-control": cache_control,
    }
    if _not_modified(request, etag, opened.mtime):
        opened.close()
        return Response(status_code=304, headers=headers)
    headers["repr-digest"] = (
        "sha-256=:" + base64.b64encode(bytes.fromhex(opened.sha256)).decode() + ":"
    )
    if disposition:
        headers["content-disposition"] = disposition
    return OpenFileResponse(
        opened, headers=headers, media_type=media_type, send_body=request.method != "HEAD"
    )


# --- middleware ----------------------------------------------------------------------------


class PortalMiddleware:
    """Authentication and security headers for every request, static files included.

    Pure ASGI rather than ``BaseHTTPMiddleware`` so streamed downloads pass through untouched.
    """

    def __init__(self, app: ASGIApp, auth: AuthConfig, render_401: Callable[..., Response]):
        self.app = app
        self.auth = auth
        self.render_401 = render_401

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra_headers: list[tuple[bytes, bytes]] = list(SECURITY_HEADERS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + extra_headers
            await send(message)

        path = scope["path"]
        public = path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)
        if self.auth.enabled and not public:
            request = Request(scope)
            verdict = self._check(request)
            if verdict is None:
                response = self.render_401(request, self.auth)
                await response(scope, receive, send_with_headers)
                return
            if verdict == "query-token":
                # Let a link with ?token= be followed by the page's own links without the token.
                secure = "; Secure" if scope.get("scheme") == "https" else ""
                cookie = (
                    f"{TOKEN_COOKIE}={_cookie_value(self.auth.token)}; Path=/; HttpOnly; "
                    f"SameSite=Strict{secure}"
                )
                extra_headers.append((b"set-cookie", cookie.encode("latin-1")))
        await self.app(scope, receive, send_with_headers)

    def _check(self, request: Request) -> str | None:
        """How the request proved itself ("bearer", "query-token", …), or None."""
        auth = self.auth
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        scheme = scheme.lower()
        credentials = credentials.strip()
        if auth.token:
            if scheme == "bearer" and _same(credentials, auth.token):
                return "bearer"
            query_token = request.query_params.get("token")
            if query_token is not None and _same(query_token, auth.token):
                return "query-token"
            cookie = request.cookies.get(TOKEN_COOKIE)
            if cookie is not None and _same(cookie, _cookie_value(auth.token)):
                return "cookie"
        if auth.basic_user and scheme == "basic":
            try:
                decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                return None
            user, sep, password = decoded.partition(":")
            user_ok = _same(user, auth.basic_user)
            password_ok = _same(password, auth.basic_password)
            if sep and user_ok & password_ok:
                return "basic"
        return None


# --- the application -----------------------------------------------------------------------


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(settings: Settings, *, font_resolver: FontResolver | None = None) -> FastAPI:
    """The portal over ``settings.reports_dir``.

    ``font_resolver`` maps "sans"/"serif" to a font file; tests pass their own, the default
    asks ``reports.fonts``.
    """
    reports_dir = settings.reports_dir
    auth = AuthConfig.from_settings(settings)
    portal_config = settings.data.get("portal", {})
    configured_base_url = str(portal_config.get("base_url") or "").rstrip("/")
    bureau = settings.data.get("bureau", {})
    catalogue = store.load_catalogue()
    resolve_font = font_resolver or default_font_resolver()
    static_files = {p.name: p.read_bytes() for p in STATIC_DIR.glob("*.css") if p.is_file()}

    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.filters["time"] = store.format_time
    env.filters["size"] = store.format_size
    env.globals["bureau"] = bureau

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Warm the font in the background: a first conversion must not delay the first page.
        threading.Thread(target=resolve_font, args=("sans",), daemon=True).start()
        yield

    app = FastAPI(
        title="报告下载门户",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )

    def render(
        request: Request, name: str, context: dict[str, Any], status_code: int = 200
    ) -> HTMLResponse:
        response = templates.TemplateResponse(
            request,
            name,
            {"root": request.scope.get("root_path", ""), **context},
            status_code=status_code,
        )
        response.headers["cache-control"] = "no-cache"
        return response

    def error_page(request: Request, status_code: int, message: str) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": message}, status_code=status_code)
        return render(
            request, "error.html", {"status": status_code, "message": message}, status_code
        )

    def render_401(request: Request, auth_config: AuthConfig) -> Response:
        response = error_page(request, 401, "需要身份验证：请提供访问令牌或用户名和密码。")
        challenges = []
        if auth_config.basic_user:
            challenges.append('Basic realm="urbanreport", charset="UTF-8"')
        if auth_config.token:
            challenges.append('Bearer realm="urbanreport"')
        for challenge in challenges:
            response.raw_headers.append((b"www-authenticate", challenge.encode()))
        return response

    app.add_middleware(PortalMiddleware, auth=auth, render_401=render_401)

    # --- errors: Chinese pages, never a stack trace ----------------------------------------

    messages = {
        404: "未找到该页面或报告。",
        405: "不支持该请求方式。",
    }

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = messages.get(exc.status_code, "请求无法完成。")
        if isinstance(exc.detail, str) and exc.status_code == 404 and exc.detail != "Not Found":
            message = exc.detail
        response = error_page(request, exc.status_code, message)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "请求参数无效。"}, status_code=422)
        # A malformed page address is a page that does not exist.
        return error_page(request, 404, messages[404])

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        log.error("门户处理 %s 时出错", request.url.path, exc_info=exc)
        return error_page(request, 500, "服务器内部错误，请稍后重试或联系管理员。")

    def not_found(message: str = messages[404]) -> StarletteHTTPException:
        return StarletteHTTPException(status_code=404, detail=message)

    # --- helpers ---------------------------------------------------------------------------

    def headline_rows(report: Report) -> list[dict[str, Any]]:
        rows = []
        for key, value in report.headline.items():
            indicator = catalogue.get(key)
            name = indicator.name if indicator else key
            unit = indicator.unit if indicator else ""
            kind = indicator.kind if indicator else ""
            rows.append(
                {
                    "key": key,
                    "name": name,
                    "unit": unit,
                    "value": value,
                    "text": store.format_figure(value, kind, unit),
                }
            )
        return rows

    def has_preview(report: Report) -> bool:
        if not report.preview:
            return False
        return store.resolve_registered(reports_dir, report.fiscal_year, report.preview) is not None

    def public_base(request: Request) -> str:
        return configured_base_url or str(request.base_url).rstrip("/")

    def download_path(report: Report, version: int | None = None) -> str:
        path = f"/download/{report.fiscal_year}/{quote(report.id, safe='')}"
        return path if version is None else f"{path}/versions/{version}"

    def file_names(report: Report, version: store.Version | None) -> tuple[str, str]:
        """(Chinese, ASCII) download names; an older version says when it was made."""
        title = _safe_name(report.title, report.id)
        ascii_stem = _safe_ascii(
            report.ascii_name.removesuffix(".pdf") or f"urbanreport-{report.id}", "report"
        )
        if version is None:
            return f"{title}.pdf", f"{ascii_stem}.pdf"
        moment = store.parse_time(version.generated_at)
        stamp = moment.strftime("%Y%m%d-%H%M") if moment else f"v{version.number}"
        return f"{title}（{stamp}版）.pdf", f"{ascii_stem}-v{version.number}.pdf"

    def cache_control(public: bool = False) -> str:
        if auth.enabled:
            return "private, no-cache"
        return "public, no-cache" if public else "no-cache"

    def fiscal_year_reports(fiscal_year: int) -> list[Report]:
        return store.reports_of(reports_dir, fiscal_year)

    # --- pages -----------------------------------------------------------------------------

    @app.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
    def index(request: Request) -> Response:
        years = []
        for fiscal_year in store.fiscal_years(reports_dir):
            reports = fiscal_year_reports(fiscal_year)
            latest = max((r.generated_at for r in reports), default="", key=_sort_time)
            years.append(
                {
                    "year": fiscal_year,
                    "annual": next((r for r in reports if r.kind == "annual"), None),
                    "monthly": sum(1 for r in reports if r.kind == "monthly"),
                    "latest": latest,
                }
            )
        return render(request, "index.html", {"years": years})

    @app.api_route("/reports/{fiscal_year}", methods=["GET", "HEAD"], response_class=HTMLResponse)
    def fiscal_year_page(request: Request, fiscal_year: int) -> Response:
        if fiscal_year not in store.fiscal_years(reports_dir):
            raise not_found(f"没有 {fiscal_year} 年度的报告。")
        reports = fiscal_year_reports(fiscal_year)
        annual = next((r for r in reports if r.kind == "annual"), None)
        by_month = {r.month: r for r in reports if r.kind == "monthly" and r.month}
        months = [
            {"month": m, "label": MONTH_NAMES[m - 1], "report": by_month.get(m)}
            for m in range(1, 13)
        ]
        cards = {
            r.id: {
                "headline": headline_rows(r),
                "preview": has_preview(r),
                "download": download_path(r),
            }
            for r in reports
        }
        return render(
            request,
            "fiscal_year.html",
            {"year": fiscal_year, "annual": annual, "months": months, "cards": cards},
        )

    @app.api_route(
        "/reports/{fiscal_year}/{report_id}/versions",
        methods=["GET", "HEAD"],
        response_class=HTMLResponse,
    )
    def versions_page(request: Request, fiscal_year: int, report_id: str) -> Response:
        report = store.find_report(reports_dir, fiscal_year, report_id)
        if report is None:
            raise not_found()
        rows = [
            {
                "label": f"当前版本（第{report.current_version}版）",
                "generated_at": report.generated_at,
                "size": report.size,
                "sha256": report.sha256,
                "download": download_path(report),
                "current": True,
            }
        ] + [
            {
                "label": f"第{v.number}版",
                "generated_at": v.generated_at,
                "size": v.size,
                "sha256": v.sha256,
                "download": download_path(report, v.number),
                "current": False,
            }
            for v in report.versions
        ]
        return render(request, "versions.html", {"report": report, "rows": rows})

    # --- files -----------------------------------------------------------------------------

    @app.api_route("/download/{fiscal_year}/{report_id}", methods=["GET", "HEAD"])
    def download(request: Request, fiscal_year: int, report_id: str) -> Response:
        report = store.find_report(reports_dir, fiscal_year, report_id)
        if report is None:
            raise not_found()
        return send_report(request, report, None)

    @app.api_route("/download/{fiscal_year}/{report_id}/versions/{number}", methods=["GET", "HEAD"])
    def download_version(
        request: Request, fiscal_year: int, report_id: str, number: int
    ) -> Response:
        report = store.find_report(reports_dir, fiscal_year, report_id)
        version = report.version(number) if report else None
        if report is None or version is None:
            raise not_found()
        return send_report(request, report, version)

    def send_report(request: Request, report: Report, version: store.Version | None) -> Response:
        relative = version.file if version else report.file
        opened = store.open_registered(reports_dir, report.fiscal_year, relative)
        if opened is None:
            if version is None:
                log.warning("报告 %s 登记的文件不可用：%s", report.id, relative)
            raise not_found()
        expected = version.sha256 if version else report.sha256
        if expected and expected != opened.sha256:
            # Between the builder's rename and its index rewrite; what is sent is still whole.
            log.info("报告 %s 的文件与索引中的校验值不一致（可能正在重新生成）", report.id)
        unicode_name, ascii_name = file_names(report, version)
        return _file_response(
            request,
            opened,
            media_type="application/pdf",
            cache_control=cache_control(),
            disposition=_content_disposition("attachment", unicode_name, ascii_name),
        )

    @app.api_route("/preview/{fiscal_year}/{report_id}", methods=["GET", "HEAD"])
    def preview(request: Request, fiscal_year: int, report_id: str) -> Response:
        report = store.find_report(reports_dir, fiscal_year, report_id)
        if report is None or not report.preview:
            raise not_found()
        opened = store.open_registered(reports_dir, fiscal_year, report.preview)
        if opened is None:
            raise not_found()
        return _file_response(
            request, opened, media_type="image/png", cache_control=cache_control(public=True)
        )

    @app.api_route("/fonts/{name}", methods=["GET", "HEAD"])
    def font(request: Request, name: str) -> Response:
        role, _, _ = name.partition(".")
        if role not in FONT_ROLES:
            raise not_found()
        path = resolve_font(role)
        opened = store.open_file(path) if path else None
        if opened is None:
            raise not_found()
        media_type = FONT_MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
        # Fonts change only with an upgrade; revalidate daily rather than on every page.
        control = "private, max-age=86400" if auth.enabled else "public, max-age=86400"
        return _file_response(request, opened, media_type=media_type, cache_control=control)

    @app.api_route("/static/{name}", methods=["GET", "HEAD"])
    def static(request: Request, name: str) -> Response:
        body = static_files.get(name)
        if body is None:
            raise not_found()
        etag = _etag(hashlib.sha256(body).hexdigest())
        headers = {"etag": etag, "cache-control": cache_control(public=True)}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="text/css; charset=utf-8", headers=headers)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.api_route("/healthz", methods=["GET", "HEAD"], include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # --- JSON API --------------------------------------------------------------------------

    @app.api_route("/api/reports", methods=["GET", "HEAD"])
    def api_reports(
        request: Request,
        fiscal_year: int | None = Query(default=None, ge=1900, le=9999),
    ) -> JSONResponse:
        """Every registered report with metadata and absolute download URLs."""
        base = public_base(request)
        years = store.fiscal_years(reports_dir)
        wanted = [fiscal_year] if fiscal_year is not None else years
        items = []
        for year in wanted:
            if year not in years:
                continue
            for report in fiscal_year_reports(year):
                items.append(report_json(report, base))
        body: dict[str, Any] = {"fiscal_years": years, "reports": items}
        if fiscal_year is not None:
            present = {r["period"] for r in items}
            body["fiscal_year"] = fiscal_year
            body["missing_periods"] = [
                p
                for p in [str(fiscal_year)] + [f"{fiscal_year}-{m:02d}" for m in range(1, 13)]
                if p not in present
            ]
        response = JSONResponse(body)
        response.headers["cache-control"] = cache_control()
        return response

    def report_json(report: Report, base: str) -> dict[str, Any]:
        unicode_name, ascii_name = file_names(report, None)
        return {
            "id": report.id,
            "fiscal_year": report.fiscal_year,
            "kind": report.kind,
            "period": report.period,
            "title": report.title,
            "file_name": unicode_name,
            "ascii_name": ascii_name,
            "generated_at": report.generated_at,
            "data_cutoff": report.data_cutoff,
            "data_updated_at": report.data_updated_at,
            "size": report.size,
            "sha256": report.sha256,
            "download_url": base + download_path(report),
            "preview_url": (
                f"{base}/preview/{report.fiscal_year}/{quote(report.id, safe='')}"
                if report.preview
                else None
            ),
            "versions_url": (
                f"{base}/reports/{report.fiscal_year}/{quote(report.id, safe='')}/versions"
            ),
            "headline": [
                {k: row[k] for k in ("key", "name", "unit", "value", "text")}
                for row in headline_rows(report)
            ],
            "versions": [
                {
                    "version": v.number,
                    "generated_at": v.generated_at,
                    "size": v.size,
                    "sha256": v.sha256,
                    "download_url": base + download_path(report, v.number),
                }
                for v in report.versions
            ],
        }

    return app


def _sort_time(text: str) -> float:
    moment = store.parse_time(text)
    return moment.timestamp() if moment else 0.0


# --- running it ----------------------------------------------------------------------------


class _RedactTokens(logging.Filter):
    """Keep ``?token=…`` out of the access log."""

    pattern = re.compile(r"(?i)(token=)[^&\s]*")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self.pattern.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args
            )
        return True


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host).is_loopback
    return False


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Run the portal until interrupted; None means "as configured" (default 127.0.0.1:8000)."""
    import uvicorn

    portal = settings.data.get("portal", {})
    host = host or str(portal.get("host") or "127.0.0.1")
    port = port if port is not None else int(portal.get("port") or 8000)
    app = create_app(settings)
    if not _is_loopback(host) and not AuthConfig.from_settings(settings).enabled:
        log.warning("门户监听 %s 但未设置访问令牌或密码：局域网内任何人都可下载报告。", host)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        server_header=False,
        log_level="info",
        timeout_graceful_shutdown=10,
    )
    access_log = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _RedactTokens) for f in access_log.filters):
        access_log.addFilter(_RedactTokens())
    print(f"报告下载门户：http://{host}:{port}/  报告目录：{settings.reports_dir}  （Ctrl+C 停止）")
    uvicorn.Server(config).run()
