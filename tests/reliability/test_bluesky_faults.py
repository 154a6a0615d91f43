"""Bluesky's error answers over real HTTP: expired and revoked tokens, rate limits, server errors, garbage.

A scripted XRPC server (tests/peers/json_server.py) answers as a PDS does in each case, with the error
bodies (`{"error": "ExpiredToken", ...}`) and `ratelimit-*` headers of the AT Protocol.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from app.domain.models import AccountRef, Platform
from app.errors import AuthError, PlatformError, RateLimited
from app.platforms.bluesky import NOTIFICATIONS, BlueskyConnector
from tests.peers.json_server import JsonServer, Reply

AREA = "Network faults"
ME = "did:plc:brand"
SESSION = {"accessJwt": "access-1", "refreshJwt": "refresh-1", "did": ME, "handle": "brand.test"}
WHO = Reply.json({"did": ME, "handle": "brand.test"})


@pytest.fixture
def server() -> Iterator[JsonServer]:
    server = JsonServer().start()
    server.routes["/xrpc/app.bsky.actor.getProfile"] = Reply.json({"did": ME, "handle": "brand.test"})
    yield server
    server.stop()


def connector_for(server: JsonServer, secret: str | None = None) -> BlueskyConnector:
    account = AccountRef(id=1, platform=Platform.BLUESKY, name="brand", base_url=server.url, platform_user_id=ME)
    return BlueskyConnector(account, secret if secret is not None else json.dumps(SESSION))


def answers(*replies: Reply) -> object:
    """A route that gives each reply in turn, then repeats the last."""
    queue = list(replies)
    return lambda query: queue.pop(0) if len(queue) > 1 else queue[0]


def test_an_expired_access_token_is_refreshed_once_and_the_new_pair_goes_back_to_the_keyring(
    server: JsonServer,
) -> None:
    """Fault: the PDS answers 400 ExpiredToken to a read.

    Survives: the refresh token buys a new pair, the read is repeated, and new_secret offers the pair once."""
    server.routes["/xrpc/com.atproto.server.getSession"] = answers(
        Reply.json({"error": "ExpiredToken", "message": "Token has expired"}, status=400), WHO
    )
    server.routes["/xrpc/com.atproto.server.refreshSession"] = Reply.json(
        {"accessJwt": "access-2", "refreshJwt": "refresh-2", "did": ME, "handle": "brand.test"}
    )
    connector = connector_for(server)
    try:
        assert connector.verify().platform_user_id == ME
        assert json.loads(connector.new_secret() or "{}") == {
            "accessJwt": "access-2",
            "refreshJwt": "refresh-2",
            "did": ME,
            "handle": "brand.test",
        }
        assert connector.new_secret() is None
        paths = [p.split("?")[0] for p in server.requests]
        assert paths.count("/xrpc/com.atproto.server.refreshSession") == 1
        assert paths.count("/xrpc/com.atproto.server.getSession") == 2
    finally:
        connector.close()


@pytest.mark.parametrize(
    "status,error", [(400, "ExpiredToken"), (400, "InvalidToken"), (401, "AuthenticationRequired")]
)
def test_a_refused_refresh_token_asks_to_sign_in_again(server: JsonServer, status: int, error: str) -> None:
    """Fault: the access token is refused and then the refresh token too ({id}).

    Survives: an AuthError that says to sign in again; no rotated secret is offered; no endless refresh loop."""
    refused = Reply.json({"error": error, "message": "Token could not be verified"}, status=status)
    server.routes["/xrpc/com.atproto.server.getSession"] = refused
    server.routes["/xrpc/com.atproto.server.refreshSession"] = refused
    connector = connector_for(server)
    try:
        with pytest.raises(AuthError) as raised:
            connector.verify()
        assert "Sign in to this account again" in raised.value.user_message()
        assert connector.new_secret() is None
        assert sum("refreshSession" in p for p in server.requests) == 1
    finally:
        connector.close()


def test_a_damaged_session_in_the_keyring_asks_to_sign_in_again() -> None:
    """Fault: the keyring holds something that is not the session JSON.

    Survives: an AuthError naming the stored sign-in, before any request; the secret is not in the message."""
    account = AccountRef(id=1, platform=Platform.BLUESKY, name="b", base_url="http://127.0.0.1:9")
    for secret in ("not json at all", json.dumps({"accessJwt": "only-half"}), json.dumps(["list"])):
        with pytest.raises(AuthError, match="stored Bluesky sign-in") as raised:
            BlueskyConnector(account, secret)
        assert secret not in str(raised.value)


def test_429_is_rate_limited_until_the_ratelimit_reset_header_and_the_budget_is_kept(server: JsonServer) -> None:
    """Fault: the PDS answers 429 RateLimitExceeded with ratelimit-limit/remaining/reset headers.

    Survives: RateLimited with retry_at from ratelimit-reset, at once (no retry storm); rate_limit() reports it."""
    reset = int(time.time()) + 900
    server.routes["/xrpc/app.bsky.notification.listNotifications"] = Reply.json(
        {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        status=429,
        **{"ratelimit-limit": "3000", "ratelimit-remaining": "0", "ratelimit-reset": str(reset)},
    )
    connector = connector_for(server)
    try:
        with pytest.raises(RateLimited) as raised:
            list(connector.fetch(NOTIFICATIONS, None))
        assert raised.value.retry_at == reset
        assert len(server.requests) == 1
        budget = connector.rate_limit()
        assert (budget.limit, budget.remaining, budget.reset_at) == (3000, 0, datetime.fromtimestamp(reset, UTC))
    finally:
        connector.close()


def test_a_burst_of_server_errors_is_retried_and_a_lasting_one_is_a_platform_error(server: JsonServer) -> None:
    """Fault: listNotifications answers 502 twice and then works; later it answers 500 every time.

    Survives: the burst is retried within the fetch; the lasting failure is a PlatformError saying Parley
    will try again, after a bounded number of attempts."""
    good = Reply.json({"notifications": [], "cursor": None})
    server.routes["/xrpc/app.bsky.notification.listNotifications"] = answers(
        Reply.json({"error": "InternalServerError"}, status=502),
        Reply.json({"error": "InternalServerError"}, status=502),
        good,
    )
    connector = connector_for(server)
    try:
        pages = list(connector.fetch(NOTIFICATIONS, "2026-01-05T08:00:00.000Z"))
        assert pages[-1].cursor == "2026-01-05T08:00:00.000Z" and len(server.requests) == 3
        server.requests.clear()
        server.routes["/xrpc/app.bsky.notification.listNotifications"] = Reply.json({"error": "x"}, status=500)
        with pytest.raises(PlatformError) as raised:
            list(connector.fetch(NOTIFICATIONS, None))
        assert "try again later" in raised.value.user_message() and not isinstance(raised.value, AuthError)
        assert 1 < len(server.requests) <= 4
    finally:
        connector.close()


def test_a_reply_to_a_deleted_post_is_refused_with_a_clear_error_and_nothing_is_written(server: JsonServer) -> None:
    """Fault: the post being answered was deleted (getPosts returns nothing for its uri).

    Survives: a NotFound error naming the cause; no createRecord is sent."""
    from app.domain.models import ReplyTarget
    from app.errors import NotFound

    server.routes["/xrpc/com.atproto.repo.getRecord"] = Reply.json(
        {"error": "RecordNotFound", "message": "Could not locate record"}, status=400
    )
    server.routes["/xrpc/app.bsky.feed.getPosts"] = Reply.json({"posts": []})
    connector = connector_for(server)
    try:
        parent = "at://did:plc:ann/app.bsky.feed.post/gone"
        with pytest.raises(NotFound, match="no longer exists"):
            connector.send_reply(ReplyTarget(conversation_key="x", in_reply_to_platform_id=parent), "hi", "k1")
        assert not any("createRecord" in p for p in server.requests)
        with pytest.raises(PlatformError, match="longer than Bluesky allows"):
            connector.send_reply(ReplyTarget(conversation_key="x", in_reply_to_platform_id=parent), "é" * 301, "k2")
    finally:
        connector.close()


def test_an_answer_that_is_not_json_is_a_platform_error_saying_so(server: JsonServer) -> None:
    """Fault: the PDS answers 200 with an HTML page instead of JSON.

    Survives: a PlatformError that says the answer was not valid JSON; nothing is stored."""
    server.routes["/xrpc/app.bsky.notification.listNotifications"] = Reply(200, b"<html>maintenance</html>")
    connector = connector_for(server)
    try:
        with pytest.raises(PlatformError, match="not valid JSON"):
            list(connector.fetch(NOTIFICATIONS, None))
    finally:
        connector.close()


def test_a_burst_longer_than_one_fetch_leaves_a_gap_that_backfill_fills_exactly(server: JsonServer) -> None:
    """Fault: 23 mentions arrive between two syncs, more than one fetch reads (2 pages of 5 here).

    Survives: the fetch stores the newest 10 and records a gap holding where it stopped; backfill fetches
    the rest of the span in bounded steps (a smaller gap in between) and stops at the stored cursor."""
    newest_first = [
        {
            "uri": f"at://did:plc:ann/app.bsky.feed.post/p{n:02d}",
            "cid": f"bafy{n}",
            "author": {"did": "did:plc:ann", "handle": "ann.test"},
            "reason": "mention",
            "record": {
                "$type": "app.bsky.feed.post",
                "text": f"mention {n}",
                "createdAt": f"2026-01-05T09:{n:02d}:00Z",
            },
            "indexedAt": f"2026-01-05T09:{n:02d}:00.000Z",
        }
        for n in range(59, 0, -1)
    ]

    def page(query: dict[str, list[str]]) -> Reply:
        start = int(query.get("cursor", ["0"])[0])
        limit = int(query["limit"][0])
        return Reply.json({"notifications": newest_first[start : start + limit], "cursor": str(start + limit)})

    server.routes["/xrpc/app.bsky.notification.listNotifications"] = page
    account = AccountRef(
        id=1,
        platform=Platform.BLUESKY,
        name="brand",
        base_url=server.url,
        platform_user_id=ME,
        options={"notification_pages": 2, "notification_page_size": 5},
    )
    connector = BlueskyConnector(account, json.dumps(SESSION))
    try:
        # Stored cursor 09:46; less the 10-minute overlap for skewed clocks the walk goes down to 09:36.
        pages = list(connector.fetch(NOTIFICATIONS, "2026-01-05T09:46:00+00:00"))
        texts = [m.text for p in pages for m in p.messages]
        assert texts == [f"mention {n}" for n in range(50, 60)]
        assert pages[-1].cursor == "2026-01-05T09:59:00+00:00"
        (gap,) = [g for p in pages for g in p.gaps]
        assert gap.end is not None and gap.end.minute == 50
        filled: list[str] = []
        detail = gap.detail
        rounds = 0
        while detail:
            rounds += 1
            got = list(connector.backfill(detail))
            assert all(p.cursor is None for p in got)
            filled += [m.text for p in got for m in p.messages]
            detail = next((g.detail for p in got for g in p.gaps), "")
        assert rounds == 2
        assert sorted(filled) == sorted(f"mention {n}" for n in range(36, 50))
    finally:
        connector.close()


def test_signing_in_at_an_address_that_is_no_bluesky_server_says_so(server: JsonServer) -> None:
    """Fault: the server address given when adding the account is a web server without the XRPC API (404).

    Survives: a PlatformError naming the address and how to fix it; not a wrong-password message."""
    with pytest.raises(PlatformError) as raised:
        BlueskyConnector.sign_in(server.url, "brand.test", "abcd-efgh-ijkl-mnop")
    assert not isinstance(raised.value, AuthError)
    assert server.url in str(raised.value) and "Leave the server empty" in raised.value.user_message()
