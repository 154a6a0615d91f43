"""Fixtures of the tests that add accounts and sync through the real dialogs and controller.

`ctx`: the test's profile, with a QApplication and the test's own keyring service; `controller`: a
SyncController on `ctx`, shut down after the test. Import `ui_app_ctx` / `ui_controller`; tests ask for
`ctx` / `controller`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.context import AppContext
from app.sync.qt_bridge import SyncController
from app.ui.launch import application
from tests.sync_fakes import isolate_keyring


@pytest.fixture(name="ctx")
def ui_app_ctx(context: AppContext) -> AppContext:
    application()
    isolate_keyring(context)
    return context


@pytest.fixture(name="controller")
def ui_controller(ctx: AppContext, qtbot) -> Iterator[SyncController]:  # type: ignore[no-untyped-def]
    made = SyncController(ctx)
    yield made
    made.shutdown()
