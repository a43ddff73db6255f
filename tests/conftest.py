"""Fixtures shared by several test files. Keep each one small and opt-in (requested by name)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

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


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The warehouse file of the scale-1 sample for 2023, ingested once for the session.

    Why a file to copy: the portal tests each build their own data directory, and ingesting
    takes about ten seconds; a test copies this file into its directory (`portal_helpers.
    with_warehouse`) and reads it there. The sample reproduces the published 2023 figures.
    """
    from urbanreport.core.config import load_settings
    from urbanreport.ingest.batches import ingest_all
    from urbanreport.sample import write_sample

    home = tmp_path_factory.mktemp("sample-2023")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("URBANREPORT_CONFIG", raising=False)
        settings = load_settings(home=home)
        write_sample(settings, years=[2023])
        ingest_all(settings)
    return settings.warehouse_path
