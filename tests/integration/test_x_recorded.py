"""The X connector reading payloads the real X API v2 sent (tweepy's VCR cassettes), byte for byte.

The cassettes live beside the checkout in ../shared/fixtures/recorded/x and are replayed by a small HTTP server
on 127.0.0.1 (tests/peers/vcr_replay.py; tweepy kept the bodies gzip-compressed, the replay serves them plain).
tweepy asked for no ``tweet.fields``, so these tweets carry only id and text: the connector must still read
them (time from the snowflake id, author unknown). Where the connector asks for something the recording does
not hold, the test says what it serves instead and why that is faithful.
"""

from __future__ import annotations

import email.utils
import json
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.models import AccountRef, Direction, MessageKind, Platform, ReplyTarget
from app.platforms.oauth2 import TokenBundle
from app.platforms.x import XConnector
from app.platforms.x_parse import parse_list

pytest.importorskip("yaml", reason="PyYAML (a test dependency) is needed to read the recorded cassettes")

from tests.peers.vcr_replay import (  # noqa: E402
    Interaction,
    ReplayServer,
    load_cassette,
    pick,
    recorded,
    replay_servers,  # noqa: F401 - the fixture replay
    serve,
    skip_unless_present,
)

CASSETTES = recorded("x")
MENTIONED = "783214"  # @Twitter, whose mentions tweepy's test reads
TWEEPY_USER = "1072250532645998596"  # the account tweepy's DM tests ran as
DM_PEER = "750362064426721281"


@pytest.fixture(scope="module", autouse=True)
def _cassettes_present() -> None:
    skip_unless_present(CASSETTES, "X")


def cassette(name: str) -> list[Interaction]:
    return load_cassette(CASSETTES / f"{name}.yaml")


def connector(server: ReplayServer, own_id: str) -> XConnector:
    account = AccountRef(
        id=1,
        platform=Platform.X,
        name="recorded",
        base_url=server.url,
        platform_user_id=own_id,
        options={"client_id": "recorded"},
    )
    return XConnector(account, TokenBundle("__X_TEST_ACCESS_TOKEN").dumps())


def test_recorded_mentions_are_read_oldest_first_with_times_from_their_ids_and_the_epoch_reset(
    replay: list[ReplayServer],
) -> None:
    mentions = pick(cassette("test_client_get_users_mentions"), "GET", f"/2/users/{MENTIONED}/mentions")
    token = mentions.json()["meta"]["next_token"]
    # The next page is not recorded. X's answer past the last item is `{"meta": {"result_count": 0}}`, which
    # the DM cassette recorded for an empty dm_events list: served here for the second page.
    empty = pick(cassette("test_manage_and_lookup_direct_messages"), "GET", "/2/dm_events")
    server = serve(replay, mentions, empty.at("GET", f"/2/users/{MENTIONED}/mentions", {"pagination_token": [token]}))
    x = connector(server, own_id=MENTIONED)

    pages = list(x.fetch("mentions", None))

    fetched = [m for page in pages for m in page.messages]
    recorded = mentions.json()["data"]
    assert [m.platform_message_id for m in fetched] == [t["id"] for t in reversed(recorded)]
    assert all(page.rejected == () for page in pages)
    assert pages[-1].cursor == mentions.json()["meta"]["newest_id"] and [p.has_more for p in pages] == [False]
    newest = fetched[-1]
    answered_at = email.utils.parsedate_to_datetime(dict(mentions.headers)["date"].replace("UTC", "GMT"))
    assert answered_at - timedelta(minutes=1) < newest.created_at < answered_at  # the newest, seconds before
    assert newest.direction is Direction.INBOUND and newest.kind is MessageKind.MENTION
    assert newest.conversation_key == f"thread:{newest.platform_message_id}"
    assert "make \U0001f928 an available reaction emoji" in fetched[4].text  # a surrogate pair in the JSON
    budget = x.rate_limit()
    assert (budget.limit, budget.remaining) == (450, 448)
    assert budget.reset_at == datetime.fromtimestamp(1665183228, UTC)
    first = server.received[0]
    assert first.headers["Authorization"] == "Bearer __X_TEST_ACCESS_TOKEN"
    assert "conversation_id" in first.query["tweet.fields"][0] and first.query["expansions"] == [
        "author_id,referenced_tweets.id"
    ]


def test_an_empty_recorded_dm_events_answer_without_data_is_an_empty_page(replay: list[ReplayServer]) -> None:
    server = serve(replay, pick(cassette("test_manage_and_lookup_direct_messages"), "GET", "/2/dm_events"))
    x = connector(server, own_id=TWEEPY_USER)

    pages = list(x.fetch("direct", None))

    assert [(p.messages, p.cursor, p.has_more) for p in pages] == [((), None, False)]
    assert (x.rate_limit().limit, x.rate_limit().remaining) == (300, 299)


def test_recorded_conversation_events_parse_into_one_dm_conversation() -> None:
    recorded = pick(
        cassette("test_manage_and_lookup_direct_messages"),
        "GET",
        f"/2/dm_conversations/{DM_PEER}-{TWEEPY_USER}/dm_events",
    )

    page = parse_list(recorded.json(), own_id=TWEEPY_USER, dm=True, conversation_id=f"{DM_PEER}-{TWEEPY_USER}")

    assert [(m.text, m.conversation_key, m.kind) for m in page.messages] == [
        ("Testing 2", f"dm:{DM_PEER}-{TWEEPY_USER}", MessageKind.DM),
        ("Testing 1", f"dm:{DM_PEER}-{TWEEPY_USER}", MessageKind.DM),
    ]
    assert page.rejected == () and page.next_token == recorded.json()["meta"]["next_token"]
    assert page.messages[0].created_at.date() == datetime(2022, 10, 28, tzinfo=UTC).date()


def test_a_dm_reply_checks_the_recorded_conversation_then_posts_to_the_participant_once(
    replay: list[ReplayServer],
) -> None:
    interactions = cassette("test_manage_and_lookup_direct_messages")
    # The events carry no sender_id (tweepy did not ask for it), so none is recognisably ours: the reply is posted.
    server = serve(
        replay,
        pick(interactions, "GET", f"/2/dm_conversations/{DM_PEER}-{TWEEPY_USER}/dm_events"),
        pick(interactions, "POST", f"/2/dm_conversations/with/{DM_PEER}/messages"),
    )
    x = connector(server, own_id=TWEEPY_USER)

    sent = x.send_reply(ReplyTarget(conversation_key=f"dm:{DM_PEER}-{TWEEPY_USER}"), "Testing 1", "key")

    assert sent.platform_message_id == "1585800613253812228"
    assert sent.created_at.replace(microsecond=0) == datetime(2022, 10, 28, 1, 8, 23, tzinfo=UTC)
    posts = [r for r in server.received if r.method == "POST"]
    assert [(p.path, json.loads(p.body)) for p in posts] == [
        (f"/2/dm_conversations/with/{DM_PEER}/messages", {"text": "Testing 1"})
    ]


def test_recorded_search_results_without_conversation_fields_still_parse() -> None:
    recorded = pick(cassette("test_client_search_recent_tweets"), "GET", "/2/tweets/search/recent")

    page = parse_list(recorded.json(), own_id="1", dm=False)

    assert len(page.messages) == len(recorded.json()["data"]) == 10 and page.rejected == ()
    assert all(m.conversation_key == f"thread:{m.platform_message_id}" for m in page.messages)
    assert all(m.text.endswith("tweepy") for m in page.messages)
