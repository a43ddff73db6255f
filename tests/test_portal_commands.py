"""``urbanreport user …`` from the shell: accounts, passwords from stdin or a prompt, API tokens."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.portal_helpers import LOOPBACK, Site, build_site, make_app, security_for, sign_in
from urbanreport import cli
from urbanreport.portal import commands
from urbanreport.portal.access import Role


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    site = build_site(tmp_path, months=1)
    monkeypatch.setenv("URBANREPORT_HOME", str(site.home))
    monkeypatch.delenv("URBANREPORT_CONFIG", raising=False)
    # the command opens the database as the tests do, with argon2 at its cheapest (0.6 s a
    # hash at the real settings here would make this file slow, and prove nothing more)
    monkeypatch.setattr(commands, "_security", security_for)
    return site


def run(args: list[str], stdin: str = "", monkeypatch: pytest.MonkeyPatch | None = None) -> int:
    if monkeypatch is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return cli.main(args)


def add_user(name: str, role: str, password: str, monkeypatch: pytest.MonkeyPatch) -> int:
    args = ["user", "add", name, "--role", role, "--password-stdin"]
    return run(args, password + "\n", monkeypatch)


def test_add_list_disable_enable(
    site: Site, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    add = ["user", "add", "Zhangsan", "--role", "editor", "--password-stdin"]
    assert run(add, "Haibin-Road-2024\n", monkeypatch) == 0
    assert "已创建账户 zhangsan（编辑）" in capsys.readouterr().out
    assert run(["user", "list"]) == 0
    listed = capsys.readouterr().out
    assert "zhangsan" in listed and "编辑" in listed and "正常" in listed
    assert run(["user", "disable", "zhangsan"]) == 0
    assert run(["user", "list"]) == 0
    assert "已停用" in capsys.readouterr().out
    assert run(["user", "enable", "zhangsan"]) == 0
    security = security_for(site.settings())
    assert security.accounts.require("zhangsan").active
    actions = [(e.action, e.actor, e.address) for e in security.audit.entries()]
    assert actions[0][0] == "user.add" and actions[0][1].startswith("cli:")
    assert {a for a, _, _ in actions} == {"user.add", "user.disable", "user.enable"}
    assert {address for _, _, address in actions} == {"本机命令行"}


def test_refusals_are_plain_messages(
    site: Site, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    weak = ["user", "add", "lisi", "--role", "viewer", "--password-stdin"]
    assert run(weak, "short\n", monkeypatch) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：密码须至少 10 位") and "Traceback" not in err
    assert "short" not in err
    assert run(["user", "disable", "nobody"]) == 2
    assert "没有账户 nobody" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run(["user", "add", "lisi", "--role", "superuser"])


def test_password_prompt_asks_twice(
    site: Site, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter(["Haibin-Road-2024", "Haibin-Road-2025"])
    monkeypatch.setattr(commands.getpass, "getpass", lambda prompt: next(answers))
    assert run(["user", "add", "wangwu", "--role", "viewer"]) == 2
    assert "不一致" in capsys.readouterr().err
    answers = iter(["Haibin-Road-2024", "Haibin-Road-2024"])
    assert run(["user", "add", "wangwu", "--role", "viewer"]) == 0


def test_passwd_changes_the_password_and_ends_sessions(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert add_user("zhaoliu", "viewer", "Old-Pass-2024", monkeypatch) == 0
    app = make_app(site)
    with TestClient(app, client=LOOPBACK) as browser:
        assert sign_in(browser, "zhaoliu", "Old-Pass-2024").status_code == 303
        assert browser.get("/", follow_redirects=False).status_code == 200
        passwd = ["user", "passwd", "zhaoliu", "--password-stdin"]
        assert run(passwd, "New-Pass-2024\n", monkeypatch) == 0
        assert browser.get("/", follow_redirects=False).status_code == 303
        assert sign_in(browser, "zhaoliu", "Old-Pass-2024").status_code == 401
        assert sign_in(browser, "zhaoliu", "New-Pass-2024").status_code == 303


def test_token_is_printed_once_on_the_last_line(
    site: Site, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert add_user("platform", "viewer", "Prov-Sync-2024", monkeypatch) == 0
    capsys.readouterr()
    assert run(["user", "token", "platform", "--label", "省平台"]) == 0
    out = capsys.readouterr().out
    token = out.rstrip("\n").splitlines()[-1]
    assert token.startswith("urt_") and out.count(token) == 1
    app = make_app(site)
    headers = {"authorization": f"Bearer {token}"}
    with TestClient(app, client=("10.9.0.1", 4000)) as script:
        assert script.get("/api/reports", headers=headers).status_code == 200
    assert run(["user", "tokens", "platform"]) == 0
    listed = capsys.readouterr().out
    token_id = token.split("_")[1]
    assert token_id in listed and "省平台" in listed and "有效" in listed
    assert token not in listed and token.rsplit("_", 1)[1] not in listed
    assert run(["user", "revoke", "platform", token_id]) == 0
    with TestClient(app, client=("10.9.0.1", 4000)) as script:
        assert script.get("/api/reports", headers=headers).status_code == 401
    assert run(["user", "tokens", "platform"]) == 0
    assert "已吊销" in capsys.readouterr().out
    assert run(["user", "revoke", "platform", token_id]) == 2  # already revoked
    audit = [e.action for e in security_for(site.settings()).audit.entries()]
    assert audit.count("token.create") == 1 and audit.count("token.revoke") == 2


def test_the_first_account_ends_the_open_mode(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(site)
    with TestClient(app, client=LOOPBACK) as browser:
        assert browser.get("/", follow_redirects=False).status_code == 200
        assert add_user("chief", "admin", "Longhu-Head-2024", monkeypatch) == 0
        assert browser.get("/", follow_redirects=False).status_code == 303
    assert security_for(site.settings()).accounts.require("chief").role is Role.ADMIN
