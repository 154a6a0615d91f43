"""Process fault: `parley outbox send` killed after the platform created the reply but before Parley knew.

Between Parley and mastodon-mock sits a proxy that forwards the reply's POST, receives the server's
answer and withholds it; the test then SIGKILLs the sending process. mastodon-mock honours the
Idempotency-Key header, so a correct restart posts nothing new and records the reply the server made.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from app.context import open_context
from app.domain.outbox import OutboxState
from app.paths import ProfilePaths
from app.store import inbox, outbox
from app.sync import account_service
from tests.peers.http_proxy import WithholdingProxy
from tests.peers.mastodon_mock import MastodonMock
from tests.reliability.helpers import REPO_ROOT, parley

AREA = "Process faults"


@pytest.fixture
def proxy(mastodon_server: MastodonMock) -> Iterator[WithholdingProxy]:
    proxy = WithholdingProxy(mastodon_server.url).start()
    yield proxy
    proxy.stop()


def statuses_by(server: MastodonMock, user: dict[str, Any]) -> list[dict[str, Any]]:
    response = requests.get(f"{server.url}/api/v1/accounts/{user['id']}/statuses", params={"limit": 40}, timeout=10)
    response.raise_for_status()
    return list(response.json())


def test_sigkill_between_the_platform_accepting_a_reply_and_parley_recording_it_sends_it_once(
    tmp_path: Path, mastodon_server: MastodonMock, proxy: WithholdingProxy, secret_service: dict[str, str]
) -> None:
    """Fault: SIGKILL to `parley outbox send` after mastodon-mock created the reply's status and before its
    answer reached Parley (a proxy withholds it).

    Survives: on restart the database passes PRAGMA integrity_check, the reply waits as "sending", and the
    next `parley outbox send` resends it with the same idempotency key: one status on the server in all,
    recorded once as sent under the server's id; a later sync stores nothing twice.
    """
    brand = mastodon_server.create_user(f"brand_{secrets.token_hex(3)}")
    customer = mastodon_server.create_user(f"cust_{secrets.token_hex(3)}")
    mastodon_server.post(customer["access_token"], f"@{brand['username']} where is my parcel?")
    paths = ProfilePaths(tmp_path / "profile")
    ctx = open_context(paths)
    try:
        account = account_service.add_mastodon_account(ctx, proxy.url, brand["access_token"], "brand")
        assert parley(paths.root, "sync", "--once").returncode == 0
        (conversation,) = inbox.conversation_ids(ctx.engine)
        item = outbox.queue_reply(ctx.engine, conversation, "Sorry! It ships today.", now=datetime.now(UTC))
        outbox.move_state(ctx.engine, [item.id], OutboxState.APPROVED, now=datetime.now(UTC), reviewer="Kim")
    finally:
        ctx.close()

    proxy.withhold = ("POST", "/api/v1/statuses")
    sender = subprocess.Popen(
        [sys.executable, "-m", "app", "--data-dir", str(paths.root), "outbox", "send"],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proxy.withheld_event.wait(60), "the reply never reached the server"
        assert sender.poll() is None, "the sender ended although the server's answer was withheld"
        os.kill(sender.pid, signal.SIGKILL)
    finally:
        sender.kill()
        sender.wait()
    (withheld,) = proxy.withheld
    assert withheld.status == 200
    created = json.loads(withheld.body)["id"]
    assert [s["id"] for s in statuses_by(mastodon_server, brand)] == [created]

    with sqlite3.connect(paths.database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        (state,) = connection.execute("SELECT state FROM outbox_items WHERE id = ?", (item.id,)).fetchone()
    assert state == OutboxState.SENDING.value

    proxy.withhold = None
    resent = parley(paths.root, "outbox", "send")
    assert resent.returncode == 0, resent.stderr
    assert "Sent 1, failed 0" in resent.stderr
    assert [s["id"] for s in statuses_by(mastodon_server, brand)] == [created], "the reply was posted twice"

    assert parley(paths.root, "sync", "--once").returncode == 0
    with sqlite3.connect(paths.database) as connection:
        (state, platform_id) = connection.execute(
            "SELECT state, platform_message_id FROM outbox_items WHERE id = ?", (item.id,)
        ).fetchone()
        replies = connection.execute(
            "SELECT count(*) FROM messages WHERE account_id = ? AND platform_message_id = ?", (account.id, created)
        ).fetchone()
        total, distinct = connection.execute(
            "SELECT count(*), count(DISTINCT platform_message_id) FROM messages"
        ).fetchone()
    assert (state, platform_id) == (OutboxState.SENT.value, created)
    assert replies == (1,) and total == distinct == 2
    assert parley(paths.root, "outbox", "send").stderr.strip().endswith("Sent 0, failed 0, held 0, waiting 0.")


def test_a_reply_the_platform_rejects_makes_outbox_send_exit_non_zero(
    tmp_path: Path, mastodon_server: MastodonMock, secret_service: dict[str, str]
) -> None:
    """Fault: the platform refuses an approved reply (HTTP 422, "Validation failed").

    Survives: `parley outbox send` exits 1 and names the platform's reason; the reply stays in the
    outbox as failed, to be edited or retried, and nothing was posted.
    """
    brand = mastodon_server.create_user(f"brand_{secrets.token_hex(3)}")
    customer = mastodon_server.create_user(f"cust_{secrets.token_hex(3)}")
    mastodon_server.post(customer["access_token"], f"@{brand['username']} hello?")
    paths = ProfilePaths(tmp_path / "profile")
    ctx = open_context(paths)
    try:
        account_service.add_mastodon_account(ctx, mastodon_server.url, brand["access_token"], "brand")
        assert parley(paths.root, "sync", "--once").returncode == 0
        (conversation,) = inbox.conversation_ids(ctx.engine)
        item = outbox.queue_reply(ctx.engine, conversation, "Hello!", now=datetime.now(UTC))
        outbox.move_state(ctx.engine, [item.id], OutboxState.APPROVED, now=datetime.now(UTC), reviewer="Kim")
        mastodon_server.add_fault(
            {
                "match": {"methods": ["POST"], "path": "/api/v1/statuses"},
                "effect": {"type": "status", "status": 422, "body": {"error": "Validation failed: Text too long"}},
                "count": 1,
            }
        )
        try:
            result = parley(paths.root, "outbox", "send")
        finally:
            mastodon_server.clear_faults()
        assert result.returncode == 1 and "Text too long" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
        assert outbox.get_item(ctx.engine, item.id).state is OutboxState.FAILED
        assert statuses_by(mastodon_server, brand) == []
    finally:
        ctx.close()
