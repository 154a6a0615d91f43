"""The Bluesky connector against a real local AT Protocol network (PDS + AppView from @atproto/dev-env).

Other users mention and answer the brand account through the PDS; the AppView indexes it and serves the
notifications and threads the connector reads; replies are written into the brand's real repository.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.domain.models import AccountRef, Direction, MessageKind, Platform, ReplyTarget
from app.errors import AuthError, PlatformError
from app.platforms.bluesky import NOTIFICATIONS, BlueskyConnector
from app.platforms.bluesky_parse import thread_key, tid_for
from app.store import accounts, inbox
from app.store.database import open_store
from app.store.ingest import store_page
from tests.factories import T0
from tests.peers.bluesky_network import BlueskyNetwork
from tests.peers.http_proxy import WithholdingProxy

pytestmark = pytest.mark.bluesky


@pytest.fixture(scope="module")
def brand_secret(bluesky: BlueskyNetwork) -> str:
    user = bluesky.users["brand"]
    secret, _ = BlueskyConnector.sign_in(bluesky.pds, user.handle, user.app_password)
    return secret


@pytest.fixture
def opened() -> Iterator[list[BlueskyConnector]]:
    made: list[BlueskyConnector] = []
    yield made
    for connector in made:
        connector.close()


def connect(
    bluesky: BlueskyNetwork,
    secret: str,
    opened: list[BlueskyConnector],
    *,
    base_url: str = "",
    who: str = "brand",
    chat: bool = False,
    **kw: Any,
) -> BlueskyConnector:
    user = bluesky.users[who]
    account = AccountRef(
        id=1,
        platform=Platform.BLUESKY,
        name="brand",
        base_url=base_url or bluesky.pds,
        handle=user.handle,
        platform_user_id=user.did,
        options={} if chat else {"chat": False},
    )
    opened.append(BlueskyConnector(account, secret, **kw))
    return opened[-1]


def newest_cursor(connector: BlueskyConnector) -> str | None:
    pages = list(connector.fetch(NOTIFICATIONS, None))
    return pages[-1].cursor


def test_app_password_sign_in_keeps_the_session_tokens_and_never_the_password(bluesky: BlueskyNetwork) -> None:
    user = bluesky.users["brand"]
    secret, identity = BlueskyConnector.sign_in(bluesky.pds, f"@{user.handle}", user.app_password)
    stored = json.loads(secret)
    assert set(stored) == {"accessJwt", "refreshJwt", "did", "handle"}
    assert (stored["did"], stored["handle"]) == (user.did, user.handle)
    assert user.app_password not in secret and user.password not in secret
    assert (identity.platform_user_id, identity.handle, identity.display_name) == (user.did, user.handle, "Brand")
    with pytest.raises(AuthError, match="wrong handle or app password"):
        BlueskyConnector.sign_in(bluesky.pds, user.handle, "aaaa-bbbb-cccc-dddd")


def test_mentions_and_replies_sync_into_the_inbox_as_one_thread(
    bluesky: BlueskyNetwork, brand_secret: str, opened: list[BlueskyConnector], tmp_path: Path
) -> None:
    """Ann mentions the brand, the brand answers, Bob answers the brand: one conversation, nested by parent."""
    connector = connect(bluesky, brand_secret, opened)
    cursor = newest_cursor(connector)
    question = bluesky.post("ann", "@brand.test my order never arrived", mention="brand")
    bluesky.settle()
    sent = connector.send_reply(
        ReplyTarget(conversation_key=thread_key(question["uri"]), in_reply_to_platform_id=question["uri"]),
        "Sorry to hear that! Which order number?",
        "outbox-thread-1",
    )
    bluesky.settle()
    brand_post = bluesky.call("app.bsky.feed.getPosts", as_user="bob", uris=[sent.platform_message_id])["posts"][0]
    follow_up = bluesky.post(
        "bob", "same here, no parcel", reply_to={"uri": brand_post["uri"], "cid": brand_post["cid"], "root": question}
    )
    bluesky.settle()

    engine = open_store(tmp_path / "cache.sqlite3", backups=tmp_path / "backups")
    try:
        user = bluesky.users["brand"]
        account = accounts.add_account(
            engine, platform=Platform.BLUESKY, name="brand", base_url=bluesky.pds, now=T0, platform_user_id=user.did
        )
        fresh = connect(bluesky, brand_secret, opened)  # knows nothing in memory
        pages = list(fresh.fetch(NOTIFICATIONS, cursor))
        for page in pages:
            store_page(engine, account.id, page, now=T0)
        assert accounts.get_cursor(engine, account.id, NOTIFICATIONS) == pages[-1].cursor != cursor
        found = {m.platform_message_id: m for page in pages for m in page.messages}
        assert found[question["uri"]].kind is MessageKind.MENTION
        assert found[follow_up["uri"]].kind is MessageKind.REPLY
        assert found[sent.platform_message_id].direction is Direction.OUTBOUND, "our answer came along"
        (conversation,) = [
            c
            for c in inbox.inbox_page(engine)
            if question["uri"] in {m.platform_message_id for m in inbox.thread(engine, c.id)}
        ]
        stored = {m.platform_message_id: m for m in inbox.thread(engine, conversation.id)}
        assert set(stored) == {question["uri"], sent.platform_message_id, follow_up["uri"]}
        assert stored[sent.platform_message_id].parent_platform_id == question["uri"]
        assert stored[follow_up["uri"]].parent_platform_id == sent.platform_message_id
        assert stored[question["uri"]].author_handle == "ann.test"
        # Nothing new: the next fetch from the stored cursor re-reads only the clock-skew overlap (which may hold
        # other tests' posts on this shared network), and storing it adds no message.
        before = inbox.message_count(engine)
        for page in fresh.fetch(NOTIFICATIONS, pages[-1].cursor):
            store_page(engine, account.id, page, now=T0)
        assert inbox.message_count(engine) == before
    finally:
        engine.dispose()


def test_thread_context_holds_the_ancestors_and_the_replies(
    bluesky: BlueskyNetwork, brand_secret: str, opened: list[BlueskyConnector]
) -> None:
    root = bluesky.post("ann", "@brand.test is the shop open on Sunday?", mention="brand")
    middle = bluesky.post("bob", "I think so", reply_to=root)
    leaf = bluesky.post("ann", "thanks bob", reply_to={**middle, "root": root})
    bluesky.settle()
    messages = connect(bluesky, brand_secret, opened).thread_context(middle["uri"])
    assert [m.platform_message_id for m in messages] == [root["uri"], middle["uri"], leaf["uri"]]
    assert {m.conversation_key for m in messages} == {thread_key(root["uri"])}


def test_a_reply_sent_twice_with_one_key_is_one_post_in_the_repository(
    bluesky: BlueskyNetwork, brand_secret: str, opened: list[BlueskyConnector]
) -> None:
    question = bluesky.post("ann", "@brand.test do you ship abroad?", mention="brand")
    bluesky.settle()
    connector = connect(bluesky, brand_secret, opened)
    target = ReplyTarget(conversation_key=thread_key(question["uri"]), in_reply_to_platform_id=question["uri"])
    first = connector.send_reply(target, "Yes, to most countries.", "outbox-twice")
    second = connect(bluesky, brand_secret, opened).send_reply(target, "Yes, to most countries.", "outbox-twice")
    assert first.platform_message_id == second.platform_message_id
    assert first.platform_message_id.endswith(f"/app.bsky.feed.post/{tid_for('outbox-twice')}")
    posts = [p for p in bluesky.posts_by("brand") if p["value"]["text"] == "Yes, to most countries."]
    assert len(posts) == 1
    assert posts[0]["value"]["reply"]["parent"]["uri"] == question["uri"]


def test_a_reply_whose_answer_was_lost_after_the_pds_stored_it_is_not_posted_again(
    bluesky: BlueskyNetwork, brand_secret: str, opened: list[BlueskyConnector]
) -> None:
    """The PDS stores the post, its answer never reaches Parley (read timeout): the connector finds the post by
    its record key instead of failing, and a later retry by the outbox finds the same post again."""
    question = bluesky.post("ann", "@brand.test can I return a gift?", mention="brand")
    bluesky.settle()
    proxy = WithholdingProxy(bluesky.pds).start()
    try:
        connector = connect(bluesky, brand_secret, opened, base_url=proxy.url, timeout=(5.0, 2.0))
        target = ReplyTarget(conversation_key=thread_key(question["uri"]), in_reply_to_platform_id=question["uri"])
        proxy.withhold = ("POST", "/xrpc/com.atproto.repo.createRecord")
        sent = connector.send_reply(target, "Yes, within 30 days.", "outbox-lost-answer")
        assert proxy.withheld and proxy.withheld[0].status == 200, "the PDS did store the first attempt"
        assert sent.platform_message_id == json.loads(proxy.withheld[0].body)["uri"], "found by its record key"
        proxy.withhold = None
        retried = connect(bluesky, brand_secret, opened, base_url=proxy.url).send_reply(
            target, "Yes, within 30 days.", "outbox-lost-answer"
        )
        assert retried.platform_message_id == sent.platform_message_id
        assert [p["value"]["text"] for p in bluesky.posts_by("brand")].count("Yes, within 30 days.") == 1
    finally:
        proxy.stop()


def test_an_expired_access_token_is_refreshed_and_a_revoked_session_asks_to_sign_in_again(
    bluesky: BlueskyNetwork, opened: list[BlueskyConnector]
) -> None:
    user = bluesky.users["brand"]
    secret, _ = BlueskyConnector.sign_in(bluesky.pds, user.handle, user.app_password)
    session = json.loads(secret)
    stale = json.dumps({**session, "accessJwt": session["accessJwt"][:-6] + "AAAAAA"})  # signature no longer valid
    connector = connect(bluesky, stale, opened)
    assert connector.verify().platform_user_id == user.did
    rotated = json.loads(connector.new_secret() or "{}")
    assert rotated["refreshJwt"] != session["refreshJwt"] and rotated["did"] == user.did
    assert connector.new_secret() is None, "offered once"
    assert connector.sign_out() is True  # deleteSession: the refresh token is revoked on the PDS
    revoked = connect(bluesky, json.dumps({**rotated, "accessJwt": "not.a.token"}), opened)
    with pytest.raises(AuthError) as raised:
        revoked.verify()
    assert "Sign in to this account again" in raised.value.user_message()


def test_dms_go_through_the_pds_chat_proxy_both_ways(
    bluesky: BlueskyNetwork, brand_secret: str, opened: list[BlueskyConnector]
) -> None:
    """The PDS resolves the atproto-proxy header and forwards to the chat service (the emulator here)."""
    brand, ann = bluesky.users["brand"].did, bluesky.users["ann"].did
    connector = connect(bluesky, brand_secret, opened, chat=True)
    cursor = list(connector.fetch("chat", None))[-1].cursor
    convo = bluesky.chat.open_convo(brand, ann)
    bluesky.chat.say(convo, ann, "Is my refund through?")
    (message,) = [m for page in connector.fetch("chat", cursor) for m in page.messages]
    assert (message.text, message.kind, message.author.handle) == ("Is my refund through?", MessageKind.DM, "ann.test")
    sent = connector.send_reply(ReplyTarget(conversation_key=message.conversation_key), "Yes, today.", "dm-pds-1")
    assert [(m["sender"]["did"], m["text"]) for m in bluesky.chat.messages_in(convo)][-1] == (brand, "Yes, today.")
    assert sent.platform_message_id.endswith(bluesky.chat.messages_in(convo)[-1]["id"])


def test_an_app_password_without_dm_access_is_told_apart_from_a_lost_sign_in(
    bluesky: BlueskyNetwork, opened: list[BlueskyConnector]
) -> None:
    """Bob's app password was made without direct-message access: the PDS refuses chat calls ("Bad token
    scope"); Parley says how to fix it, and does not ask to sign in again, nor refresh in a loop."""
    user = bluesky.users["bob"]
    secret, _ = BlueskyConnector.sign_in(bluesky.pds, user.handle, user.app_password)
    connector = connect(bluesky, secret, opened, who="bob", chat=True)
    with pytest.raises(PlatformError) as raised:
        list(connector.fetch("chat", None))
    assert not isinstance(raised.value, AuthError)
    assert "allows them" in raised.value.user_message()
    assert connector.new_secret() is None, "no refresh was attempted"
    assert connector.verify().handle == user.handle, "the session itself is fine"


def test_a_handle_named_in_a_reply_becomes_a_mention_that_notifies_its_owner(
    bluesky: BlueskyNetwork, brand_secret: str, opened: list[BlueskyConnector]
) -> None:
    question = bluesky.post("ann", "@brand.test who handles warranty claims?", mention="brand")
    bluesky.settle()
    text = "Über die Garantie: @bob.test knows, or write to help@example.test"
    sent = connect(bluesky, brand_secret, opened).send_reply(
        ReplyTarget(conversation_key=thread_key(question["uri"]), in_reply_to_platform_id=question["uri"]),
        text,
        "outbox-mention",
    )
    bluesky.settle()
    (record,) = [p["value"] for p in bluesky.posts_by("brand") if p["uri"] == sent.platform_message_id]
    (facet,) = record["facets"]
    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
    assert text.encode()[start:end] == b"@bob.test"
    assert facet["features"] == [{"$type": "app.bsky.richtext.facet#mention", "did": bluesky.users["bob"].did}]
    notes = bluesky.call("app.bsky.notification.listNotifications", as_user="bob")["notifications"]
    assert any(n["uri"] == sent.platform_message_id and n["reason"] == "mention" for n in notes)
