"""Fixtures for integration tests against real server software: Matrix Synapse, an AT Protocol network, and a
private PostgreSQL server holding the store."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.store.database import open_store
from tests.peers.bluesky_network import BlueskyNetwork, bluesky_network, missing_parts
from tests.peers.postgres import private_postgres, server_binaries
from tests.peers.synapse import SynapseServer, start_synapse


def _unavailable(reason: str, what: str = "Synapse") -> None:
    """CI must run every test against real servers, so there a missing one fails; elsewhere it skips."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} CI must not skip the {what} tests.", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseServer]:
    """One private Synapse for the session; each test registers its own users so tests stay independent."""
    python = os.environ.get("PARLEY_SYNAPSE_PYTHON", "")
    if not python:
        _unavailable("Matrix Synapse is not available: set PARLEY_SYNAPSE_PYTHON to the python of its venv.")
    elif not Path(python).is_file():
        _unavailable(f"PARLEY_SYNAPSE_PYTHON points to {python}, which does not exist.")
    # Sessions that end after 30 days, as some homeservers configure: logins then say when (expires_in_ms),
    # which the token-health tests need; no test runs anywhere near that long.
    server = start_synapse(python, tmp_path_factory.mktemp("synapse"), extra_config={"session_lifetime": "30d"})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pg_engine() -> Iterator[Engine]:
    """The store, migrated, on a private PostgreSQL server of its own for each test module."""
    if server_binaries() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL must be installed in CI (make test installs it)")
        pytest.skip("PostgreSQL server binaries are not installed")
    with private_postgres() as url:
        engine = open_store(url=url)
        yield engine
        engine.dispose()


@pytest.fixture(scope="session")
def bluesky(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BlueskyNetwork]:
    """One private AT Protocol network (PDS + AppView) for the session, with the users brand, ann and bob."""
    reason = missing_parts()
    if reason:
        _unavailable(reason, "Bluesky")
    with bluesky_network(tmp_path_factory.mktemp("bluesky") / "network.log") as network:
        yield network
