"""Personal accounts: names, roles, argon2 password hashes, and per-user API tokens.

Why each choice:

* Passwords are hashed with argon2id (``argon2-cffi``'s defaults, re-hashed on sign-in when
  the defaults move on). An unknown name is checked against a dummy hash, so the answer takes
  as long as for a known name with a wrong password: the timing does not tell which names exist.
* API tokens are 256-bit random secrets. Only their SHA-256 is stored (a slow hash adds nothing
  for a secret that cannot be guessed); the public id in front of the secret finds the row, and
  the digests are compared in constant time. The token is shown once, when it is made.
* Accounts are disabled, never deleted, so the audit log's names always point at someone.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from urbanreport.portal.access import Role
from urbanreport.portal.database import Database

NAME_RULE = re.compile(r"^[a-z][a-z0-9._-]{1,31}$")
PASSWORD_MIN_LENGTH = 10
PASSWORD_MIN_CLASSES = 3
PASSWORD_MAX_LENGTH = 1024  # a hash of megabytes of "password" is a denial of service
TOKEN_PREFIX = "urt"
TOKEN_RULE = re.compile(rf"^{TOKEN_PREFIX}_([0-9a-f]{{12}})_([A-Za-z0-9_-]{{43}})$")


class PolicyError(ValueError):
    """A name, password or change the rules refuse; the message is for the person."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: Role
    active: bool
    created_at: str
    password_changed_at: str
    last_login_at: str | None


@dataclass(frozen=True)
class ApiToken:
    id: str
    label: str
    created_at: str
    expires_at: float | None
    last_used_at: str | None
    revoked_at: str | None


def normalise_name(name: str) -> str:
    return name.strip().lower()


def check_name(name: str) -> str:
    """The account name as stored; refused unless 2–32 of a-z 0-9 . _ - starting with a letter."""
    normal = normalise_name(name)
    if not NAME_RULE.match(normal):
        raise PolicyError(
            "账户名须为 2–32 位小写字母、数字或 . _ -，并以字母开头"
            "（account name: 2-32 of a-z 0-9 . _ -, starting with a letter）。"
        )
    return normal


def password_classes(password: str) -> int:
    """How many of lower case, upper case, digits and other characters the password uses."""
    tests = (str.islower, str.isupper, str.isdigit)
    classes = sum(any(test(c) for c in password) for test in tests)
    return classes + any(not (c.islower() or c.isupper() or c.isdigit()) for c in password)


def check_password(password: str, name: str) -> None:
    """等保 password complexity: ≥10 characters from ≥3 classes, and not the account name."""
    if len(password) < PASSWORD_MIN_LENGTH or password_classes(password) < PASSWORD_MIN_CLASSES:
        raise PolicyError(
            f"密码须至少 {PASSWORD_MIN_LENGTH} 位，并包含大写字母、小写字母、数字、符号中的"
            f"至少 {PASSWORD_MIN_CLASSES} 类（password: at least {PASSWORD_MIN_LENGTH} "
            f"characters from at least {PASSWORD_MIN_CLASSES} classes）。"
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        raise PolicyError(f"密码过长（最多 {PASSWORD_MAX_LENGTH} 位 / too long）。")
    if name and name.lower() in password.lower():
        raise PolicyError("密码不得包含账户名（password must not contain the account name）。")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def _user(row: sqlite3.Row) -> User:
    return User(
        id=row["id"],
        name=row["name"],
        role=Role.parse(row["role"]),
        active=bool(row["active"]),
        created_at=row["created_at"],
        password_changed_at=row["password_changed_at"],
        last_login_at=row["last_login_at"],
    )


class Accounts:
    """The users table and the API tokens, over the portal database."""

    def __init__(self, db: Database, hasher: PasswordHasher | None = None) -> None:
        self.db = db
        self.hasher = hasher or PasswordHasher()
        self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))

    # --- users -------------------------------------------------------------------------

    def any_exist(self) -> bool:
        with self.db.read() as con:
            return con.execute("SELECT EXISTS (SELECT 1 FROM users)").fetchone()[0] == 1

    def get(self, name: str) -> User | None:
        with self.db.read() as con:
            row = con.execute(
                "SELECT * FROM users WHERE name = ?", (normalise_name(name),)
            ).fetchone()
        return _user(row) if row else None

    def all(self) -> list[User]:
        with self.db.read() as con:
            return [_user(r) for r in con.execute("SELECT * FROM users ORDER BY name")]

    def add(self, name: str, role: Role, password: str) -> User:
        name = check_name(name)
        check_password(password, name)
        now = self.db.now().isoformat()
        try:
            with self.db.write() as con:
                con.execute(
                    "INSERT INTO users (name, role, password_hash, created_at,"
                    " password_changed_at) VALUES (?, ?, ?, ?, ?)",
                    (name, role.key, self.hasher.hash(password), now, now),
                )
        except sqlite3.IntegrityError:
            raise PolicyError(f"账户 {name} 已存在（account exists）。") from None
        return self.require(name)

    def require(self, name: str) -> User:
        user = self.get(name)
        if user is None:
            raise PolicyError(f"没有账户 {normalise_name(name)}（no such account）。")
        return user

    def set_password(self, name: str, password: str) -> User:
        """New password; the user's sessions end (everyone signs in again with it)."""
        user = self.require(name)
        check_password(password, user.name)
        with self.db.write() as con:
            con.execute(
                "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?",
                (self.hasher.hash(password), self.db.now().isoformat(), user.id),
            )
            con.execute("DELETE FROM sessions WHERE user_id = ?", (user.id,))
        return user

    def set_active(self, name: str, active: bool) -> User:
        user = self.require(name)
        if not active:
            self._keep_an_admin(user, Role.VIEWER)
        with self.db.write() as con:
            con.execute("UPDATE users SET active = ? WHERE id = ?", (int(active), user.id))
            if not active:
                con.execute("DELETE FROM sessions WHERE user_id = ?", (user.id,))
        return self.require(name)

    def set_role(self, name: str, role: Role) -> User:
        user = self.require(name)
        self._keep_an_admin(user, role)
        with self.db.write() as con:
            con.execute("UPDATE users SET role = ? WHERE id = ?", (role.key, user.id))
        return self.require(name)

    def _keep_an_admin(self, user: User, new_role: Role) -> None:
        """Refuse to disable or demote the last active admin: nobody could manage users."""
        if user.role is not Role.ADMIN or not user.active or new_role is Role.ADMIN:
            return
        others = [u for u in self.all() if u.active and u.role is Role.ADMIN and u.id != user.id]
        if not others:
            raise PolicyError(
                f"{user.name} 是唯一的管理员，不能停用或降级（the last admin must stay）。"
            )

    def verify_password(self, name: str, password: str) -> tuple[User | None, str]:
        """(user, "ok") or (None, why): "unknown", "password" or "disabled".

        Takes the same time whether the name exists or not (a dummy hash stands in). The
        reason is for the audit log only; the person is told the same thing in every case.
        """
        with self.db.read() as con:
            row = con.execute(
                "SELECT * FROM users WHERE name = ?", (normalise_name(name),)
            ).fetchone()
        stored = row["password_hash"] if row else self._dummy_hash
        try:
            self.hasher.verify(stored, password[:PASSWORD_MAX_LENGTH])
            matched = len(password) <= PASSWORD_MAX_LENGTH
        except (VerificationError, InvalidHashError):
            matched = False
        if row is None:
            return None, "unknown"
        if not matched:
            return None, "password"
        if not row["active"]:
            return None, "disabled"
        user = _user(row)
        self._after_sign_in(user, stored, password)
        return user, "ok"

    def _after_sign_in(self, user: User, stored: str, password: str) -> None:
        rehash = self.hasher.check_needs_rehash(stored)
        with self.db.write() as con:
            con.execute(
                "UPDATE users SET last_login_at = ? WHERE id = ?",
                (self.db.now().isoformat(), user.id),
            )
            if rehash:
                con.execute(
                    "UPDATE users SET password_hash = ? WHERE id = ?",
                    (self.hasher.hash(password), user.id),
                )

    # --- API tokens --------------------------------------------------------------------

    def create_token(self, name: str, label: str = "", days: int = 365) -> tuple[str, str]:
        """(public id, the token): the token itself exists only in the return value."""
        user = self.require(name)
        token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        now = self.db.now()
        with self.db.write() as con:
            con.execute(
                "INSERT INTO api_tokens (id, user_id, label, secret_sha256, created_at,"
                " expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    token_id,
                    user.id,
                    label[:80],
                    _sha256(secret),
                    now.isoformat(),
                    (now + timedelta(days=days)).timestamp(),
                ),
            )
        return token_id, f"{TOKEN_PREFIX}_{token_id}_{secret}"

    def tokens(self, name: str) -> list[ApiToken]:
        user = self.require(name)
        with self.db.read() as con:
            rows = con.execute(
                "SELECT * FROM api_tokens WHERE user_id = ? ORDER BY created_at", (user.id,)
            ).fetchall()
        return [
            ApiToken(
                r["id"], r["label"], r["created_at"], r["expires_at"], r["last_used_at"],
                r["revoked_at"],
            )
            for r in rows
        ]  # fmt: skip

    def revoke_token(self, name: str, token_id: str) -> bool:
        user = self.require(name)
        with self.db.write() as con:
            cursor = con.execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ?"
                " AND revoked_at IS NULL",
                (self.db.now().isoformat(), token_id.strip(), user.id),
            )
        return cursor.rowcount == 1

    def verify_token(self, token: str) -> tuple[User, str] | None:
        """(user, token id) for a valid, unrevoked, unexpired token of an active user."""
        match = TOKEN_RULE.match(token)
        token_id, secret = match.groups() if match else ("", "")
        with self.db.read() as con:
            row = con.execute(
                "SELECT t.secret_sha256, t.revoked_at, t.expires_at, u.* FROM api_tokens t"
                " JOIN users u ON u.id = t.user_id WHERE t.id = ?",
                (token_id,),
            ).fetchone()
        expected = row["secret_sha256"] if row else _sha256("no such token")
        if not hmac.compare_digest(_sha256(secret), expected) or row is None:
            return None
        now = self.db.now()
        expired = row["expires_at"] is not None and row["expires_at"] <= now.timestamp()
        if row["revoked_at"] or expired or not row["active"]:
            return None
        with self.db.write() as con:
            con.execute(
                "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (now.isoformat(), token_id)
            )
        return _user(row), token_id
