"""Reading Matrix events: reply fallbacks stripped, mentions told from chatter, bad events rejected alone."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain.models import Direction, MessageKind
from app.platforms.matrix_parse import (
    RoomView,
    Unreadable,
    mention_key,
    read_event,
    read_invite,
    room_key,
    room_of_key,
    strip_html_fallback,
    strip_text_fallback,
)

ME = "@brand:example.org"
ANN = "@ann:example.org"


def event(content: dict[str, Any], *, sender: str = ANN, event_id: str = "$e1", **extra: Any) -> dict[str, Any]:
    return {
        "type": "m.room.message",
        "event_id": event_id,
        "sender": sender,
        "origin_server_ts": 1_770_000_000_000,
        "content": content,
        **extra,
    }


def group() -> RoomView:
    return RoomView(room_id="!g:example.org", me=ME, my_name="Acme")


def dm() -> RoomView:
    return RoomView(room_id="!d:example.org", me=ME, my_name="Acme", direct=True, counterpart=ANN)


def test_text_fallback_of_a_reply_is_stripped_but_a_quote_in_a_plain_message_is_kept() -> None:
    reply = event(
        {
            "msgtype": "m.text",
            "body": "> <@ann:example.org> where is it?\n> line two\n\nOn its way",
            "m.relates_to": {"m.in_reply_to": {"event_id": "$parent"}},
        }
    )
    message = read_event(reply, dm())
    assert message is not None and (message.text, message.parent_platform_id) == ("On its way", "$parent")
    quoting = read_event(event({"msgtype": "m.text", "body": "> to be or not\n\nsaid he"}), dm())
    assert quoting is not None and quoting.text.startswith("> to be")
    assert strip_text_fallback("no quote here") == "no quote here"


def test_html_fallback_goes_and_unsafe_html_is_cleaned() -> None:
    assert strip_html_fallback("<mx-reply><blockquote>old</blockquote></mx-reply>new") == "new"
    reply = event(
        {
            "msgtype": "m.text",
            "body": "> <@ann> old\n\nnew",
            "format": "org.matrix.custom.html",
            "formatted_body": "<mx-reply>old</mx-reply><b>new</b><script>alert(1)</script>",
            "m.relates_to": {"m.in_reply_to": {"event_id": "$p"}},
        }
    )
    message = read_event(reply, dm())
    assert message is not None
    assert message.text == "new" and "script" not in message.html and "old" not in message.html


def test_dm_messages_are_dms_in_both_directions() -> None:
    inbound = read_event(event({"msgtype": "m.text", "body": "hi"}), dm())
    outbound = read_event(event({"msgtype": "m.text", "body": "hello"}, sender=ME), dm())
    assert inbound is not None and outbound is not None
    assert (inbound.kind, inbound.direction, inbound.conversation_key) == (
        MessageKind.DM,
        Direction.INBOUND,
        room_key("!d:example.org"),
    )
    assert (outbound.direction, outbound.participants) == (Direction.OUTBOUND, (ANN,))


@pytest.mark.parametrize(
    ("content", "mentioned"),
    [
        ({"body": "hi all"}, False),
        ({"body": "Acme, help!"}, True),  # legacy client: the display name counts
        ({"body": "Acme is great", "m.mentions": {}}, False),  # intentional mentions say: not us
        ({"body": "hey", "m.mentions": {"user_ids": [ME]}}, True),
        ({"body": f"ping {ME}", "m.mentions": {}}, True),  # our full id is never an accident
        ({"body": "Acmeville weather"}, False),  # a name inside another word is not a mention
        (
            {
                "body": "pill",
                "format": "org.matrix.custom.html",
                "formatted_body": '<a href="https://matrix.to/#/%40brand%3Aexample.org">Acme</a>',
                "m.mentions": {},
            },
            True,
        ),
    ],
)
def test_group_room_keeps_only_mentions(content: dict[str, Any], mentioned: bool) -> None:
    message = read_event(event({"msgtype": "m.text", **content}), group())
    assert (message is not None) is mentioned
    if message:
        assert (message.kind, message.conversation_key) == (MessageKind.MENTION, mention_key("!g:example.org", ANN))


def test_own_group_message_is_kept_only_as_a_reply() -> None:
    assert read_event(event({"msgtype": "m.text", "body": "morning all"}, sender=ME), group()) is None
    answer = event(
        {"msgtype": "m.text", "body": "done", "m.relates_to": {"m.in_reply_to": {"event_id": "$q"}}}, sender=ME
    )
    message = read_event(answer, group())
    assert message is not None and message.direction is Direction.OUTBOUND


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (event({"body": "no type"}), "msgtype"),
        (event({"msgtype": "m.text", "body": 3}), "body"),
        (event({"msgtype": "m.text", "body": "x"}, origin_server_ts="yesterday"), "origin_server_ts"),
        ({"type": "m.room.message", "content": {}}, "event_id"),
        ({**event({}), "type": "m.room.encrypted"}, "encrypted"),
        ("not an event", "object"),
    ],
)
def test_unreadable_events_raise_with_a_reason(bad: Any, reason: str) -> None:
    with pytest.raises(Unreadable, match=reason):
        read_event(bad, dm())


def test_deleted_edited_and_non_message_events_are_skipped_quietly() -> None:
    assert read_event(event({}), dm()) is None  # redacted
    edit = {"msgtype": "m.text", "body": "* fixed", "m.relates_to": {"rel_type": "m.replace", "event_id": "$e0"}}
    assert read_event(event(edit), dm()) is None
    assert read_event({**event({"membership": "join"}), "type": "m.room.member"}, dm()) is None
    assert read_event({**event({}), "type": "m.room.encrypted"}, group()) is None


def test_emote_and_media_read_as_text_and_attachment() -> None:
    view = dm()
    view.names[ANN] = "Ann"
    emote = read_event(event({"msgtype": "m.emote", "body": "waves"}), view)
    image = read_event(event({"msgtype": "m.image", "body": "receipt.png", "url": "mxc://example.org/abc"}), view)
    assert emote is not None and emote.text == "* Ann waves" and emote.author.display_name == "Ann"
    assert image is not None and image.attachments == ("mxc://example.org/abc",)


def test_conversation_keys_give_back_their_room() -> None:
    assert room_of_key(room_key("!a:b.org")) == "!a:b.org"
    assert room_of_key(mention_key("!a:b.org:8448", ANN)) == "!a:b.org:8448"
    with pytest.raises(ValueError, match="not a Matrix"):
        room_of_key("mastodon:123")


def test_invite_reads_inviter_name_and_directness_from_stripped_state() -> None:
    room = {
        "invite_state": {
            "events": [
                {"type": "m.room.name", "state_key": "", "sender": ANN, "content": {"name": "Lounge"}},
                {
                    "type": "m.room.member",
                    "state_key": ME,
                    "sender": ANN,
                    "content": {"membership": "invite", "is_direct": True},
                },
                "garbage",
            ]
        }
    }
    invite = read_invite("!r:x", room, ME)
    assert (invite.inviter, invite.room_name, invite.is_direct) == (ANN, "Lounge", True)
    assert read_invite("!r:x", None, ME).inviter == ""
