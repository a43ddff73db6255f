"""Accounts, sessions, lockout and audit over one database, with every change audited.

The command line (`urbanreport user …`) and the portal's admin page both go through these
methods, so a change is checked by the same rules and leaves the same audit entry whichever
way it was made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from argon2 import PasswordHasher

from urbanreport.portal.access import Role
from urbanreport.portal.accounts import Accounts, PolicyError, User
from urbanreport.portal.audit import UNKNOWN_ACTOR, AuditLog
from urbanreport.portal.config import PortalConfig
from urbanreport.portal.database import Clock, Database, beijing_now
from urbanreport.portal.lockout import Lockout, account_key, address_key
from urbanreport.portal.sessions import Sessions

T = TypeVar("T")

#: Sign-in outcomes; the login page words them, the same for every kind of "invalid".
SIGNED_IN, INVALID, LOCKED = "ok", "invalid", "locked"

_WHY = {"unknown": "账户不存在", "password": "密码错误", "disabled": "账户已停用"}


@dataclass(frozen=True)
class Actor:
    """Who makes a change, and from where (a client address, or the command line)."""

    name: str
    address: str


@dataclass(frozen=True)
class SignIn:
    outcome: str
    user: User | None = None
    session_id: str | None = None


class Security:
    def __init__(
        self, config: PortalConfig, clock: Clock | None = None, hasher: PasswordHasher | None = None
    ) -> None:
        self.config = config
        self.db = Database(config.database, clock or beijing_now)
        self.accounts = Accounts(self.db, hasher)
        self.sessions = Sessions(self.db, config.session_idle, config.session_max)
        self.lockout = Lockout(self.db, config.lockout_failures, config.lockout_window)
        self.audit = AuditLog(self.db)

    def open_mode(self) -> bool:
        """No account exists yet: the single-person demo (loopback only)."""
        return not self.accounts.any_exist()

    # --- signing in ----------------------------------------------------------------------

    def sign_in(self, name: str, password: str, address: str) -> SignIn:
        keys = [account_key(name), address_key(address)]
        known = self.accounts.get(name) if name.strip() else None
        actor = known.name if known else UNKNOWN_ACTOR
        if self.lockout.locked(keys):
            self.audit.record(actor, address, "login", result="locked")
            return SignIn(LOCKED)
        user, why = self.accounts.verify_password(name, password)
        if user is None:
            now_locked = self.lockout.failed(keys)
            detail = _WHY.get(why, why) + ("；账户和地址已锁定" if now_locked else "")
            self.audit.record(actor, address, "login", result="failed", detail=detail)
            return SignIn(LOCKED if now_locked else INVALID)
        self.lockout.clear(keys[0])
        session_id = self.sessions.create(user.id)
        self.audit.record(user.name, address, "login")
        return SignIn(SIGNED_IN, user, session_id)

    # --- account changes, audited --------------------------------------------------------

    def _audited(self, actor: Actor, action: str, target: str, change: Callable[[], T]) -> T:
        """Run a change and record it; a refusal is recorded with its reason, then raised."""
        try:
            result = change()
        except PolicyError as exc:
            self.audit.record(actor.name, actor.address, action, target, "refused", str(exc))
            raise
        self.audit.record(actor.name, actor.address, action, target)
        return result

    def add_user(self, actor: Actor, name: str, role: Role, password: str) -> User:
        return self._audited(
            actor, "user.add", f"{name}（{role.label}）",
            lambda: self.accounts.add(name, role, password),
        )  # fmt: skip

    def set_password(self, actor: Actor, name: str, password: str) -> User:
        """A new password also lifts the account's lockout (the admin has checked who asks)."""
        user = self._audited(
            actor, "user.passwd", name, lambda: self.accounts.set_password(name, password)
        )
        self.lockout.clear(account_key(user.name))
        return user

    def set_active(self, actor: Actor, name: str, active: bool) -> User:
        action = "user.enable" if active else "user.disable"
        return self._audited(actor, action, name, lambda: self.accounts.set_active(name, active))

    def set_role(self, actor: Actor, name: str, role: Role) -> User:
        return self._audited(
            actor, "user.role", f"{name} → {role.label}", lambda: self.accounts.set_role(name, role)
        )

    def create_token(self, actor: Actor, name: str, label: str = "") -> tuple[str, str]:
        """(public id, token). Only the id is audited; the token is for the caller alone."""
        try:
            token_id, token = self.accounts.create_token(name, label, self.config.api_token_days)
        except PolicyError as exc:
            self.audit.record(actor.name, actor.address, "token.create", name, "refused", str(exc))
            raise
        self.audit.record(actor.name, actor.address, "token.create", f"{name} 令牌 {token_id}")
        return token_id, token

    def revoke_token(self, actor: Actor, name: str, token_id: str) -> None:
        def revoke() -> None:
            if not self.accounts.revoke_token(name, token_id):
                raise PolicyError(f"{name} 没有有效的令牌 {token_id}（no such active token）。")

        self._audited(actor, "token.revoke", f"{name} 令牌 {token_id}", revoke)
