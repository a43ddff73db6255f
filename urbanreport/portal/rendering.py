"""Server-rendered pages (Jinja2) and error answers: Chinese pages, JSON under ``/api/``.

Every page gets the signed-in principal (``who``, for the header), its form token (``csrf``)
and the mount point (``root``), so a template never computes any of them itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import Response

from urbanreport.portal import store
from urbanreport.portal.access import ROLE_LABELS, VIA_OPEN, principal_of
from urbanreport.portal.forms import CSRF_FIELD, Forms

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

ERROR_TITLES = {
    400: "请求无法完成",
    401: "需要登录",
    403: "权限不足",
    404: "未找到",
    405: "请求无法完成",
    413: "内容过大",
}


def format_seconds(text: str) -> str:
    """An audit time to the second, Beijing time."""
    moment = store.parse_time(text)
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else (text or "—")


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


class Pages:
    def __init__(self, bureau: dict[str, Any], forms: Forms) -> None:
        self.forms = forms
        self.templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
        env = self.templates.env
        env.filters["time"] = store.format_time
        env.filters["size"] = store.format_size
        env.filters["seconds"] = format_seconds
        env.globals["bureau"] = bureau
        env.globals["role_labels"] = {r.key: label for r, label in ROLE_LABELS.items()}
        env.globals["csrf_field"] = CSRF_FIELD

    def render(
        self, request: Request, name: str, context: dict[str, Any], status_code: int = 200
    ) -> HTMLResponse:
        who = principal_of(request)
        response = self.templates.TemplateResponse(
            request,
            name,
            {
                "root": request.scope.get("root_path", ""),
                "who": who,
                "open_mode": who is not None and who.via == VIA_OPEN,
                "csrf": self.forms.token(request),
                **context,
            },
            status_code=status_code,
        )
        # Pages of a signed-in user are theirs alone; no shared cache may keep them.
        response.headers["cache-control"] = (
            "no-cache" if who is None or who.via == VIA_OPEN else "private, no-cache"
        )
        self.forms.finish(request, response)
        return response

    def error(self, request: Request, status_code: int, message: str) -> Response:
        if is_api(request):
            return JSONResponse({"detail": message}, status_code=status_code)
        title = ERROR_TITLES.get(status_code, "服务暂不可用" if status_code >= 500 else "")
        return self.render(
            request,
            "error.html",
            {"status": status_code, "title": title or "请求无法完成", "message": message},
            status_code,
        )
