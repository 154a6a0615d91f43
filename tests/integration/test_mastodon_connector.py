"""The Mastodon connector against mastodon-mock on 127.0.0.1: sync, threading, paging, sending, errors.

mastodon-mock is a third-party emulator of the Mastodon client API. Its fault rules are global to the
session-scoped server, so every test that adds one clears them afterwards; users get unique names.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine

from app.domain.models import (
    AccountRef,
    Direction,
    FetchedMessage,
    MessageKind,
    Page,
    Platform,
    ReplyTarget,
    Visibility,
)
from app.errors import AuthError, NetworkError, NotFound, PlatformError, RateLimited
from app.platforms.http import make_session
from app.platforms.mastodon import MastodonConnector
from app.store import accounts, inbox
from app.store.database import open_store
from app.store.ingest import store_page
from tests.factories import T0
from tests.peers.mastodon_mock import MastodonMock


@pytest.fixture
def server(mastodon_server: MastodonMock) -> Iterator[MastodonMock]:
    yield mastodon_server
    mastodon_server.clear_faults()


def new_user(server: MastodonMock, role: str) -> dict[str, Any]:
    return server.create_user(f"{role}_{secrets.token_hex(4)}", display_name=role.title())


def connector_for(server: MastodonMock, user: dict[str, Any], **options: Any) -> MastodonConnector:
    account = AccountRef(
        id=1,
        platform=Platform.MASTODON,
        name=user["username"],
        base_url=server.url,
        handle="@" + user["username"],
        platform_user_id=user["id"],
    )
    # Short backoff so retry tests stay fast; the retry policy itself is the production one.
    options.setdefault("session", make_session(backoff=0.01))
    return MastodonConnector(account, user["access_token"], **options)


def api_get(server: MastodonMock, user: dict[str, Any], path: str, **params: Any) -> Any:
    response = requests.get(
        server.url + path, params=params, headers={"Authorization": f"Bearer {user['access_token']}"}, timeout=10
    )
    response.raise_for_status()
    return response.json()


def all_pages(connector: MastodonConnector, stream: str, cursor: str | None = None) -> list[Page]:
    return list(connector.fetch(stream, cursor))


def messages_of(pages: list[Page]) -> list[FetchedMessage]:
    return [message for page in pages for message in page.messages]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_store(tmp_path / "cache.sqlite3")
    yield engine
    engine.dispose()


def test_verify_names_the_token_owner(server: MastodonMock) -> None:
    brand = new_user(server, "brand")

    identity = connector_for(server, brand).verify()

    assert identity.platform_user_id == brand["id"]
    assert identity.handle == "@" + brand["username"]
    assert identity.display_name == "Brand"


def test_bad_token_is_an_auth_error_that_asks_to_sign_in_again(server: MastodonMock) -> None:
    brand = new_user(server, "brand")
    connector = connector_for(server, {**brand, "access_token": "not-a-token"})

    with pytest.raises(AuthError) as raised:
        connector.verify()
    with pytest.raises(AuthError):
        all_pages(connector, "mentions")

    assert "not-a-token" not in str(raised.value) and "Sign in" in raised.value.hint


def test_mentions_and_dms_from_several_users_arrive_as_inbound_messages(server: MastodonMock) -> None:
    brand, ann, bob, carol = (new_user(server, role) for role in ("brand", "ann", "bob", "carol"))
    at = "@" + brand["username"]
    public = server.post(ann["access_token"], f"{at} where is my parcel?")
    direct = server.post(bob["access_token"], f"{at} my order number is 1234", visibility="direct")
    unlisted = server.post(carol["access_token"], f"{at} love the new range", visibility="unlisted")
    server.post(carol["access_token"], "a post that mentions nobody")

    pages = all_pages(connector_for(server, brand), "mentions")
    fetched = {m.platform_message_id: m for m in messages_of(pages)}

    assert set(fetched) == {public["id"], direct["id"], unlisted["id"]}
    assert all(m.direction is Direction.INBOUND for m in fetched.values())
    assert fetched[public["id"]].kind is MessageKind.MENTION
    assert fetched[public["id"]].author.handle == "@" + ann["username"]
    assert fetched[public["id"]].text == f"{at} where is my parcel?"
    dm = fetched[direct["id"]]
    assert (dm.kind, dm.visibility) == (MessageKind.DM, Visibility.DIRECT)
    assert dm.participants == ("@" + bob["username"],)
    assert dm.conversation_key == f"dm:@{bob['username']}"
    assert fetched[unlisted["id"]].visibility is Visibility.UNLISTED
    assert pages[-1].has_more is False and not any(page.rejected for page in pages)

    # The DM also shows up on the "direct" stream, under the same conversation key.
    from_conversations = messages_of(all_pages(connector_for(server, brand), "direct"))
    assert [(m.platform_message_id, m.conversation_key) for m in from_conversations] == [
        (direct["id"], dm.conversation_key)
    ]


def test_a_thread_with_replies_stays_one_conversation_in_the_store(server: MastodonMock, engine: Engine) -> None:
    brand, ann, bob, carol = (new_user(server, role) for role in ("brand", "ann", "bob", "carol"))
    at = {user["username"]: "@" + user["username"] for user in (brand, ann, bob, carol)}
    b, a, c = at[brand["username"]], at[ann["username"]], at[carol["username"]]
    # Public thread; the brand answers from another client (the web UI), not through Parley.
    root = server.post(ann["access_token"], f"{b} my parcel never arrived")
    answer = server.post(brand["access_token"], f"{a} sorry! checking now", in_reply_to_id=root["id"])
    thanks = server.post(ann["access_token"], f"{b} thanks", in_reply_to_id=answer["id"])
    chime = server.post(bob["access_token"], f"{b} {a} same here", in_reply_to_id=thanks["id"])
    # Direct thread; mastodon-mock gives each of these messages a different conversation id.
    dm1 = server.post(carol["access_token"], f"{b} refund please", visibility="direct")
    dm2 = server.post(brand["access_token"], f"{c} done", visibility="direct", in_reply_to_id=dm1["id"])
    dm3 = server.post(carol["access_token"], f"{b} got it", visibility="direct", in_reply_to_id=dm2["id"])
    account = accounts.add_account(
        engine,
        platform=Platform.MASTODON,
        name="brand",
        base_url=server.url,
        now=T0,
        handle=b,
        platform_user_id=brand["id"],
    )
    connector = MastodonConnector(account, brand["access_token"])

    for stream in connector.streams():
        for page in connector.fetch(stream, None):
            store_page(engine, account.id, page, now=T0)

    assert inbox.count_conversations(engine) == 2
    threads = {
        summary.kind: [m.platform_message_id for m in inbox.thread(engine, summary.id)]
        for summary in inbox.inbox_page(engine)
    }
    assert threads == {
        MessageKind.MENTION: [root["id"], answer["id"], thanks["id"], chime["id"]],
        MessageKind.DM: [dm1["id"], dm2["id"], dm3["id"]],
    }
    directions = [m.direction for s in inbox.inbox_page(engine) for m in inbox.thread(engine, s.id)]
    assert directions.count(Direction.OUTBOUND) == 2  # our two answers, fetched because customers replied to them

    context = connector.thread_context(thanks["id"])
    assert [m.platform_message_id for m in context] == [root["id"], answer["id"], thanks["id"], chime["id"]]
    assert context[1].direction is Direction.OUTBOUND


def test_paging_delivers_every_mention_once_oldest_first_and_stops_at_the_newest(
    server: MastodonMock, engine: Engine
) -> None:
    brand, ann, bob = (new_user(server, role) for role in ("brand", "ann", "bob"))
    at = "@" + brand["username"]
    posted = [server.post((ann, bob)[n % 2]["access_token"], f"{at} message {n}")["id"] for n in range(130)]
    account = accounts.add_account(
        engine, platform=Platform.MASTODON, name="brand", base_url=server.url, now=T0, platform_user_id=brand["id"]
    )
    connector = connector_for(server, brand)

    pages = all_pages(connector, "mentions")
    for page in pages:
        store_page(engine, account.id, page, now=T0)

    assert [len(page.messages) for page in pages] == [40, 40, 40, 10, 0]
    assert [m.platform_message_id for page in pages for m in sorted(page.messages, key=lambda m: m.created_at)] == (
        posted
    )
    assert [page.has_more for page in pages] == [True, True, True, True, False]
    newest_notification = api_get(server, brand, "/api/v1/notifications", limit=1)[0]["id"]
    assert pages[-1].cursor == pages[-2].cursor == newest_notification
    assert inbox.message_count(engine) == 130

    # Resuming from a page's cursor gives exactly what came after it: no gap, no overlap.
    resumed = all_pages(connector, "mentions", pages[1].cursor)
    assert [m.platform_message_id for m in messages_of(resumed)] == [
        m.platform_message_id for page in pages[2:] for m in page.messages
    ]

    # A second sync finds nothing new and keeps the cursor; a new mention is the only thing the next one brings.
    again = all_pages(connector, "mentions", pages[-1].cursor)
    assert [(len(p.messages), p.cursor, p.has_more) for p in again] == [(0, pages[-1].cursor, False)]
    late = server.post(ann["access_token"], f"{at} one more")
    after = all_pages(connector, "mentions", pages[-1].cursor)
    assert [m.platform_message_id for m in messages_of(after)] == [late["id"]]


def test_sending_twice_with_one_idempotency_key_posts_once(server: MastodonMock) -> None:
    brand, ann = new_user(server, "brand"), new_user(server, "ann")
    question = server.post(ann["access_token"], f"@{brand['username']} open on sunday?")
    connector = connector_for(server, brand)
    target = ReplyTarget(conversation_key=f"thread:{question['id']}", in_reply_to_platform_id=question["id"])

    first = connector.send_reply(target, f"@{ann['username']} yes, 10 to 4", "key-1")
    second = connector.send_reply(target, f"@{ann['username']} yes, 10 to 4", "key-1")
    other = connector.send_reply(target, f"@{ann['username']} and on holidays too", "key-2")

    assert first.platform_message_id == second.platform_message_id != other.platform_message_id
    ours = api_get(server, brand, f"/api/v1/accounts/{brand['id']}/statuses")
    assert sorted(s["id"] for s in ours) == sorted({first.platform_message_id, other.platform_message_id})
    assert {s["in_reply_to_id"] for s in ours} == {question["id"]}
    assert first.created_at.tzinfo is not None


def test_a_failed_post_is_not_retried_by_the_session_and_the_callers_retry_posts_once(server: MastodonMock) -> None:
    brand = new_user(server, "brand")
    connector = connector_for(server, brand)
    server.add_fault(
        {"match": {"methods": ["POST"], "path": "/api/v1/statuses"}, "effect": {"status": 502}, "count": 1}
    )
    target = ReplyTarget(conversation_key="thread:x")

    with pytest.raises(PlatformError, match="HTTP 502"):
        connector.send_reply(target, "status update: all parcels shipped", "key-9")
    sent = connector.send_reply(target, "status update: all parcels shipped", "key-9")
    again = connector.send_reply(target, "status update: all parcels shipped", "key-9")

    assert sent.platform_message_id == again.platform_message_id
    assert [s["id"] for s in api_get(server, brand, f"/api/v1/accounts/{brand['id']}/statuses")] == [
        sent.platform_message_id
    ]


def test_a_direct_reply_stays_direct_and_mentions_the_participant(server: MastodonMock) -> None:
    brand, ann = new_user(server, "brand"), new_user(server, "ann")
    server.post(ann["access_token"], f"@{brand['username']} my address changed", visibility="direct")
    connector = connector_for(server, brand)
    [dm] = messages_of(all_pages(connector, "mentions"))

    sent = connector.send_reply(
        ReplyTarget(
            conversation_key=dm.conversation_key,
            in_reply_to_platform_id=dm.platform_message_id,
            visibility=dm.visibility,
            participants=dm.participants,
        ),
        "Updated, thanks!",
        "key-dm",
    )

    status = api_get(server, brand, f"/api/v1/statuses/{sent.platform_message_id}")
    assert status["visibility"] == "direct"
    assert status["in_reply_to_id"] == dm.platform_message_id
    assert [m["acct"] for m in status["mentions"]] == [ann["username"]]
    assert status["content"].count("Updated, thanks!") == 1
    seen_by_ann = api_get(server, ann, "/api/v1/notifications", **{"types[]": "mention"})
    assert [n["status"]["id"] for n in seen_by_ann] == [sent.platform_message_id]


def test_a_rejected_post_reports_the_servers_reason(server: MastodonMock) -> None:
    connector = connector_for(server, new_user(server, "brand"))

    with pytest.raises(PlatformError, match="Text can't be blank") as raised:
        connector.send_reply(ReplyTarget(conversation_key="thread:x"), "   ", "key-empty")

    assert raised.value.status == 422


def test_thread_of_an_unknown_status_is_not_found(server: MastodonMock) -> None:
    with pytest.raises(NotFound):
        connector_for(server, new_user(server, "brand")).thread_context("999999999999999")


@pytest.mark.timeout(30)  # a session that slept on Retry-After would hang here for 20 minutes
def test_429_raises_rate_limited_at_once_with_retry_at_from_the_reset_header(server: MastodonMock) -> None:
    brand = new_user(server, "brand")
    connector = connector_for(server, brand)
    reset = int(time.time()) + 1234
    server.add_fault(
        {
            "match": {"path": "/api/v1/notifications"},
            "effect": {"type": "ratelimit", "headers": {"X-RateLimit-Reset": str(reset), "Retry-After": "1234"}},
            "count": 1,
        }
    )

    started = time.monotonic()
    with pytest.raises(RateLimited) as raised:
        all_pages(connector, "mentions")

    assert time.monotonic() - started < 5, "a 429 must reach the caller, not be slept on and retried"
    assert abs(raised.value.retry_at - reset) <= 5
    budget = connector.rate_limit()
    assert (budget.limit, budget.remaining) == (300, 0)
    assert budget.reset_at is not None and int(budget.reset_at.timestamp()) == reset
    assert [len(p.messages) for p in all_pages(connector, "mentions")] == [0]  # the limit has passed: reads work


def test_a_burst_of_500s_on_a_read_is_retried_and_a_lasting_one_is_a_platform_error(server: MastodonMock) -> None:
    brand, ann = new_user(server, "brand"), new_user(server, "ann")
    mention = server.post(ann["access_token"], f"@{brand['username']} hello?")
    connector = connector_for(server, brand)
    rule = {"match": {"methods": ["GET"], "path": "/api/v1/notifications"}, "effect": {"status": 500}}

    server.add_fault({**rule, "count": 2})
    assert [m.platform_message_id for m in messages_of(all_pages(connector, "mentions"))] == [mention["id"]]

    server.add_fault(rule)
    with pytest.raises(PlatformError, match="HTTP 500") as raised:
        all_pages(connector, "mentions")
    assert raised.value.status == 500


def test_a_body_that_is_not_json_is_a_platform_error_saying_so(server: MastodonMock) -> None:
    connector = connector_for(server, new_user(server, "brand"))
    server.add_fault({"match": {"path": "/api/v1/conversations"}, "effect": {"type": "malformed"}, "count": 1})

    with pytest.raises(PlatformError, match="Reading Mastodon direct: .* not valid JSON"):
        all_pages(connector, "direct")


def test_a_hung_request_is_a_network_error_after_the_read_timeout(server: MastodonMock) -> None:
    # mastodon-mock's "timeout" effect holds the connection for 30 s, which would keep the shared server
    # from shutting down for that long; a 2 s "latency" hangs past a 0.3 s read timeout just the same.
    connector = connector_for(server, new_user(server, "brand"), timeout=(2.0, 0.3))
    server.add_fault(
        {"match": {"path": "/api/v1/accounts/verify_credentials"}, "effect": {"type": "latency", "delay_ms": 2000}}
    )

    started = time.monotonic()
    with pytest.raises(NetworkError, match="did not answer in time"):
        connector.verify()

    assert time.monotonic() - started < 5
