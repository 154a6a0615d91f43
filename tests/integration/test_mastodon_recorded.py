"""The Mastodon connector reading payloads a real Mastodon 4.x server sent (Mastodon.py's VCR cassettes).

The cassettes live beside the checkout in ../shared/fixtures/recorded/mastodon and are replayed by a
small HTTP server on 127.0.0.1 (tests/peers/vcr_replay.py). Where the connector asks for something the
recording does not hold, the test says what it serves instead and why that is faithful.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest
import requests

from app.domain.models import AccountRef, Direction, MessageKind, Platform, ReplyTarget, Visibility
from app.errors import AuthError
from app.platforms.mastodon import MastodonConnector, link_param
from app.platforms.mastodon_parse import parse_statuses

pytest.importorskip("yaml", reason="PyYAML (a test dependency) is needed to read the recorded cassettes")

from tests.peers.vcr_replay import (  # noqa: E402
    Interaction,
    ReplayServer,
    json_answer,
    load_cassette,
    pick,
    recorded,
    replay_servers,  # noqa: F401 - the fixture replay
    serve,
    skip_unless_present,
)

CASSETTES = recorded("mastodon")
# Who made the recordings: the accounts of the Mastodon.py test suite on its test instance.
ADMIN = "117020565693913441"
TEST = "117020565966271181"  # mastodonpy_test
TEST_2 = "117020566092212359"  # mastodonpy_test_2


@pytest.fixture(scope="module", autouse=True)
def _cassettes_present() -> None:
    skip_unless_present(CASSETTES, "Mastodon")


def cassette(name: str) -> list[Interaction]:
    return load_cassette(CASSETTES / f"{name}.yaml")


def connector(server: ReplayServer, own_id: str, handle: str = "") -> MastodonConnector:
    account = AccountRef(
        id=1, platform=Platform.MASTODON, name="recorded", base_url=server.url, handle=handle, platform_user_id=own_id
    )
    return MastodonConnector(account, "__MASTODON_PY_TEST_ACCESS_TOKEN")


def test_verify_reads_a_real_account_and_the_iso_8601_rate_limit_reset(replay: list[ReplayServer]) -> None:
    server = serve(replay, pick(cassette("test_conversations"), "GET", "/api/v1/accounts/verify_credentials"))
    mastodon = connector(server, own_id="")

    identity = mastodon.verify()

    assert (identity.platform_user_id, identity.handle, identity.display_name) == (ADMIN, "@admin", "")
    budget = mastodon.rate_limit()
    assert (budget.limit, budget.remaining) == (300, 299)
    assert budget.reset_at == datetime(2026, 8, 1, 14, 0, 0, 380263, tzinfo=UTC)
    assert server.received[0].headers["Authorization"] == "Bearer __MASTODON_PY_TEST_ACCESS_TOKEN"


def test_mention_notifications_page_forward_from_the_start_to_the_recorded_newest(
    replay: list[ReplayServer],
) -> None:
    recorded = pick(cassette("test_notifications_mentions_only"), "GET", "/api/v1/notifications")
    # Past its newest item a real server answers an empty list without a Link header; not recorded.
    end = json_answer("GET", "/api/v1/notifications", {"types[]": ["mention"], "min_id": ["21"]}, [])
    server = serve(replay, recorded, end)

    pages = list(connector(server, own_id=TEST).fetch("mentions", None))

    assert [(len(p.messages), p.cursor, p.has_more) for p in pages] == [(1, "21", True), (0, "21", False)]
    [message] = pages[0].messages
    assert message.platform_message_id == "117020577157693549"
    assert (message.kind, message.direction, message.visibility) == (
        MessageKind.MENTION,
        Direction.INBOUND,
        Visibility.PUBLIC,
    )
    assert message.author.handle == "@admin"
    assert message.text == "@mastodonpy_test hello!"
    assert message.created_at == datetime(2026, 8, 1, 13, 51, 42, 823000, tzinfo=UTC)
    assert message.participants == ("@admin",)
    assert 'href="http://localhost:3000/@mastodonpy_test"' in message.html
    asked = [r.query for r in server.received]
    assert asked == [
        {"types[]": ["mention"], "min_id": ["0"], "limit": ["40"]},
        {"types[]": ["mention"], "min_id": ["21"], "limit": ["40"]},
    ]


def test_conversations_give_our_own_direct_messages_keyed_by_participants(replay: list[ReplayServer]) -> None:
    recorded = pick(cassette("test_conversations"), "GET", "/api/v1/conversations")
    assert [c["id"] for c in recorded.json()] == ["15", "12"]
    # Mastodon pages conversations by last_status id (see the recorded Link header); the empty
    # answer past the newest one is not recorded.
    end = json_answer("GET", "/api/v1/conversations", {"min_id": ["117020593780198542"]}, [])
    server = serve(replay, recorded, end)

    pages = list(connector(server, own_id=TEST_2).fetch("direct", None))

    messages = pages[0].messages
    assert [(m.platform_message_id, m.conversation_key, m.parent_platform_id) for m in messages] == [
        ("117020593780198542", "dm:@admin", None),
        ("117020588388552703", "dm:@mastodonpy_test", "117020588315335369"),
    ]
    assert all(m.direction is Direction.OUTBOUND and m.kind is MessageKind.DM for m in messages)
    assert [m.text for m in messages] == ["@admin ilu bby ;3", "@mastodonpy_test pssssst!"]
    assert [p.cursor for p in pages] == ["117020593780198542", "117020593780198542"]
    assert server.received[1].query["min_id"] == ["117020593780198542"]


def test_thread_context_of_a_real_status(replay: list[ReplayServer]) -> None:
    recorded = cassette("test_status_context")
    context = pick(recorded, "GET", "/api/v1/statuses/117020585487094447/context")
    # GET /statuses/:id was not recorded; the server's answer when the status was posted is the same entity.
    status = pick(recorded, "POST", "/api/v1/statuses").at("GET", "/api/v1/statuses/117020585487094447")
    server = serve(replay, status, context)

    thread = connector(server, own_id=TEST).thread_context("117020585487094447")

    assert [(m.platform_message_id, m.direction, m.visibility, m.text) for m in thread] == [
        ("117020585487094447", Direction.OUTBOUND, Visibility.UNLISTED, "Toot!")
    ]


def test_a_reply_is_posted_with_its_idempotency_key_and_the_recorded_answer_read(
    replay: list[ReplayServer],
) -> None:
    server = serve(replay, pick(cassette("test_status_reply"), "POST", "/api/v1/statuses", nth=1))
    target = ReplyTarget(conversation_key="thread:117020583245459824", in_reply_to_platform_id="117020583245459824")

    sent = connector(server, own_id=ADMIN, handle="@admin").send_reply(target, "@mastodonpy_test_2 same!", "k-42")

    assert sent.platform_message_id == "117020583258292382"
    assert sent.created_at == datetime(2026, 8, 1, 13, 53, 15, 910000, tzinfo=UTC)
    [posted] = server.received
    assert posted.headers["Idempotency-Key"] == "k-42"
    assert posted.form == {
        "status": ["@mastodonpy_test_2 same!"],
        "visibility": ["public"],
        "in_reply_to_id": ["117020583245459824"],
    }


def test_a_direct_reply_sends_what_a_real_client_sent_for_a_direct_post(replay: list[ReplayServer]) -> None:
    recorded = pick(cassette("test_conversations"), "POST", "/api/v1/statuses")
    server = serve(replay, recorded)
    target = ReplyTarget(conversation_key="dm:@admin", visibility=Visibility.DIRECT, participants=("@admin",))

    sent = connector(server, own_id=TEST_2, handle="@mastodonpy_test_2").send_reply(target, "ilu bby ;3", "k-dm")

    assert sent.platform_message_id == "117020593780198542"
    # Mastodon.py posted "status=%40admin+ilu+bby+%3B3&visibility=direct" for this status.
    assert server.received[0].form == parse_qs(recorded.request_body or "")
    assert server.received[0].form == {"status": ["@admin ilu bby ;3"], "visibility": ["direct"]}


def test_link_headers_of_real_min_max_id_pages(replay: list[ReplayServer]) -> None:
    recorded = [i for i in cassette("test_min_max_id") if i.method == "GET"]
    server = serve(replay, *recorded)
    url = server.url + "/api/v1/timelines/home"

    around = requests.get(url, params={"max_id": "117020594094055884", "min_id": "117020594094053884"}, timeout=5)
    below = requests.get(url, params={"max_id": "117020594094053884", "min_id": "117020594094052884"}, timeout=5)

    assert link_param(around, "next", "max_id") == "117020594094054884"
    assert link_param(around, "prev", "min_id") == "117020594094054884"
    assert below.json() == [] and link_param(below, "prev", "min_id") is None
    statuses, rejected = parse_statuses(around.json(), own_id=TEST)
    assert rejected == [] and [s.platform_message_id for s in statuses] == ["117020594094054884"]


def test_the_real_401_body_becomes_an_auth_error_with_the_servers_words(replay: list[ReplayServer]) -> None:
    recorded = pick(cassette("test_unauthed_home_tl_throws"), "GET", "/api/v1/timelines/home")
    assert recorded.status == 401
    # Mastodon answers a bad token with this same 401 on every authenticated endpoint.
    server = serve(replay, recorded.at("GET", "/api/v1/accounts/verify_credentials"))

    with pytest.raises(AuthError, match="The access token is invalid") as raised:
        connector(server, own_id="").verify()

    assert raised.value.status == 401
