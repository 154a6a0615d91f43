"""The Graph API connectors under hostile answers from the emulator: token and permission errors, throttling
(error codes plus usage headers, not 429), 5xx, and malformed items rejected one by one."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from app.context import AppContext
from app.domain.models import AccountRef, AccountState, Page, Platform
from app.errors import AuthError, PlatformError, RateLimited
from app.platforms.graph import FacebookConnector
from app.platforms.http import make_session
from app.platforms.instagram import InstagramConnector
from app.store import accounts, inbox
from app.sync.engine import SyncEngine
from app.sync.writer import StoreWriter
from tests.peers.graph_api import GraphApi, graph_error
from tests.sync_fakes import isolate_keyring

AREA = "Network faults"


@pytest.fixture
def graph() -> Iterator[GraphApi]:
    server = GraphApi().start()
    yield server
    server.stop()


def page_account(graph: GraphApi, platform: Platform = Platform.FACEBOOK) -> AccountRef:
    own = graph.page if platform is Platform.FACEBOOK else graph.ig
    return AccountRef(1, platform, "acme", graph.url, platform_user_id=own.id, options={"page_id": graph.page.id})


def connector(graph: GraphApi, platform: Platform = Platform.FACEBOOK, token: str | None = None) -> FacebookConnector:
    cls = FacebookConnector if platform is Platform.FACEBOOK else InstagramConnector
    return cls(page_account(graph, platform), token or graph.token, session=make_session(backoff=0.01))


def pages(graph: GraphApi, stream: str, platform: Platform = Platform.FACEBOOK) -> list[Page]:
    return list(connector(graph, platform).fetch(stream, None))


def test_an_expired_token_code_190_on_http_400_asks_for_a_new_token_and_never_shows_it(graph: GraphApi) -> None:
    """Fault: Graph answers an expired or revoked Page token with OAuthException code 190 on HTTP 400.

    Survives: verify and sync raise AuthError asking for a new Page access token; the token is never shown.
    """
    bad = connector(graph, token="EAAB-expired-token")

    with pytest.raises(AuthError) as raised:
        bad.verify()
    with pytest.raises(AuthError):
        list(bad.fetch("messenger", None))

    assert raised.value.status == 400 and "new Page access token" in raised.value.hint
    assert "EAAB-expired-token" not in raised.value.user_message()


@pytest.mark.parametrize(("status", "code"), [(403, 200), (400, 10), (403, 230)])
def test_a_missing_permission_is_an_auth_error_naming_the_permissions_to_grant(
    graph: GraphApi, status: int, code: int
) -> None:
    """Fault: Graph refuses with permission error {id} (HTTP status-code).

    Survives: an AuthError naming the Meta permissions to grant before adding a new token.
    """
    graph.fail(
        "/conversations", status=status, body=graph_error(f"(#{code}) Requires pages_messaging permission", code)
    )

    with pytest.raises(AuthError) as raised:
        pages(graph, "messenger")

    assert f"code {code}" in str(raised.value) and "pages_messaging" in raised.value.hint


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80002, 80006])
def test_throttling_codes_are_rate_limits_that_wait_as_long_as_the_usage_header_says(
    graph: GraphApi, code: int
) -> None:
    """Fault: Graph throttles with error code {id} (not 429) and X-Business-Use-Case-Usage saying 7 minutes.

    Survives: RateLimited with a retry time 7 minutes ahead, as the header says.
    """
    usage = {graph.page.id: [{"type": "pages", "call_count": 100, "total_cputime": 40, "total_time": 60,
                              "estimated_time_to_regain_access": 7}]}  # fmt: skip
    graph.fail(
        "/published_posts",
        status=400 if code != 4 else 403,
        body=graph_error("(#80002) There have been too many calls to this Page", code),
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )

    before = time.time()
    with pytest.raises(RateLimited) as raised:
        pages(graph, "comments")

    assert before + 7 * 60 - 5 <= raised.value.retry_at <= time.time() + 7 * 60 + 5


def test_throttling_without_usage_headers_waits_a_default_rather_than_hammering(graph: GraphApi) -> None:
    """Fault: throttling error code 4 without any usage header.

    Survives: RateLimited with a default wait of minutes, not an immediate retry.
    """
    graph.fail("/conversations", body=graph_error("(#4) Application request limit reached", 4))

    with pytest.raises(RateLimited) as raised:
        pages(graph, "messenger")

    assert raised.value.retry_at >= time.time() + 60


def test_usage_headers_on_a_good_answer_report_the_budget_left(graph: GraphApi) -> None:
    """Fault: X-App-Usage reports 72% of the call budget used on a successful answer.

    Survives: the connector's rate budget shows 28 of 100 left for the scheduler.
    """
    usage = {"call_count": 72, "total_time": 15, "total_cputime": 9}
    graph.fail("/conversations", status=200, body={"data": []}, headers={"X-App-Usage": json.dumps(usage)})
    reader = connector(graph)

    list(reader.fetch("messenger", None))

    assert (reader.rate_limit().limit, reader.rate_limit().remaining) == (100, 28)


def test_an_unreadable_usage_header_is_ignored(graph: GraphApi) -> None:
    """Fault: an X-App-Usage header that is not JSON.

    Survives: the page is read as usual and no budget is invented.
    """
    graph.fail("/conversations", status=200, body={"data": []}, headers={"X-App-Usage": "{not json"})
    reader = connector(graph)

    assert [p.messages for p in reader.fetch("messenger", None)] == [()]
    assert reader.rate_limit().remaining is None


def test_server_errors_are_retried_and_a_lasting_one_says_parley_will_try_again(graph: GraphApi) -> None:
    """Fault: HTTP 500 twice, then a lasting 503, on the conversations edge.

    Survives: the reads are retried with backoff and succeed; a lasting error says Parley will try again later.
    """
    graph.message_from(graph.person("Ann"), "hello")
    graph.fail("/conversations", status=500, body=graph_error("An unknown error occurred", 1), times=2)

    assert [m.text for p in pages(graph, "messenger") for m in p.messages] == ["hello"]

    graph.fail("/conversations", status=503, body=graph_error("Service temporarily unavailable", 2), times=10)
    with pytest.raises(PlatformError) as raised:
        pages(graph, "messenger")
    assert "try again" in raised.value.user_message()


def test_a_body_that_is_not_a_graph_edge_is_a_clear_error(graph: GraphApi) -> None:
    """Fault: HTTP 200 with a JSON list where Graph's data edge belongs.

    Survives: a PlatformError saying what was wrong; nothing is stored from it.
    """
    graph.fail("/conversations", status=200, body=["not", "an", "edge"])

    with pytest.raises(PlatformError, match="without a data list"):
        pages(graph, "messenger")


def test_malformed_messages_and_comments_are_rejected_one_by_one_and_the_rest_is_stored(
    context: AppContext, graph: GraphApi
) -> None:
    """Fault: Messenger messages without id, with an unreadable time, numeric text or no sender, and a
    comment whose parent id is a number, among good ones.

    Survives: each bad item is rejected with its id and reason; the good ones are stored by the sync engine.
    """
    isolate_keyring(context)
    ann, bob = graph.person("Ann"), graph.person("Bob")
    graph.message_from(ann, "first good message")
    conversation = next(iter(graph.conversations.values()))
    conversation.messages += [
        {"from": ann.as_from(), "message": "no id", "created_time": "2026-01-01T00:00:00+0000"},
        {"id": "m_bad_time", "from": ann.as_from(), "message": "x", "created_time": "yesterday"},
        {"id": "m_bad_text", "from": ann.as_from(), "message": 42, "created_time": "2026-01-01T00:00:00+0000"},
        {"id": "m_no_from", "message": "who?", "created_time": "2026-01-01T00:00:00+0000"},
    ]
    graph.message_from(ann, "second good message")
    post = graph.post("Tents")
    good = graph.comment(post["id"], bob, "good comment")
    bad = graph.comment(post["id"], bob, "bad parent")
    bad["parent"] = {"id": 17}
    account = accounts.add_account(context.engine, platform=Platform.FACEBOOK, name="acme", base_url=graph.url,
                                   now=datetime.now(UTC), options={"page_id": graph.page.id})  # fmt: skip
    accounts.update_identity(context.engine, account.id, handle="Acme", display_name="Acme",
                             platform_user_id=graph.page.id)  # fmt: skip
    context.secrets.set(account.id, graph.token)

    rejected = [r for stream in ("messenger", "comments") for p in pages(graph, stream) for r in p.rejected]
    writer = StoreWriter()
    try:
        outcome = SyncEngine(context, writer=writer).sync_account(account.id, threading.Event())
    finally:
        writer.shutdown(timeout=5)

    assert outcome.state is AccountState.OK
    reasons = {r.item_id: r.reason for r in rejected}
    assert reasons == {
        "message #4": "has no id",  # read newest first: the one without an id is the 4th
        "m_bad_time": "created_time 'yesterday' is not a time",
        "m_bad_text": "message is a number, not text",
        "m_no_from": "from is missing, not a person",
        bad["id"]: "parent.id is a number, not an id",
    }
    texts = sorted(m.text for row in inbox.inbox_page(context.engine) for m in inbox.thread(context.engine, row.id))
    assert texts == ["first good message", "good comment", "second good message"]
    assert good["id"] != bad["id"]


def test_a_throttled_sync_marks_the_account_rate_limited_and_an_expired_token_asks_for_sign_in(
    context: AppContext, graph: GraphApi
) -> None:
    """Fault: a sync throttled with code 613, then one with a revoked token.

    Survives: the account is marked rate-limited, then as needing sign-in; nothing crashes.
    """
    isolate_keyring(context)
    account = accounts.add_account(context.engine, platform=Platform.INSTAGRAM, name="acme-ig", base_url=graph.url,
                                   now=datetime.now(UTC), options={"page_id": graph.page.id})  # fmt: skip
    accounts.update_identity(context.engine, account.id, handle="@acme", display_name="", platform_user_id=graph.ig.id)
    context.secrets.set(account.id, graph.token)

    def run() -> AccountState:
        writer = StoreWriter()
        try:
            return SyncEngine(context, writer=writer).sync_account(account.id, threading.Event()).state
        finally:
            writer.shutdown(timeout=5)

    graph.fail("/conversations", body=graph_error("(#613) Calls to this api have exceeded the rate limit.", 613))
    assert run() is AccountState.RATE_LIMITED
    context.secrets.set(account.id, "revoked")
    assert run() is AccountState.NEEDS_SIGN_IN


@pytest.mark.parametrize("status", [401, 403])
def test_a_token_refused_with_http_status_and_no_graph_body_is_still_an_auth_error(
    graph: GraphApi, status: int
) -> None:
    """Fault: a proxy in front of Graph answers HTTP {id} with an HTML page instead of Graph's error body.

    Survives: an AuthError that asks to sign in again, from the status alone.
    """
    graph.fail("/published_posts", status=status, body=b"<html>denied</html>")

    with pytest.raises(AuthError):
        pages(graph, "comments")
