"""Fixtures shared by several test files. Keep each one small and opt-in (requested by name)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

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
