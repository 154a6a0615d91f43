"""The Matrix connector against a real Synapse: DMs both ways, mentions, invites, back-fill, gaps, errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from app.domain.models import AccountRef, Direction, FetchedMessage, MessageKind, Page, Platform, ReplyTarget
from app.errors import AuthError, NotFound, PlatformError, RateLimited
from app.platforms.matrix import MatrixConnector, device_id_for
from app.platforms.matrix_parse import mention_key, room_key
from app.store import accounts, inbox
from app.store.database import open_store
from app.store.ingest import store_page
from tests.factories import T0
from tests.peers.synapse import MatrixUser, SynapseServer

pytestmark = pytest.mark.synapse


@dataclass
class Brand:
    user: MatrixUser
    token: str  # from MatrixConnector.sign_in, on Parley's own device
    opened: list[MatrixConnector] = field(default_factory=list)

    def connector(self, **options: Any) -> MatrixConnector:
        account = AccountRef(
            id=1,
            platform=Platform.MATRIX,
            name="brand",
            base_url=self.user.server.url,
            handle=self.user.user_id,
            platform_user_id=self.user.user_id,
            options=options,
        )
        self.opened.append(MatrixConnector(account, self.token))
        return self.opened[-1]


@pytest.fixture
def brand(synapse: SynapseServer) -> Iterator[Brand]:
    user = synapse.register(synapse.unique("brand"))
    token, _ = MatrixConnector.sign_in(synapse.url, user.user_id, user.password, device_id=device_id_for("test"))
    made = Brand(user=user, token=token)
    yield made
    for connector in made.opened:
        connector.close()


@pytest.fixture
def customer(synapse: SynapseServer) -> MatrixUser:
    return synapse.register(synapse.unique("customer"))


def sync(connector: MatrixConnector, cursor: str | None) -> tuple[list[Page], str]:
    pages = list(connector.fetch("sync", cursor))
    return pages, next(page.cursor for page in reversed(pages) if page.cursor)


def messages_of(pages: list[Page]) -> list[FetchedMessage]:
    return [message for page in pages for message in page.messages]


def open_dm(brand: Brand, customer: MatrixUser, connector: MatrixConnector, first: str) -> tuple[str, str, str]:
    """The customer opens a DM with the brand and writes; the brand syncs. Returns room, message id, cursor."""
    _, cursor = sync(connector, None)
    room = customer.create_room(invite=(brand.user.user_id,), direct=True)
    event_id = customer.send(room, first)
    pages, cursor = sync(connector, cursor)
    assert [m.platform_message_id for m in messages_of(pages)] == [event_id]
    return room, event_id, cursor


def test_sign_in_reuses_parleys_device_and_refuses_a_wrong_password(synapse: SynapseServer) -> None:
    user = synapse.register(synapse.unique("signin"))
    device = device_id_for("install-1/brand")
    first, identity = MatrixConnector.sign_in(synapse.url, user.user_id, user.password, device_id=device)
    again, _ = MatrixConnector.sign_in(synapse.url, user.user_id, user.password, device_id=device)
    assert identity.platform_user_id == user.user_id and identity.display_name == user.user_id[1:].split(":")[0]
    devices = {d["device_id"] for d in user.call("GET", "/devices")["devices"]}
    assert device in devices and len(devices) == 2, "the registration's device and one Parley device, not two"
    assert first != again
    with pytest.raises(AuthError, match="wrong user name or password"):
        MatrixConnector.sign_in(synapse.url, user.user_id, "not-the-password", device_id=device)


def test_direct_invite_is_accepted_and_the_customers_message_arrives_as_a_dm(
    brand: Brand, customer: MatrixUser
) -> None:
    connector = brand.connector()
    _, cursor = sync(connector, None)
    room = customer.create_room(invite=(brand.user.user_id,), direct=True)
    event_id = customer.send(room, "Where is my order?")
    pages, _ = sync(connector, cursor)
    (message,) = messages_of(pages)
    assert (message.platform_message_id, message.text) == (event_id, "Where is my order?")
    assert (message.kind, message.direction, message.conversation_key) == (
        MessageKind.DM,
        Direction.INBOUND,
        room_key(room),
    )
    assert message.author.platform_user_id == customer.user_id
    assert brand.user.user_id in customer.joined_members(room)
    assert pages[-1].has_more is False and all(page.has_more for page in pages[:-1])


def test_brand_reply_reaches_the_customer_and_syncs_back_as_outbound(brand: Brand, customer: MatrixUser) -> None:
    connector = brand.connector()
    room, question, cursor = open_dm(brand, customer, connector, "Is the shop open on Sunday?")
    target = ReplyTarget(
        conversation_key=room_key(room), in_reply_to_platform_id=question, participants=(customer.user_id,)
    )
    sent = connector.send_reply(target, "Yes, 10 to 4.", "outbox-1")
    (seen,) = [e for e in customer.messages(room) if e["event_id"] == sent.platform_message_id]
    assert seen["content"]["body"] == "Yes, 10 to 4."
    assert seen["content"]["m.relates_to"] == {"m.in_reply_to": {"event_id": question}}
    # A new connector knows nothing in memory: the room is a DM only because m.direct was saved on the server.
    pages, _ = sync(brand.connector(), cursor)
    (answer,) = messages_of(pages)
    assert (answer.platform_message_id, answer.direction, answer.kind) == (
        sent.platform_message_id,
        Direction.OUTBOUND,
        MessageKind.DM,
    )
    assert (answer.conversation_key, answer.parent_platform_id) == (room_key(room), question)


def test_group_mentions_become_mentions_and_chatter_stays_out(brand: Brand, customer: MatrixUser) -> None:
    connector = brand.connector()
    room = customer.create_room(invite=(brand.user.user_id,), name="Community")
    connector.accept_invite(room)
    _, cursor = sync(connector, None)
    me, name = brand.user.user_id, brand.user.user_id[1:].split(":")[0]
    expected = [
        customer.send(room, f"{name}: my parcel is late", **{"m.mentions": {"user_ids": [me]}}),
        customer.send(room, f"{me} can you help?", **{"m.mentions": {}}),
        customer.send(room, f"ask {name} about it"),  # a legacy client: no m.mentions, the name counts
    ]
    customer.send(room, "lovely weather today")
    customer.send(room, f"{name} is a nice name", **{"m.mentions": {}})  # intentionally not a mention
    pages, _ = sync(connector, cursor)
    found = messages_of(pages)
    assert [m.platform_message_id for m in found] == expected
    assert {(m.kind, m.direction, m.conversation_key) for m in found} == {
        (MessageKind.MENTION, Direction.INBOUND, mention_key(room, customer.user_id))
    }


def test_non_direct_invite_waits_in_pending_invites_until_accepted(brand: Brand, customer: MatrixUser) -> None:
    connector = brand.connector()
    _, cursor = sync(connector, None)
    room = customer.create_room(invite=(brand.user.user_id,), name="Support lounge")
    customer.send(room, f"welcome {brand.user.user_id}")
    pages, _ = sync(connector, cursor)
    assert messages_of(pages) == []
    assert brand.user.user_id not in customer.joined_members(room)
    invite = {"room_id": room, "inviter": customer.user_id, "room_name": "Support lounge", "is_direct": False}
    assert brand.connector().pending_invites() == [invite]
    connector.accept_invite(room)
    assert brand.user.user_id in customer.joined_members(room)
    assert connector.pending_invites() == []


def test_direct_invite_is_left_alone_when_auto_accept_is_off(brand: Brand, customer: MatrixUser) -> None:
    connector = brand.connector(auto_accept_direct_invites=False)
    room = customer.create_room(invite=(brand.user.user_id,), direct=True)
    sync(connector, None)
    assert brand.user.user_id not in customer.joined_members(room)
    assert [(i["room_id"], i["is_direct"]) for i in connector.pending_invites()] == [(room, True)]


def test_reply_with_fallback_is_stripped_and_stored_in_its_parents_conversation(
    synapse: SynapseServer, brand: Brand, customer: MatrixUser, tmp_path: Path
) -> None:
    other = synapse.register(synapse.unique("other"))
    room = customer.create_room(invite=(brand.user.user_id, other.user_id), name="Community")
    other.join(room)
    engine = open_store(tmp_path / "cache.sqlite3", backups=tmp_path / "backups")
    try:
        account = accounts.add_account(
            engine,
            platform=Platform.MATRIX,
            name="brand",
            base_url=synapse.url,
            now=T0,
            platform_user_id=brand.user.user_id,
        )
        connector = MatrixConnector(account, brand.token)
        connector.accept_invite(room)
        me = brand.user.user_id
        question = customer.send(room, f"{me} my parcel never came")
        reply = other.send(
            room,
            f"> <{customer.user_id}> {me} my parcel never came\n\nsame problem here",
            format="org.matrix.custom.html",
            formatted_body=f"<mx-reply><blockquote>{me} my parcel never came</blockquote></mx-reply>"
            "same <b>problem</b> here",
            **{"m.relates_to": {"m.in_reply_to": {"event_id": question}}, "m.mentions": {"user_ids": [me]}},
        )
        for page in connector.fetch("sync", None):
            store_page(engine, account.id, page, now=T0)
        assert accounts.get_cursor(engine, account.id, "sync")
        (conversation,) = inbox.inbox_page(engine)
        assert conversation.message_count == 2, "the reply joined the question's conversation, not its own"
        stored = {m.platform_message_id: m for m in inbox.thread(engine, conversation.id)}
        assert stored[reply].parent_platform_id == question
        assert stored[reply].text == "same problem here"
        assert "mx-reply" not in stored[reply].html and "never came" not in stored[reply].html
    finally:
        engine.dispose()


def test_limited_timeline_is_backfilled_down_to_the_last_sync(brand: Brand, customer: MatrixUser) -> None:
    connector = brand.connector(timeline_limit=5, backfill_page_size=6)
    room, _, cursor = open_dm(brand, customer, connector, "hello")
    sent = [customer.send(room, f"message {i}") for i in range(20)]
    pages, _ = sync(connector, cursor)
    assert [m.platform_message_id for m in messages_of(pages)] == sent
    assert [gap for page in pages for gap in page.gaps] == []


@pytest.mark.parametrize("pages_allowed", [0, 1])
def test_backfill_cut_short_reports_a_gap_between_the_last_known_and_the_oldest_fetched(
    brand: Brand, customer: MatrixUser, pages_allowed: int
) -> None:
    connector = brand.connector(timeline_limit=5, backfill_pages=pages_allowed, backfill_page_size=5)
    room, first, cursor = open_dm(brand, customer, connector, "hello")
    sent = [customer.send(room, f"message {i}") for i in range(20)]
    pages, _ = sync(connector, cursor)
    got = messages_of(pages)
    assert [m.platform_message_id for m in got] == sent[-5 * (pages_allowed + 1) :]
    (gap,) = [gap for page in pages for gap in page.gaps]
    known = {e["event_id"]: e["origin_server_ts"] for e in customer.messages(room)}
    assert gap.start is not None and gap.end is not None
    assert round(gap.start.timestamp() * 1000) == known[first], "the gap starts at the last message we had"
    assert gap.end == got[0].created_at, "and ends at the oldest one fetched"


def test_send_retried_with_the_same_key_posts_once(brand: Brand, customer: MatrixUser) -> None:
    connector = brand.connector()
    room, question, _ = open_dm(brand, customer, connector, "refund?")
    target = ReplyTarget(conversation_key=room_key(room), in_reply_to_platform_id=question)
    first = connector.send_reply(target, "Refund issued.", "outbox-42")
    retried = brand.connector().send_reply(target, "Refund issued.", "outbox-42")
    other = connector.send_reply(target, "Refund issued.", "outbox-43")
    assert retried.platform_message_id == first.platform_message_id != other.platform_message_id
    bodies = [e["event_id"] for e in customer.messages(room) if e["content"].get("body") == "Refund issued."]
    assert sorted(bodies) == sorted({first.platform_message_id, other.platform_message_id})


def test_revoked_token_raises_auth_error(brand: Brand) -> None:
    connector = brand.connector()
    assert connector.verify().platform_user_id == brand.user.user_id
    requests.post(
        f"{brand.user.server.url}/_matrix/client/v3/logout",
        headers={"Authorization": f"Bearer {brand.token}"},
        timeout=10,
    ).raise_for_status()
    with pytest.raises(AuthError, match="M_UNKNOWN_TOKEN") as raised:
        connector.verify()
    assert raised.value.status == 401 and "Sign in" in raised.value.hint
    with pytest.raises(AuthError):
        list(brand.connector().fetch("sync", None))


def test_rate_limit_gives_a_retry_time_and_sending_after_it_succeeds(
    synapse: SynapseServer, brand: Brand, customer: MatrixUser
) -> None:
    connector = brand.connector()
    room, question, _ = open_dm(brand, customer, connector, "hi")
    admin = synapse.register(synapse.unique("admin"), admin=True)
    admin.set_message_rate_limit(brand.user.user_id, per_second=2, burst_count=1)
    target = ReplyTarget(conversation_key=room_key(room), in_reply_to_platform_id=question)
    sent = 0
    with pytest.raises(RateLimited) as raised:
        for _ in range(3):  # the auto-join a moment ago may already have spent the budget of one
            connector.send_reply(target, "again", f"k-{sent}")
            sent += 1
    retry_at = raised.value.retry_at
    assert time.time() < retry_at < time.time() + 5
    # Honouring the homeserver's own delay is the behaviour under test, so the test waits it out.
    while time.time() < retry_at:
        time.sleep(max(0.0, retry_at - time.time()))
    assert connector.send_reply(target, "again", f"k-{sent}").platform_message_id


def test_encrypted_dm_message_is_rejected_alone_and_the_rest_arrives(brand: Brand, customer: MatrixUser) -> None:
    connector = brand.connector()
    room, _, cursor = open_dm(brand, customer, connector, "hello")
    encrypted = customer.send_event(room, {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "x"}, "m.room.encrypted")
    fine = customer.send(room, "still here")
    pages, _ = sync(connector, cursor)
    assert [m.platform_message_id for m in messages_of(pages)] == [fine]
    (rejected,) = [item for page in pages for item in page.rejected]
    assert rejected.item_id == encrypted and "encrypted" in rejected.reason


def test_thread_context_finds_the_room_and_the_reply_chain(brand: Brand, customer: MatrixUser) -> None:
    connector = brand.connector()
    room, question, _ = open_dm(brand, customer, connector, "order 1234?")
    follow_up = customer.send(room, "any news?", **{"m.relates_to": {"m.in_reply_to": {"event_id": question}}})
    fresh = brand.connector()  # knows no event's room: has to find it
    thread = fresh.thread_context(follow_up)
    assert [m.platform_message_id for m in thread] == [question, follow_up]
    assert thread[1].parent_platform_id == question
    with pytest.raises(NotFound):
        fresh.thread_context("$no-such-event")


def test_sending_into_a_room_we_are_not_in_is_refused_without_asking_to_sign_in_again(
    brand: Brand, customer: MatrixUser
) -> None:
    room = customer.create_room(name="Private")
    with pytest.raises(PlatformError) as raised:
        brand.connector().send_reply(ReplyTarget(conversation_key=room_key(room)), "hello?", "k-1")
    assert raised.value.status == 403 and not isinstance(raised.value, AuthError)
    assert "M_FORBIDDEN" in str(raised.value)
