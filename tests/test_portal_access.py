"""Every route × {anonymous, viewer, editor, admin} × {published, internal}: the expected status.

Two portals are built once for the module: in one every version of every report is published,
in the other nothing is (as right after a rerun). Each role signs in once per portal through the
login form; the same table is then checked with per-user API tokens, which may read but never
submit a form. Rows that change something touch only objects no other row looks at. Signing in
and out have tests of their own (`test_portal_accounts.py`): here they would end the sessions
and lock the address the other rows use.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.portal_helpers import (
    ANNUAL_TITLE,
    LOOPBACK,
    ROLES,
    TEST_ACTOR,
    add_staff,
    build_site,
    csrf_of,
    make_app,
    publish_everything,
    security_of,
    signed_in_client,
    word_draft,
)
from urbanreport.portal.access import Role

STATES = ("published", "internal")
WHO = ("anonymous", *ROLES)

# Expected status per route: anonymous, viewer, editor, admin — each (published, internal).
MATRIX: dict[str, tuple[tuple[int, int], ...]] = {
    #                     anonymous    viewer      editor      admin
    "index":            ((303, 303), (200, 200), (200, 200), (200, 200)),
    "fiscal_year":      ((303, 303), (200, 200), (200, 200), (200, 200)),
    "unknown_year":     ((303, 303), (404, 404), (404, 404), (404, 404)),
    "versions":         ((303, 303), (200, 404), (200, 200), (200, 200)),
    "download":         ((303, 303), (200, 404), (200, 200), (200, 200)),
    "head_download":    ((303, 303), (200, 404), (200, 200), (200, 200)),
    "download_version": ((303, 303), (200, 404), (200, 200), (200, 200)),
    "download_monthly": ((303, 303), (200, 404), (200, 200), (200, 200)),
    "download_docx":    ((303, 303), (200, 404), (200, 200), (200, 200)),
    "download_xlsx":    ((303, 303), (200, 404), (200, 200), (200, 200)),
    "head_download_docx": ((303, 303), (200, 404), (200, 200), (200, 200)),
    "download_version_docx": ((303, 303), (200, 404), (200, 200), (200, 200)),
    "download_version_xlsx": ((303, 303), (200, 404), (200, 200), (200, 200)),
    "download_monthly_xlsx": ((303, 303), (200, 404), (200, 200), (200, 200)),
    "download_unknown_format": ((303, 303), (404, 404), (404, 404), (404, 404)),
    "preview":          ((303, 303), (200, 404), (200, 200), (200, 200)),
    "api":              ((401, 401), (200, 200), (200, 200), (200, 200)),
    "api_all_years":    ((401, 401), (200, 200), (200, 200), (200, 200)),
    "head_api":         ((401, 401), (200, 200), (200, 200), (200, 200)),
    "api_schema":       ((401, 401), (200, 200), (200, 200), (200, 200)),
    "publish":          ((401, 401), (403, 403), (303, 303), (303, 303)),
    "check_page":       ((303, 303), (403, 403), (200, 200), (200, 200)),
    "head_check_page":  ((303, 303), (403, 403), (200, 200), (200, 200)),
    "check_upload":     ((401, 401), (403, 403), (200, 200), (200, 200)),
    "check_annotated":  ((401, 401), (403, 403), (200, 200), (200, 200)),
    "admin_users":      ((303, 303), (403, 403), (403, 403), (200, 200)),
    "admin_audit":      ((303, 303), (403, 403), (403, 403), (200, 200)),
    "admin_add_user":   ((401, 401), (403, 403), (403, 403), (303, 303)),
    "admin_set_role":   ((401, 401), (403, 403), (403, 403), (303, 303)),
    "admin_enable":     ((401, 401), (403, 403), (403, 403), (303, 303)),
    "admin_revoke":     ((401, 401), (403, 403), (403, 403), (400, 400)),
    "login_page":       ((200, 200), (303, 303), (303, 303), (303, 303)),
    "stylesheet":       ((200, 200), (200, 200), (200, 200), (200, 200)),
    "font":             ((200, 200), (200, 200), (200, 200), (200, 200)),
    "healthz":          ((200, 200), (200, 200), (200, 200), (200, 200)),
    "favicon":          ((204, 204), (204, 204), (204, 204), (204, 204)),
}  # fmt: skip

#: Rows whose 200 answer must show the annual report exactly when the caller may see it.
SHOWS_ANNUAL = {
    "fiscal_year": ANNUAL_TITLE,
    "api": '"id":"2023-annual"',
    "api_all_years": '"id":"2023-annual"',
}


#: Uploads of the draft check: (path, file name, content).
DRAFTS = {
    "check_upload": ("/check", "核对稿.txt", "本文稿没有需要核对的数字。".encode()),
    "check_annotated": (
        "/check/annotated",
        "核对稿.docx",
        word_draft("本文稿没有需要核对的数字。"),
    ),
}


@dataclass
class Portal:
    clients: dict[str, TestClient]  # by role, signed in through the login form
    tokens: dict[str, str]  # by role: an API token
    june_sha: str  # the 2023-06 brief's current file, which the publish row publishes


def request_of(route: str, who: str, state: str, portal: Portal, csrf: str) -> dict[str, Any]:
    """Method, path and form of one row."""
    new_user = {
        "username": f"new-{who}-{state}",
        "role": "viewer",
        "password": "Haibin-Road-2024",
        "password2": "Haibin-Road-2024",
    }
    forms = {
        "publish": ("/reports/2023/2023-06-monthly/publish", {"sha256": portal.june_sha}),
        "admin_add_user": ("/admin/users", new_user),
        "admin_set_role": ("/admin/users/spare/role", {"role": "viewer"}),
        "admin_enable": ("/admin/users/spare/active", {"active": "1"}),
        "admin_revoke": ("/admin/users/spare/tokens/000000000000/revoke", {}),
    }
    if route in forms:
        path, data = forms[route]
        return {"method": "POST", "url": path, "data": {"csrf": csrf, **data}}
    if route in DRAFTS:  # a draft without figures: its check needs no warehouse
        path, name, content = DRAFTS[route]
        files = {"file": (name, content, "application/octet-stream")}
        return {
            "method": "POST",
            "url": path,
            "data": {"csrf": csrf, "period": "2023"},
            "files": files,
        }
    paths = {
        "index": "/",
        "fiscal_year": "/reports/2023",
        "unknown_year": "/reports/2019",
        "versions": "/reports/2023/2023-annual/versions",
        "download": "/download/2023/2023-annual",
        "head_download": "/download/2023/2023-annual",
        "download_version": "/download/2023/2023-annual/versions/1",
        "download_monthly": "/download/2023/2023-03-monthly",
        "download_docx": "/download/2023/2023-annual?format=docx",
        "download_xlsx": "/download/2023/2023-annual?format=xlsx",
        "head_download_docx": "/download/2023/2023-annual?format=docx",
        "download_version_docx": "/download/2023/2023-annual/versions/1?format=docx",
        "download_version_xlsx": "/download/2023/2023-annual/versions/1?format=xlsx",
        "download_monthly_xlsx": "/download/2023/2023-03-monthly?format=xlsx",
        "download_unknown_format": "/download/2023/2023-annual?format=exe",
        "preview": "/preview/2023/2023-annual",
        "api": "/api/reports?fiscal_year=2023",
        "api_all_years": "/api/reports",
        "api_schema": "/api/openapi.json",
        "check_page": "/check",
        "head_check_page": "/check",
        "admin_users": "/admin/users",
        "admin_audit": "/admin/audit",
        "login_page": "/login",
        "stylesheet": "/static/portal.css",
        "font": "/fonts/sans.ttf",
        "healthz": "/healthz",
        "favicon": "/favicon.ico",
        "head_api": "/api/reports",
    }
    method = "HEAD" if route.startswith("head_") else "GET"
    return {"method": method, "url": paths[route]}


def _build(root: Path, state: str) -> tuple[Portal, list[TestClient]]:
    site = build_site(root)
    if state == "published":
        publish_everything(site)
    app = make_app(site)
    security = security_of(app)
    add_staff(security)
    security.add_user(TEST_ACTOR, "spare", Role.VIEWER, "Longhu#Reserve-24")
    clients = {who: signed_in_client(app, None if who == "anonymous" else who) for who in WHO}
    tokens = {role: security.create_token(TEST_ACTOR, role)[1] for role in ROLES}
    june = site.index(2023)["reports"]["2023-06"]["sha256"]
    return Portal(clients, tokens, june), list(clients.values())


@pytest.fixture(scope="module")
def portals(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Portal]]:
    built = {s: _build(tmp_path_factory.mktemp(s), s) for s in STATES}
    for _, clients in built.values():
        for client in clients:
            client.__enter__()
    yield {state: portal for state, (portal, _) in built.items()}
    for _, clients in built.values():
        for client in clients:
            client.__exit__(None, None, None)


def _check(route: str, who: str, state: str, response: Any, expected: int) -> None:
    assert response.status_code == expected, (route, who, state, response.text[:300])
    if expected == 200 and route in SHOWS_ANNUAL:
        visible = who in ("editor", "admin") or state == "published"
        shown = SHOWS_ANNUAL[route] in response.text.replace(": ", ":")
        assert shown == visible, (route, who, state)
    if expected in (401, 403, 404, 303):
        assert not response.content.startswith(b"%PDF"), (route, who, state)
        assert not response.content.startswith(b"\x89PNG"), (route, who, state)
        assert not response.content.startswith(b"PK"), (route, who, state)  # no Word copy


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("route", list(MATRIX))
def test_signed_in_through_the_login_page(
    portals: dict[str, Portal], route: str, who: str, state: str
) -> None:
    portal = portals[state]
    client = portal.clients[who]
    page = client.get("/login" if who == "anonymous" else "/")
    request = request_of(route, who, state, portal, csrf_of(page.text))
    response = client.request(**request, follow_redirects=False)
    expected = MATRIX[route][WHO.index(who)][STATES.index(state)]
    _check(route, who, state, response, expected)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", list(MATRIX))
def test_with_an_api_token(portals: dict[str, Portal], route: str, role: str, state: str) -> None:
    """The same reading rights as the user's session; no form is accepted from a token."""
    portal = portals[state]
    with TestClient(portal.clients["anonymous"].app, client=LOOPBACK) as client:
        client.headers["authorization"] = f"Bearer {portal.tokens[role]}"
        request = request_of(route, role, state, portal, "no-form-token-for-scripts")
        response = client.request(**request, follow_redirects=False)
    expected = MATRIX[route][WHO.index(role)][STATES.index(state)]
    if request["method"] == "POST":
        expected = 403
    if route == "login_page":
        expected = 200  # a script is not a signed-in browser: the form is simply shown
    _check(route, role, state, response, expected)
