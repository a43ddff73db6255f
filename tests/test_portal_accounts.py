"""Accounts and sign-in: password rules, hashing, the database file, sessions, lockout, CSRF,
API tokens, and credentials in URLs — with an injectable clock instead of waiting."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.portal_helpers import (
    LOOPBACK,
    PASSWORDS,
    TEST_ACTOR,
    FakeClock,
    Site,
    add_staff,
    build_site,
    csrf_of,
    make_app,
    security_of,
    sign_in,
    signed_in_client,
)
from urbanreport.portal.access import Role
from urbanreport.portal.accounts import PolicyError, check_password
from urbanreport.portal.cookies import FORM_COOKIE, SESSION_COOKIE
from urbanreport.portal.middleware import MULTIPART_ALLOWANCE
from urbanreport.portal.security import Security


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return build_site(tmp_path, months=3)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(site: Site, clock: FakeClock) -> FastAPI:
    app = make_app(site, clock=clock)
    add_staff(security_of(app))
    return app


@pytest.fixture
def security(app: FastAPI) -> Security:
    return security_of(app)


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, client=LOOPBACK) as client:
        yield client


# --- passwords and the database file -------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "accepted"),
    [
        ("Short-1a", False),  # 8 characters
        ("alllowercaseletters", False),  # one class
        ("lowercase12345", False),  # two classes
        ("Lowercase12345", True),  # upper, lower, digits
        ("lower-case-words", False),  # two classes: lower and symbols
        ("lower-case-123", True),  # lower, symbols, digits
        ("龙湖区城管局执法2024a", True),  # other (Chinese), digits, lower
        ("Zhang-San-2024", True),
        ("Editor-Zhang-2024", False),  # contains the account name (editor)
        ("EDITOR#zhang#2024", False),  # ... in any case
        ("A1-" + "x" * 1030, False),  # too long to hash safely
    ],
)
def test_password_rules(password: str, accepted: bool) -> None:
    if accepted:
        check_password(password, "editor")
    else:
        with pytest.raises(PolicyError):
            check_password(password, "editor")


def test_passwords_are_stored_as_argon2_hashes(app: FastAPI, site: Site) -> None:
    database = site.home / "portal.sqlite3"
    with sqlite3.connect(database) as con:
        hashes = [row[0] for row in con.execute("SELECT password_hash FROM users")]
    assert len(hashes) == 3 and all(h.startswith("$argon2id$") for h in hashes)
    files = b"".join(p.read_bytes() for p in site.home.glob("portal.sqlite3*"))
    for password in PASSWORDS.values():
        assert password.encode() not in files


def test_database_files_are_private(app: FastAPI, site: Site, browser: TestClient) -> None:
    reader = sqlite3.connect(site.home / "portal.sqlite3")  # keeps the WAL file in place
    reader.execute("SELECT COUNT(*) FROM users").fetchone()
    sign_in(browser, "viewer")  # writes
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in site.home.glob("portal.sqlite3*")}
    reader.close()
    assert set(modes) >= {"portal.sqlite3", "portal.sqlite3-wal", "portal.sqlite3-shm"}
    assert set(modes.values()) == {0o600}, modes


def test_a_loose_database_mode_is_tightened(site: Site) -> None:
    database = site.home / "portal.sqlite3"
    database.parent.mkdir(parents=True, exist_ok=True)
    sqlite3.connect(database).close()
    os.chmod(database, 0o644)
    make_app(site)
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def test_account_names_are_checked_and_unique(security: Security) -> None:
    for bad in ("a", "1abc", "zhang san", "张三", "x" * 40, "../admin"):
        with pytest.raises(PolicyError):
            security.add_user(TEST_ACTOR, bad, Role.VIEWER, "Valid-Pass-2024")
    with pytest.raises(PolicyError, match="已存在"):
        security.add_user(TEST_ACTOR, "Viewer", Role.VIEWER, "Valid-Pass-2024")


def test_the_last_admin_cannot_be_disabled_or_demoted(security: Security) -> None:
    with pytest.raises(PolicyError, match="唯一的管理员"):
        security.set_active(TEST_ACTOR, "admin", False)
    with pytest.raises(PolicyError, match="唯一的管理员"):
        security.set_role(TEST_ACTOR, "admin", Role.EDITOR)
    security.add_user(TEST_ACTOR, "second", Role.ADMIN, "Xiao-Ming-2024")
    security.set_role(TEST_ACTOR, "admin", Role.EDITOR)
    assert security.accounts.require("admin").role is Role.EDITOR


# --- signing in ----------------------------------------------------------------------------------


def test_sign_in_sets_a_strict_session_cookie(browser: TestClient) -> None:
    before = browser.cookies.get(SESSION_COOKIE)
    r = sign_in(browser, "viewer")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert "Secure" not in cookie  # base_url is not https
    assert "Max-Age" not in cookie and "expires" not in cookie.lower()
    assert PASSWORDS["viewer"] not in cookie
    assert browser.cookies.get(SESSION_COOKIE) != before
    page = browser.get("/")
    assert page.status_code == 200 and "viewer" in page.text and "查阅人员" in page.text


def test_cookies_are_secure_behind_https(site: Site) -> None:
    app = make_app(site, base_url="https://reports.longhu.example")
    add_staff(security_of(app), ("viewer",))
    with TestClient(app, client=LOOPBACK, base_url="https://testserver") as c:
        login = c.get("/login")
        assert "Secure" in login.headers["set-cookie"]  # the form cookie
        assert login.headers["strict-transport-security"] == "max-age=31536000"
        r = sign_in(c, "viewer")
        assert r.status_code == 303
        assert "Secure" in r.headers["set-cookie"]


def test_each_sign_in_makes_a_new_session(app: FastAPI, browser: TestClient) -> None:
    sign_in(browser, "viewer")
    first = browser.cookies.get(SESSION_COOKIE)
    sign_in(browser, "viewer")  # e.g. a planted cookie before sign-in
    assert browser.cookies.get(SESSION_COOKIE) != first
    with TestClient(app, client=LOOPBACK, cookies={SESSION_COOKIE: first}) as old:
        assert old.get("/", follow_redirects=False).status_code == 200  # still its own session


@pytest.mark.parametrize(
    ("name", "password"),
    [("nobody", "Whatever-2024"), ("viewer", "Wrong-Pass-2024"), ("disabled", "Long-Pass-2024")],
    ids=["unknown", "wrong-password", "disabled"],
)
def test_failed_sign_in_says_the_same_thing(
    security: Security, browser: TestClient, name: str, password: str
) -> None:
    security.add_user(TEST_ACTOR, "disabled", Role.VIEWER, "Long-Pass-2024")
    security.set_active(TEST_ACTOR, "disabled", False)
    r = sign_in(browser, name, password)
    assert r.status_code == 401
    assert "账户名或密码错误。" in r.text
    assert SESSION_COOKIE not in r.headers.get("set-cookie", "")
    assert password not in r.text and "disabled" not in r.text.replace('name="username"', "")


def test_unknown_names_are_checked_against_a_hash_too(
    security: Security, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same argon2 work for a name that is no account: the timing tells nothing."""
    calls: list[str] = []

    class Spy(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # noqa: A002
            calls.append(str(hash))
            return super().verify(hash, password)

    monkeypatch.setattr(security.accounts, "hasher", Spy(time_cost=1, memory_cost=1024))
    security.accounts.verify_password("nobody", "Whatever-2024")
    security.accounts.verify_password("viewer", "Wrong-Pass-2024")
    assert len(calls) == 2 and all(h.startswith("$argon2id$") for h in calls)


def test_next_only_leads_to_this_portal(browser: TestClient) -> None:
    for target, expected in (
        ("/reports/2023", "/reports/2023"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/login", "/"),
    ):
        page = browser.get("/login")
        form = {"csrf": csrf_of(page.text), "username": "viewer", "password": PASSWORDS["viewer"]}
        r = browser.post("/login", data={**form, "next": target}, follow_redirects=False)
        assert r.headers["location"] == expected, target


def test_signed_out_pages_lead_to_the_login_page_and_back(browser: TestClient) -> None:
    r = browser.get("/reports/2023/2023-annual/versions", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/reports/2023/2023-annual/versions"
    page = browser.get(r.headers["location"])
    form = {"csrf": csrf_of(page.text), "username": "editor", "password": PASSWORDS["editor"]}
    hidden = 'name="next" value="/reports/2023/2023-annual/versions"'
    assert hidden in page.text
    done = browser.post("/login", data={**form, "next": "/reports/2023/2023-annual/versions"})
    assert done.status_code == 200 and "历史版本" in done.text


def test_sign_out_ends_the_session(app: FastAPI, browser: TestClient) -> None:
    sign_in(browser, "editor")
    cookie = browser.cookies.get(SESSION_COOKIE)
    page = browser.get("/")
    r = browser.post("/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    with TestClient(app, client=LOOPBACK, cookies={SESSION_COOKIE: cookie}) as stolen:
        assert stolen.get("/", follow_redirects=False).status_code == 303


def test_disabling_an_account_ends_its_sessions_at_once(
    security: Security, browser: TestClient
) -> None:
    sign_in(browser, "editor")
    assert browser.get("/", follow_redirects=False).status_code == 200
    security.set_active(TEST_ACTOR, "editor", False)
    assert browser.get("/", follow_redirects=False).status_code == 303


def test_a_role_change_applies_to_open_sessions(security: Security, browser: TestClient) -> None:
    sign_in(browser, "viewer")
    assert browser.get("/admin/users").status_code == 403
    security.set_role(TEST_ACTOR, "viewer", Role.ADMIN)
    assert browser.get("/admin/users").status_code == 200


# --- session expiry ------------------------------------------------------------------------------


def test_session_ends_after_30_idle_minutes(browser: TestClient, clock: FakeClock) -> None:
    sign_in(browser, "viewer")
    clock.advance(minutes=29, seconds=59)
    assert browser.get("/", follow_redirects=False).status_code == 200  # and the timer restarts
    clock.advance(minutes=29, seconds=59)
    assert browser.get("/", follow_redirects=False).status_code == 200
    clock.advance(minutes=30)
    r = browser.get("/reports/2023", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/reports/2023&expired=1"
    assert f'{SESSION_COOKIE}=""' in r.headers["set-cookie"]
    assert "会话已超时" in browser.get(r.headers["location"]).text


def test_session_ends_after_8_hours_however_busy(browser: TestClient, clock: FakeClock) -> None:
    sign_in(browser, "viewer")
    for _ in range(23):  # a request every 20 minutes: never idle
        clock.advance(minutes=20)
        assert browser.get("/", follow_redirects=False).status_code == 200
    clock.advance(minutes=20)  # 8 hours since sign-in
    assert browser.get("/", follow_redirects=False).status_code == 303


def test_an_expired_session_is_refused_by_the_api_too(
    browser: TestClient, clock: FakeClock
) -> None:
    sign_in(browser, "viewer")
    clock.advance(minutes=31)
    r = browser.get("/api/reports")
    assert r.status_code == 401 and r.json() == {"detail": "需要登录。"}


# --- lockout -------------------------------------------------------------------------------------


def _attempt(app: FastAPI, name: str, password: str, address: str = "10.0.0.5") -> int:
    with TestClient(app, client=(address, 40000)) as c:
        return sign_in(c, name, password).status_code


def test_five_failures_lock_the_account_for_15_minutes(app: FastAPI, clock: FakeClock) -> None:
    for _ in range(4):
        assert _attempt(app, "editor", "Wrong-Pass-2024") == 401
    assert _attempt(app, "editor", "Wrong-Pass-2024") == 429  # the fifth locks
    # locked: the right password is refused too, from this address and from another
    assert _attempt(app, "editor", PASSWORDS["editor"]) == 429
    assert _attempt(app, "editor", PASSWORDS["editor"], address="10.0.0.99") == 429
    clock.advance(minutes=14, seconds=59)
    assert _attempt(app, "editor", PASSWORDS["editor"], address="10.0.0.99") == 429
    clock.advance(seconds=1)  # the window has passed
    assert _attempt(app, "editor", PASSWORDS["editor"], address="10.0.0.99") == 303


def test_five_failures_lock_the_address(app: FastAPI, clock: FakeClock) -> None:
    """Guessing across many names from one address locks the address, for every account."""
    for n in range(5):
        _attempt(app, f"guess{n}", "Wrong-Pass-2024", address="10.0.0.7")
    assert _attempt(app, "viewer", PASSWORDS["viewer"], address="10.0.0.7") == 429
    assert _attempt(app, "viewer", PASSWORDS["viewer"], address="10.0.0.8") == 303
    clock.advance(minutes=15)
    assert _attempt(app, "viewer", PASSWORDS["viewer"], address="10.0.0.7") == 303


def test_failures_older_than_the_window_are_forgotten(app: FastAPI, clock: FakeClock) -> None:
    for _ in range(4):
        _attempt(app, "editor", "Wrong-Pass-2024")
    clock.advance(minutes=16)
    for _ in range(4):
        assert _attempt(app, "editor", "Wrong-Pass-2024", address="10.0.0.6") == 401
    assert _attempt(app, "editor", PASSWORDS["editor"], address="10.0.0.6") == 303


def test_unknown_names_lock_like_accounts(app: FastAPI) -> None:
    """The lockout message cannot be used to find out which names exist."""
    answers = [_attempt(app, "nobody", "Wrong-Pass-2024", address=f"10.1.0.{n}") for n in range(6)]
    assert answers == [401, 401, 401, 401, 429, 429]


def test_a_new_password_lifts_the_lockout(app: FastAPI, security: Security) -> None:
    for n in range(5):
        _attempt(app, "editor", "Wrong-Pass-2024", address=f"10.2.0.{n}")
    security.set_password(TEST_ACTOR, "editor", "Brand-New-2024")
    assert _attempt(app, "editor", "Brand-New-2024", address="10.2.0.9") == 303


# --- forms (CSRF) --------------------------------------------------------------------------------


def test_login_form_needs_its_token(app: FastAPI, browser: TestClient) -> None:
    form = {"username": "viewer", "password": PASSWORDS["viewer"], "next": "/"}
    assert browser.post("/login", data=form).status_code == 403  # no token
    browser.get("/login")  # gets a form cookie
    assert browser.post("/login", data={**form, "csrf": "forged"}).status_code == 403
    # a token made for another browser does not fit this one's cookie
    with TestClient(app, client=LOOPBACK) as other:
        foreign = csrf_of(other.get("/login").text)
    r = browser.post("/login", data={**form, "csrf": foreign})
    assert r.status_code == 403 and "表单已失效" in r.text
    assert SESSION_COOKIE not in r.headers.get("set-cookie", "")


def test_forms_of_a_session_need_that_session_token(app: FastAPI, site: Site) -> None:
    editor = signed_in_client(app, "editor")
    other = signed_in_client(app, "admin")
    with editor, other:
        sha = site.index(2023)["reports"]["2023"]["sha256"]
        url = "/reports/2023/2023-annual/publish"
        data = {"sha256": sha, "action": "publish"}
        pre_login = csrf_of(TestClient(app, client=LOOPBACK).get("/login").text)
        for token in (None, "", "forged", csrf_of(other.get("/").text), pre_login):
            form = data if token is None else {**data, "csrf": token}
            r = editor.post(url, data=form, follow_redirects=False)
            assert r.status_code == 403, token
        assert "published" not in str(site.index(2023).get("publication", {}))
        good = editor.post(url, data={**data, "csrf": csrf_of(editor.get("/").text)})
        assert good.status_code == 200  # followed the redirect to the year page
        assert "已发布" in good.text


def test_a_cross_site_form_cannot_publish(app: FastAPI, site: Site) -> None:
    """What another site can send: the cookie (were it not SameSite=Strict), but no token."""
    with signed_in_client(app, "editor") as editor:
        sha = site.index(2023)["reports"]["2023"]["sha256"]
        r = editor.post(
            "/reports/2023/2023-annual/publish",
            data={"sha256": sha},
            headers={"origin": "https://evil.example", "sec-fetch-site": "cross-site"},
        )
        assert r.status_code == 403


# --- API tokens ----------------------------------------------------------------------------------


def _api(app: FastAPI, token: str, path: str = "/api/reports") -> int:
    with TestClient(app, client=("10.3.0.1", 40000)) as c:
        return c.get(path, headers={"authorization": f"Bearer {token}"}).status_code


def test_api_tokens_work_until_revoked(app: FastAPI, security: Security) -> None:
    token_id, token = security.create_token(TEST_ACTOR, "viewer", "省平台")
    assert _api(app, token) == 200
    assert _api(app, token, "/download/2023/2022-annual") == 404  # another year's id
    security.revoke_token(TEST_ACTOR, "viewer", token_id)
    with TestClient(app, client=LOOPBACK) as c:
        r = c.get("/api/reports", headers={"authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert r.json() == {"detail": "API 令牌无效、已过期或已吊销。"}
    assert r.headers["www-authenticate"] == 'Bearer realm="urbanreport"'


def test_api_tokens_expire_and_die_with_their_account(
    app: FastAPI, security: Security, clock: FakeClock
) -> None:
    _, viewer_token = security.create_token(TEST_ACTOR, "viewer")
    _, editor_token = security.create_token(TEST_ACTOR, "editor")
    security.set_active(TEST_ACTOR, "editor", False)
    assert _api(app, editor_token) == 401
    clock.advance(days=364)
    assert _api(app, viewer_token) == 200
    clock.advance(days=1)
    assert _api(app, viewer_token) == 401


@pytest.mark.parametrize(
    "header",
    [
        "Bearer ",
        "Bearer urt_000000000000_" + "A" * 43,
        "Bearer not-a-token",
        "Basic dmlld2VyOkppbnhpYS1TdHJlZXQtMjAyNA==",  # viewer:<password> — no basic auth
        "Token abc",
    ],
)
def test_bad_authorization_headers_are_refused(app: FastAPI, header: str) -> None:
    with TestClient(app, client=LOOPBACK) as c:
        for path in ("/api/reports", "/download/2023/2023-annual", "/"):
            r = c.get(path, headers={"authorization": header}, follow_redirects=False)
            assert r.status_code == 401, path


def test_a_tampered_token_is_refused(app: FastAPI, security: Security) -> None:
    _, token = security.create_token(TEST_ACTOR, "viewer")
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert _api(app, flipped) == 401
    assert _api(app, token) == 200


def test_only_the_token_hash_is_stored(app: FastAPI, security: Security, site: Site) -> None:
    _, token = security.create_token(TEST_ACTOR, "viewer")
    secret = token.rsplit("_", 1)[1]
    files = b"".join(p.read_bytes() for p in site.home.glob("portal.sqlite3*"))
    assert secret.encode() not in files and token.encode() not in files


# --- no credential in a URL ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["token", "TOKEN", "access_token", "api_key", "password"])
def test_credentials_in_the_query_string_are_refused(
    app: FastAPI, security: Security, name: str
) -> None:
    _, token = security.create_token(TEST_ACTOR, "admin")
    with TestClient(app, client=LOOPBACK) as c:
        for path in ("/", "/download/2023/2023-annual", "/api/reports", "/login", "/healthz"):
            r = c.get(path, params={name: token}, follow_redirects=False)
            assert r.status_code == 400, path
            assert "不接受地址中的凭据" in r.text
            assert "set-cookie" not in r.headers or SESSION_COOKIE not in r.headers["set-cookie"]
            assert b"%PDF" not in r.content
        # not even together with a valid header
        r = c.get(
            "/api/reports", params={name: token}, headers={"authorization": f"Bearer {token}"}
        )
        assert r.status_code == 400


def test_ordinary_query_parameters_still_work(app: FastAPI, security: Security) -> None:
    _, token = security.create_token(TEST_ACTOR, "viewer")
    with TestClient(app, client=LOOPBACK) as c:
        headers = {"authorization": f"Bearer {token}"}
        assert c.get("/api/reports?fiscal_year=2023", headers=headers).status_code == 200


# --- headers and limits --------------------------------------------------------------------------


def test_security_headers_on_every_answer(browser: TestClient) -> None:
    for path in ("/login", "/", "/static/portal.css", "/fonts/sans.ttf", "/nope", "/api/reports"):
        r = browser.get(path, follow_redirects=False)
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "script-src 'none'" in csp and "form-action 'self'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"
        assert r.headers["x-frame-options"] == "DENY"
        assert "strict-transport-security" not in r.headers  # plain http: no HSTS


def test_bodies_over_the_limit_are_refused(browser: TestClient) -> None:
    big = b"x" * (10 * 1024 * 1024 + MULTIPART_ALLOWANCE + 1)
    r = browser.post(
        "/login", content=big, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(11):
            yield b"y" * (1024 * 1024)

    r = browser.post(
        "/login", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 413


def test_the_form_cookie_is_strict_and_private(browser: TestClient) -> None:
    cookie = browser.get("/login").headers["set-cookie"]
    assert cookie.startswith(f"{FORM_COOKIE}=")
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
