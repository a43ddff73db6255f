"""The audit log: an entry for each action, append-only, a hash chain `audit --verify` checks,
and no secret in it or in any log the portal writes.

The upload entries come from the draft check (核对文稿), the route the recipe in
``urbanreport/portal/routes/__init__.py`` shows: editors only, form token checked, 10 MB limit,
and an entry that names the upload by a keyed hash of its name and its size, never the name.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
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
    live_server,
    make_app,
    security_for,
    security_of,
    sign_in,
    signed_in_client,
)
from urbanreport import cli
from urbanreport.portal.access import Role
from urbanreport.portal.audit import entry_hash
from urbanreport.portal.security import Security
from urbanreport.portal.server import install_log_redaction

# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return build_site(tmp_path, months=2)


@pytest.fixture
def app(site: Site, clock: FakeClock) -> FastAPI:
    app = make_app(site, clock=clock)
    add_staff(security_of(app))
    return app


@pytest.fixture
def security(app: FastAPI) -> Security:
    return security_of(app)


def entries(security: Security) -> list[tuple[str, str, str, str]]:
    """(action, actor, result, object) of every entry, oldest first."""
    return [(e.action, e.actor, e.result, e.object) for e in security.audit.entries()]


#: The start of an old binary Word file: the check refuses it at once, whatever its size.
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _upload(client: TestClient, size: int, csrf: str | None) -> int:
    files = {"file": ("核对稿.doc", OLE + b"d" * (size - len(OLE)), "application/octet-stream")}
    data = {} if csrf is None else {"csrf": csrf}
    return client.post("/check", data=data, files=files).status_code


# --- an entry for each action --------------------------------------------------------------------


def test_sign_in_and_out_are_audited(app: FastAPI, security: Security) -> None:
    with TestClient(app, client=("10.0.0.5", 4000)) as c:
        sign_in(c, "editor", "Wrong-Pass-2024")
        sign_in(c, "nobody", "Wrong-Pass-2024")
        sign_in(c, "editor")
        c.post("/logout", data={"csrf": csrf_of(c.get("/").text)})
    for _ in range(5):
        with TestClient(app, client=("10.0.0.6", 4000)) as c:
            sign_in(c, "viewer", "Wrong-Pass-2024")
    with TestClient(app, client=("10.0.0.6", 4000)) as c:
        sign_in(c, "viewer")
    found = entries(security)
    assert ("login", "editor", "failed", "") in found
    assert ("login", "未知账户", "failed", "") in found
    assert ("login", "editor", "ok", "") in found
    assert ("logout", "editor", "ok", "") in found
    assert ("login", "viewer", "locked", "") in found
    last = security.audit.entries()[-1]
    assert (last.actor, last.address, last.action, last.result) == (
        "viewer",
        "10.0.0.6",
        "login",
        "locked",
    )
    failures = [e for e in security.audit.entries() if e.result == "failed"]
    assert {e.detail for e in failures} >= {"密码错误", "账户不存在", "密码错误；账户和地址已锁定"}


def test_downloads_and_publishing_are_audited(
    app: FastAPI, security: Security, site: Site, clock: FakeClock
) -> None:
    sha = site.index(2023)["reports"]["2023"]["sha256"]
    with signed_in_client(app, "editor") as editor:
        assert editor.get("/download/2023/2023-annual").status_code == 200
        editor.get("/download/2023/2023-annual", headers={"if-none-match": f'"{sha}"'})  # 304
        editor.head("/download/2023/2023-annual")  # no content sent
        editor.get("/download/2023/2023-annual/versions/1")
        csrf = csrf_of(editor.get("/").text)
        form = {"csrf": csrf, "sha256": sha}
        editor.post("/reports/2023/2023-annual/publish", data={**form, "action": "publish"})
        clock.advance(minutes=5)
        editor.post("/reports/2023/2023-annual/publish", data={**form, "action": "withdraw"})
    _, token = security.create_token(TEST_ACTOR, "viewer")
    with TestClient(app, client=("10.9.0.1", 4000)) as script:
        script.headers["authorization"] = f"Bearer {token}"
        assert script.get("/download/2023/2023-02-monthly").status_code == 404  # internal
    found = entries(security)
    downloads = [e for e in found if e[0] == "download"]
    assert downloads == [
        ("download", "editor", "ok", "2023/2023-annual 第3版（内部）"),
        ("download", "editor", "ok", "2023/2023-annual 第1版（内部）"),
    ]
    assert ("publish", "editor", "ok", f"2023/2023-annual 第3版 sha256:{sha[:12]}") in found
    assert ("withdraw", "editor", "ok", f"2023/2023-annual 第3版 sha256:{sha[:12]}") in found
    withdraw = [e for e in security.audit.entries() if e.action == "withdraw"][0]
    assert withdraw.at == "2024-01-08T09:05:00+08:00"  # the injected clock, Beijing time
    record = site.index(2023)["publication"]["2023-annual"][sha]
    assert record == {"state": "internal", "by": "editor", "at": "2024-01-08T09:05:00+08:00"}


def test_api_downloads_name_the_token(app: FastAPI, security: Security, site: Site) -> None:
    sha = site.index(2023)["reports"]["2023"]["sha256"]
    security.add_user(TEST_ACTOR, "platform", Role.VIEWER, "Prov-Sync-2024")
    token_id, token = security.create_token(TEST_ACTOR, "platform", "省平台")
    with signed_in_client(app, "editor") as editor:
        csrf = csrf_of(editor.get("/").text)
        editor.post("/reports/2023/2023-annual/publish", data={"csrf": csrf, "sha256": sha})
    with TestClient(app, client=("10.9.0.1", 4000)) as script:
        r = script.get("/download/2023/2023-annual", headers={"authorization": f"Bearer {token}"})
        assert r.status_code == 200
    last = security.audit.entries()[-1]
    assert (last.actor, last.address, last.action) == ("platform", "10.9.0.1", "download")
    assert last.object == "2023/2023-annual 第3版（已发布）"
    assert last.detail == f"API令牌 {token_id}"


def test_user_changes_are_audited(app: FastAPI, security: Security) -> None:
    with signed_in_client(app, "admin") as admin:
        csrf = csrf_of(admin.get("/admin/users").text)
        new = {"username": "zhangsan", "role": "editor", "password": "Haibin-Road-2024"}
        admin.post("/admin/users", data={"csrf": csrf, **new, "password2": new["password"]})
        admin.post("/admin/users/zhangsan/role", data={"csrf": csrf, "role": "viewer"})
        admin.post("/admin/users/zhangsan/active", data={"csrf": csrf, "active": "0"})
        admin.post("/admin/users/zhangsan/active", data={"csrf": csrf, "active": "1"})
        weak = {**new, "username": "lisi", "password": "weak", "password2": "weak"}
        refused = admin.post("/admin/users", data={"csrf": csrf, **weak})
        assert refused.status_code == 400 and "至少 10 位" in refused.text
        token_id, _ = security.create_token(TEST_ACTOR, "zhangsan")
        admin.post(f"/admin/users/zhangsan/tokens/{token_id}/revoke", data={"csrf": csrf})
    security.set_password(TEST_ACTOR, "zhangsan", "Haibin-Road-2025")
    found = entries(security)
    for expected in (
        ("user.add", "admin", "ok", "zhangsan（编辑）"),
        ("user.role", "admin", "ok", "zhangsan → 查阅人员"),
        ("user.disable", "admin", "ok", "zhangsan"),
        ("user.enable", "admin", "ok", "zhangsan"),
        ("user.add", "admin", "refused", "lisi（编辑）"),
        ("token.create", "cli:test", "ok", f"zhangsan 令牌 {token_id}"),
        ("token.revoke", "admin", "ok", f"zhangsan 令牌 {token_id}"),
        ("user.passwd", "cli:test", "ok", "zhangsan"),
    ):
        assert expected in found, expected
    add = next(e for e in security.audit.entries() if e.action == "user.add" and e.actor == "admin")
    assert add.address == LOOPBACK[0]


def test_uploads_follow_the_recipe(app: FastAPI, security: Security) -> None:
    limit = 10 * 1024 * 1024
    with signed_in_client(app, "editor") as editor, signed_in_client(app, "viewer") as viewer:
        csrf = csrf_of(editor.get("/").text)
        assert _upload(editor, 1000, csrf) == 400  # read, and refused as a .doc in words
        assert _upload(editor, limit, csrf) == 400  # exactly 10 MB is read
        assert _upload(editor, limit + 1, csrf) == 413
        assert _upload(editor, limit * 2, csrf) == 413  # refused before it is read
        assert _upload(editor, 1000, None) == 403
        assert _upload(viewer, 1000, csrf_of(viewer.get("/").text)) == 403
    with TestClient(app, client=LOOPBACK) as anonymous:
        assert _upload(anonymous, 1000, None) == 401
    found = entries(security)
    uploads = [e for e in security.audit.entries() if e.action == "upload"]
    assert [(e.actor, e.result) for e in uploads] == [("editor", "refused")] * 3
    assert uploads[0].object.startswith("文稿 名称散列 ") and "核对稿" not in uploads[0].object
    assert uploads[2].object == "文稿（超过上传上限）"
    assert ("csrf", "editor", "refused", "/check") in found
    assert ("denied", "viewer", "refused", "/check") in found


def test_refusals_are_audited(app: FastAPI, security: Security) -> None:
    with TestClient(app, client=("10.0.0.8", 4000)) as c:
        c.get("/download/2023/2023-annual", params={"token": "abc123secret"})
        c.get("/api/reports", headers={"authorization": "Bearer urt_nope"})
        c.post("/login", data={"username": "viewer", "password": PASSWORDS["viewer"]})
    with signed_in_client(app, "viewer") as viewer:
        viewer.get("/admin/audit")
    found = entries(security)
    assert ("url.credential", "（未登录）", "refused", "/download/2023/2023-annual") in found
    assert ("api.auth", "（未登录）", "refused", "/api/reports") in found
    assert ("csrf", "（未登录）", "refused", "/login") in found
    assert ("denied", "viewer", "refused", "/admin/audit") in found


# --- the admin page ------------------------------------------------------------------------------


def test_the_audit_page_is_for_admins(app: FastAPI, security: Security) -> None:
    with TestClient(app, client=("10.0.0.5", 4000)) as c:
        sign_in(c, "editor", "Wrong-Pass-2024")
    with signed_in_client(app, "admin") as admin:
        page = admin.get("/admin/audit")
        assert page.status_code == 200
        assert "哈希链校验通过" in page.text
        assert "10.0.0.5" in page.text and "密码错误" in page.text
        assert "2024-01-08 09:00:00" in page.text
        assert admin.get("/admin/audit?since=2024-01-09").text.count("<tr class=") == 0
        assert admin.get("/admin/audit?since=not-a-date").status_code == 404
        _tamper(security, 1)
        assert "哈希链校验失败：第 1 条" in admin.get("/admin/audit").text


# --- append-only and the hash chain --------------------------------------------------------------


def _tamper(security: Security, seq: int, sql: str = "UPDATE audit SET object = 'x'") -> None:
    """Change the file behind SQLite's triggers, as another tool could."""
    with sqlite3.connect(security.db.path) as con:
        con.execute("DROP TRIGGER audit_no_update")
        con.execute("DROP TRIGGER audit_no_delete")
        con.execute(f"{sql} WHERE seq = ?", (seq,))


def _some_entries(security: Security, n: int = 5) -> None:
    for i in range(n):
        security.audit.record("editor", "10.0.0.1", "download", f"2023/2023-{i:02d}-monthly")


def test_entries_cannot_be_changed_through_sqlite(security: Security) -> None:
    _some_entries(security)
    with sqlite3.connect(security.db.path) as con:
        for sql in ("UPDATE audit SET result = 'ok'", "DELETE FROM audit"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                con.execute(sql)
    assert security.audit.verify().ok


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("UPDATE audit SET object = '2023/2023-annual'", "内容被改动"),
        ("UPDATE audit SET at = '2024-01-01T00:00:00+08:00'", "内容被改动"),
        ("DELETE FROM audit", "缺少条目"),
    ],
    ids=["edited", "backdated", "deleted"],
)
def test_verify_finds_the_changed_entry(security: Security, sql: str, reason: str) -> None:
    before = len(security.audit.entries())
    _some_entries(security)
    _tamper(security, before + 3, sql)
    result = security.audit.verify()
    assert not result.ok
    assert result.bad_seq == before + 3 and reason in result.reason
    assert result.count == before + 2


def test_verify_finds_a_forged_hash(security: Security) -> None:
    """Recomputing the edited entry's own hash breaks the link to the next entry."""
    _some_entries(security)
    edited = security.audit.entries()[1]
    values = {**edited.as_json(), "object": "2023/2023-annual"}
    forged = entry_hash(edited.prev_hash, values)
    _tamper(
        security, edited.seq, f"UPDATE audit SET object = '2023/2023-annual', hash = '{forged}'"
    )
    result = security.audit.verify()
    assert not result.ok and result.bad_seq == edited.seq + 1 and "链接断开" in result.reason


# --- the command ---------------------------------------------------------------------------------


@pytest.fixture
def home(site: Site, monkeypatch: pytest.MonkeyPatch) -> Site:
    monkeypatch.setenv("URBANREPORT_HOME", str(site.home))
    monkeypatch.delenv("URBANREPORT_CONFIG", raising=False)
    return site


def test_audit_command_lists_and_verifies(
    home: Site, capsys: pytest.CaptureFixture[str], clock: FakeClock
) -> None:
    security = security_for(home.settings(), clock)
    _some_entries(security, 2)
    clock.advance(days=2)
    security.audit.record("admin", "10.0.0.2", "publish", "2023/2023-annual 第3版")
    assert cli.main(["audit", "--json", "--since", "2024-01-10"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [e["action"] for e in listed] == ["publish"]
    assert listed[0]["at"] == "2024-01-10T09:00:00+08:00"
    assert set(listed[0]) >= {"seq", "at", "actor", "address", "object", "result", "hash"}
    assert cli.main(["audit"]) == 0
    table = capsys.readouterr().out
    assert "发布" in table and "10.0.0.2" in table and "2024-01-08 09:00:00" in table
    assert cli.main(["audit", "--verify"]) == 0
    assert "哈希链校验通过" in capsys.readouterr().out
    _tamper(security, 2)
    assert cli.main(["audit", "--verify"]) == 1
    err = capsys.readouterr().err
    assert "第 2 条" in err and "内容被改动" in err
    assert cli.main(["audit", "--since", "yesterday"]) == 2
    assert "日期无效" in capsys.readouterr().err


# --- no secret anywhere --------------------------------------------------------------------------


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("httpx", "httpcore")):
            return  # the test's own HTTP client, which logs the URLs it was asked to send
        self.lines.append(f"{record.name} {record.getMessage()} {record.exc_text or ''}")


@contextmanager
def collected_logs() -> Iterator[_Collect]:
    """Everything logged, including uvicorn's access log (which does not propagate).

    Entered once the server runs: uvicorn configures its loggers when it starts.
    """
    handler = _Collect()
    names = ["", "uvicorn", "uvicorn.access", "uvicorn.error", "urbanreport"]
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)


def _browser_sign_in(client: httpx.Client, name: str, password: str) -> httpx.Response:
    """Sign in with a plain HTTP client (redirects not followed, as httpx does by default)."""
    csrf = csrf_of(client.get("/login").text)
    form = {"csrf": csrf, "username": name, "password": password, "next": "/"}
    return client.post("/login", data=form)


def test_no_secret_in_logs_or_audit(site: Site) -> None:
    app = make_app(site)
    security = security_of(app)
    add_staff(security)
    _, token = security.create_token(TEST_ACTOR, "viewer")
    typed_into_name = "Mistyped-Secret-2024"
    with (
        live_server(app, log_level="info") as base,
        collected_logs() as collected,
        httpx.Client(base_url=base) as browser,
    ):
        install_log_redaction()  # as `urbanreport serve` does, once uvicorn set up its logs
        assert _browser_sign_in(browser, "editor", PASSWORDS["editor"]).status_code == 303
        session = browser.cookies["urbanreport_session"]
        assert browser.get("/download/2023/2023-annual").status_code == 200
        with httpx.Client(base_url=base) as other:
            _browser_sign_in(other, typed_into_name, "Wrong-Pass-2024")
            _browser_sign_in(other, "viewer", "Wrong-Pass-2024")
        for params in ({"token": token}, {"password": PASSWORDS["admin"]}):
            assert browser.get("/download/2023/2023-annual", params=params).status_code == 400
        script = httpx.get(f"{base}/api/reports", headers={"authorization": f"Bearer {token}"})
        assert script.status_code == 200
    logged = "\n".join(collected.lines)
    assert "GET /download/2023/2023-annual?token=*** HTTP/1.1" in logged  # the access log ran
    assert '"action": "login"' in logged  # audit entries are mirrored to the log
    audit_text = json.dumps([e.as_json() for e in security.audit.entries()], ensure_ascii=False)
    secrets = [*PASSWORDS.values(), token, token.rsplit("_", 1)[1], session, typed_into_name]
    secrets.append("Wrong-Pass-2024")
    for secret in secrets:
        assert secret not in logged, secret
        assert secret not in audit_text, secret
