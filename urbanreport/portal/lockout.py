"""Failed sign-ins: after 5 within 15 minutes, the account and the address are locked 15 minutes.

Both are counted, because each alone is easy to get around: one address guessing many
passwords for one account, or many accounts from one address. A name that is not an account is
counted like one (nothing tells an attacker which names exist), under the SHA-256 of the typed
name: a password typed into the name field by mistake is never stored. A successful sign-in
clears the account's count, not the address's (else an attacker with one account of their own
could reset the count between guesses at others).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import timedelta

from urbanreport.portal.database import Database


def account_key(name: str) -> str:
    digest = hashlib.sha256(name.strip().lower().encode("utf-8", "surrogateescape"))
    return "account:" + digest.hexdigest()[:32]


def address_key(address: str) -> str:
    return "address:" + address


class Lockout:
    def __init__(self, db: Database, failures: int, window: timedelta) -> None:
        self.db = db
        self.limit = failures
        self.window = window.total_seconds()

    def locked(self, keys: Iterable[str]) -> bool:
        now = self.db.now().timestamp()
        keys = list(keys)
        marks = ",".join("?" * len(keys))
        with self.db.read() as con:
            row = con.execute(
                f"SELECT COUNT(*) FROM lockouts WHERE key IN ({marks}) AND locked_until > ?",
                (*keys, now),
            ).fetchone()
        return row[0] > 0

    def failed(self, keys: Iterable[str]) -> bool:
        """Count one failure for each key; True if that locked any of them."""
        now = self.db.now().timestamp()
        locked = False
        with self.db.write() as con:
            # forget what no longer counts, so names tried once do not pile up for ever
            con.execute(
                "DELETE FROM lockouts WHERE window_start < ? AND COALESCE(locked_until, 0) < ?",
                (now - self.window, now),
            )
            for key in keys:
                row = con.execute(
                    "SELECT failures, window_start FROM lockouts WHERE key = ?", (key,)
                ).fetchone()
                fresh = row is None or now - row["window_start"] >= self.window
                failures = 1 if fresh else row["failures"] + 1
                start = now if fresh else row["window_start"]
                until = now + self.window if failures >= self.limit else None
                locked |= until is not None
                con.execute(
                    "INSERT OR REPLACE INTO lockouts (key, failures, window_start, locked_until)"
                    " VALUES (?, ?, ?, ?)",
                    (key, 0 if until else failures, now if until else start, until),
                )
        return locked

    def clear(self, key: str) -> None:
        with self.db.write() as con:
            con.execute("DELETE FROM lockouts WHERE key = ?", (key,))
