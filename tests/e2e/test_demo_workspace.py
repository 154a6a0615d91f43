"""`parley --demo` end to end: embedded server, seeding, keyring, sync, live traffic, and a restart."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

import keyring
from pytestqt.qtbot import QtBot

from app import APP_ID
from app.paths import ProfilePaths
from app.ui.launch import GuiSession, start_gui


def demo_args(data_dir: Path) -> argparse.Namespace:
    return argparse.Namespace(data_dir=str(data_dir), demo=True, offline=False, verbose=False, command=None)


def test_demo_fills_the_inbox_keeps_living_and_survives_a_restart(
    qtbot: QtBot, tmp_path: Path, secret_service: dict[str, str]
) -> None:
    data_dir = tmp_path / "profile"
    session: GuiSession = start_gui(demo_args(data_dir), demo_traffic_interval_s=1.0)
    assert session.window is not None and session.ctx is not None
    window, ctx = session.window, session.ctx
    try:
        assert ctx.paths.root == ProfilePaths(data_dir.resolve()).demo().root, "the demo has a profile of its own"
        qtbot.waitUntil(lambda: window.inbox_model.rowCount() >= 200, timeout=30_000)
        seeded = window.inbox_model.rowCount()
        qtbot.waitUntil(lambda: len(window.playbook.visible_titles()) >= 20)  # the starter playbook is loaded
        messages_before = _message_count(ctx.paths.database)
        # The traffic generator posts through the server's API; the next sync brings it in unasked.
        qtbot.waitUntil(lambda: _message_count(ctx.paths.database) > messages_before, timeout=20_000)

        account_id = session.demo.session.account.id
        token = keyring.get_password(APP_ID, ctx.secrets.entry_name(account_id))
        assert token and len(token) > 10, "the demo account's token is in the OS keyring"
        session.demo.session.traffic.stop()
        window.resize(760, 560)  # the offscreen screen is 800 x 800: a layout that fits it is restored as is
        qtbot.waitUntil(lambda: window.width() == 760)
        window.splitter.setSizes([270, 308, 180])
        layout = window.splitter.sizes()
        assert layout[0] == 270
    finally:
        window.close()
        session.close()

    for path in [ctx.paths.database, *ctx.paths.logs.glob("*"), ctx.paths.settings_file, ctx.paths.window_state_file]:
        if path.exists():
            assert token.encode() not in path.read_bytes(), f"the token leaked into {path.name}"

    again = start_gui(demo_args(data_dir), demo_traffic_interval_s=3600)
    assert again.window is not None
    try:
        assert again.window.inbox_model.rowCount() >= seeded, "the conversations were kept"
        assert again.window.splitter.sizes() == layout, "the layout was restored"
        assert (again.window.width(), again.window.height()) == (760, 560)
        qtbot.waitUntil(lambda: again.demo is not None and again.demo.session is not None, timeout=30_000)
    finally:
        again.window.close()
        again.close()


def _message_count(database: Path) -> int:
    with sqlite3.connect(database, timeout=10) as connection:
        return int(connection.execute("SELECT count(*) FROM messages").fetchone()[0])
