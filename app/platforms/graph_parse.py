"""Graph API payloads (Messenger/Instagram conversation messages, Page and Instagram comments) as domain objects.

Threading keys:

* a private message is keyed by its Graph conversation: ``dm:<conversation id>`` (one per person and Page);
* a comment by the top-level comment of its thread: ``comments:<top-level id>``; a reply names its parent
  (`parent` on Facebook with ``filter=stream``, `parent_id` or the nesting on Instagram), so the store puts
  it under the comment it answers.

An item missing an id, a readable time, or whose text is not text is rejected by itself with a reason.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from app.domain.clock import is_plausible
from app.domain.html import sanitize_html
from app.domain.models import Direction, FetchedMessage, Identity, MessageKind, RejectedItem, Visibility
from app.platforms.mastodon_parse import UnreadableItem

NO_TEXT = "(no text: an attachment, sticker or reaction)"


def parse_time(value: Any, *, item_id: str, field: str = "created_time") -> datetime:
    """Graph times are ISO 8601 with a +0000 offset; a Unix timestamp is read too."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            moment = datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):
            raise UnreadableItem(item_id, f"{field} {value!r} is out of range") from None
    elif isinstance(value, str):
        text = value.strip()
        try:
            moment = datetime.fromtimestamp(float(text), UTC) if text.isdigit() else datetime.fromisoformat(text)
        except (ValueError, OverflowError, OSError):
            raise UnreadableItem(item_id, f"{field} {value[:40]!r} is not a time") from None
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    else:
        raise UnreadableItem(item_id, f"{field} is {_type_name(value)}, not a time")
    if not is_plausible(moment):
        raise UnreadableItem(item_id, f"{field} {str(value)[:40]!r} is not a plausible time for a message")
    return moment


def graph_time(moment: datetime) -> str:
    """A time the way Graph writes it (used for cursors)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def require_id(item: Any, what: str, index: int) -> str:
    if not isinstance(item, dict):
        raise UnreadableItem(f"{what} #{index}", f"is {_type_name(item)}, not an object")
    item_id = item.get("id")
    if not isinstance(item_id, str) or not item_id:
        raise UnreadableItem(f"{what} #{index}", "has no id")
    return item_id


def data_of(body: Any, *, what: str) -> list[Any]:
    """The `data` list of a Graph edge."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise UnreadableItem(what, f"the answer is {_type_name(body)} without a data list")
    return list(body["data"])


def after_cursor(body: Any) -> str | None:
    """The cursor of the next page; None on the last page (Graph leaves out `next` there)."""
    paging = body.get("paging") if isinstance(body, dict) else None
    if not isinstance(paging, dict) or not paging.get("next"):
        return None
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, dict) else None
    return after if isinstance(after, str) and after else None


def parse_person(value: Any, *, item_id: str, field: str = "from") -> Identity:
    """`from` of a message or comment: Messenger gives id and name, Instagram id and username."""
    if not isinstance(value, dict):
        raise UnreadableItem(item_id, f"{field} is {_type_name(value)}, not a person")
    person_id = value.get("id")
    if not isinstance(person_id, str) or not person_id:
        raise UnreadableItem(item_id, f"{field} has no id")
    username, name = value.get("username"), value.get("name")
    if isinstance(username, str) and username:
        return Identity(person_id, "@" + username, name if isinstance(name, str) else "")
    label = name if isinstance(name, str) and name else f"user {person_id}"
    return Identity(person_id, label, label)


def parse_message(item: Any, *, conversation_id: str, own_ids: frozenset[str], index: int = 0) -> FetchedMessage:
    """One message of a Messenger or Instagram conversation."""
    message_id = require_id(item, "message", index)
    author = parse_person(item.get("from"), item_id=message_id)
    created = parse_time(item.get("created_time"), item_id=message_id)
    text = _text(item.get("message"), item_id=message_id, field="message")
    own = author.platform_user_id in own_ids
    others = _recipients(item.get("to"), own_ids) if own else [author.handle]
    return FetchedMessage(
        platform_message_id=message_id,
        conversation_key=f"dm:{conversation_id}",
        author=author,
        kind=MessageKind.DM,
        direction=Direction.OUTBOUND if own else Direction.INBOUND,
        created_at=created,
        text=text or NO_TEXT,
        html=_html(text or NO_TEXT),
        visibility=Visibility.DIRECT,
        participants=tuple(others),
        raw=item,
    )


def parse_comment(
    item: Any, *, own_ids: frozenset[str], index: int = 0, parent_id: str | None = None
) -> FetchedMessage:
    """A Facebook comment (`message`, `parent`) or an Instagram one (`text`, `parent_id`, `username`)."""
    comment_id = require_id(item, "comment", index)
    if "timestamp" in item or "text" in item:  # Instagram's field names
        created = parse_time(item.get("timestamp"), item_id=comment_id, field="timestamp")
        text = _text(item.get("text"), item_id=comment_id, field="text")
        author = _instagram_author(item, comment_id)
        parent = parent_id or _id_or_none(item.get("parent_id"), comment_id, "parent_id")
    else:
        created = parse_time(item.get("created_time"), item_id=comment_id)
        text = _text(item.get("message"), item_id=comment_id, field="message")
        author = (
            parse_person(item["from"], item_id=comment_id)
            if item.get("from") is not None
            else Identity("", "Facebook user", "Facebook user")  # Meta hides some authors from Page tokens
        )
        parent_field = item.get("parent")
        parent = parent_id or (
            _id_or_none(parent_field.get("id"), comment_id, "parent.id") if isinstance(parent_field, dict) else None
        )
    own = author.platform_user_id in own_ids
    return FetchedMessage(
        platform_message_id=comment_id,
        conversation_key=f"comments:{parent or comment_id}",
        author=author,
        kind=MessageKind.REPLY if parent else MessageKind.COMMENT,
        direction=Direction.OUTBOUND if own else Direction.INBOUND,
        created_at=created,
        text=text or NO_TEXT,
        html=_html(text or NO_TEXT),
        parent_platform_id=parent,
        visibility=Visibility.PUBLIC,
        participants=() if own else (author.handle,),
        raw=item,
    )


def parse_items(items: list[Any], parse: Any, **kwargs: Any) -> tuple[list[FetchedMessage], list[RejectedItem]]:
    messages: list[FetchedMessage] = []
    rejected: list[RejectedItem] = []
    for index, item in enumerate(items):
        try:
            messages.append(parse(item, index=index, **kwargs))
        except UnreadableItem as exc:
            rejected.append(exc.rejected())
    return messages, rejected


def _instagram_author(item: dict[str, Any], comment_id: str) -> Identity:
    if isinstance(item.get("from"), dict):
        return parse_person(item["from"], item_id=comment_id)
    username = item.get("username")
    if not isinstance(username, str) or not username:
        raise UnreadableItem(comment_id, "comment has neither from nor username")
    return Identity("", "@" + username, "")


def _recipients(value: Any, own_ids: frozenset[str]) -> list[str]:
    people = value.get("data") if isinstance(value, dict) else None
    handles: list[str] = []
    for person in people if isinstance(people, list) else []:
        try:
            identity = parse_person(person, item_id="to", field="to")
        except UnreadableItem:
            continue
        if identity.platform_user_id not in own_ids:
            handles.append(identity.handle)
    return handles


def _text(value: Any, *, item_id: str, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise UnreadableItem(item_id, f"{field} is {_type_name(value)}, not text")
    return value


def _html(text: str) -> str:
    return sanitize_html("<p>" + html.escape(text).replace("\n", "<br>") + "</p>")


def _id_or_none(value: Any, item_id: str, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise UnreadableItem(item_id, f"{field} is {_type_name(value)}, not an id")
    return value


def _type_name(value: Any) -> str:
    if value is None:
        return "missing"
    return {dict: "an object", list: "a list", str: "text", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )
