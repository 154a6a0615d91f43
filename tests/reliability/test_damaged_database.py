"""A damaged database, and the way back: automatic backups (before migrations and daily) and restoring one.

A damaged file is refused untouched with a clear message that offers to restore the newest automatic
backup; restoring moves the damaged file aside (never deleting it) and copies the backup in, from the
command line (`parley restore-backup`) or from the window's start-up message.
"""

from __future__ import annotations

import argparse
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from app.context import open_context
from app.errors import DatabaseDamaged
from app.paths import ProfilePaths
from app.store.database import BACKUPS_KEPT, backup_sqlite, list_backups
from app.ui.launch import start_gui
from tests.peers.mastodon_feed import FeedServer
from tests.reliability.helpers import add_mastodon_account, message_count, parley

AREA = "Storage faults"


@pytest.fixture
def feed() -> Iterator[FeedServer]:
    server = FeedServer(400).start()
    yield server
    server.stop()


def age_backups(folder: Path, days: int = 2) -> list[Path]:
    """Make every backup look `days` older, as if Parley had not been started since."""
    aged = []
    for backup in list_backups(folder):
        moment = datetime.strptime(backup.name.split("-")[1], "%Y%m%dT%H%M%S%fZ") - timedelta(days=days)
        aged.append(backup.rename(folder / f"parley-{moment:%Y%m%dT%H%M%S%f}Z-{backup.name.split('-', 2)[2]}"))
    return sorted(aged, reverse=True)


def profile_with_a_backup(tmp_path: Path, feed: FeedServer) -> Path:
    """A profile that synced 400 messages; started again two days later, it took a daily backup of them."""
    data_dir = tmp_path / "profile"
    ctx = open_context(ProfilePaths(data_dir))
    add_mastodon_account(ctx, feed.url, feed.token)
    ctx.close()
    assert parley(data_dir, "sync", "--once").returncode == 0
    age_backups(data_dir / "backups")
    open_context(ProfilePaths(data_dir)).close()
    newest = list_backups(data_dir / "backups")[0]
    assert newest.name.endswith("-daily.sqlite3") and message_count(newest) == 400
    return data_dir


def damage(database: Path, how: str) -> bytes:
    data = bytearray(database.read_bytes())
    if how == "garbage":
        data = bytearray(b"not a database: a shopping list\n" * 100)
    else:  # "malformed": the header stays, the schema page behind it is overwritten
        data[100:4096] = b"\xde\xad\xbe\xef" * 999
    database.write_bytes(bytes(data))
    return bytes(data)


@pytest.mark.parametrize("how", ["garbage", "malformed"])
def test_a_damaged_database_is_refused_untouched_and_the_newest_backup_restored_from_the_cli(
    tmp_path: Path, feed: FeedServer, secret_service: dict[str, str], how: str
) -> None:
    """Fault: the database file is damaged ({id}) while Parley is closed.

    Survives: every command refuses it with one clear line that offers `parley restore-backup`, leaving
    the file untouched; `parley restore-backup` puts the newest automatic backup in its place and keeps
    the damaged file beside it; the restored profile opens with its messages.
    """
    data_dir = profile_with_a_backup(tmp_path, feed)
    database = data_dir / "parley.sqlite3"
    damaged = damage(database, how)

    refused = parley(data_dir, "sync", "--once")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "damaged" in refused.stderr and "parley restore-backup" in refused.stderr
    assert database.read_bytes() == damaged

    listed = parley(data_dir, "restore-backup", "--list")
    assert listed.returncode == 0 and "daily" in listed.stdout
    restored = parley(data_dir, "restore-backup")
    assert restored.returncode == 0, restored.stderr
    assert "Restored the backup parley-" in restored.stderr
    (kept,) = data_dir.glob("parley.sqlite3.damaged-*")
    assert kept.read_bytes() == damaged
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert message_count(database) == 400
    assert parley(data_dir, "sync", "--once").returncode == 0


def test_restoring_without_any_backup_says_so_and_changes_nothing(tmp_path: Path) -> None:
    """Fault: a damaged database in a profile that has no automatic backup yet.

    Survives: the start-up message says there is no backup; `parley restore-backup` exits 2 with one line
    and leaves the damaged file where it was.
    """
    data_dir = tmp_path / "profile"
    data_dir.mkdir()
    database = data_dir / "parley.sqlite3"
    database.write_bytes(b"garbage" * 100)
    refused = parley(data_dir, "inbox")
    assert refused.returncode == 2 and "no automatic backup yet" in refused.stderr
    result = parley(data_dir, "restore-backup")
    assert result.returncode == 2 and "no automatic backup" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert database.read_bytes() == b"garbage" * 100


def test_a_daily_backup_is_taken_once_a_day_and_only_the_newest_few_are_kept(
    tmp_path: Path, secret_service: dict[str, str]
) -> None:
    """Fault: a profile whose newest backup is two days old, with more old backups than are kept.

    Survives: opening it takes a fresh, checked "daily" backup and prunes to the newest few; opening it
    again the same day takes none.
    """
    paths = ProfilePaths(tmp_path / "profile")
    open_context(paths).close()
    for days in range(2, 2 + BACKUPS_KEPT + 1):
        copy = backup_sqlite(paths.database, paths.backups, reason="old")
        assert copy is not None
        stamp = (datetime.now(UTC) - timedelta(days=days)).strftime("%Y%m%dT%H%M%S%fZ")
        copy.rename(paths.backups / f"parley-{stamp}-old.sqlite3")

    open_context(paths).close()
    backups = list_backups(paths.backups)
    assert len(backups) == BACKUPS_KEPT and backups[0].name.endswith("-daily.sqlite3")
    open_context(paths).close()
    assert list_backups(paths.backups) == backups


def test_quiet_damage_found_by_the_daily_check_keeps_the_good_backups(
    tmp_path: Path, feed: FeedServer, secret_service: dict[str, str]
) -> None:
    """Fault: a database damaged deep inside a table, where opening it reads nothing wrong.

    Survives: the daily backup's integrity check catches it: the bad copy is deleted, the older good
    backup stays, and start-up stops with the damaged-database message that offers the restore.
    """
    data_dir = profile_with_a_backup(tmp_path, feed)
    backups = data_dir / "backups"
    good = age_backups(backups)
    database = data_dir / "parley.sqlite3"
    data = bytearray(database.read_bytes())
    page = 4096
    middle = (len(data) // page // 2) * page
    data[middle + 8 : middle + page] = b"\x07" * (page - 8)  # a leaf page's cells, behind its header
    database.write_bytes(bytes(data))

    with pytest.raises(DatabaseDamaged, match="daily check failed") as refused:
        open_context(ProfilePaths(data_dir))
    assert "parley restore-backup" in refused.value.hint
    assert list_backups(backups) == good


def test_the_start_up_message_for_a_damaged_database_restores_the_last_backup_and_opens_the_window(
    qtbot, tmp_path: Path, feed: FeedServer, secret_service: dict[str, str]
) -> None:
    """Fault: the window is started on a damaged database (its schema page overwritten).

    Survives: the start-up message names the damage and offers "Restore last backup"; clicking it moves
    the damaged file aside (kept, not deleted), restores the newest backup and opens the main window on it.
    """
    data_dir = profile_with_a_backup(tmp_path, feed)
    damaged = damage(data_dir / "parley.sqlite3", "malformed")
    session = start_gui(argparse.Namespace(data_dir=str(data_dir), demo=False, offline=False, verbose=False))
    try:
        box = session.error_box
        assert session.window is None and box is not None
        qtbot.waitUntil(box.isVisible)
        assert "damaged" in box.text()
        restore = box.findChild(QPushButton, "restoreBackup")
        assert restore is not None and restore.text() == "Restore last backup"
        qtbot.mouseClick(restore, Qt.MouseButton.LeftButton)

        qtbot.waitUntil(lambda: session.window is not None and session.window.isVisible())
        assert session.exit_code is None and not box.isVisible()
        assert session.window.inbox_model.rowCount() == 80  # 400 messages, five to a thread
        assert "Restored the backup" in session.window.statusBar().currentMessage()
        (kept,) = data_dir.glob("parley.sqlite3.damaged-*")
        assert kept.read_bytes() == damaged
    finally:
        session.close()  # stops the sync it started, as quitting does
        for widget in (session.window, session.error_box):
            if widget is not None:
                widget.close()
                widget.deleteLater()
