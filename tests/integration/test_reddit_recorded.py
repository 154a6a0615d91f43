"""The Reddit connector reading payloads the real Reddit API sent (PRAW's Betamax cassettes), byte for byte.

The cassettes live beside the checkout in ../shared/fixtures/recorded/reddit and are replayed by a small HTTP
server on 127.0.0.1 (tests/peers/vcr_replay.py). PRAW read the inbox through its sub-listings
(/message/messages, /message/comments, /message/mentions, /message/unread); Parley reads /message/inbox,
which lists the same items in the same Listing shape, so the recorded answers are served at that path with
their recorded query. The account PRAW ran as appears as the placeholder ``<USERNAME>``.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from app.domain.models import AccountRef, Direction, MessageKind, Platform, ReplyTarget
from app.platforms.oauth2 import TokenBundle
from app.platforms.reddit import RedditConnector
from app.platforms.reddit_parse import parse_modmail
from tests.peers import vcr_replay
from tests.peers.vcr_replay import (
    Interaction,
    ReplayServer,
    json_answer,
    load_betamax,
    recorded,
    replay_servers,  # noqa: F401 - the fixture replay
    skip_unless_present,
)

CASSETTES = recorded("reddit")
OWN = "<USERNAME>"


@pytest.fixture(scope="module", autouse=True)
def _cassettes_present() -> None:
    skip_unless_present(CASSETTES, "Reddit")


def cassette(name: str) -> list[Interaction]:
    return load_betamax(CASSETTES / f"{name}.json")


def listings(name: str) -> list[Interaction]:
    return [i for i in cassette(name) if i.method == "GET" and i.path.startswith("/message/")]


def as_inbox(interaction: Interaction) -> Interaction:
    # PRAW asked for pages of 16 or 64 (and mark=False); Parley asks for 100. A shorter page is a valid answer
    # to a larger `limit` (Reddit itself often returns fewer), so only `after` and `raw_json` must match.
    query = {k: v for k, v in interaction.query.items() if k in ("after", "raw_json")}
    return interaction.at("GET", "/message/inbox", query)


def children(interaction: Interaction) -> list[dict[str, Any]]:
    return interaction.json()["data"]["children"]


def serve(replay: list[ReplayServer], *interactions: Interaction) -> ReplayServer:
    # Parley also asks /api/info for our own comments that replies answer; the recordings hold no such
    # request. Reddit answers ids it cannot show (deleted, or placeholders like these) with an empty listing.
    no_parents = json_answer("GET", "/api/info", {}, {"kind": "Listing", "data": {"after": None, "children": []}})
    return vcr_replay.serve(replay, *interactions, no_parents)


def connector(server: ReplayServer, *, own: str = OWN, secret: str | None = None) -> RedditConnector:
    account = AccountRef(
        id=1,
        platform=Platform.REDDIT,
        name="recorded",
        base_url=server.url,
        handle="u/" + own,
        options={"client_id": "recorded", "auth_url": server.url},
    )
    return RedditConnector(account, secret or TokenBundle("<ACCESS_TOKEN>").dumps())


def cursor_at(child: dict[str, Any]) -> str:
    return f"{child['data']['created_utc']:.0f}|{child['data']['name']}"


def test_recorded_private_messages_page_with_after_down_to_the_cursor_replies_included(
    replay: list[ReplayServer],
) -> None:
    first, second = listings("TestInbox.test_messages")
    stop = children(second)[-1]  # the cursor: the oldest message of the recording, as if stored before
    server = serve(replay, as_inbox(first), as_inbox(second))

    pages = list(connector(server).fetch("inbox", cursor_at(stop)))

    recorded = [c for page in (first, second) for c in children(page)]
    nested = [
        r for c in recorded if isinstance(c["data"]["replies"], dict) for r in c["data"]["replies"]["data"]["children"]
    ]
    fetched = [m for page in pages for m in page.messages]
    rejected = [r for page in pages for r in page.rejected]
    assert len(fetched) + len(rejected) == len(recorded) + len(nested) - 1  # all but the cursor's own item
    assert rejected == [] and all(m.kind is MessageKind.DM for m in fetched)
    assert [p.has_more for p in pages] == [True, False] and pages[-1].cursor == cursor_at(children(first)[0])
    assert [r.query.get("after") for r in server.received] == [None, [first.json()["data"]["after"]]]
    ours = [m for m in fetched if m.author.handle == f"u/{OWN}"]
    assert ours and all(m.direction is Direction.OUTBOUND for m in ours)
    reply = next(m for m in fetched if m.platform_message_id == "t4_22ydkji")
    assert (reply.conversation_key, reply.parent_platform_id) == ("pm:t4_22ydk2c", "t4_22ydk2c")
    from_subreddit = next(m for m in fetched if m.platform_message_id == "t4_22xe9tv")
    assert from_subreddit.author.handle.startswith("r/") and from_subreddit.direction is Direction.INBOUND


@pytest.mark.parametrize(
    ("name", "kind"),
    [("TestInbox.test_comment_replies", MessageKind.REPLY), ("TestInbox.test_mentions", MessageKind.MENTION)],
)
def test_recorded_comment_replies_and_mentions_are_threaded_under_their_parent(
    replay: list[ReplayServer], name: str, kind: MessageKind
) -> None:
    (listing,) = listings(name)
    items = children(listing)
    server = serve(replay, as_inbox(listing))
    reddit = connector(server)

    pages = list(reddit.fetch("inbox", cursor_at(items[-1])))

    fetched = [m for page in pages for m in page.messages]
    assert [m.platform_message_id for m in fetched] == [c["data"]["name"] for c in reversed(items[:-1])]
    assert all(m.kind is kind and m.conversation_key == f"thread:{m.parent_platform_id}" for m in fetched)
    assert all(m.html.startswith("<p>") and "SC_OFF" not in m.html for m in fetched)  # body_html, sanitised
    headers = dict(listing.headers)
    budget = reddit.rate_limit()
    assert budget.remaining == int(float(headers["x-ratelimit-remaining"]))
    assert budget.limit == budget.remaining + int(headers["x-ratelimit-used"])
    assert budget.reset_at is not None
    assert abs(budget.reset_at.timestamp() - (time.time() + int(headers["x-ratelimit-reset"]))) < 30


def test_recorded_unread_listing_mixes_comments_and_messages(replay: list[ReplayServer]) -> None:
    (listing,) = listings("TestInbox.test_unread")
    items = children(listing)
    server = serve(replay, as_inbox(listing))

    pages = list(connector(server).fetch("inbox", cursor_at(items[-1])))

    fetched = {m.platform_message_id: m for page in pages for m in page.messages}
    assert len(fetched) + sum(len(p.rejected) for p in pages) == len(items) - 1
    assert {m.kind for m in fetched.values()} >= {MessageKind.DM, MessageKind.REPLY, MessageKind.COMMENT}
    assert fetched["t4_2r17c8r"].text == "Test message\n\ntest"


def test_the_recorded_token_refresh_is_used_and_handed_back_for_the_keyring(replay: list[ReplayServer]) -> None:
    token_answer, listing = cassette("TestInbox.test_comment_replies")
    server = serve(replay, token_answer, as_inbox(listing))
    expired = TokenBundle("old-access", "<REFRESH_TOKEN>", expires_at=time.time() - 10).dumps()
    reddit = connector(server, secret=expired)

    list(reddit.fetch("inbox", cursor_at(children(listing)[-1])))

    refresh, read = server.received[:2]
    assert refresh.form == {"grant_type": ["refresh_token"], "refresh_token": ["<REFRESH_TOKEN>"]}
    assert refresh.headers["Authorization"].startswith("Basic ")
    assert read.headers["Authorization"] == "bearer <ACCESS_TOKEN>"
    kept = TokenBundle.loads(reddit.new_secret() or "")
    assert (kept.access_token, kept.refresh_token) == ("<ACCESS_TOKEN>", "<REFRESH_TOKEN>")
    assert kept.expires_at is not None and kept.expires_at > time.time() + 86000


def test_a_recorded_modmail_conversation_parses_and_a_retried_reply_finds_the_message_already_there(
    replay: list[ReplayServer],
) -> None:
    conversation = next(i for i in cassette("TestModmailConversation.test_archive") if i.method == "GET")
    found, messages, rejected = parse_modmail(conversation.json(), own_name="BJO_test_mod")
    assert found == [("ik72", "2017-03-29T15:13:08.069923+00:00")] and rejected == []
    assert [m.text for m in messages][-1] == "A message"
    assert {m.direction for m in messages if m.author.handle == "u/BJO_test_user"} == {Direction.INBOUND}
    server = serve(replay, conversation)
    reddit = connector(server, own="BJO_test_mod")

    sent = reddit.send_reply(ReplyTarget(conversation_key="modmail:ik72"), "A message", "key")

    assert sent.platform_message_id == "mm_138qf"
    assert [r.method for r in server.received] == ["GET"]  # found: nothing posted again
