"""Fixtures shared by several test files. Keep each one small and opt-in (requested by name)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests import postgres_cluster
from tests.postgres_cluster import Cluster

# Prefect servers started by tests (the harness, the integration server) never phone home.
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect server (SQLite, loopback) for the whole test session.

    Why session-scoped and opt-in: starting it takes about ten seconds, so it starts once, and
    only when a test that runs flows asks for it; other test files do not pay for it.
    """
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """One throwaway PostgreSQL cluster (loopback, password auth) for the DuckLake catalog tests.

    Started by scripts/postgres.sh into a temporary folder and stopped again at the end of the
    session. Without PostgreSQL installed the tests that ask for it skip, saying how to install
    it (`make test` installs it as root).
    """
    try:
        cluster = postgres_cluster.start()
    except postgres_cluster.PostgresMissing as exc:
        pytest.skip(str(exc))
    try:
        yield cluster
    finally:
        postgres_cluster.stop(cluster)
