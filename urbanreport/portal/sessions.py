"""Browser sessions after sign-in: 30 minutes idle, 8 hours in all (both configurable).

The cookie carries a random 256-bit id; the database keeps only its SHA-256, so a copy of the
database does not let anyone take over a session. Each session has its own form token (CSRF),
and a new session — a new id — is made at every sign-in, so an id planted before sign-in is
worth nothing after it. The user's role and status are read on every request: disabling an
account or changing its role takes effect at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from urbanreport.portal.access import VIA_SESSION, Principal, Role
from urbanreport.portal.database import Database


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class Lookup:
    """What a session cookie turned out to be: a principal, or expired/unknown (None)."""

    principal: Principal | None
    expired: bool = False


class Sessions:
    def __init__(self, db: Database, idle: timedelta, max_age: timedelta) -> None:
        self.db = db
        self.idle = idle.total_seconds()
        self.max_age = max_age.total_seconds()

    def create(self, user_id: int) -> str:
        """A new session for the user; returns the cookie value (never stored as such)."""
        session_id = secrets.token_urlsafe(32)
        now = self.db.now().timestamp()
        with self.db.write() as con:
            con.execute(
                "DELETE FROM sessions WHERE last_seen < ? OR created_at < ?",
                (now - self.idle, now - self.max_age),
            )
            con.execute(
                "INSERT INTO sessions (id_sha256, user_id, csrf, created_at, last_seen)"
                " VALUES (?, ?, ?, ?, ?)",
                (_digest(session_id), user_id, secrets.token_urlsafe(32), now, now),
            )
        return session_id

    def resolve(self, session_id: str) -> Lookup:
        """The signed-in principal, refreshing the idle timer; expired sessions are removed."""
        key = _digest(session_id)
        now = self.db.now().timestamp()
        with self.db.write() as con:
            row = con.execute(
                "SELECT s.csrf, s.created_at, s.last_seen, u.id, u.name, u.role, u.active"
                " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_sha256 = ?",
                (key,),
            ).fetchone()
            if row is None:
                return Lookup(None)
            too_old = now - row["created_at"] >= self.max_age
            if too_old or now - row["last_seen"] >= self.idle or not row["active"]:
                con.execute("DELETE FROM sessions WHERE id_sha256 = ?", (key,))
                return Lookup(None, expired=bool(row["active"]))
            con.execute("UPDATE sessions SET last_seen = ? WHERE id_sha256 = ?", (now, key))
        principal = Principal(
            name=row["name"],
            role=Role.parse(row["role"]),
            via=VIA_SESSION,
            user_id=row["id"],
            csrf=row["csrf"],
        )
        return Lookup(principal)

    def end(self, session_id: str) -> None:
        with self.db.write() as con:
            con.execute("DELETE FROM sessions WHERE id_sha256 = ?", (_digest(session_id),))
