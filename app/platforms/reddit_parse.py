"""Reddit payloads (inbox listings of comments and private messages, modmail conversations) as domain objects.

Threading rule (`conversation_key`):

* a comment (reply to our comment or post, or a username mention) is keyed by what it answers:
  ``thread:<parent fullname>``; the store joins it to the parent's conversation when that is stored;
* a private message by its first message: ``pm:<first_message_name>`` (or its own name when it starts
  the exchange), so a back-and-forth stays one conversation;
* a modmail message by its conversation: ``modmail:<conversation id>``; its id is ``mm_<message id>``
  so it never collides with a comment or message fullname.

Items are read one by one: an item without name, author, body or time is rejected with its name and a
reason, the rest of the page is kept. Bodies are Markdown; Reddit's ``body_html`` is sanitised before use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.domain.clock import is_plausible
from app.domain.html import sanitize_html
from app.domain.models import Direction, FetchedMessage, Identity, MessageKind, RejectedItem, SentMessage, Visibility
from app.platforms.mastodon_parse import UnreadableItem, parse_timestamp

KINDS = {"username_mention": MessageKind.MENTION, "comment_reply": MessageKind.REPLY, "post_reply": MessageKind.COMMENT}


@dataclass(frozen=True)
class ParsedListing:
    """One listing page: messages, rejects, (created_utc, name) of every readable item, and ``after``."""

    messages: tuple[FetchedMessage, ...]
    rejected: tuple[RejectedItem, ...]
    positions: tuple[tuple[float, str], ...]
    after: str | None


def parse_me(body: Any) -> Identity:
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
        raise UnreadableItem("me", "the account has no name")
    user_id = body.get("id")
    return Identity(
        platform_user_id=f"t2_{user_id}" if isinstance(user_id, str) and user_id else "u/" + body["name"],
        handle="u/" + body["name"],
        display_name=body["name"],
    )


def parse_listing(body: Any, *, own_name: str) -> ParsedListing:
    """An inbox listing (``/message/inbox``, ``/message/unread``, ``/message/comments`` ...), newest first."""
    if not isinstance(body, dict) or body.get("kind") != "Listing" or not isinstance(body.get("data"), dict):
        raise UnreadableItem("listing", "Reddit sent something other than a listing")
    children = body["data"].get("children")
    if not isinstance(children, list):
        raise UnreadableItem("listing", "the listing has no children")
    messages: list[FetchedMessage] = []
    rejected: list[RejectedItem] = []
    positions: list[tuple[float, str]] = []
    for index, child in enumerate(children):
        for item in _with_replies(child):
            label = _label(item, index)
            try:
                message = parse_thing(item, own_name=own_name)
            except UnreadableItem as exc:
                rejected.append(RejectedItem(label, exc.reason))
                continue
            messages.append(message)
            positions.append((message.created_at.timestamp(), message.platform_message_id))
    after = body["data"].get("after")
    return ParsedListing(tuple(messages), tuple(rejected), tuple(positions), after if isinstance(after, str) else None)


def parse_thing(thing: Any, *, own_name: str) -> FetchedMessage:
    """One ``t1`` (comment) or ``t4`` (private message) of an inbox listing, or a ``t3`` (post) from /api/info."""
    kind_code = thing.get("kind") if isinstance(thing, dict) else None
    if kind_code not in ("t1", "t3", "t4") or not isinstance(thing.get("data"), dict):
        raise UnreadableItem("?", "is not a comment, post or message")
    data = thing["data"]
    name = data.get("name")
    if not isinstance(name, str) or not name.startswith(f"{kind_code}_"):
        raise UnreadableItem("?", "has no fullname")
    if data.get("author") is None and isinstance(data.get("subreddit"), str) and data["subreddit"]:
        # A message a subreddit's moderators sent as the subreddit carries no author, only the subreddit.
        sender = data["subreddit"]
        author = Identity(
            platform_user_id=f"r/{sender}", handle=f"r/{sender}", display_name=f"moderators of r/{sender}"
        )
    else:
        author = _author(data.get("author"), data.get("author_fullname"), item_id=name)
    body = data.get("body") if kind_code != "t3" else _post_text(data, item_id=name)
    if not isinstance(body, str):
        raise UnreadableItem(name, "has no body")
    created_at = _epoch(data.get("created_utc"), item_id=name)
    parent = data.get("parent_id")
    if parent is not None and not (isinstance(parent, str) and parent):
        raise UnreadableItem(name, "parent_id is not a fullname")
    own = author.handle.lower() == "u/" + own_name.lower()
    html = data.get("body_html") if kind_code != "t3" else data.get("selftext_html")
    if kind_code == "t4":
        first = data.get("first_message_name")
        key = f"pm:{first if isinstance(first, str) and first else name}"
        kind, visibility = MessageKind.DM, Visibility.DIRECT
        subject = data.get("subject")
        text = body if not isinstance(subject, str) or first else f"{subject}\n\n{body}"
    else:
        key = f"thread:{parent or name}"
        kind, visibility, text = KINDS.get(str(data.get("type")), MessageKind.COMMENT), Visibility.PUBLIC, body
    return FetchedMessage(
        platform_message_id=name,
        conversation_key=key,
        author=author,
        kind=kind,
        direction=Direction.OUTBOUND if own else Direction.INBOUND,
        created_at=created_at,
        text=text,
        html=sanitize_html(html) if isinstance(html, str) else "",
        parent_platform_id=parent,
        visibility=visibility,
        participants=() if own else (author.handle,),
        raw=data,
    )


def parse_modmail(
    body: Any, *, own_name: str
) -> tuple[list[tuple[str, str]], list[FetchedMessage], list[RejectedItem]]:
    """A modmail answer: a list of conversations (``conversationIds`` order, newest first) or one conversation.

    Returns (conversation id, lastUpdated) pairs, the messages of those conversations and the rejects.
    Internal mod notes are left out: they are not part of the exchange with the user.
    """
    if not isinstance(body, dict) or not isinstance(body.get("messages"), dict):
        raise UnreadableItem("modmail", "Reddit sent a modmail answer without messages")
    if isinstance(body.get("conversation"), dict):
        conversations = {str(body["conversation"].get("id")): body["conversation"]}
        order = list(conversations)
    else:
        listed = body.get("conversations")
        conversations = listed if isinstance(listed, dict) else {}
        ids = body.get("conversationIds")
        order = [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else list(conversations)
    found: list[tuple[str, str]] = []
    messages: list[FetchedMessage] = []
    rejected: list[RejectedItem] = []
    for conversation_id in order:
        conversation = conversations.get(conversation_id)
        if not isinstance(conversation, dict):
            rejected.append(RejectedItem(f"modmail {conversation_id}", "conversation missing from the answer"))
            continue
        updated = conversation.get("lastUpdated")
        found.append((conversation_id, updated if isinstance(updated, str) else ""))
        for ref in conversation.get("objIds") or []:
            if not isinstance(ref, dict) or ref.get("key") != "messages":
                continue
            raw = body["messages"].get(str(ref.get("id")))
            try:
                message = parse_modmail_message(raw, conversation_id, conversation, own_name=own_name)
            except UnreadableItem as exc:
                rejected.append(RejectedItem(f"modmail {conversation_id}/{ref.get('id')}", exc.reason))
                continue
            if message is not None:
                messages.append(message)
    return found, messages, rejected


def parse_modmail_message(
    raw: Any, conversation_id: str, conversation: dict[str, Any], *, own_name: str
) -> FetchedMessage | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
        raise UnreadableItem("?", "the message is missing or has no id")
    message_id = "mm_" + raw["id"]
    if raw.get("isInternal") is True:
        return None
    author_data = raw.get("author")
    if not isinstance(author_data, dict):
        raise UnreadableItem(message_id, "has no author")
    author = _author(author_data.get("name"), None, item_id=message_id)
    markdown = raw.get("bodyMarkdown")
    if not isinstance(markdown, str):
        raise UnreadableItem(message_id, "has no bodyMarkdown")
    created_at = parse_timestamp(raw.get("date"), item_id=message_id, field="date")
    team = author_data.get("isMod") is True or author.handle.lower() == "u/" + own_name.lower()
    subject = conversation.get("subject")
    owner = conversation.get("owner")
    subreddit = owner.get("displayName") if isinstance(owner, dict) else None
    html = raw.get("body")
    return FetchedMessage(
        platform_message_id=message_id,
        conversation_key=f"modmail:{conversation_id}",
        author=author,
        kind=MessageKind.DM,
        direction=Direction.OUTBOUND if team else Direction.INBOUND,
        created_at=created_at,
        text=markdown,
        html=sanitize_html(html) if isinstance(html, str) else "",
        visibility=Visibility.PRIVATE,
        participants=() if team else (author.handle,),
        raw={**raw, "subject": subject, "subreddit": subreddit},
    )


def parse_comment_answer(body: Any) -> SentMessage:
    """The answer to POST /api/comment (api_type=json): the created thing, or Reddit's error list."""
    data = body.get("json") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise UnreadableItem("comment", "the answer has no json part")
    things = (data.get("data") or {}).get("things") if isinstance(data.get("data"), dict) else None
    if not isinstance(things, list) or not things or not isinstance(things[0], dict):
        raise UnreadableItem("comment", "the answer names no created comment")
    created = things[0].get("data")
    if not isinstance(created, dict) or not isinstance(created.get("name"), str):
        raise UnreadableItem("comment", "the created comment has no name")
    moment = created.get("created_utc")
    when = _epoch(moment, item_id=created["name"]) if moment is not None else datetime.now(UTC)
    return SentMessage(platform_message_id=created["name"], created_at=when, raw=created)


def comment_errors(body: Any) -> list[list[Any]]:
    """Reddit reports a refused comment (rate limit, deleted parent ...) as HTTP 200 with ``json.errors``."""
    data = body.get("json") if isinstance(body, dict) else None
    errors = data.get("errors") if isinstance(data, dict) else None
    return [e for e in errors if isinstance(e, list)] if isinstance(errors, list) else []


def _post_text(data: dict[str, Any], *, item_id: str) -> str:
    title, selftext = data.get("title"), data.get("selftext")
    if not isinstance(title, str):
        raise UnreadableItem(item_id, "the post has no title")
    return f"{title}\n\n{selftext}" if isinstance(selftext, str) and selftext else title


def _with_replies(child: Any) -> list[Any]:
    """A private message with its ``replies`` listing (``/message/messages`` nests the exchange) flattened."""
    items = [child]
    data = child.get("data") if isinstance(child, dict) else None
    replies = data.get("replies") if isinstance(data, dict) else None
    if isinstance(replies, dict) and isinstance(replies.get("data"), dict):
        nested = replies["data"].get("children")
        items += [r for r in nested if isinstance(r, dict)] if isinstance(nested, list) else []
    return items


def _label(item: Any, index: int) -> str:
    data = item.get("data") if isinstance(item, dict) else None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name else f"item #{index}"


def _author(name: Any, fullname: Any, *, item_id: str) -> Identity:
    if not isinstance(name, str) or not name:
        raise UnreadableItem(item_id, "has no author")
    user_id = fullname if isinstance(fullname, str) and fullname else "u/" + name
    return Identity(platform_user_id=user_id, handle="u/" + name, display_name=name)


def _epoch(value: Any, *, item_id: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UnreadableItem(item_id, "created_utc is not a number")
    try:
        moment = datetime.fromtimestamp(float(value), UTC)
    except (OverflowError, OSError, ValueError):
        raise UnreadableItem(item_id, "created_utc is out of range") from None
    if not is_plausible(moment):
        raise UnreadableItem(item_id, "created_utc is not a plausible time for a message")
    return moment
