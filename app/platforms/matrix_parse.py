"""Matrix client-server payloads read into domain objects: events, reply fallbacks, mentions, invites, keys."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.domain.clock import is_plausible
from app.domain.html import html_to_text, sanitize_html, text_to_html
from app.domain.models import Direction, FetchedMessage, Identity, MessageKind, Visibility

MESSAGE = "m.room.message"
ENCRYPTED = "m.room.encrypted"
MEMBER = "m.room.member"
HTML_FORMAT = "org.matrix.custom.html"
MEDIA_TYPES = frozenset({"m.image", "m.file", "m.audio", "m.video"})

# Room and user ids never contain a space, so it separates them unambiguously inside a key.
_KEY_PREFIX = "room:"
_MX_REPLY = re.compile(r"^\s*<mx-reply>.*?</mx-reply>", re.DOTALL | re.IGNORECASE)


def as_dict(value: Any) -> dict[str, Any]:
    """A JSON object, or an empty one for anything else: payloads are read defensively, field by field."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def section(value: Any, *keys: str) -> Any:
    """value[k1][k2]..., or None where a level is missing or not an object."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


class Unreadable(ValueError):
    """An event Parley cannot turn into a message; it is rejected on its own, the page goes on."""


def room_key(room_id: str) -> str:
    """A direct room is one conversation."""
    return f"{_KEY_PREFIX}{room_id}"


def mention_key(room_id: str, sender: str) -> str:
    """In a group room each person who mentions us gets their own conversation (and response timer)."""
    return f"{_KEY_PREFIX}{room_id} {sender}"


def room_of_key(conversation_key: str) -> str:
    if not conversation_key.startswith(_KEY_PREFIX) or len(conversation_key) == len(_KEY_PREFIX):
        raise ValueError(f"not a Matrix conversation key: {conversation_key!r}")
    return conversation_key[len(_KEY_PREFIX) :].split(" ", 1)[0]


@dataclass
class RoomView:
    """What parsing needs to know about one room: who we are, whether it is direct, members' names."""

    room_id: str
    me: str
    my_name: str = ""
    direct: bool = False
    counterpart: str = ""
    names: dict[str, str] = field(default_factory=dict)

    def learn_members(self, events: Iterable[Any]) -> None:
        for event in events:
            if not isinstance(event, dict) or event.get("type") != MEMBER:
                continue
            user, content = event.get("state_key"), event.get("content")
            if isinstance(user, str) and isinstance(content, dict) and isinstance(content.get("displayname"), str):
                self.names[user] = content["displayname"]


def strip_text_fallback(body: str) -> str:
    """Drop the quoted `> <@user> ...` lines a client puts before a reply, and the blank line after them."""
    lines = body.split("\n")
    index = 0
    while index < len(lines) and lines[index].startswith(">"):
        index += 1
    if index == 0:
        return body
    if index < len(lines) and lines[index] == "":
        index += 1
    return "\n".join(lines[index:])


def strip_html_fallback(formatted: str) -> str:
    return _MX_REPLY.sub("", formatted, count=1)


def timestamp(milliseconds: Any) -> datetime:
    if isinstance(milliseconds, bool) or not isinstance(milliseconds, int | float):
        raise Unreadable("no origin_server_ts")
    try:
        moment = datetime.fromtimestamp(milliseconds / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        raise Unreadable("origin_server_ts out of range") from None
    if not is_plausible(moment):
        raise Unreadable("origin_server_ts is not a plausible time for a message")
    return moment


def mentions_me(content: dict[str, Any], text: str, room: RoomView) -> bool:
    """Whether a group-room message is addressed to us.

    `m.mentions` (intentional mentions) counts first; our full user id anywhere in the raw body or HTML
    (a pill, a typed id, a reply fallback quoting us) always counts; the bare display name counts only
    for clients that send no `m.mentions`, as the spec's legacy push rules do, since a brand's name is
    often an everyday word in its own community.
    """
    mentions = content.get("m.mentions")
    if isinstance(mentions, dict):
        user_ids = mentions.get("user_ids")
        if isinstance(user_ids, list) and room.me in user_ids:
            return True
    raw_html = content.get("formatted_body") if isinstance(content.get("formatted_body"), str) else ""
    raw = f"{content.get('body', '')}\n{urllib.parse.unquote(str(raw_html))}"
    if room.me in raw:
        return True
    if isinstance(mentions, dict) or not room.my_name.strip():
        return False
    return re.search(rf"(?<!\w){re.escape(room.my_name.strip())}(?!\w)", text, re.IGNORECASE) is not None


def read_event(event: Any, room: RoomView, *, everything: bool = False) -> FetchedMessage | None:
    """One timeline event as a message; None for events that are not messages for the inbox.

    In a group room only mentions of us (and our own replies) are kept, unless `everything` is asked
    for (a thread view shows the whole neighbourhood). Raises Unreadable for a malformed message.
    """
    if not isinstance(event, dict):
        raise Unreadable("event is not an object")
    event_type = event.get("type")
    if event_type not in (MESSAGE, ENCRYPTED):
        return None
    event_id, sender = event.get("event_id"), event.get("sender")
    if not isinstance(event_id, str) or not isinstance(sender, str):
        raise Unreadable("event without event_id or sender")
    if event_type == ENCRYPTED:
        if room.direct:
            raise Unreadable("end-to-end encrypted; Parley cannot decrypt Matrix messages")
        return None  # encrypted chatter in a group room cannot be searched for mentions
    created_at = timestamp(event.get("origin_server_ts"))
    content = event.get("content")
    if not isinstance(content, dict):
        raise Unreadable("content is not an object")
    if not content:
        return None  # redacted: the sender deleted it
    relation = as_dict(content.get("m.relates_to"))
    if relation.get("rel_type") == "m.replace":
        return None  # an edit; the message stays as first received
    msgtype, body = content.get("msgtype"), content.get("body")
    if not isinstance(msgtype, str) or not isinstance(body, str):
        raise Unreadable("message without msgtype or body")
    parent = section(relation, "m.in_reply_to", "event_id")
    parent = parent if isinstance(parent, str) and parent else None
    text, html = _text_and_html(content, body, is_reply=parent is not None)
    if msgtype == "m.emote":
        name = room.names.get(sender) or sender
        text = f"* {name} {text}"
        html = text_to_html(text)
    attachments = (content["url"],) if msgtype in MEDIA_TYPES and isinstance(content.get("url"), str) else ()

    mine = sender == room.me
    if room.direct:
        kind, visibility, key = MessageKind.DM, Visibility.DIRECT, room_key(room.room_id)
        participants: tuple[str, ...] = (room.counterpart or ("" if mine else sender),)
    else:
        wanted = parent is not None if mine else mentions_me(content, text, room)
        if not (wanted or everything):
            return None
        kind, visibility, key = MessageKind.MENTION, Visibility.PRIVATE, mention_key(room.room_id, sender)
        participants = () if mine else (sender,)
    return FetchedMessage(
        platform_message_id=event_id,
        conversation_key=key,
        author=Identity(platform_user_id=sender, handle=sender, display_name=room.names.get(sender, "")),
        kind=kind,
        direction=Direction.OUTBOUND if mine else Direction.INBOUND,
        created_at=created_at,
        text=text,
        html=html,
        parent_platform_id=parent,
        visibility=visibility,
        participants=tuple(p for p in participants if p),
        attachments=attachments,
        raw=event,
    )


def _text_and_html(content: dict[str, Any], body: str, *, is_reply: bool) -> tuple[str, str]:
    formatted = content.get("formatted_body")
    if content.get("format") == HTML_FORMAT and isinstance(formatted, str):
        if is_reply:
            formatted = strip_html_fallback(formatted)
        return html_to_text(formatted), sanitize_html(formatted)
    if is_reply:
        body = strip_text_fallback(body)
    return body.strip(), text_to_html(body.strip())


@dataclass(frozen=True)
class Invite:
    room_id: str
    inviter: str
    room_name: str
    is_direct: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "room_id": self.room_id,
            "inviter": self.inviter,
            "room_name": self.room_name,
            "is_direct": self.is_direct,
        }


def read_invite(room_id: str, room: Any, me: str) -> Invite:
    """An invite from the stripped state a homeserver sends with it."""
    inviter, name, direct = "", "", False
    for event in as_list(section(room, "invite_state", "events")):
        if not isinstance(event, dict) or not isinstance(event.get("content"), dict):
            continue
        content = event["content"]
        if event.get("type") == MEMBER and event.get("state_key") == me and content.get("membership") == "invite":
            inviter = str(event.get("sender", ""))
            direct = content.get("is_direct") is True
        elif event.get("type") == "m.room.name" and isinstance(content.get("name"), str):
            name = content["name"]
    return Invite(room_id=room_id, inviter=inviter, room_name=name, is_direct=direct)


def direct_rooms(content: Any) -> dict[str, str]:
    """m.direct account data ({user: [room, ...]}) turned around: room -> the other person."""
    rooms: dict[str, str] = {}
    if isinstance(content, dict):
        for user, room_ids in content.items():
            for room_id in room_ids if isinstance(room_ids, list) else []:
                if isinstance(room_id, str) and isinstance(user, str):
                    rooms[room_id] = user
    return rooms


def joined_just_now(events: Iterable[Any], me: str) -> bool:
    """Whether these timeline/state events hold our own join into the room (not a profile change)."""
    for event in events:
        if not isinstance(event, dict) or event.get("type") != MEMBER or event.get("state_key") != me:
            continue
        previous = section(event, "unsigned", "prev_content", "membership")
        if section(event, "content", "membership") == "join" and previous != "join":
            return True
    return False
