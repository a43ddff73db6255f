"""The portal's own SQLite file: accounts, API tokens, sessions, lockouts and the audit log.

Why not the DuckDB warehouse: the warehouse has a single writer, and ingest holds that lock for
minutes while it loads a month of extracts. A sign-in, a session refresh or an audit entry must
be written at any moment, from the portal and from the command line at once; SQLite in WAL mode
gives exactly that (many readers, short serialised writes) in one small file. Keeping the
credentials out of the warehouse also keeps them out of every warehouse backup, export and
analyst's read-only connection.

The file is created with mode 0600 (SQLite gives its ``-wal`` and ``-shm`` companions the
same mode), and a looser mode found on an existing file is tightened at start-up.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sqlite3
import stat
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from urbanreport.core.clock import SHANGHAI
from urbanreport.core.clock import now as bureau_now

log = logging.getLogger(__name__)

#: Returns the current time, timezone-aware. Tests pass a clock they can move forward.
Clock = Callable[[], datetime]

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    password_hash TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    password_changed_at TEXT NOT NULL,
    last_login_at TEXT
);
CREATE TABLE IF NOT EXISTS api_tokens (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    label TEXT NOT NULL DEFAULT '',
    secret_sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at REAL,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS sessions (
    id_sha256 TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    csrf TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_seen REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS lockouts (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_start REAL NOT NULL,
    locked_until REAL
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    address TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    result TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
"""


def beijing_now() -> datetime:
    """The bureau's clock (Asia/Shanghai) to the whole second, as audit times are written."""
    return bureau_now().replace(microsecond=0)


class Database:
    """Short-lived connections to one SQLite file; safe from any thread or process.

    A connection per unit of work (about 0.1 ms to open) instead of a shared one: the portal
    serves requests from a thread pool, and the CLI writes to the same file concurrently.
    """

    def __init__(self, path: Path, clock: Clock = beijing_now) -> None:
        self.path = Path(path)
        self.clock = clock
        self._create()

    def now(self) -> datetime:
        return self.clock().astimezone(SHANGHAI)

    def secret(self, name: str) -> bytes:
        """A random key made on first use and kept in the file (e.g. for form tokens)."""
        key = f"secret:{name}"
        with self.write() as con:
            row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            if row is not None:
                return bytes.fromhex(row["value"])
            value = secrets.token_bytes(32)
            con.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value.hex()))
        return value

    def _create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            mode = stat.S_IMODE(os.fstat(fd).st_mode)
            if mode & 0o077:
                log.warning("门户数据库 %s 权限过宽（%o），已改为 0600", self.path.name, mode)
                os.fchmod(fd, 0o600)
        finally:
            os.close(fd)
        con = self._connect()
        try:
            # executescript runs outside the Python transaction handling; the script is one.
            con.executescript(
                f"BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            )
        finally:
            con.close()

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=15, isolation_level=None)
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA busy_timeout = 15000")
        con.execute("PRAGMA foreign_keys = ON")
        if con.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            con.execute("PRAGMA journal_mode = WAL")
        return con

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        con = self._connect()
        try:
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction, taken with the write lock at once (no upgrade deadlocks)."""
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()
