"""Process fault: a sync killed with SIGKILL mid-way resumes on restart with every message stored exactly once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers.mastodon_feed import FeedServer
from tests.reliability.helpers import parley

AREA = "Process faults"
TOTAL = 5000


@pytest.fixture
def feed() -> Iterator[FeedServer]:
    server = FeedServer(TOTAL).start()
    yield server
    server.stop()


def stored(database: Path) -> tuple[int, int]:
    with sqlite3.connect(database, timeout=10) as connection:
        total, distinct = connection.execute(
            "SELECT count(*), count(DISTINCT platform_message_id) FROM messages"
        ).fetchone()
    return total, distinct


def test_sigkill_during_a_large_sync_loses_and_duplicates_nothing(
    tmp_path: Path, feed: FeedServer, secret_service: dict[str, str]
) -> None:
    """Fault: SIGKILL to `parley sync --once` while it is storing a 5,000-message backlog.

    Survives: on restart the database passes PRAGMA integrity_check, nothing is duplicated, and the
    sync resumes from the last committed cursor until every message is stored once.
    """
    data_dir = tmp_path / "profile"
    added = parley(
        data_dir, "accounts", "add", "mastodon", "--instance", feed.url, "--name", "brand", stdin=feed.token + "\n"
    )
    assert added.returncode == 0, added.stderr
    database = data_dir / "parley.sqlite3"

    sync = subprocess.Popen(
        [sys.executable, "-m", "app", "--data-dir", str(data_dir), "sync", "--once"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sync.poll() is None:
        count, _ = stored(database)
        if 500 <= count:
            break
        time.sleep(0.02)  # polling another process's progress; there is no signal to wait on
    assert sync.poll() is None, "the sync finished before it could be killed; make the feed larger"
    os.kill(sync.pid, signal.SIGKILL)
    sync.wait()
    killed_at, distinct = stored(database)
    assert 0 < killed_at < TOTAL and killed_at == distinct

    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    requests_before = len(feed.requests)
    resumed = parley(data_dir, "sync", "--once")
    assert resumed.returncode == 0, resumed.stderr
    assert stored(database) == (TOTAL, TOTAL)
    # It resumed from the last committed cursor instead of starting over from the oldest message.
    first_after = [path for path in feed.requests[requests_before:] if "/notifications" in path][0]
    assert "min_id=" in first_after and "min_id=0" not in first_after, first_after
