"""A throwaway PostgreSQL cluster for DuckLake tests (scripts/postgres.sh), and lake settings.

The `postgres` fixture (tests/conftest.py) starts one cluster per test session with password
authentication; each test that needs an empty lake asks for a database of its own.
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.factories import REPO_ROOT, make_settings
from urbanreport.core.config import CATALOG_PASSWORD_ENV, Settings

SCRIPT = REPO_ROOT / "scripts" / "postgres.sh"
NOT_INSTALLED = 3  # scripts/postgres.sh: PostgreSQL binaries absent


class PostgresMissing(RuntimeError):
    """No PostgreSQL binaries on this machine (the message says how to install them)."""


@dataclass
class Cluster:
    folder: Path
    port: int
    password: str
    _names: itertools.count = field(default_factory=lambda: itertools.count(1))

    def catalog(self, dbname: str) -> str:
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user=urbanreport"

    def new_database(self) -> str:
        """A fresh, empty database (so a fresh lake); returns its name."""
        name = f"lake_{os.getpid()}_{next(self._names)}"
        _script("createdb", self.folder, name, password=self.password)
        return name

    def lake_settings(self, home: Path, dbname: str, data_path: Path, extra: str = "") -> Settings:
        """Settings of a home whose warehouse is the lake in `dbname` with data in `data_path`."""
        config = (
            '[warehouse]\nbackend = "ducklake"\n'
            f'catalog = "{self.catalog(dbname)}"\ndata_path = "{data_path}"\n{extra}'
        )
        return make_settings(home, config)


def child_env(password: str, **extra: str) -> dict[str, str]:
    """The environment of a writer process started by a test: this checkout, the catalog's
    password, none of the caller's urbanreport settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("URBANREPORT_")}
    return env | {"PYTHONPATH": str(REPO_ROOT), CATALOG_PASSWORD_ENV: password} | extra


def _script(*args: object, password: str) -> subprocess.CompletedProcess:
    env = os.environ | {CATALOG_PASSWORD_ENV: password}
    proc = subprocess.run(
        [str(SCRIPT), *map(str, args)], env=env, capture_output=True, text=True, timeout=300
    )
    if proc.returncode == NOT_INSTALLED:
        raise PostgresMissing(proc.stderr.strip())
    if proc.returncode != 0:
        raise RuntimeError(f"postgres.sh {args[0]} failed:\n{proc.stderr}")
    return proc


def start() -> Cluster:
    """initdb + start in a new folder of the system temp dir (its parents must be traversable
    by the unprivileged user PostgreSQL runs as, which pytest's own 0700 folders are not)."""
    folder = Path(tempfile.mkdtemp(prefix="urbanreport-pg-"))
    # Quote, backslash and space: the password must survive every layer unchanged.
    password = f"pw '{secrets.token_urlsafe(12)}\\ x"
    try:
        proc = _script("start", folder, password=password)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Cluster(folder, int(proc.stdout.split()[-1]), password)


def stop(cluster: Cluster) -> None:
    try:
        _script("stop", cluster.folder, password=cluster.password)
    finally:
        shutil.rmtree(cluster.folder, ignore_errors=True)
