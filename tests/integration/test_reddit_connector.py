"""The Reddit connector against the Reddit API emulator on 127.0.0.1 (tests/peers/reddit_api.py): inbox and
modmail sync, threading, sending exactly once, and the fault battery (401/403, 429, 5xx, malformed items,
refresh-token rotation)."""

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
from app.platforms.reddit import RedditConnector
from app.store import accounts, inbox, outbox
from app.sync.engine import SyncEngine
from app.sync.sender import OutboxSender
from tests.factories import T0
from tests.oauth_fixtures import bundle, oauth_sync  # noqa: F401 - the fixture sync
from tests.peers.reddit_api import RedditApi
from tests.sync_fixtures import sync_ctx  # noqa: F401 - the fixture ctx


@pytest.fixture
def reddit() -> Iterator[RedditApi]:
    server = RedditApi()
    yield server
    server.close()


def options(reddit: RedditApi, **extra: Any) -> dict[str, Any]:
    return {"client_id": reddit.client_id, "auth_url": reddit.url, **extra}


def connector(reddit: RedditApi, user: dict[str, Any], *, modmail: bool = False, **kwargs: Any) -> RedditConnector:
    kwargs.setdefault("session", make_session(backoff=0.01))
    account = AccountRef(
        id=1,
        platform=Platform.REDDIT,
        name=user["name"],
        base_url=reddit.url,
        handle="u/" + user["name"],
        platform_user_id="t2_" + user["id"],
        options=options(reddit, modmail=modmail),
    )
    return RedditConnector(account, bundle(user), **kwargs)


def add_account(ctx: AppContext, reddit: RedditApi, user: dict[str, Any], *, modmail: bool = False) -> AccountRef:
    account = accounts.add_account(
        ctx.engine,
        platform=Platform.REDDIT,
        name=user["name"],
        base_url=reddit.url,
        now=T0,
        handle="u/" + user["name"],
        platform_user_id="t2_" + user["id"],
        options=options(reddit, modmail=modmail),
    )
    ctx.secrets.set(account.id, bundle(user))
    return account


def threads(ctx: AppContext) -> dict[str, list[Any]]:
    return {
        inbox.conversation_key(ctx.engine, cid)[1]: inbox.thread(ctx.engine, cid)
        for cid in inbox.conversation_ids(ctx.engine)
    }


def test_sync_stores_comment_replies_mentions_messages_and_modmail_threaded(
    reddit: RedditApi, ctx: AppContext, sync: SyncEngine
) -> None:
    brand, ann, bob = reddit.add_user("brand"), reddit.add_user("ann"), reddit.add_user("bob")
    reddit.moderators.add("brand")
    post = reddit.post(brand, "Spring collection is out")
    question = reddit.comment(ann, post["name"], "Do you ship to Norway?")
    follow_up = reddit.comment(bob, question["name"], "Asking for u/brand too: Norway?")
    first_pm = reddit.message(bob, brand, "Order 1234", "It has not arrived.")
    second_pm = reddit.message(bob, brand, "re: Order 1234", "Any news?", reply_to=first_pm["name"])
    modmail_id = reddit.modmail(ann, "parleytest", "Ban appeal", "Please let me back in.")
    account = add_account(ctx, reddit, brand, modmail=True)

    outcome = sync.sync_account(account.id, threading.Event())

    assert outcome.state is AccountState.OK and not outcome.failed
    stored = threads(ctx)
    assert set(stored) == {f"thread:{post['name']}", f"pm:{first_pm['name']}", f"modmail:{modmail_id}"}
    comments = stored[f"thread:{post['name']}"]
    assert [(m.platform_message_id, m.kind, m.author_handle) for m in comments] == [
        (post["name"], MessageKind.COMMENT, "u/brand"),  # our post, fetched so the thread has both sides
        (question["name"], MessageKind.COMMENT, "u/ann"),
        (follow_up["name"], MessageKind.MENTION, "u/bob"),
    ]
    assert comments[0].direction is Direction.OUTBOUND and comments[0].text == "Spring collection is out"
    assert comments[2].parent_platform_id == question["name"]  # threaded under ann's comment
    pms = stored[f"pm:{first_pm['name']}"]
    assert [m.platform_message_id for m in pms] == [first_pm["name"], second_pm["name"]]
    assert pms[0].text == "Order 1234\n\nIt has not arrived." and pms[1].text == "Any news?"
    modmail = stored[f"modmail:{modmail_id}"]
    assert [(m.text, m.direction) for m in modmail] == [("Please let me back in.", Direction.INBOUND)]
    assert accounts.get_cursor(ctx.engine, account.id, "inbox").endswith("|" + second_pm["name"])

    later = reddit.comment(ann, post["name"], "Thanks!")
    again = sync.sync_account(account.id, threading.Event())
    assert again.stored == 1 and inbox.message_count(ctx.engine) == 7
    assert later["name"] in {m.platform_message_id for m in inbox.thread(ctx.engine, comments[0].conversation_id)}


def test_inbox_paging_follows_after_and_stops_at_the_cursor(reddit: RedditApi) -> None:
    brand, ann = reddit.add_user("brand"), reddit.add_user("ann")
    post = reddit.post(brand, "AMA")
    comments = [reddit.comment(ann, post["name"], f"question {n}") for n in range(230)]
    cursor = f"{comments[99]['created_utc']:.0f}|{comments[99]['name']}"

    pages = list(connector(reddit, brand).fetch("inbox", cursor))

    texts = [m.text for p in pages for m in p.messages]
    assert texts == ["AMA", *(f"question {n}" for n in range(100, 230))]  # our post first: what they answer
    assert [p.has_more for p in pages] == [True, False]
    assert pages[-1].cursor and pages[-1].cursor.endswith(comments[229]["name"])
    assert [c.query.get("after") for c in reddit.received("GET", r"/message/inbox")] == [None, comments[130]["name"]]


def test_a_comment_reply_is_posted_once_when_the_first_attempt_timed_out_after_reddit_stored_it(
    reddit: RedditApi,
) -> None:
    brand, ann = reddit.add_user("brand"), reddit.add_user("ann")
    post = reddit.post(brand, "Launch day")
    question = reddit.comment(ann, post["name"], "Is there a discount code?")
    target = ReplyTarget(conversation_key=f"thread:{post['name']}", in_reply_to_platform_id=question["name"])
    reddit.fail("POST", "/api/comment", delay_after=1.5)

    with pytest.raises(NetworkError):
        connector(reddit, brand, timeout=(5.0, 0.4)).send_reply(target, "Yes: SPRING10.", "key-1")
    sent = connector(reddit, brand).send_reply(target, "Yes: SPRING10.", "key-1")

    assert len(reddit.comments_posted()) == 1
    ours = [t["data"] for t in reddit.things if t["data"]["author"] == "brand" and t["kind"] == "t1"]
    assert [(c["name"], c["body"], c["parent_id"]) for c in ours] == [
        (sent.platform_message_id, "Yes: SPRING10.", question["name"])
    ]


def test_a_private_message_reply_is_sent_once_across_a_timed_out_attempt(reddit: RedditApi) -> None:
    brand, bob = reddit.add_user("brand"), reddit.add_user("bob")
    asked = reddit.message(bob, brand, "Refund", "Can I get a refund?")
    target = ReplyTarget(conversation_key=f"pm:{asked['name']}", in_reply_to_platform_id=asked["name"])
    reddit.fail("POST", "/api/comment", delay_after=1.5)

    with pytest.raises(NetworkError):
        connector(reddit, brand, timeout=(5.0, 0.4)).send_reply(target, "Of course, within 30 days.", "k")
    sent = connector(reddit, brand).send_reply(target, "Of course, within 30 days.", "k")

    replies = [t["data"] for t in reddit.things if t["kind"] == "t4" and t["data"]["author"] == "brand"]
    assert [(r["name"], r["parent_id"], r["dest"]) for r in replies] == [
        (sent.platform_message_id, asked["name"], "bob")
    ]


def test_a_modmail_reply_is_posted_once_across_a_timed_out_attempt(reddit: RedditApi) -> None:
    brand, ann = reddit.add_user("brand"), reddit.add_user("ann")
    reddit.moderators.add("brand")
    conversation = reddit.modmail(ann, "parleytest", "Removed post", "Why was my post removed?")
    question = "mm_" + reddit.conversations[conversation]["objIds"][0]["id"]
    target = ReplyTarget(conversation_key=f"modmail:{conversation}", in_reply_to_platform_id=question)
    reddit.fail("POST", f"/api/mod/conversations/{conversation}", delay_after=1.5)

    with pytest.raises(NetworkError):
        connector(reddit, brand, timeout=(5.0, 0.4)).send_reply(target, "It broke rule 2.", "k")
    sent = connector(reddit, brand).send_reply(target, "It broke rule 2.", "k")

    ours = [m for m in reddit.modmail_messages.values() if m["author"]["name"] == "brand"]
    assert [("mm_" + m["id"], m["bodyMarkdown"]) for m in ours] == [(sent.platform_message_id, "It broke rule 2.")]
    assert len(reddit.received("POST", rf"/api/mod/conversations/{conversation}")) == 1


def test_a_reply_longer_than_10000_characters_is_refused_before_anything_is_posted(reddit: RedditApi) -> None:
    brand = reddit.add_user("brand")
    with pytest.raises(PlatformError, match="10000"):
        connector(reddit, brand).send_reply(ReplyTarget("thread:t3_x", "t1_x"), "a" * 10_001, "k")
    assert reddit.comments_posted() == []


# -- the fault battery ---------------------------------------------------------------------------------


def test_an_expired_access_token_is_refreshed_and_the_new_tokens_reach_the_keyring(
    reddit: RedditApi, ctx: AppContext, sync: SyncEngine
) -> None:
    brand, ann = reddit.add_user("brand"), reddit.add_user("ann")
    reddit.message(ann, brand, "Hi", "hello")
    account = add_account(ctx, reddit, brand)
    reddit.expire_access_tokens()

    outcome = sync.sync_account(account.id, threading.Event())

    assert outcome.state is AccountState.OK and inbox.message_count(ctx.engine) == 1
    kept = TokenBundle.loads(ctx.secrets.get(account.id) or "")
    assert kept.access_token in reddit.tokens and kept.refresh_token in reddit.refresh_tokens
    assert brand["refresh_token"] not in reddit.refresh_tokens
    token_calls = reddit.received("POST", r"/api/v1/access_token")
    assert len(token_calls) == 1 and token_calls[0].headers["Authorization"].startswith("Basic ")
    assert (
        reddit.calls[-1].headers["User-Agent"].startswith("desktop:parley:")
        and "/u/brand" in reddit.calls[-1].headers["User-Agent"]
    )


def test_a_refused_refresh_is_an_auth_error_that_marks_the_account(
    reddit: RedditApi, ctx: AppContext, sync: SyncEngine
) -> None:
    brand = reddit.add_user("brand")
    account = add_account(ctx, reddit, brand)
    reddit.expire_access_tokens()
    reddit.refresh_tokens.clear()

    outcome = sync.sync_account(account.id, threading.Event())

    assert outcome.state is AccountState.NEEDS_SIGN_IN
    assert brand["refresh_token"] not in outcome.error


def test_modmail_without_moderator_rights_is_a_403_auth_error_with_a_hint(reddit: RedditApi) -> None:
    brand = reddit.add_user("brand")

    with pytest.raises(AuthError) as raised:
        list(connector(reddit, brand, modmail=True).fetch("modmail", None))

    assert raised.value.status == 403 and "moderator" in raised.value.hint


def test_429_raises_rate_limited_with_the_reset_in_seconds_from_now(reddit: RedditApi) -> None:
    import time

    brand = reddit.add_user("brand")
    headers = {"x-ratelimit-used": "600", "x-ratelimit-remaining": "0.0", "x-ratelimit-reset": "120"}
    reddit.fail(
        "GET", "/message/inbox", status=429, body={"message": "Too Many Requests", "error": 429}, headers=headers
    )
    reddit_connector = connector(reddit, brand)

    before = time.time()
    with pytest.raises(RateLimited) as raised:
        list(reddit_connector.fetch("inbox", None))

    assert before + 119 <= raised.value.retry_at <= time.time() + 121
    assert (reddit_connector.rate_limit().limit, reddit_connector.rate_limit().remaining) == (600, 0)


def test_reddits_ratelimit_error_inside_a_200_answer_is_rate_limited(reddit: RedditApi) -> None:
    brand, ann = reddit.add_user("brand"), reddit.add_user("ann")
    post = reddit.post(brand, "x")
    question = reddit.comment(ann, post["name"], "?")
    body = {"json": {"errors": [["RATELIMIT", "Take a break for 9 minutes before trying again.", "ratelimit"]]}}
    reddit.fail("POST", "/api/comment", status=200, body=body)

    with pytest.raises(RateLimited) as raised:
        connector(reddit, brand).send_reply(ReplyTarget("thread:x", question["name"]), "Hi", "k")

    import time

    assert raised.value.retry_at >= time.time() + 500


def test_a_burst_of_5xx_is_retried_and_a_lasting_one_is_a_platform_error(reddit: RedditApi) -> None:
    brand, ann = reddit.add_user("brand"), reddit.add_user("ann")
    reddit.message(ann, brand, "Hi", "hello")
    reddit.fail("GET", "/message/inbox", times=2, status=502)
    assert len([m for p in connector(reddit, brand).fetch("inbox", None) for m in p.messages]) == 1

    reddit.fail("GET", "/message/inbox", times=10, status=500)
    with pytest.raises(PlatformError) as raised:
        list(connector(reddit, brand).fetch("inbox", None))
    assert not isinstance(raised.value, AuthError | RateLimited)


def test_malformed_inbox_items_are_rejected_one_by_one_and_the_rest_is_stored(
    reddit: RedditApi, ctx: AppContext, sync: SyncEngine
) -> None:
    brand, ann = reddit.add_user("brand"), reddit.add_user("ann")
    reddit.message(ann, brand, "Fine", "a readable message")
    no_body = reddit.message(ann, brand, "Broken", "x")
    no_body["body"] = None
    bad_time = reddit.message(ann, brand, "Broken", "y")
    bad_time["created_utc"] = "tuesday"
    reddit.things.append({"kind": "t4", "data": {"dest": "brand", "author": "ann", "created_utc": 1.0e9}})
    account = add_account(ctx, reddit, brand)

    outcome = sync.sync_account(account.id, threading.Event())

    assert inbox.message_count(ctx.engine) == 1
    assert outcome.rejected == 3


def test_a_synced_comment_answered_through_the_outbox_is_posted_once_across_a_timed_out_run(
    reddit: RedditApi, ctx: AppContext, sync: SyncEngine
) -> None:
    """The outbox's own retry (a new run, a new connector, the same idempotency key) after a comment that timed
    out once Reddit had stored it: the second run finds our comment under the parent and posts nothing."""
    brand, ann = reddit.add_user("brand"), reddit.add_user("ann")
    post = reddit.post(brand, "New store hours")
    question = reddit.comment(ann, post["name"], "Open on Sundays?")
    account = add_account(ctx, reddit, brand)
    sync.sync_account(account.id, threading.Event())
    (conversation,) = inbox.conversation_ids(ctx.engine)
    item = outbox.queue_reply(ctx.engine, conversation, "Yes, 10 to 4.", now=datetime.now(UTC))
    outbox.move_state(ctx.engine, [item.id], OutboxState.APPROVED, now=datetime.now(UTC), reviewer="Kim")
    reddit.fail("POST", "/api/comment", delay_after=1.5)

    slow = OutboxSender(ctx, connector_factory=lambda a, s: RedditConnector(a, s, timeout=(5.0, 0.4)))
    assert slow.send_ready().waiting == [item.id]
    second = OutboxSender(ctx).send_ready()

    assert second.sent == [item.id] and len(reddit.comments_posted()) == 1
    ours = [t["data"] for t in reddit.things if t["kind"] == "t1" and t["data"]["author"] == "brand"]
    assert [(c["name"], c["parent_id"]) for c in ours] == [
        (outbox.get_item(ctx.engine, item.id).platform_message_id, question["name"])
    ]


def test_sign_out_revokes_the_refresh_token_at_reddit(reddit: RedditApi) -> None:
    brand = reddit.add_user("brand")

    assert connector(reddit, brand).sign_out() is True

    assert brand["refresh_token"] not in reddit.refresh_tokens and brand["access_token"] not in reddit.tokens
    (revoked,) = reddit.received("POST", r"/api/v1/revoke_token")
    assert revoked.form["token_type_hint"] == "refresh_token" and revoked.headers["Authorization"].startswith("Basic ")


def test_thread_context_reads_the_item_and_a_modmail_id_is_refused_clearly(reddit: RedditApi) -> None:
    brand, ann = reddit.add_user("brand"), reddit.add_user("ann")
    post = reddit.post(brand, "x")
    question = reddit.comment(ann, post["name"], "hello?")

    (found,) = connector(reddit, brand).thread_context(question["name"])

    assert (found.platform_message_id, found.text, found.author.handle) == (question["name"], "hello?", "u/ann")
    with pytest.raises(PlatformError, match="modmail"):
        connector(reddit, brand).thread_context("mm_abc")
