"""`parley reply`, `parley outbox list|approve|send` and `--offline`, each in its own process, against mastodon-mock.

The profile is a real SQLite file, the token sits in the real keyring, and a pass-through proxy between
Parley and mastodon-mock records every request Parley makes (that is how `--offline` is shown to stay off
the network).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from app.context import open_context
from app.domain.playbook import EntryContent
from app.paths import ProfilePaths
from app.store import playbook
from app.sync import account_service
from tests.peers.http_proxy import WithholdingProxy
from tests.peers.mastodon_mock import MastodonMock
from tests.reliability.helpers import parley


@dataclass
class Setup:
    root: Path
    brand: dict[str, Any]
    proxy: WithholdingProxy
    conversations: dict[str, int]  # customer's first words -> conversation id, from `parley inbox --json`


@pytest.fixture
def setup(tmp_path: Path, mastodon_server: MastodonMock, secret_service: dict[str, str]) -> Iterator[Setup]:
    suffix = secrets.token_hex(3)
    brand = mastodon_server.create_user(f"clib_{suffix}", "Brand")
    for name, text in (("Maya Lind", "where is parcel"), ("Jonas Berg", "refund please"), ("Ada Oka", "hi there")):
        customer = mastodon_server.create_user(f"c{secrets.token_hex(3)}", name)
        mastodon_server.post(customer["access_token"], f"@{brand['username']} {text}")
    proxy = WithholdingProxy(mastodon_server.url).start()
    paths = ProfilePaths(tmp_path / "profile")
    ctx = open_context(paths)
    try:
        account_service.add_mastodon_account(ctx, proxy.url, brand["access_token"], "brand")
        playbook.create_entry(
            ctx.engine,
            EntryContent(
                title="Refund", body="Hi {{ contact.first_name }}, your refund is on its way.", shortcut="refund"
            ),
        )
    finally:
        ctx.close()
    try:
        assert parley(paths.root, "sync", "--once").returncode == 0
        listed = parley(paths.root, "inbox", "--json")
        assert listed.returncode == 0, listed.stderr
        conversations = {c["latest_message"]["text"].split(" ", 1)[1]: c["id"] for c in json.loads(listed.stdout)}
        yield Setup(paths.root, brand, proxy, conversations)
    finally:
        proxy.stop()


def posted(server: MastodonMock, brand: dict[str, Any]) -> list[str]:
    """The brand's statuses on the server, oldest first (counted on the server side)."""
    response = requests.get(f"{server.url}/api/v1/accounts/{brand['id']}/statuses", params={"limit": 40}, timeout=10)
    response.raise_for_status()
    return [status["content"] for status in reversed(response.json())]


def outbox_list(root: Path, *flags: str) -> list[dict[str, Any]]:
    result = parley(root, *flags, "outbox", "list", "--json")
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


def test_reply_sends_now_or_queues_and_outbox_list_approve_send_review_it(
    setup: Setup, mastodon_server: MastodonMock
) -> None:
    """`reply --text` posts at once; `reply --playbook --queue` renders the answer for the conversation and waits;
    `outbox approve --all` records the reviewer; `outbox send` posts it once."""
    sent = parley(setup.root, "reply", str(setup.conversations["where is parcel"]), "--text", "On its way!")
    assert sent.returncode == 0, sent.stderr
    assert "Sent reply" in sent.stderr
    assert ["On its way!" in text for text in posted(mastodon_server, setup.brand)] == [True]

    queued = parley(setup.root, "reply", str(setup.conversations["refund please"]), "--playbook", "refund", "--queue")
    assert queued.returncode == 0, queued.stderr
    (item,) = outbox_list(setup.root)
    assert item["id"] == int(queued.stdout) and item["state"] == "awaiting_review"
    assert item["body"] == "Hi Jonas, your refund is on its way."
    assert len(posted(mastodon_server, setup.brand)) == 1, "a queued reply is not sent"

    approved = parley(setup.root, "outbox", "approve", "--all", "--reviewer", "Kim")
    assert approved.returncode == 0, approved.stderr
    (item,) = outbox_list(setup.root)
    assert (item["state"], item["reviewer"]) == ("approved", "Kim")

    result = parley(setup.root, "outbox", "send")
    assert result.returncode == 0 and "Sent 1, failed 0" in result.stderr, result.stderr
    texts = posted(mastodon_server, setup.brand)
    assert len(texts) == 2 and "Hi Jonas, your refund is on its way." in texts[1]
    assert outbox_list(setup.root) == []


def test_reply_and_approve_refuse_bad_input_clearly_and_change_nothing(setup: Setup) -> None:
    """Bad input: an unknown playbook keyword, an unknown conversation, an empty text, `approve` with neither ids
    nor --all, and a public reply approved without a reviewer while the review rule is on."""
    conversation = str(setup.conversations["hi there"])
    cases = [
        (["reply", conversation, "--playbook", "nosuch"], "No playbook answer has the shortcut"),
        (["reply", "99999", "--text", "hello"], "No conversation with id 99999"),
        (["reply", conversation, "--text", "   "], "The reply is empty"),
        (["outbox", "approve"], "Give the ids"),
    ]
    for args, message in cases:
        result = parley(setup.root, *args)
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr, args
    assert outbox_list(setup.root) == []

    settings = setup.root / "settings.toml"
    settings.write_text("public_replies_need_review = true\n", encoding="utf-8")
    waiting = parley(setup.root, "reply", conversation, "--text", "Hello!")
    assert waiting.returncode == 0, waiting.stderr
    assert "public replies need a reviewer" in waiting.stderr
    refused = parley(setup.root, "outbox", "approve", waiting.stdout.strip(), "--reviewer", "")
    assert refused.returncode == 2 and "name of the reviewer" in refused.stderr
    assert [i["state"] for i in outbox_list(setup.root)] == ["awaiting_review"]


def test_offline_commands_make_no_request_and_network_commands_refuse(
    setup: Setup, mastodon_server: MastodonMock
) -> None:
    """With --offline: reply (without --queue) is queued approved, list/approve/inbox read the cache, and
    `outbox send` and `sync` say they need the network and exit 2. The proxy saw no request at all."""
    before = len(setup.proxy.forwarded)
    conversation = str(setup.conversations["where is parcel"])
    queued = parley(setup.root, "--offline", "reply", conversation, "--text", "Checking now")
    assert queued.returncode == 0 and "Working offline" in queued.stderr, queued.stderr
    drafted = parley(setup.root, "--offline", "reply", conversation, "--text", "Second thought", "--queue")
    assert drafted.returncode == 0, drafted.stderr
    assert [i["state"] for i in outbox_list(setup.root, "--offline")] == ["approved", "awaiting_review"]
    assert parley(setup.root, "--offline", "outbox", "approve", drafted.stdout.strip()).returncode == 0
    assert parley(setup.root, "--offline", "inbox", "--json").returncode == 0
    for command in (["outbox", "send"], ["sync", "--once"]):
        refused = parley(setup.root, "--offline", *command)
        assert refused.returncode == 2 and "needs the network" in refused.stderr, refused.stderr
    assert len(setup.proxy.forwarded) == before, "an --offline command reached the server"
    assert posted(mastodon_server, setup.brand) == []

    online = parley(setup.root, "outbox", "send")
    assert online.returncode == 0 and "Sent 2" in online.stderr, online.stderr
    texts = posted(mastodon_server, setup.brand)
    assert len(texts) == 2 and "Checking now" in texts[0] and "Second thought" in texts[1]
