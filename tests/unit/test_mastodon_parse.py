"""Mastodon payload parsing: bad items are rejected one by one with their id, good ones kept; threading keys."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from app.domain.models import Direction, MessageKind, Visibility
from app.platforms.mastodon import with_mentions
from app.platforms.mastodon_parse import (
    UnreadableItem,
    parse_conversations,
    parse_notifications,
    parse_status,
)

OWN = "900"


def account(account_id: str, acct: str, name: str = "") -> dict[str, Any]:
    return {"id": account_id, "username": acct.split("@")[0], "acct": acct, "display_name": name}


def status(status_id: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": status_id,
        "created_at": "2026-08-01T13:51:42.823Z",
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "visibility": "public",
        "spoiler_text": "",
        "content": '<p><span class="h-card"><a href="https://m.example/@brand" class="u-url mention">@<span>brand'
        "</span></a></span> my parcel never arrived</p>",
        "account": account("101", "ann@elsewhere.example", "Ann"),
        "mentions": [{"id": OWN, "acct": "brand", "username": "brand", "url": "https://m.example/@brand"}],
        "media_attachments": [],
    }
    base.update(fields)
    return base


def mention(notification_id: str, payload: Any) -> dict[str, Any]:
    return {"id": notification_id, "type": "mention", "created_at": "2026-08-01T13:51:43Z", "status": payload}


def test_bad_notifications_are_rejected_with_their_ids_and_good_ones_kept() -> None:
    null_account = status("s2", account=None)
    html_as_list = status("s3", content=["<p>not text</p>"])
    bad_time = status("s4", created_at="yesterday at noon")
    no_id = status("s5")
    del no_id["id"]
    body = [
        mention("1", status("s1")),
        mention("2", null_account),
        mention("3", html_as_list),
        mention("4", bad_time),
        mention("5", no_id),
        {"type": "mention", "status": status("s6")},  # the notification itself has no id
        "not an object",
        mention("8", None),  # status deleted
        mention("9", status("s9", created_at="2026-08-01T14:00:00+02:00")),
    ]

    parsed = parse_notifications(body, own_id=OWN)

    assert [m.platform_message_id for m in parsed.messages] == ["s1", "s9"]
    reasons = {item.item_id: item.reason for item in parsed.rejected}
    assert reasons == {
        "notification 2 status s2": "account is missing, not an object",
        "notification 3 status s3": "content is a list, not text",
        "notification 4 status s4": "created_at 'yesterday at noon' is not an ISO 8601 timestamp",
        "notification 5 status ?": "status has no id",
        "notification #5": "has no id",
        "notification #6": "is text, not an object",
        "notification 8": "mention without a status (deleted?)",
    }
    # Rejected notifications with an id still move the cursor: they will never read better later.
    assert parsed.cursor_ids == ("1", "2", "3", "4", "5", "8", "9")
    assert parsed.messages[1].created_at == datetime(2026, 8, 1, 12, 0, tzinfo=UTC)


def test_a_whole_body_of_the_wrong_shape_is_unreadable_not_an_empty_page() -> None:
    with pytest.raises(UnreadableItem, match="an object where a list of notifications belongs"):
        parse_notifications({"error": "oops"}, own_id=OWN)


def test_mention_from_a_remote_account_becomes_an_inbound_mention() -> None:
    message = parse_status(status("s1", media_attachments=[{"url": "https://cdn.example/a.jpg"}]), own_id=OWN)

    assert message.kind is MessageKind.MENTION
    assert message.direction is Direction.INBOUND
    assert message.author.handle == "@ann@elsewhere.example"
    assert message.author.display_name == "Ann"
    assert message.text == "@brand my parcel never arrived"
    assert "<span" in message.html and 'rel="noopener noreferrer nofollow"' in message.html
    assert message.participants == ("@ann@elsewhere.example",)
    assert message.attachments == ("https://cdn.example/a.jpg",)
    assert message.conversation_key == "thread:s1"


def test_script_in_content_is_dropped_from_html_and_text() -> None:
    message = parse_status(status("s1", content="<p>hi<script>alert(1)</script></p>"), own_id=OWN)

    assert "script" not in message.html and "alert" not in message.text


def test_content_warning_is_kept_in_front_of_the_text() -> None:
    message = parse_status(status("s1", spoiler_text="delivery rant"), own_id=OWN)

    assert message.text.startswith("CW: delivery rant\n")


def test_public_reply_is_keyed_by_the_status_it_answers() -> None:
    message = parse_status(status("s2", in_reply_to_id="s1"), own_id=OWN)

    assert message.kind is MessageKind.REPLY
    assert message.parent_platform_id == "s1"
    assert message.conversation_key == "thread:s1"


def test_direct_messages_both_ways_share_one_key_by_participant_set() -> None:
    inbound = parse_status(
        status(
            "s1",
            visibility="direct",
            account=account("101", "Ann@Elsewhere.example"),
            mentions=[{"id": OWN, "acct": "brand"}, {"id": "102", "acct": "bob"}],
        ),
        own_id=OWN,
    )
    outbound = parse_status(
        status(
            "s2",
            visibility="direct",
            account=account(OWN, "brand"),
            mentions=[{"id": "102", "acct": "bob"}, {"id": "101", "acct": "ann@elsewhere.example"}],
            in_reply_to_id="s1",
        ),
        own_id=OWN,
    )

    assert inbound.kind is outbound.kind is MessageKind.DM
    assert inbound.direction is Direction.INBOUND and outbound.direction is Direction.OUTBOUND
    assert inbound.conversation_key == outbound.conversation_key == "dm:@ann@elsewhere.example,@bob"
    assert inbound.visibility is Visibility.DIRECT


def test_unknown_visibility_from_a_fork_is_read_as_followers_only() -> None:
    assert parse_status(status("s1", visibility="local"), own_id=OWN).visibility is Visibility.PRIVATE


def test_conversation_without_last_status_is_skipped_and_a_bad_one_rejected() -> None:
    good = {"id": "15", "unread": True, "accounts": [], "last_status": status("s7", visibility="direct")}
    empty = {"id": "16", "unread": False, "accounts": [], "last_status": None}
    bad = {"id": "17", "unread": False, "accounts": [], "last_status": status("s8", mentions="@brand")}

    parsed = parse_conversations([good, empty, bad], own_id=OWN)

    assert [m.platform_message_id for m in parsed.messages] == ["s7"]
    assert [(r.item_id, r.reason) for r in parsed.rejected] == [
        ("conversation 17 status s8", "mentions is text, not a list")
    ]
    assert parsed.cursor_ids == ("s7", "s8")


def test_parsing_does_not_change_the_payload() -> None:
    payload = status("s1")
    before = copy.deepcopy(payload)

    message = parse_status(payload, own_id=OWN)

    assert payload == before and message.raw == before


@pytest.mark.parametrize(
    ("text", "participants", "expected"),
    [
        ("Sorry about that!", ("@ann@elsewhere.example",), "@ann@elsewhere.example Sorry about that!"),
        ("@Ann@elsewhere.example sorry", ("@ann@elsewhere.example",), "@Ann@elsewhere.example sorry"),
        ("@anna hi", ("@ann",), "@ann @anna hi"),  # @anna is someone else
        ("@ann@other.example hi", ("ann",), "@ann @ann@other.example hi"),  # so is @ann on another server
        ("hi @ann.", ("@ann", "@brand"), "hi @ann."),  # our own handle is never added
    ],
)
def test_direct_reply_mentions_every_participant_once(text: str, participants: tuple[str, ...], expected: str) -> None:
    assert with_mentions(text, participants, own_handle="@brand") == expected
