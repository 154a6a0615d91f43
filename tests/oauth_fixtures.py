"""Fixtures and helpers shared by the tests of the OAuth 2 connectors (X, Reddit) against their emulators.

`sync`: a SyncEngine on the test's `ctx` with a writer thread of its own, shut down after the test;
`bundle`: an emulator user's tokens as the keyring keeps them. Import `oauth_sync`; tests ask for `sync`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.context import AppContext
from app.platforms.oauth2 import TokenBundle
from app.sync.engine import SyncEngine
from app.sync.writer import StoreWriter


@pytest.fixture(name="sync")
def oauth_sync(ctx: AppContext) -> Iterator[SyncEngine]:
    writer = StoreWriter()
    yield SyncEngine(ctx, writer=writer)
    writer.shutdown(timeout=5)


def bundle(user: dict[str, Any]) -> str:
    return TokenBundle(user["access_token"], user["refresh_token"]).dumps()
