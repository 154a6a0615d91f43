"""The X connector against the X API v2 emulator on 127.0.0.1 (tests/peers/x_api.py): sync, threading,
sending exactly once, and the fault battery (401/403, 429, 5xx, malformed items, token rotation)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from app.context import AppContext
from app.domain.models import AccountRef, AccountState, Direction, MessageKind, Platform, ReplyTarget
from app.domain.outbox import OutboxState
from app.errors import AuthError, NetworkError, PlatformError, RateLimited
from app.platforms.http import make_session
from app.platforms.oauth2 import TokenBundle
from app.platforms.x import XConnector
from app.store import accounts, gaps, inbox, outbox
from app.sync import account_service
from app.sync.engine import SyncEngine
from app.sync.sender import OutboxSender
from tests.factories import T0
from tests.oauth_fixtures import bundle, oauth_sync  # noqa: F401 - the fixture sync
from tests.peers.x_api import XApi
from tests.sync_fixtures import sync_ctx  # noqa: F401 - the fixture ctx


@pytest.fixture
def x() -> Iterator[XApi]:
    server = XApi()
    yield server
    server.close()


def ref(x: XApi, user: dict[str, Any], account_id: int = 1) -> AccountRef:
    return AccountRef(
        id=account_id,
        platform=Platform.X,
        name=user["username"],
        base_url=x.url,
        handle="@" + user["username"],
        platform_user_id=user["id"],
        options={"client_id": x.client_id},
    )


def connector(x: XApi, user: dict[str, Any], secret: str | None = None, **options: Any) -> XConnector:
    options.setdefault("session", make_session(backoff=0.01))
    return XConnector(ref(x, user), secret or bundle(user), **options)


def add_account(ctx: AppContext, x: XApi, user: dict[str, Any]) -> AccountRef:
    account = accounts.add_account(
        ctx.engine,
        platform=Platform.X,
        name=user["username"],
        base_url=x.url,
        now=T0,
        handle="@" + user["username"],
        platform_user_id=user["id"],
        options={"client_id": x.client_id},
    )
    ctx.secrets.set(account.id, bundle(user))
    return account


def test_sync_stores_mentions_threaded_by_conversation_and_dms_by_dm_conversation(
    x: XApi, ctx: AppContext, sync: SyncEngine
) -> None:
    brand, ann, bob = x.add_user("brand"), x.add_user("ann"), x.add_user("bob")
    question = x.tweet(ann, "@brand where is my parcel?")
    follow_up = x.tweet(bob, "@brand @ann same here", reply_to=question["id"])
    x.tweet(ann, "a tweet that mentions nobody")
    first_dm = x.dm(bob, brand, "my order number is 1234")
    second_dm = x.dm(bob, brand, "any news?")
    account = add_account(ctx, x, brand)

    outcome = sync.sync_account(account.id, threading.Event())

    assert outcome.state is AccountState.OK and not outcome.failed
    threads = {
        inbox.conversation_key(ctx.engine, cid)[1]: inbox.thread(ctx.engine, cid)
        for cid in inbox.conversation_ids(ctx.engine)
    }
    assert set(threads) == {f"thread:{question['id']}", f"dm:{first_dm['dm_conversation_id']}"}
    mention_thread = threads[f"thread:{question['id']}"]
    assert [(m.platform_message_id, m.author_handle, m.kind) for m in mention_thread] == [
        (question["id"], "@ann", MessageKind.MENTION),
        (follow_up["id"], "@bob", MessageKind.REPLY),
    ]
    assert mention_thread[1].parent_platform_id == question["id"]
    dms = threads[f"dm:{first_dm['dm_conversation_id']}"]
    assert [m.text for m in dms] == ["my order number is 1234", "any news?"]
    assert all(m.direction is Direction.INBOUND for m in dms)
    assert accounts.get_cursor(ctx.engine, account.id, "direct") == second_dm["id"]
    assert accounts.get_cursor(ctx.engine, account.id, "mentions") == follow_up["id"]

    newer = x.tweet(ann, "@brand thanks, it arrived")
    again = sync.sync_account(account.id, threading.Event())
    assert again.stored == 1 and inbox.message_count(ctx.engine) == 5
    since = [c.query.get("since_id") for c in x.received("GET", r"/2/users/\d+/mentions")]
    assert since[-1] == follow_up["id"] and newer["id"] > follow_up["id"]


def test_dm_paging_walks_back_with_pagination_tokens_and_stops_at_the_cursor(x: XApi) -> None:
    brand, bob = x.add_user("brand"), x.add_user("bob")
    events = [x.dm(bob, brand, f"message {n}") for n in range(250)]
    x_connector = connector(x, brand)

    pages = list(x_connector.fetch("direct", events[119]["id"]))

    texts = [m.text for page in pages for m in page.messages]
    assert texts == [f"message {n}" for n in range(120, 250)]  # oldest first, every one once
    assert [p.cursor for p in pages] == [events[119]["id"], events[249]["id"]]
    assert [p.has_more for p in pages] == [True, False]
    tokens = [c.query.get("pagination_token") for c in x.received("GET", r"/2/dm_events")]
    assert tokens == [None, "pt100"]  # the second page reached the cursor: no third request


def test_a_reply_is_posted_once_even_when_the_first_attempt_timed_out_after_x_stored_it(x: XApi) -> None:
    brand, ann = x.add_user("brand"), x.add_user("ann")
    question = x.tweet(ann, "@brand is the shop open on Sunday?")
    target = ReplyTarget(conversation_key=f"thread:{question['id']}", in_reply_to_platform_id=question["id"])
    x.fail("POST", "/2/tweets", delay_after=1.5)

    with pytest.raises(NetworkError):
        connector(x, brand, timeout=(5.0, 0.4)).send_reply(target, "Yes, 10 to 4.", "key-1")
    sent = connector(x, brand).send_reply(target, "Yes, 10 to 4.", "key-1")

    assert len(x.posted_tweets()) == 1
    stored = [t for t in x.tweets if t["author_id"] == brand["id"]]
    assert [(t["id"], t["text"], t["referenced_tweets"]) for t in stored] == [
        (sent.platform_message_id, "Yes, 10 to 4.", [{"type": "replied_to", "id": question["id"]}])
    ]


def test_a_dm_reply_is_sent_once_when_the_first_attempt_timed_out_after_x_stored_it(x: XApi) -> None:
    brand, bob = x.add_user("brand"), x.add_user("bob")
    asked = x.dm(bob, brand, "can I change my address?")
    target = ReplyTarget(conversation_key=f"dm:{asked['dm_conversation_id']}", in_reply_to_platform_id=asked["id"])
    x.fail("POST", "/2/dm_conversations/", delay_after=1.5)

    with pytest.raises(NetworkError):
        connector(x, brand, timeout=(5.0, 0.4)).send_reply(target, "Sure, send it here.", "key-2")
    sent = connector(x, brand).send_reply(target, "Sure, send it here.", "key-2")

    assert [c.path for c in x.posted_dms()] == [f"/2/dm_conversations/with/{bob['id']}/messages"]
    mine = [e for e in x.events if e["sender_id"] == brand["id"]]
    assert [(e["id"], e["text"]) for e in mine] == [(sent.platform_message_id, "Sure, send it here.")]


def test_a_dm_may_be_longer_than_a_post_and_an_overlong_post_is_refused_before_any_request(x: XApi) -> None:
    """Input tried: a 1,000-character answer, as a DM (X allows 10,000) and as a reply post (280)."""
    brand, bob, ann = x.add_user("brand"), x.add_user("bob"), x.add_user("ann")
    asked = x.dm(bob, brand, "tell me everything")
    mention = x.tweet(ann, "@brand and me?")
    long_text = "a" * 1000

    connector(x, brand).send_reply(
        ReplyTarget(conversation_key=f"dm:{asked['dm_conversation_id']}", in_reply_to_platform_id=asked["id"]),
        long_text,
        "key-long-dm",
    )
    with pytest.raises(PlatformError, match="at most 280"):
        connector(x, brand).send_reply(
            ReplyTarget(conversation_key=mention["conversation_id"], in_reply_to_platform_id=mention["id"]),
            long_text,
            "key-long-post",
        )

    assert len(x.posted_dms()) == 1 and [t for t in x.tweets if t["author_id"] == brand["id"]] == []


def test_a_second_identical_answer_to_a_later_dm_is_sent_again(x: XApi) -> None:
    """The check for an earlier copy looks only after the message answered: the same words twice are allowed."""
    brand, bob = x.add_user("brand"), x.add_user("bob")
    first = x.dm(bob, brand, "hello?")
    target = ReplyTarget(conversation_key=f"dm:{first['dm_conversation_id']}", in_reply_to_platform_id=first["id"])
    connector(x, brand).send_reply(target, "Hi! How can we help?", "key-a")
    second = x.dm(bob, brand, "hello again?")

    later = ReplyTarget(conversation_key=target.conversation_key, in_reply_to_platform_id=second["id"])
    connector(x, brand).send_reply(later, "Hi! How can we help?", "key-b")

    assert len(x.posted_dms()) == 2


def test_a_reply_longer_than_280_characters_is_refused_before_anything_is_posted(x: XApi) -> None:
    brand, ann = x.add_user("brand"), x.add_user("ann")
    question = x.tweet(ann, "@brand hi")

    with pytest.raises(PlatformError, match="280"):
        connector(x, brand).send_reply(ReplyTarget("thread:1", question["id"]), "a" * 281, "key")

    assert x.posted_tweets() == []


# -- the fault battery ---------------------------------------------------------------------------------


def test_an_expired_access_token_is_refreshed_and_the_rotated_refresh_token_reaches_the_keyring(
    x: XApi, ctx: AppContext, sync: SyncEngine
) -> None:
    brand, ann = x.add_user("brand"), x.add_user("ann")
    x.tweet(ann, "@brand hello")
    account = add_account(ctx, x, brand)
    x.expire_access_tokens()

    outcome = sync.sync_account(account.id, threading.Event())

    assert outcome.state is AccountState.OK and inbox.message_count(ctx.engine) == 1
    kept = TokenBundle.loads(ctx.secrets.get(account.id) or "")
    assert kept.refresh_token != brand["refresh_token"] and kept.refresh_token in x.refresh_tokens
    assert brand["refresh_token"] not in x.refresh_tokens  # rotated: only the kept one still works
    assert kept.access_token in x.tokens and kept.expires_at is not None

    x.expire_access_tokens()
    assert sync.sync_account(account.id, threading.Event()).state is AccountState.OK  # the kept one works


def test_a_revoked_sign_in_is_an_auth_error_that_marks_the_account_and_names_no_token(
    x: XApi, ctx: AppContext, sync: SyncEngine
) -> None:
    brand = x.add_user("brand")
    account = add_account(ctx, x, brand)
    x.expire_access_tokens()
    x.refresh_tokens.clear()

    outcome = sync.sync_account(account.id, threading.Event())

    assert outcome.state is AccountState.NEEDS_SIGN_IN
    assert brand["refresh_token"] not in outcome.error and brand["access_token"] not in outcome.error


def test_403_for_missing_dm_access_is_an_auth_error_with_a_hint(x: XApi) -> None:
    brand = x.add_user("brand")
    body = {"title": "Unsupported Authentication", "detail": "dm.read scope or API tier missing", "status": 403}
    x.fail("GET", "/2/dm_events", status=403, body=body)

    with pytest.raises(AuthError) as raised:
        list(connector(x, brand).fetch("direct", None))

    assert raised.value.status == 403 and "dm.read scope or API tier missing" in str(raised.value)
    assert "paid X API tier" in raised.value.hint


def test_429_raises_rate_limited_until_the_epoch_reset_header(x: XApi) -> None:
    brand = x.add_user("brand")
    headers = {"x-rate-limit-limit": "75", "x-rate-limit-remaining": "0", "x-rate-limit-reset": "4102444800"}
    x.fail("GET", "/2/users/", status=429, body={"title": "Too Many Requests"}, headers=headers)
    x_connector = connector(x, brand)

    with pytest.raises(RateLimited) as raised:
        list(x_connector.fetch("mentions", None))

    assert raised.value.retry_at == 4102444800
    assert (x_connector.rate_limit().limit, x_connector.rate_limit().remaining) == (75, 0)
    assert len(x.received("GET", r"/2/users/\d+/mentions")) == 1  # not retried into the limit


def test_a_burst_of_5xx_is_retried_and_a_lasting_one_is_a_platform_error(x: XApi) -> None:
    brand, ann = x.add_user("brand"), x.add_user("ann")
    x.tweet(ann, "@brand hi")
    x.fail("GET", "/2/users/", times=2, status=503)
    assert len([m for p in connector(x, brand).fetch("mentions", None) for m in p.messages]) == 1

    x.fail("GET", "/2/users/", times=10, status=500)
    with pytest.raises(PlatformError) as raised:
        list(connector(x, brand).fetch("mentions", None))
    assert not isinstance(raised.value, AuthError | RateLimited)


def test_malformed_items_are_rejected_one_by_one_and_the_rest_is_stored(
    x: XApi, ctx: AppContext, sync: SyncEngine
) -> None:
    brand, ann = x.add_user("brand"), x.add_user("ann")
    good = x.tweet(ann, "@brand fine")
    x.tweets.append({"id": "not-a-number", "text": "@brand broken id", "author_id": ann["id"]})
    x.tweets.append({"id": str(int(good["id"]) + 1), "text": ["@brand in a list"], "author_id": ann["id"]})
    broken_time = x.tweet(ann, "@brand bad time")
    broken_time["created_at"] = "yesterday"
    account = add_account(ctx, x, brand)

    outcome = sync.sync_account(account.id, threading.Event())

    assert inbox.message_count(ctx.engine) == 1
    assert outcome.rejected == 3


def test_a_synced_dm_answered_through_the_outbox_is_sent_once_across_a_timed_out_run(
    x: XApi, ctx: AppContext, sync: SyncEngine
) -> None:
    """The outbox's own retry (a new run, a new connector, the same idempotency key) after a send that timed out
    once X had stored the DM: the second run finds it and posts nothing; the next sync does not store it twice."""
    brand, bob = x.add_user("brand"), x.add_user("bob")
    x.dm(bob, brand, "is my order shipped?")
    account = add_account(ctx, x, brand)
    sync.sync_account(account.id, threading.Event())
    (conversation,) = inbox.conversation_ids(ctx.engine)
    item = outbox.queue_reply(ctx.engine, conversation, "Yes, this morning.", now=datetime.now(UTC))
    outbox.move_state(ctx.engine, [item.id], OutboxState.APPROVED, now=datetime.now(UTC), reviewer="Kim")
    x.fail("POST", "/2/dm_conversations/", delay_after=1.5)

    slow = OutboxSender(ctx, connector_factory=lambda a, s: XConnector(a, s, timeout=(5.0, 0.4)))
    assert slow.send_ready().waiting == [item.id]
    second = OutboxSender(ctx).send_ready()

    assert second.sent == [item.id] and len(x.posted_dms()) == 1
    sent_id = outbox.get_item(ctx.engine, item.id).platform_message_id
    assert [e["id"] for e in x.events if e["sender_id"] == brand["id"]] == [sent_id]
    sync.sync_account(account.id, threading.Event())
    assert [m.text for m in inbox.thread(ctx.engine, conversation)] == ["is my order shipped?", "Yes, this morning."]


def test_a_refresh_token_rotated_while_sending_the_outbox_reaches_the_keyring(
    x: XApi, ctx: AppContext, sync: SyncEngine
) -> None:
    """Input tried: the access token expires between the sync and the send, so the send refreshes and X rotates
    the refresh token; the outbox must keep the new one, or the next sync would have to ask for sign-in."""
    brand, bob = x.add_user("brand"), x.add_user("bob")
    x.dm(bob, brand, "hello?")
    account = add_account(ctx, x, brand)
    sync.sync_account(account.id, threading.Event())
    (conversation,) = inbox.conversation_ids(ctx.engine)
    item = outbox.queue_reply(ctx.engine, conversation, "Hi Bob!", now=datetime.now(UTC))
    outbox.move_state(ctx.engine, [item.id], OutboxState.APPROVED, now=datetime.now(UTC), reviewer="Kim")
    before = TokenBundle.loads(ctx.secrets.get(account.id) or "")
    x.expire_access_tokens()

    assert OutboxSender(ctx).send_ready().sent == [item.id]

    kept = TokenBundle.loads(ctx.secrets.get(account.id) or "")
    assert kept.refresh_token != before.refresh_token and kept.refresh_token in x.refresh_tokens
    assert sync.sync_account(account.id, threading.Event()).state is AccountState.OK


def test_sign_out_revokes_the_refresh_token_and_the_access_tokens_made_from_it(x: XApi) -> None:
    brand = x.add_user("brand")
    x_connector = connector(x, brand)

    assert x_connector.sign_out() is True

    assert brand["refresh_token"] not in x.refresh_tokens and brand["access_token"] not in x.tokens
    with pytest.raises(AuthError):
        connector(x, brand).verify()


def test_thread_context_finds_the_whole_conversation_and_without_search_access_the_post_alone(x: XApi) -> None:
    brand, ann, bob = x.add_user("brand"), x.add_user("ann"), x.add_user("bob")
    root = x.tweet(ann, "@brand the app crashes")
    reply = x.tweet(brand, "@ann which version?", reply_to=root["id"])
    answer = x.tweet(ann, "@brand 4.2", reply_to=reply["id"])
    x.tweet(bob, "@brand unrelated")

    thread = connector(x, brand).thread_context(answer["id"])

    assert [m.platform_message_id for m in thread] == [root["id"], reply["id"], answer["id"]]
    assert [m.direction for m in thread] == [Direction.INBOUND, Direction.OUTBOUND, Direction.INBOUND]
    x.fail("GET", "/2/tweets/search/recent", status=403, body={"title": "Client Forbidden", "status": 403})
    assert [m.platform_message_id for m in connector(x, brand).thread_context(answer["id"])] == [answer["id"]]


def test_testing_the_connection_keeps_the_refresh_token_x_rotated_on_the_way(x: XApi, ctx: AppContext) -> None:
    brand = x.add_user("brand")
    account = add_account(ctx, x, brand)
    x.expire_access_tokens()

    identity = account_service.test_connection(ctx, account.id)

    assert identity.handle == "@brand"
    kept = TokenBundle.loads(ctx.secrets.get(account.id) or "")
    assert x.refresh_tokens.get(kept.refresh_token) == brand["id"]  # the newest one, still valid


def test_more_new_dms_than_a_walk_reads_leave_a_recorded_gap_that_x_cannot_fill(
    x: XApi, ctx: AppContext, sync: SyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk's page bound is lowered to 2 (of 100) so that a few hundred DMs exceed it."""
    monkeypatch.setattr("app.platforms.x.MAX_PAGES", 2)
    brand, bob = x.add_user("brand"), x.add_user("bob")
    x.dm(bob, brand, "before the pause")
    account = add_account(ctx, x, brand)
    sync.sync_account(account.id, threading.Event())
    events = [x.dm(bob, brand, f"during the pause {n}") for n in range(250)]

    outcome = sync.sync_account(account.id, threading.Event())

    assert outcome.state is AccountState.OK and inbox.message_count(ctx.engine) == 1 + 200
    assert accounts.get_cursor(ctx.engine, account.id, "direct") == events[-1]["id"]
    (gap,) = gaps.list_open_gaps(ctx.engine, account.id)
    assert gap.stream == "direct" and gap.end is not None and gap.start is not None and gap.start < gap.end
    sync.sync_account(account.id, threading.Event())  # back-filling is tried once and refused: not fillable
    assert gaps.list_open_gaps(ctx.engine, account.id, fillable_only=True) == []


def test_a_mention_answering_our_reply_from_another_client_brings_that_reply_into_the_thread(
    x: XApi, ctx: AppContext, sync: SyncEngine
) -> None:
    """Our reply was posted outside Parley (it is not a mention of us); X expands it as the referenced tweet."""
    brand, ann = x.add_user("brand"), x.add_user("ann")
    question = x.tweet(ann, "@brand do you ship abroad?")
    ours = x.tweet(brand, "@ann yes, to 30 countries", reply_to=question["id"])
    follow_up = x.tweet(ann, "@brand great, and Norway?", reply_to=ours["id"])
    account = add_account(ctx, x, brand)

    sync.sync_account(account.id, threading.Event())

    (conversation,) = inbox.conversation_ids(ctx.engine)
    thread = inbox.thread(ctx.engine, conversation)
    assert [(m.platform_message_id, m.direction) for m in thread] == [
        (question["id"], Direction.INBOUND),
        (ours["id"], Direction.OUTBOUND),
        (follow_up["id"], Direction.INBOUND),
    ]
    assert accounts.get_cursor(ctx.engine, account.id, "mentions") == follow_up["id"]
