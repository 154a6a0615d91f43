"""Start-up: a broken profile gives a clear message box, a one-line stderr error and exit code 2, touching nothing;
a missing keyring gives a warning while the window still opens on cached data."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.core
import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from app.ui.launch import EXIT_START_FAILED, GuiSession, start_gui
from tests.ui.helpers import add_mastodon, fill_inbox

REPO_ROOT = Path(__file__).resolve().parents[2]
GARBAGE = b"this is not a database, it is a shopping list: oats, coffee\n" * 50


def gui_args(data_dir: Path, *, demo: bool = False) -> argparse.Namespace:
    return argparse.Namespace(data_dir=str(data_dir), demo=demo, offline=False, verbose=False)


def visible_message_box() -> QMessageBox | None:
    return next(
        (w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()),
        None,
    )


@pytest.fixture
def session_cleanup() -> Iterator[list[GuiSession]]:
    sessions: list[GuiSession] = []
    yield sessions
    for session in sessions:
        if session.error_box is not None:
            session.error_box.close()
            session.error_box.deleteLater()
        if session.window is not None:
            session.window.close()
            session.window.deleteLater()
        if session.ctx is not None:
            session.ctx.close()


def test_corrupt_database_shows_the_error_exits_2_and_leaves_the_file_untouched(
    qtbot, tmp_path: Path, capsys, session_cleanup: list[GuiSession]
) -> None:
    profile = tmp_path / "profile"
    profile.mkdir()
    database = profile / "parley.sqlite3"
    database.write_bytes(GARBAGE)

    session = start_gui(gui_args(profile))
    session_cleanup.append(session)

    assert session.exit_code == EXIT_START_FAILED and session.window is None
    qtbot.waitUntil(lambda: visible_message_box() is not None)
    box = visible_message_box()
    assert box is not None and box.icon() is QMessageBox.Icon.Critical
    assert "is damaged or is not a Parley database" in box.text()
    assert "backup" in box.informativeText()
    err = capsys.readouterr().err
    assert err.startswith("parley: The database") and err.count("\n") == 1
    assert database.read_bytes() == GARBAGE
    assert not (profile / "window.ini").exists() and not (profile / "settings.toml").exists()


def test_data_dir_that_cannot_be_created_shows_the_error_and_exits_2(
    qtbot, tmp_path: Path, capsys, session_cleanup: list[GuiSession]
) -> None:
    # A folder under a regular file can never be created, even by root (for whom chmod blocks nothing).
    blocker = tmp_path / "notes.txt"
    blocker.write_text("keep me\n")
    session = start_gui(gui_args(blocker / "profile"))
    session_cleanup.append(session)

    assert session.exit_code == EXIT_START_FAILED
    qtbot.waitUntil(lambda: visible_message_box() is not None)
    box = visible_message_box()
    assert box is not None and "Cannot create the profile folder" in box.text()
    assert "--data-dir" in box.informativeText()
    assert "Cannot create the profile folder" in capsys.readouterr().err
    assert blocker.read_text() == "keep me\n"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes through chmod 0o500")
def test_read_only_data_dir_shows_the_error_and_exits_2(
    qtbot, tmp_path: Path, session_cleanup: list[GuiSession]
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        session = start_gui(gui_args(locked))
        session_cleanup.append(session)
        assert session.exit_code == EXIT_START_FAILED
        qtbot.waitUntil(lambda: visible_message_box() is not None)
        assert "not writable" in visible_message_box().text()  # type: ignore[union-attr]
    finally:
        locked.chmod(0o700)


def test_command_line_start_on_a_corrupt_database_prints_one_clear_line(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    profile.mkdir()
    (profile / "parley.sqlite3").write_bytes(GARBAGE)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("PARLEY_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(profile)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("parley: The database") and "damaged" in lines[0]
    assert "Traceback" not in result.stderr
    assert (profile / "parley.sqlite3").read_bytes() == GARBAGE


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch, secret_service: dict[str, str]) -> Iterator[None]:
    previous = keyring.get_keyring()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    keyring.core.init_backend()
    yield
    keyring.set_keyring(previous)


def test_missing_keyring_shows_a_warning_and_the_cached_inbox(
    qtbot, profile, ui_ctx, no_keyring: None, session_cleanup: list[GuiSession]
) -> None:
    fill_inbox(ui_ctx, add_mastodon(ui_ctx), 4)
    ui_ctx.close()
    session = start_gui(gui_args(profile.root))
    session_cleanup.append(session)
    window = session.window
    assert window is not None and session.exit_code is None
    qtbot.waitUntil(window.banner.isVisible)
    assert "no OS keyring is available" in window.banner.text()
    assert "gnome-keyring" in window.banner.text()  # says how to fix it
    assert window.keyring_label.isVisible()
    assert window.inbox_model.rowCount() == 4


def test_with_a_keyring_there_is_no_warning(qtbot, profile, secret_service, session_cleanup) -> None:
    session = start_gui(gui_args(profile.root))
    session_cleanup.append(session)
    assert session.window is not None
    qtbot.waitUntil(session.window.isVisible)
    assert not session.window.banner.isVisible() and not session.window.keyring_label.isVisible()
