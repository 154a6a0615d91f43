"""X API v2 payloads (tweets with their expansions, DM events) turned into domain objects, item by item.

Threading rule (`conversation_key`):

* a DM event is keyed by X's own conversation id: ``dm:<dm_conversation_id>`` (for a one-to-one
  conversation X makes it from the two user ids, so it is stable however the DM was started);
* a tweet is keyed by its ``conversation_id`` (the id of the tweet that started the reply tree):
  ``thread:<conversation_id>``; its parent is the ``replied_to`` entry of ``referenced_tweets``.

X answers only the fields a request names. Parley always asks for author, time and threading fields,
but a tweet lacking them is still read: the time comes from the id (X ids are "snowflakes" that carry
their creation time) and an unknown author is shown as such. Only an item without id or text is rejected.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.domain.models import Direction, FetchedMessage, Identity, MessageKind, RejectedItem, SentMessage, Visibility
from app.platforms.mastodon_parse import UnreadableItem, parse_timestamp

SNOWFLAKE_EPOCH_MS = 1288834974657  # X's ids count milliseconds from 2010-11-04T01:42:54.657Z
UNKNOWN_AUTHOR = Identity(platform_user_id="unknown", handle="@unknown", display_name="(author not given by X)")


@dataclass(frozen=True)
class ParsedPage:
    """One X list answer: readable messages, rejected items, the ids on it, and the next page's token."""

    messages: tuple[FetchedMessage, ...]
    rejected: tuple[RejectedItem, ...]
    ids: tuple[str, ...]
    next_token: str | None
    #: Our own tweets the page's mentions answer (from ``includes.tweets``): they keep our side of a thread
    #: that was answered from another client, and never move the cursor.
    own_parents: tuple[FetchedMessage, ...] = ()


def id_key(value: str) -> tuple[int, str]:
    """Sort key for X ids: decimal strings of any length, compared as numbers."""
    return (len(value), value)


def snowflake_time(item_id: str) -> datetime:
    """The creation time an X id carries (X's documented snowflake layout: milliseconds above bit 22)."""
    if not item_id.isdigit():
        raise UnreadableItem(item_id, "the id is not numeric and no created_at was given")
    return datetime.fromtimestamp(((int(item_id) >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, UTC)


def users_by_id(body: dict[str, Any]) -> dict[str, Identity]:
    """The ``includes.users`` expansion, as identities keyed by user id; unreadable entries are skipped."""
    includes = body.get("includes")
    users = includes.get("users") if isinstance(includes, dict) else None
    found: dict[str, Identity] = {}
    for user in users if isinstance(users, list) else []:
        if isinstance(user, dict):
            try:
                identity = parse_user(user)
            except UnreadableItem:
                continue
            found[identity.platform_user_id] = identity
    return found


def parse_user(user: Any) -> Identity:
    if not isinstance(user, dict) or not isinstance(user.get("id"), str) or not user["id"]:
        raise UnreadableItem("user", "has no id")
    username = user.get("username")
    if not isinstance(username, str) or not username:
        raise UnreadableItem(user["id"], "user has no username")
    name = user.get("name")
    return Identity(
        platform_user_id=user["id"], handle="@" + username, display_name=name if isinstance(name, str) else ""
    )


def parse_tweet(tweet: Any, *, own_id: str, users: dict[str, Identity]) -> FetchedMessage:
    """One tweet object as a message seen by the account `own_id`."""
    tweet_id, text = _id_and_text(tweet, what="tweet")
    created_at = _created(tweet, tweet_id)
    author = _author(tweet.get("author_id"), users, item_id=tweet_id)
    parent = None
    references = tweet.get("referenced_tweets")
    if references is not None and not isinstance(references, list):
        raise UnreadableItem(tweet_id, "referenced_tweets is not a list")
    for reference in references or []:
        if (
            isinstance(reference, dict)
            and reference.get("type") == "replied_to"
            and isinstance(reference.get("id"), str)
        ):
            parent = reference["id"]
    conversation = tweet.get("conversation_id")
    root = conversation if isinstance(conversation, str) and conversation else (parent or tweet_id)
    own = author.platform_user_id == own_id
    return FetchedMessage(
        platform_message_id=tweet_id,
        conversation_key=f"thread:{root}",
        author=author,
        kind=MessageKind.REPLY if parent else MessageKind.MENTION,
        direction=Direction.OUTBOUND if own else Direction.INBOUND,
        created_at=created_at,
        text=text,
        parent_platform_id=parent,
        visibility=Visibility.PUBLIC,
        participants=() if own else (author.handle,),
        raw=tweet,
        language=tweet["lang"][:16] if isinstance(tweet.get("lang"), str) else "",
    )


def parse_dm_event(
    event: Any, *, own_id: str, users: dict[str, Identity], conversation_id: str | None = None
) -> FetchedMessage | None:
    """One DM event; None for events that are not messages (people joining or leaving a group)."""
    if isinstance(event, dict) and event.get("event_type") not in (None, "MessageCreate"):
        return None
    event_id, text = _id_and_text(event, what="DM event")
    created_at = _created(event, event_id)
    conversation = event.get("dm_conversation_id") or conversation_id
    if not isinstance(conversation, str) or not conversation:
        raise UnreadableItem(event_id, "DM event has no dm_conversation_id")
    author = _author(event.get("sender_id"), users, item_id=event_id)
    own = author.platform_user_id == own_id
    others = [part for part in conversation.split("-") if part.isdigit() and part != own_id]
    participants = tuple(users[o].handle if o in users else o for o in others) if "-" in conversation else ()
    return FetchedMessage(
        platform_message_id=event_id,
        conversation_key=f"dm:{conversation}",
        author=author,
        kind=MessageKind.DM,
        direction=Direction.OUTBOUND if own else Direction.INBOUND,
        created_at=created_at,
        text=text,
        visibility=Visibility.DIRECT,
        participants=participants or (() if own else (author.handle,)),
        raw=event,
    )


def parse_list(body: Any, *, own_id: str, dm: bool, conversation_id: str | None = None) -> ParsedPage:
    """A list answer (``data`` + ``includes`` + ``meta``); X leaves ``data`` out when nothing matched."""
    if not isinstance(body, dict):
        raise UnreadableItem("answer", "X sent something other than an object")
    data = body.get("data", [])
    if not isinstance(data, list):
        raise UnreadableItem("answer", "data is not a list")
    users = users_by_id(body)
    messages: list[FetchedMessage] = []
    rejected: list[RejectedItem] = []
    ids: list[str] = []
    for index, item in enumerate(data):
        if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"]:
            ids.append(item["id"])
        try:
            if dm:
                message = parse_dm_event(item, own_id=own_id, users=users, conversation_id=conversation_id)
                if message is not None:
                    messages.append(message)
            else:
                messages.append(parse_tweet(item, own_id=own_id, users=users))
        except UnreadableItem as exc:
            label = exc.item_id if exc.item_id not in ("?", "tweet", "DM event") else f"item #{index}"
            rejected.append(RejectedItem(label, exc.reason))
    meta = body.get("meta")
    token = meta.get("next_token") if isinstance(meta, dict) else None
    parents = () if dm else _own_included(body, own_id=own_id, users=users, skip=set(ids))
    next_token = token if isinstance(token, str) and token else None
    return ParsedPage(tuple(messages), tuple(rejected), tuple(ids), next_token, parents)


def _own_included(
    body: dict[str, Any], *, own_id: str, users: dict[str, Identity], skip: set[str]
) -> tuple[FetchedMessage, ...]:
    includes = body.get("includes")
    tweets = includes.get("tweets") if isinstance(includes, dict) else None
    found: list[FetchedMessage] = []
    for item in tweets if isinstance(tweets, list) else []:
        if not isinstance(item, dict) or item.get("author_id") != own_id or item.get("id") in skip:
            continue
        try:
            found.append(parse_tweet(item, own_id=own_id, users=users))
        except UnreadableItem:
            continue  # context only: an unreadable one is simply not shown
    return tuple(found)


def parse_sent(body: Any, *, id_field: str) -> SentMessage:
    """The answer to a post: ``{"data": {"id": ...}}`` for a tweet, ``{"data": {"dm_event_id": ...}}`` for a DM."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise UnreadableItem("sent", "the answer has no data")
    sent_id = data.get(id_field)
    if not isinstance(sent_id, str) or not sent_id:
        raise UnreadableItem("sent", f"the answer has no {id_field}")
    return SentMessage(platform_message_id=sent_id, created_at=_created(data, sent_id), raw=data)


def newest(ids: Iterable[str]) -> str | None:
    return max(ids, key=id_key, default=None)


def _id_and_text(item: Any, *, what: str) -> tuple[str, str]:
    if not isinstance(item, dict):
        raise UnreadableItem(what, "is not an object")
    item_id = item.get("id")
    if not isinstance(item_id, str) or not item_id.isdigit():
        raise UnreadableItem(what, "has no numeric id")
    text = item.get("text")
    if not isinstance(text, str):
        raise UnreadableItem(item_id, "has no text")
    return item_id, text


def _created(item: dict[str, Any], item_id: str) -> datetime:
    if item.get("created_at") is None:
        return snowflake_time(item_id)
    return parse_timestamp(item.get("created_at"), item_id=item_id)


def _author(author_id: Any, users: dict[str, Identity], *, item_id: str) -> Identity:
    if author_id is None:
        return UNKNOWN_AUTHOR
    if not isinstance(author_id, str) or not author_id:
        raise UnreadableItem(item_id, "author id is not text")
    return users.get(author_id) or Identity(platform_user_id=author_id, handle=f"@id:{author_id}")
