"""The audit log (安全审计): who did what, when, from where, to what, with which result.

Append-only in two ways:

* SQLite triggers refuse ``UPDATE`` and ``DELETE`` on the table, so no code path of the
  project can change an entry by mistake;
* each entry carries the SHA-256 of the previous entry's hash and its own fields, so an edit,
  a deletion or a reordering made behind SQLite's back (another tool, a copied-in file) breaks
  the chain at that entry, and `verify` names it.

A hash chain cannot notice the newest entries being cut off the end, nor a forger who rewrites
the whole chain from the edit onward. Against that every entry is also written, as it is made,
to the ``urbanreport.audit`` logger; send that logger to the bureau's syslog or log server and
the copy there is out of reach of whoever edits this file.

Never in an entry: a password, a token, a session id, a query string, or the content of a
report or an upload. Unknown account names are recorded as 未知账户 (a mistyped password often
lands in the name field).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import asdict, dataclass
from datetime import date, datetime, time

from urbanreport.core.clock import SHANGHAI
from urbanreport.portal.database import Database

log = logging.getLogger("urbanreport.audit")

GENESIS = "0" * 64
FIELDS = ("seq", "at", "actor", "address", "action", "object", "result", "detail")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")

#: Actions, as stored (stable codes) and as shown to people.
ACTIONS = {
    "login": "登录",
    "logout": "退出",
    "download": "下载",
    "publish": "发布",
    "withdraw": "撤回发布",
    "upload": "上传",
    "user.add": "新建账户",
    "user.disable": "停用账户",
    "user.enable": "启用账户",
    "user.passwd": "修改密码",
    "user.role": "修改角色",
    "token.create": "签发API令牌",
    "token.revoke": "吊销API令牌",
    "api.auth": "API认证",
    "url.credential": "地址中携带凭据",
    "csrf": "表单校验",
    "denied": "越权访问",
}
RESULTS = {"ok": "成功", "failed": "失败", "refused": "拒绝", "locked": "已锁定"}

#: The actor of a sign-in with a name that is no account.
UNKNOWN_ACTOR = "未知账户"
#: The actor of a request made before signing in.
ANONYMOUS_ACTOR = "（未登录）"
#: The address of a change made on the server's command line.
LOCAL_ADDRESS = "本机命令行"


@dataclass(frozen=True)
class Entry:
    seq: int
    at: str
    actor: str
    address: str
    action: str
    object: str
    result: str
    detail: str
    prev_hash: str
    hash: str

    @property
    def action_label(self) -> str:
        return ACTIONS.get(self.action, self.action)

    @property
    def result_label(self) -> str:
        return RESULTS.get(self.result, self.result)

    def as_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Verification:
    ok: bool
    count: int
    bad_seq: int | None = None
    reason: str = ""


def entry_hash(prev_hash: str, values: dict[str, object]) -> str:
    """SHA-256 over the previous hash and the entry's fields, as canonical JSON."""
    payload = json.dumps([prev_hash, *(values[k] for k in FIELDS)], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _clean(text: object, limit: int) -> str:
    """One line, bounded: a field cannot forge a second log line or grow without end."""
    return _CONTROL.sub(" ", str(text or "")).strip()[:limit]


class AuditLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(
        self,
        actor: str,
        address: str,
        action: str,
        object_: str = "",
        result: str = "ok",
        detail: str = "",
    ) -> Entry:
        values: dict[str, object] = {
            "at": self.db.now().isoformat(),
            "actor": _clean(actor, 64),
            "address": _clean(address, 64),
            "action": _clean(action, 32),
            "object": _clean(object_, 300),
            "result": _clean(result, 16),
            "detail": _clean(detail, 300),
        }
        with self.db.write() as con:
            last = con.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            values["seq"] = (last["seq"] + 1) if last else 1
            prev = last["hash"] if last else GENESIS
            digest = entry_hash(prev, values)
            con.execute(
                "INSERT INTO audit (seq, at, actor, address, action, object, result, detail,"
                " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*(values[k] for k in FIELDS), prev, digest),
            )
        entry = Entry(**values, prev_hash=prev, hash=digest)  # type: ignore[arg-type]
        log.info("%s", json.dumps(entry.as_json(), ensure_ascii=False))
        return entry

    def entries(
        self, since: date | None = None, before: int | None = None, limit: int | None = None
    ) -> list[Entry]:
        """Entries from ``since`` (a Beijing date) on, oldest first; ``before``/``limit`` page
        backwards from the newest (the admin page)."""
        sql, params = "SELECT * FROM audit WHERE 1 = 1", []
        if since is not None:
            sql += " AND at >= ?"
            params.append(datetime.combine(since, time(), SHANGHAI).isoformat())
        if before is not None:
            sql += " AND seq < ?"
            params.append(before)
        sql += " ORDER BY seq DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self.db.read() as con:
            rows = con.execute(sql, params).fetchall()
        return [Entry(**dict(r)) for r in reversed(rows)]

    def verify(self) -> Verification:
        """Walk the chain from the first entry; the first entry that does not fit is named."""
        prev, count, expected_seq = GENESIS, 0, 1
        with self.db.read() as con:
            for row in con.execute("SELECT * FROM audit ORDER BY seq"):
                values = dict(row)
                if values["seq"] != expected_seq:
                    return Verification(False, count, expected_seq, "缺少条目（entry missing）")
                if values["prev_hash"] != prev:
                    return Verification(False, count, values["seq"], "链接断开（chain broken）")
                if entry_hash(prev, values) != values["hash"]:
                    return Verification(False, count, values["seq"], "内容被改动（entry edited）")
                prev, count, expected_seq = values["hash"], count + 1, expected_seq + 1
        return Verification(True, count)
