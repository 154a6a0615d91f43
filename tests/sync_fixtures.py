"""Fixtures shared by the sync tests (engine, controller, account service), imported into their modules.

`ctx`: the test's profile (real SQLite file, real keyring under a service name of the test's own) on the
controllable clock; `fake`: the FAKE platform of tests/sync_fakes.py; `add_account`: a Mastodon account with
its token in the keyring. Import `sync_ctx` / `sync_fake`; tests ask for `ctx` / `fake`.
"""

from __future__ import annotations

import pytest

from app.context import AppContext
from app.domain.clock import ManualClock
from app.domain.models import AccountRef, Platform
from app.store import accounts
from tests.factories import T0
from tests.sync_fakes import FakePlatform, isolate_keyring


@pytest.fixture(name="ctx")
def sync_ctx(context: AppContext, clock: ManualClock) -> AppContext:
    isolate_keyring(context)
    context.clock = clock
    return context


@pytest.fixture(name="fake")
def sync_fake() -> FakePlatform:
    return FakePlatform()


def add_account(ctx: AppContext, name: str, *, token: str | None = "token-") -> AccountRef:
    """A Mastodon account called `name`, its token (`token` + name) in the keyring unless `token` is None."""
    account = accounts.add_account(
        ctx.engine, platform=Platform.MASTODON, name=name, base_url="https://m.example", now=T0
    )
    if token is not None:
        ctx.secrets.set(account.id, token + name)
    return account
