"""UI fixtures: a profile on a real SQLite file filled through the real ingest path, and a shown main window."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from app.context import AppContext, open_context
from app.domain.clock import ManualClock
from app.paths import ProfilePaths
from app.ui.launch import application, build_main_window
from app.ui.main_window import MainWindow
from tests.factories import T0
from tests.ui.helpers import add_mastodon, fill_inbox, show_window


@pytest.fixture
def ui_clock() -> ManualClock:
    return ManualClock(T0 + timedelta(hours=2))


@pytest.fixture
def ui_ctx(profile: ProfilePaths, ui_clock: ManualClock, secret_service: dict[str, str]) -> Iterator[AppContext]:
    application()
    ctx = open_context(profile, clock=ui_clock)
    yield ctx
    ctx.close()


@pytest.fixture
def seeded_ctx(ui_ctx: AppContext) -> AppContext:
    fill_inbox(ui_ctx, add_mastodon(ui_ctx), 12)
    return ui_ctx


@pytest.fixture
def window(qtbot, seeded_ctx: AppContext) -> MainWindow:  # type: ignore[no-untyped-def]
    return show_window(qtbot, build_main_window(seeded_ctx))
