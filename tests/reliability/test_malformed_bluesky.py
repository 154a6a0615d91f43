"""Malformed Bluesky answers (notifications, chat logs) served over HTTP to the real connector and stored in a
real SQLite store: good items are stored, bad ones rejected one by one with their id, and the cursor moves on.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from app.domain.models import AccountRef, Page, Platform
from app.platforms.bluesky import CHAT, NOTIFICATIONS, BlueskyConnector
from app.store import accounts
from app.store.database import open_store
from app.store.ingest import store_page
from app.store.schema import messages
from tests.peers.json_server import JsonServer, Reply
from tests.reliability.hostile import PAYLOAD_SETTINGS, hostile_text, junk, mutate, mutations

AREA = "Malformed platform data"
ME, ANN = "did:plc:brand", "did:plc:ann"
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SESSION = json.dumps({"accessJwt": "access-jwt", "refreshJwt": "refresh-jwt", "did": ME, "handle": "brand.test"})
_serial = itertools.count(1)

NOTIFICATION_FIELDS = (
    [(name,) for name in ("uri", "cid", "author", "reason", "record", "indexedAt", "isRead", "labels")]
    + [("author", n) for n in ("did", "handle", "displayName")]
    + [("record", n) for n in ("$type", "text", "createdAt", "reply", "langs", "facets")]
)


def notification(number: int, marker: str, *, reply: bool = False) -> dict[str, Any]:
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "text": f"{marker} hello @brand.test",
        "createdAt": f"2026-01-05T08:{number % 60:02d}:00.000Z",
        "langs": ["en"],
    }
    if reply:
        root = {"uri": "at://did:plc:ann/app.bsky.feed.post/root", "cid": "bafyroot"}
        record["reply"] = {"root": root, "parent": root}
    return {
        "uri": f"at://{ANN}/app.bsky.feed.post/{marker}",
        "cid": f"bafy{number}",
        "author": {"did": ANN, "handle": "ann.test", "displayName": "Ann"},
        "reason": "reply" if reply else "mention",
        "record": record,
        "isRead": False,
        "indexedAt": f"2026-01-05T08:{number % 60:02d}:01.000Z",
    }


@pytest.fixture(scope="module")
def server() -> Iterator[JsonServer]:
    server = JsonServer().start()
    server.routes["/xrpc/app.bsky.feed.getPosts"] = Reply.json({"posts": []})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = open_store(tmp_path_factory.mktemp("malformed-bluesky") / "parley.sqlite3")
    yield engine
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
    engine.dispose()


def fetch_into_store(server: JsonServer, engine: Engine, stream: str) -> tuple[AccountRef, list[Page]]:
    account = accounts.add_account(
        engine,
        platform=Platform.BLUESKY,
        name=f"bluesky-{next(_serial)}",
        base_url=server.url,
        now=NOW,
        platform_user_id=ME,
        options={"chat_url": server.url},
    )
    connector = BlueskyConnector(account, SESSION)
    try:
        pages = list(connector.fetch(stream, None))
    finally:
        connector.close()
    for page in pages:
        store_page(engine, account.id, page, now=NOW)
    return account, pages


def stored_ids(engine: Engine, account_id: int) -> set[str]:
    with engine.connect() as connection:
        query = select(messages.c.platform_message_id).where(messages.c.account_id == account_id)
        return set(connection.execute(query).scalars())


item_strategy = st.one_of(
    st.tuples(st.just("good"), hostile_text),
    st.tuples(st.just("broken"), mutations(NOTIFICATION_FIELDS)),
    st.tuples(st.just("junk"), junk),
)


@PAYLOAD_SETTINGS
@given(items=st.lists(item_strategy, min_size=1, max_size=8))
@example(items=[("good", "\ud800"), ("broken", (("record", "reply"), "replace", {"root": 1})), ("junk", None)])
def test_notifications_with_broken_items_keep_every_readable_one(
    server: JsonServer, store: Engine, items: list[tuple[str, Any]]
) -> None:
    """Fault: listNotifications items with fields dropped, replaced by junk of any type, or hostile text.

    Survives: every intact item is stored, each unreadable one is rejected with its uri, the cursor is stored."""
    payload: list[Any] = []
    intact: set[str] = set()
    for number, (kind, detail) in enumerate(items):
        item = notification(number, f"n{number}")
        if kind == "good":
            item["record"]["text"] = f"n{number} {detail}"
            intact.add(item["uri"])
        elif kind == "broken":
            path, action, value = detail
            item = mutate(item, path, action, value)
        else:
            item = detail
        payload.append(item)
    server.routes["/xrpc/app.bsky.notification.listNotifications"] = Reply(
        200, json.dumps({"notifications": payload}).encode()
    )
    account, pages = fetch_into_store(server, store, NOTIFICATIONS)
    found = stored_ids(store, account.id)
    assert intact <= found
    rejected = [r for page in pages for r in page.rejected]
    assert len(found) + len(rejected) <= len(payload)
    assert all(r.reason for r in rejected)
    assert accounts.get_cursor(store, account.id, NOTIFICATIONS) == pages[-1].cursor


@pytest.mark.parametrize(
    "damage",
    [
        "not a list of notifications",
        "a reply without its root",
        "a record that is not a post",
        "an author without a DID",
        "a time that is not a date",
    ],
)
def test_one_broken_notification_is_rejected_by_name_and_the_others_are_stored(
    server: JsonServer, store: Engine, damage: str
) -> None:
    """Fault: one notification with {id} among good ones.

    Survives: the good ones are stored and the broken one is rejected with its uri and a reason."""
    good = [notification(1, "first"), notification(3, "last", reply=True)]
    bad = notification(2, "broken", reply=True)
    if damage == "not a list of notifications":
        bad = ["at://not/an/object"]  # type: ignore[assignment]
    elif damage == "a reply without its root":
        del bad["record"]["reply"]["root"]
    elif damage == "a record that is not a post":
        bad["record"]["$type"] = "app.bsky.feed.like"
    elif damage == "an author without a DID":
        bad["author"] = {"handle": "ann.test"}
    else:
        bad["record"]["createdAt"] = bad["indexedAt"] = "yesterday"
    server.routes["/xrpc/app.bsky.notification.listNotifications"] = Reply.json(
        {"notifications": [good[1], bad, good[0]], "cursor": None}
    )
    account, pages = fetch_into_store(server, store, NOTIFICATIONS)
    assert stored_ids(store, account.id) == {g["uri"] for g in good}
    (rejected,) = [r for page in pages for r in page.rejected]
    assert rejected.reason
    if isinstance(bad, dict):
        assert rejected.item_id == bad["uri"]


def test_a_chat_log_with_broken_entries_keeps_the_readable_messages(server: JsonServer, store: Engine) -> None:
    """Fault: a chat.bsky.convo.getLog page whose entries lack ids, senders, text or dates, or are not objects.

    Survives: readable messages are stored as DMs, each broken one is rejected by itself, the log cursor moves."""

    def entry(rev: str, **message: Any) -> dict[str, Any]:
        base = {"id": f"m{rev}", "rev": rev, "text": f"text {rev}", "sender": {"did": ANN}, "sentAt": NOW.isoformat()}
        return {
            "$type": "chat.bsky.convo.defs#logCreateMessage",
            "rev": rev,
            "convoId": "c1",
            "message": {**base, **message},
        }

    logs: list[Any] = [
        entry("1"),
        entry("2", id=None),
        entry("3", sender={"did": 7}),
        entry("4", text=["list"]),
        entry("5", sentAt="not a date"),
        "junk",
        {"$type": "chat.bsky.convo.defs#logBeginConvo", "rev": "6", "convoId": "c1"},
        entry("7"),
    ]
    server.routes["/xrpc/chat.bsky.convo.getLog"] = lambda query: (
        Reply.json({"cursor": "7", "logs": []})
        if query.get("cursor") == ["7"]
        else Reply.json({"cursor": "7", "logs": logs})
    )
    server.routes["/xrpc/chat.bsky.convo.getConvo"] = Reply.json(
        {"convo": {"id": "c1", "rev": "7", "members": [{"did": ANN, "handle": "ann.test"}, {"did": ME, "handle": "b"}]}}
    )
    account, pages = fetch_into_store(server, store, CHAT)
    assert stored_ids(store, account.id) == {"bsky-chat:c1:m1", "bsky-chat:c1:m7"}
    assert len([r for page in pages for r in page.rejected]) == 5
    assert accounts.get_cursor(store, account.id, CHAT) == "7"
