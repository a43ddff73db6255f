"""``urbanreport user …`` and ``urbanreport audit …``: accounts and the audit log from the shell.

Changes made here are audited like those made on the admin page, with the operating-system
account as the actor and 本机命令行 as the address. A password is read from a prompt (twice)
or, for scripts, from standard input with ``--password-stdin``; never from an argument, where
it would be visible to every user of the machine in the process list and in shell history.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import TextIO

from rich.console import Console
from rich.table import Table

from urbanreport.core.clock import SHANGHAI
from urbanreport.core.config import Settings
from urbanreport.portal.access import Role
from urbanreport.portal.accounts import PolicyError
from urbanreport.portal.audit import LOCAL_ADDRESS, Entry
from urbanreport.portal.config import PortalConfig
from urbanreport.portal.security import Actor, Security

Handler = Callable[[Security, Actor, argparse.Namespace], int]


def _security(settings: Settings) -> Security:
    return Security(PortalConfig.from_settings(settings))


def _actor() -> Actor:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return Actor(f"cli:{name}", LOCAL_ADDRESS)


def _console() -> Console:
    return Console(width=None if sys.stdout.isatty() else 160, highlight=False)


def read_password(args: argparse.Namespace, stdin: TextIO | None = None) -> str:
    """From stdin (one line) with ``--password-stdin``, else from a prompt, asked twice."""
    if args.password_stdin:
        line = (stdin or sys.stdin).readline()
        return line.removesuffix("\n").removesuffix("\r")
    first = getpass.getpass("新密码（至少10位，含3类字符）：")
    if first != getpass.getpass("再次输入新密码："):
        raise PolicyError("两次输入的密码不一致（passwords differ）。")
    return first


# --- user ---------------------------------------------------------------------------------


def _add(security: Security, actor: Actor, args: argparse.Namespace) -> int:
    user = security.add_user(actor, args.name, Role.parse(args.role), read_password(args))
    print(f"已创建账户 {user.name}（{user.role.label}）")
    return 0


def _passwd(security: Security, actor: Actor, args: argparse.Namespace) -> int:
    security.accounts.require(args.name)
    user = security.set_password(actor, args.name, read_password(args))
    print(f"已修改 {user.name} 的密码；其现有会话已结束，锁定已解除")
    return 0


def _disable(security: Security, actor: Actor, args: argparse.Namespace) -> int:
    user = security.set_active(actor, args.name, False)
    print(f"已停用账户 {user.name}；其会话已结束，API 令牌不再有效")
    return 0


def _enable(security: Security, actor: Actor, args: argparse.Namespace) -> int:
    user = security.set_active(actor, args.name, True)
    print(f"已启用账户 {user.name}")
    return 0


def _list(security: Security, actor: Actor, args: argparse.Namespace) -> int:
    table = Table("账户名", "角色", "状态", "创建时间", "最近登录", "有效令牌", box=None)
    for user in security.accounts.all():
        tokens = [t for t in security.accounts.tokens(user.name) if not t.revoked_at]
        table.add_row(
            user.name,
            user.role.label,
            "正常" if user.active else "已停用",
            user.created_at[:16].replace("T", " "),
            (user.last_login_at or "—")[:16].replace("T", " "),
            str(len(tokens)),
        )
    _console().print(table)
    return 0


def _token(security: Security, actor: Actor, args: argparse.Namespace) -> int:
    token_id, token = security.create_token(actor, args.name, args.label or "")
    days = security.config.api_token_days
    print(f"已为 {args.name} 签发 API 令牌 {token_id}（{days} 天后失效）。")
    print("令牌只显示这一次，请妥善保存：")
    print(token)
    return 0


def _tokens(security: Security, actor: Actor, args: argparse.Namespace) -> int:
    table = Table("令牌", "说明", "签发时间", "到期", "最近使用", "状态", box=None)
    now = security.db.now().timestamp()
    for t in security.accounts.tokens(args.name):
        expired = t.expires_at is not None and t.expires_at <= now
        state = "已吊销" if t.revoked_at else ("已过期" if expired else "有效")
        expires = datetime.fromtimestamp(t.expires_at, SHANGHAI) if t.expires_at else None
        table.add_row(
            t.id,
            t.label or "—",
            t.created_at[:16].replace("T", " "),
            expires.strftime("%Y-%m-%d") if expires else "—",
            (t.last_used_at or "—")[:16].replace("T", " "),
            state,
        )
    _console().print(table)
    return 0


def _revoke(security: Security, actor: Actor, args: argparse.Namespace) -> int:
    security.revoke_token(actor, args.name, args.token_id)
    print(f"已吊销 {args.name} 的 API 令牌 {args.token_id}")
    return 0


USER_COMMANDS: dict[str, Handler] = {
    "add": _add,
    "list": _list,
    "disable": _disable,
    "enable": _enable,
    "passwd": _passwd,
    "token": _token,
    "tokens": _tokens,
    "revoke": _revoke,
}


def run_user(settings: Settings, args: argparse.Namespace) -> int:
    return USER_COMMANDS[args.user_command](_security(settings), _actor(), args)


# --- audit --------------------------------------------------------------------------------


def _entries_table(entries: list[Entry]) -> Table:
    table = Table("序号", "时间", "操作人", "地址", "操作", "对象", "结果", "说明", box=None)
    for e in entries:
        table.add_row(
            str(e.seq), e.at[:19].replace("T", " "), e.actor, e.address, e.action_label,
            e.object, e.result_label, e.detail,
        )  # fmt: skip
    return table


def run_audit(settings: Settings, args: argparse.Namespace) -> int:
    audit = _security(settings).audit
    if args.verify:
        result = audit.verify()
        if result.ok:
            print(f"审计日志完整：{result.count} 条记录，哈希链校验通过。")
            return 0
        print(
            f"审计日志校验失败：第 {result.bad_seq} 条 {result.reason}"
            f"（此前 {result.count} 条完好）。",
            file=sys.stderr,
        )
        return 1
    try:
        since = date.fromisoformat(args.since) if args.since else None
    except ValueError:
        raise ValueError(f"日期无效：{args.since}（应为 YYYY-MM-DD / expected a date)") from None
    entries = audit.entries(since=since)
    if args.json:
        print(json.dumps([e.as_json() for e in entries], ensure_ascii=False, indent=2))
    else:
        _console().print(_entries_table(entries))
    return 0
