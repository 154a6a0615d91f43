"""Storage faults under a real SQLite profile while it syncs: a locked, a read-only and a full database.

Each fault hits the app while it syncs a local Mastodon-API feed through the real engine and connector.
Whatever the fault: a clear message, nothing half-written, and the sync carries on once the fault is gone.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event

from app.context import AppContext, open_context
from app.domain.models import AccountRef, AccountState
from app.paths import ProfilePaths
from app.store import accounts
from app.sync.engine import SyncEngine
from app.sync.writer import StoreWriter
from tests.peers.mastodon_feed import FeedServer
from tests.reliability.helpers import (
    add_mastodon_account,
    assert_cursor_covers_only_what_is_stored,
    message_count,
    parley,
    real_connector,
)

AREA = "Storage faults"


@pytest.fixture
def feed() -> Iterator[FeedServer]:
    server = FeedServer(400).start()
    yield server
    server.stop()


@pytest.fixture
def sync_engine(context: AppContext) -> Iterator[SyncEngine]:
    writer = StoreWriter()
    yield SyncEngine(context, connector_factory=real_connector, writer=writer)
    writer.shutdown(timeout=5)


def add_account(ctx: AppContext, feed: FeedServer) -> AccountRef:
    return add_mastodon_account(ctx, feed.url, feed.token)


# -- locked by another process -----------------------------------------------------------------------------


def test_a_database_locked_by_another_process_waits_then_says_so_and_writes_nothing(
    context: AppContext, sync_engine: SyncEngine, feed: FeedServer
) -> None:
    """Fault: a second process holds a write transaction on the database for the whole sync.

    Survives: the write waits for the lock (the five-second busy timeout), then the run stops with
    "locked by another program" and nothing of the page (messages, cursor) written; once the other
    process lets go, the next run stores everything.
    """
    account = add_account(context, feed)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys\n"
         "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
         "c.execute('BEGIN IMMEDIATE'); c.execute('DELETE FROM sync_gaps')\n"
         "print('holding', flush=True); sys.stdin.read()", str(context.paths.database)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        started = time.monotonic()
        outcome = sync_engine.sync_account(account.id, threading.Event())
        waited = time.monotonic() - started
    finally:
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.close()
        holder.wait(10)
        holder.stdout.close()
    assert outcome.state is AccountState.ERROR and "locked by another program" in outcome.error
    assert "nothing was written" in outcome.error and "Close the other Parley" in outcome.error
    assert waited >= 4.5, "the write gave up without waiting for the lock"
    assert message_count(context.paths.database) == 0
    assert accounts.get_cursor(context.engine, account.id, "mentions") is None

    assert sync_engine.sync_account(account.id, threading.Event()).stored == 400
    assert_cursor_covers_only_what_is_stored(context, account)


# -- read-only file --------------------------------------------------------------------------------------------


@contextmanager
def read_only(path: Path) -> Iterator[str]:
    """Make `path` unwritable: chmod for a normal user; root writes through chmod, so the immutable flag."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        try:
            yield "chmod 0444"
        finally:
            path.chmod(0o644)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)]).returncode != 0:
        pytest.skip("running as root on a filesystem without the immutable flag: cannot make a file read-only")
    try:
        yield "chattr +i"
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_database_file_gives_a_clear_message_and_writes_nothing(
    tmp_path: Path, feed: FeedServer, secret_service: dict[str, str]
) -> None:
    """Fault: the database file is made read-only between two runs of `parley sync --once`.

    Survives: the command exits 1 with one line per account naming the read-only database (no traceback),
    the messages already stored can still be read, and nothing new is half-written.
    """
    data_dir = tmp_path / "profile"
    ctx = open_context(ProfilePaths(data_dir))
    add_account(ctx, feed)
    ctx.close()
    feed.total = 200
    assert parley(data_dir, "sync", "--once").returncode == 0
    database = data_dir / "parley.sqlite3"
    before = database.read_bytes()
    feed.total = 400
    with read_only(database):
        result = parley(data_dir, "sync", "--once")
        listed = parley(data_dir, "inbox", "--json")
    assert result.returncode == 1, result.stderr
    assert "brand: error: The database" in result.stderr and "is read-only; nothing was written" in result.stderr
    assert "Traceback" not in result.stderr
    assert listed.returncode == 0 and listed.stdout.count('"platform": "mastodon"') == 40
    assert database.read_bytes() == before and message_count(database) == 200


# -- disk full ---------------------------------------------------------------------------------------------------


def test_a_full_disk_stops_the_sync_cleanly_and_it_resumes_once_there_is_room(
    context: AppContext, sync_engine: SyncEngine, feed: FeedServer
) -> None:
    """Fault: the disk fills up during a sync (simulated with SQLite's PRAGMA max_page_count, which makes
    SQLite report "database or disk is full" exactly as a full filesystem does).

    Survives: the run stops with "the disk ... is full", keeps every page stored before, with a cursor
    that covers exactly them; the database passes its integrity check; with room again, the next run
    stores the rest once.
    """
    account = add_account(context, feed)
    feed.total = 4000
    with context.engine.connect() as connection:
        pages_now = connection.exec_driver_sql("PRAGMA page_count").scalar_one()

    def cap(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages_now + 60}")

    event.listen(context.engine, "connect", cap)
    context.engine.dispose()
    try:
        outcome = sync_engine.sync_account(account.id, threading.Event())
    finally:
        event.remove(context.engine, "connect", cap)
        context.engine.dispose()
    assert outcome.state is AccountState.ERROR and "is full; nothing was written" in outcome.error
    assert 0 < outcome.stored < 4000
    assert_cursor_covers_only_what_is_stored(context, account)
    with sqlite3.connect(context.paths.database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    assert sync_engine.sync_account(account.id, threading.Event()).stored == 4000 - outcome.stored
    assert_cursor_covers_only_what_is_stored(context, account)
