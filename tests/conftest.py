"""Shared fixtures: Qt offscreen, a private OS keyring, a profile on a real SQLite file."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from app.context import AppContext, open_context  # noqa: E402
from app.domain.clock import ManualClock  # noqa: E402
from app.paths import ProfilePaths  # noqa: E402
from tests.peers.keyring_session import private_secret_service  # noqa: E402
from tests.peers.mastodon_mock import MastodonMock, start_mastodon_mock  # noqa: E402


@pytest.fixture(scope="session")
def secret_service() -> Iterator[dict[str, str]]:
    """The real Secret Service (gnome-keyring in a private dbus session) for the whole test run."""
    with private_secret_service() as env:
        saved = {key: os.environ.get(key) for key in env}
        os.environ.update(env)
        try:
            yield env
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.fixture
def profile(tmp_path: Path) -> ProfilePaths:
    return ProfilePaths(tmp_path / "profile")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def context(profile: ProfilePaths, secret_service: dict[str, str]) -> Iterator[AppContext]:
    ctx = open_context(profile)
    yield ctx
    ctx.close()


@pytest.fixture(scope="session")
def mastodon_server() -> Iterator[MastodonMock]:
    server = start_mastodon_mock()
    yield server
    server.stop()
