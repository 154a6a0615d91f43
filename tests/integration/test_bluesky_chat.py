"""Bluesky direct messages: the connector against the chat emulator (tests/peers/bluesky_chat.py).

Bluesky's chat service is not open source and cannot run here; the emulator speaks its chat.bsky.convo
lexicons over real HTTP, so these tests prove the connector's use of them, not the service itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.domain.models import AccountRef, Direction, MessageKind, Platform, ReplyTarget
from app.errors import PlatformError
from app.platforms.bluesky import CHAT, NOTIFICATIONS, BlueskyConnector
from app.platforms.bluesky_parse import convo_key
from app.store import accounts, inbox
from app.store.database import open_store
from app.store.ingest import store_page
from tests.factories import T0
from tests.peers.bluesky_chat import ChatEmulator, make_jwt

BRAND, ANN, BOB = "did:plc:brand", "did:plc:ann", "did:plc:bob"


@pytest.fixture
def chat() -> Iterator[ChatEmulator]:
    emulator = ChatEmulator().start()
    emulator.add_user(BRAND, "brand.test", "Brand")
    emulator.add_user(ANN, "ann.test", "Ann")
    emulator.add_user(BOB, "bob.test", "Bob", allow_incoming="none")
    yield emulator
    emulator.stop()


@pytest.fixture
def connector(chat: ChatEmulator) -> Iterator[BlueskyConnector]:
    made = connect(chat)
    yield made
    made.close()


def connect(chat: ChatEmulator, **kw: object) -> BlueskyConnector:
    session = {"accessJwt": make_jwt(BRAND), "refreshJwt": make_jwt(BRAND), "did": BRAND, "handle": "brand.test"}
    account = AccountRef(
        id=1,
        platform=Platform.BLUESKY,
        name="brand",
        base_url="http://127.0.0.1:9",  # no PDS: chat calls go straight to the chat service
        platform_user_id=BRAND,
        options={"chat_url": chat.url},
    )
    return BlueskyConnector(account, json.dumps(session), **kw)  # type: ignore[arg-type]


def test_dms_arrive_from_the_chat_log_and_the_cursor_brings_only_new_ones(
    chat: ChatEmulator, connector: BlueskyConnector, tmp_path: Path
) -> None:
    assert connector.streams() == (NOTIFICATIONS, CHAT)
    convo = chat.open_convo(BRAND, ANN)
    first = chat.say(convo, ANN, "Hi, is my order shipped?")
    mine = chat.say(convo, BRAND, "Let me check.")
    engine = open_store(tmp_path / "cache.sqlite3", backups=tmp_path / "backups")
    try:
        account = accounts.add_account(
            engine, platform=Platform.BLUESKY, name="brand", base_url="http://pds", now=T0, platform_user_id=BRAND
        )
        pages = list(connector.fetch(CHAT, None))
        for page in pages:
            store_page(engine, account.id, page, now=T0)
        cursor = accounts.get_cursor(engine, account.id, CHAT)
        assert cursor == pages[-1].cursor and cursor
        (conversation,) = inbox.inbox_page(engine)
        stored = inbox.thread(engine, conversation.id)
        assert [(m.text, m.direction, m.kind) for m in stored] == [
            ("Hi, is my order shipped?", Direction.INBOUND, MessageKind.DM),
            ("Let me check.", Direction.OUTBOUND, MessageKind.DM),
        ]
        assert stored[0].author_handle == "ann.test" and stored[0].author_name == "Ann"
        assert stored[0].platform_message_id.endswith(first["id"]) and stored[1].platform_message_id.endswith(
            mine["id"]
        )
        later = chat.say(convo, ANN, "Thanks!")
        news = [m for page in connector.fetch(CHAT, cursor) for m in page.messages]
        assert [m.text for m in news] == ["Thanks!"] and news[0].platform_message_id.endswith(later["id"])
        assert news[0].conversation_key == convo_key(convo)
    finally:
        engine.dispose()


def test_a_dm_reply_is_sent_into_the_conversation(chat: ChatEmulator, connector: BlueskyConnector) -> None:
    convo = chat.open_convo(BRAND, ANN)
    question = chat.say(convo, ANN, "Do you ship to Norway?")
    target = ReplyTarget(conversation_key=convo_key(convo), in_reply_to_platform_id=question["id"])
    sent = connector.send_reply(target, "Yes, we do.", "dm-1")
    assert [(m["sender"]["did"], m["text"]) for m in chat.messages_in(convo)][-1] == (BRAND, "Yes, we do.")
    assert sent.platform_message_id == f"bsky-chat:{convo}:{chat.messages_in(convo)[-1]['id']}"
    history = connector.thread_context(sent.platform_message_id)
    assert [m.text for m in history] == ["Do you ship to Norway?", "Yes, we do."]


def test_a_dm_whose_answer_timed_out_is_found_in_the_log_and_not_sent_again(chat: ChatEmulator) -> None:
    """The chat service stores the message, its answer comes after Parley's read timeout."""
    connector = connect(chat, timeout=(2.0, 0.5))
    try:
        convo = chat.open_convo(BRAND, ANN)
        chat.say(convo, ANN, "Any news?")
        chat.hold_next_send()
        target = ReplyTarget(conversation_key=convo_key(convo))
        sent = connector.send_reply(target, "It left the warehouse today.", "dm-timeout")
        assert chat.held.is_set() and chat.sends == 1
        assert sent.platform_message_id.endswith(chat.messages_in(convo)[-1]["id"])
        again = connector.send_reply(target, "It left the warehouse today.", "dm-timeout")
        assert chat.sends == 1 and again.platform_message_id == sent.platform_message_id
        assert [m["text"] for m in chat.messages_in(convo)].count("It left the warehouse today.") == 1
    finally:
        chat.release.set()
        connector.close()


def test_a_dm_retried_after_a_timeout_and_a_failed_log_check_is_reconciled_before_resending(
    chat: ChatEmulator,
) -> None:
    """The first attempt times out and the chat log cannot be read just then (503s): the send fails. The
    retry looks in the log from the revision before the first attempt, finds the message, does not resend."""
    connector = connect(chat, timeout=(2.0, 0.5))
    try:
        convo = chat.open_convo(BRAND, ANN)
        chat.hold_next_send()
        chat.fail_next_log_reads(10)
        target = ReplyTarget(conversation_key=convo_key(convo))
        with pytest.raises(PlatformError):
            connector.send_reply(target, "Refund issued.", "dm-retry")
        assert chat.sends == 1
        chat.fail_next_log_reads(0)
        chat.release.set()
        retried = connector.send_reply(target, "Refund issued.", "dm-retry")
        assert chat.sends == 1, "found in the log: not sent again"
        assert [m["text"] for m in chat.messages_in(convo)] == ["Refund issued."]
        assert retried.platform_message_id.endswith(chat.messages_in(convo)[0]["id"])
    finally:
        chat.release.set()
        connector.close()


def test_a_user_who_does_not_accept_dms_is_a_clear_refusal_not_a_sign_in_problem(
    chat: ChatEmulator, connector: BlueskyConnector
) -> None:
    convo = chat.open_convo(BRAND, BOB)
    with pytest.raises(PlatformError, match="disabled incoming messages") as raised:
        connector.send_reply(ReplyTarget(conversation_key=convo_key(convo)), "Hello", "dm-refused")
    assert type(raised.value) is PlatformError
    assert chat.messages_in(convo) == []


def test_dms_can_be_left_out_for_an_app_password_without_dm_access(chat: ChatEmulator) -> None:
    session = {"accessJwt": make_jwt(BRAND), "refreshJwt": make_jwt(BRAND), "did": BRAND, "handle": "brand.test"}
    account = AccountRef(id=1, platform=Platform.BLUESKY, name="b", base_url=chat.url, options={"chat": False})
    connector = BlueskyConnector(account, json.dumps(session))
    assert connector.streams() == (NOTIFICATIONS,)
    connector.close()
