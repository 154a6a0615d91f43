"""Mastodon payloads (statuses, mention notifications, conversations) turned into domain objects, item by item.

Threading rule (`conversation_key`):

* a direct status is keyed by its participant set, self excluded: ``dm:@ann,@bob@other.example``
  (lower-cased, sorted). The server's own conversation id is not used: mastodon-mock gives every
  new message a new one, and a participant set is what a person means by "our DM".
* any other status is keyed by its reply chain: ``thread:<in_reply_to_id>``, or ``thread:<own id>``
  for a status that replies to nothing. The store joins a message to its parent's conversation
  whenever the parent is stored, so the key only matters for the first message it sees of a thread.

Only the fields Parley relies on are required (ids, author, timestamp, content); a status missing one
of them is rejected with its id and a reason, and the rest of the page is kept.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.domain.clock import is_plausible
from app.domain.html import html_to_text, sanitize_html
from app.domain.models import (
    Direction,
    FetchedMessage,
    Identity,
    MessageKind,
    RejectedItem,
    SentMessage,
    Visibility,
)


class UnreadableItem(ValueError):
    """One payload item Parley cannot read; carries the item's id (or position) for the log."""

    def __init__(self, item_id: str, reason: str) -> None:
        super().__init__(f"{item_id}: {reason}")
        self.item_id = item_id
        self.reason = reason

    def rejected(self) -> RejectedItem:
        return RejectedItem(item_id=self.item_id, reason=self.reason)


@dataclass(frozen=True)
class ParsedList:
    """What one list payload held: readable messages, rejected items, and the ids that move the cursor."""

    messages: tuple[FetchedMessage, ...]
    rejected: tuple[RejectedItem, ...]
    cursor_ids: tuple[str, ...]
    raw_count: int


def id_key(value: str) -> tuple[int, str]:
    """Sort key for Mastodon ids: numeric strings of any length, compared as numbers without overflow."""
    return (len(value), value)


def newest_id(ids: Iterable[str]) -> str | None:
    return max(ids, key=id_key, default=None)


def parse_timestamp(value: Any, *, item_id: str, field: str = "created_at") -> datetime:
    if not isinstance(value, str):
        raise UnreadableItem(item_id, f"{field} is {_type_name(value)}, not a timestamp")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)  # Mastodon always sends UTC; a bare time is read as UTC too
        moment = moment.astimezone(UTC)
    except ValueError:
        raise UnreadableItem(item_id, f"{field} {value[:40]!r} is not an ISO 8601 timestamp") from None
    except OverflowError:  # 9999-12-31T23:00-12:00 parses, but lies past the last moment datetime can hold
        raise UnreadableItem(item_id, f"{field} {value[:40]!r} is out of range") from None
    if not is_plausible(moment):
        raise UnreadableItem(item_id, f"{field} {value[:40]!r} is not a plausible time for a message")
    return moment


def parse_account(account: Any, *, item_id: str) -> Identity:
    """An account entity as an Identity; `handle` is '@' + acct (``@user`` local, ``@user@domain`` remote)."""
    if not isinstance(account, dict):
        raise UnreadableItem(item_id, f"account is {_type_name(account)}, not an object")
    account_id = account.get("id")
    acct = account.get("acct")
    if not isinstance(account_id, str) or not account_id:
        raise UnreadableItem(item_id, "account has no id")
    if not isinstance(acct, str) or not acct:
        raise UnreadableItem(item_id, "account has no acct")
    name = account.get("display_name")
    return Identity(platform_user_id=account_id, handle="@" + acct, display_name=name if isinstance(name, str) else "")


def parse_status(status: Any, *, own_id: str) -> FetchedMessage:
    """One status entity as a FetchedMessage, as seen by the account whose id is `own_id`."""
    if not isinstance(status, dict):
        raise UnreadableItem("?", f"status is {_type_name(status)}, not an object")
    status_id = status.get("id")
    if not isinstance(status_id, str) or not status_id:
        raise UnreadableItem("?", "status has no id")
    author = parse_account(status.get("account"), item_id=status_id)
    created_at = parse_timestamp(status.get("created_at"), item_id=status_id)
    content = status.get("content")
    if not isinstance(content, str):
        raise UnreadableItem(status_id, f"content is {_type_name(content)}, not text")
    parent = status.get("in_reply_to_id")
    if parent is not None and (not isinstance(parent, str) or not parent):
        raise UnreadableItem(status_id, f"in_reply_to_id is {_type_name(parent)}, not an id")
    visibility = _visibility(status.get("visibility"), item_id=status_id)
    mentioned = _mentions(status.get("mentions"), item_id=status_id)

    own = author.platform_user_id == own_id
    handles = {author.handle.lower(): author.handle} if not own else {}
    for mention_id, handle in mentioned:
        if mention_id != own_id:
            handles.setdefault(handle.lower(), handle)
    participants = tuple(handles[key] for key in sorted(handles))

    if visibility is Visibility.DIRECT:
        kind = MessageKind.DM
        key = "dm:" + (",".join(sorted(handles)) or "(self)")
    else:
        kind = MessageKind.REPLY if parent else MessageKind.MENTION
        key = f"thread:{parent or status_id}"

    text, body_html = _body(content, status.get("spoiler_text"))
    return FetchedMessage(
        platform_message_id=status_id,
        conversation_key=key,
        author=author,
        kind=kind,
        direction=Direction.OUTBOUND if own else Direction.INBOUND,
        created_at=created_at,
        text=text,
        html=body_html,
        parent_platform_id=parent,
        visibility=visibility,
        participants=participants,
        attachments=_attachments(status.get("media_attachments"), item_id=status_id),
        raw=status,
        language=_language(status.get("language")),
    )


def parse_notifications(body: Any, *, own_id: str) -> ParsedList:
    """A page of /api/v1/notifications: mention notifications become messages, other types are skipped."""
    items = _require_list(body, what="notifications")
    messages: list[FetchedMessage] = []
    rejected: list[RejectedItem] = []
    cursor_ids: list[str] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            rejected.append(RejectedItem(f"notification #{index}", f"is {_type_name(item)}, not an object"))
            continue
        notification_id = item.get("id")
        if not isinstance(notification_id, str) or not notification_id:
            rejected.append(RejectedItem(f"notification #{index}", "has no id"))
            continue
        cursor_ids.append(notification_id)
        if item.get("type") != "mention":
            continue  # a server that ignores types[] sends favourites and follows too; they are not messages
        if item.get("status") is None:
            rejected.append(RejectedItem(f"notification {notification_id}", "mention without a status (deleted?)"))
            continue
        try:
            messages.append(parse_status(item["status"], own_id=own_id))
        except UnreadableItem as exc:
            rejected.append(RejectedItem(f"notification {notification_id} status {exc.item_id}", exc.reason))
    return ParsedList(tuple(messages), tuple(rejected), tuple(cursor_ids), len(items))


def parse_conversations(body: Any, *, own_id: str) -> ParsedList:
    """A page of /api/v1/conversations: each conversation's last status; the cursor is that status's id."""
    items = _require_list(body, what="conversations")
    messages: list[FetchedMessage] = []
    rejected: list[RejectedItem] = []
    cursor_ids: list[str] = []
    for index, item in enumerate(items):
        label = f"conversation #{index}"
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            label = f"conversation {item['id']}"
        if not isinstance(item, dict):
            rejected.append(RejectedItem(label, f"is {_type_name(item)}, not an object"))
            continue
        last = item.get("last_status")
        if last is None:
            continue  # every status of it was deleted: nothing to show
        if isinstance(last, dict) and isinstance(last.get("id"), str) and last["id"]:
            cursor_ids.append(last["id"])  # Mastodon pages conversations by last_status id
        try:
            messages.append(parse_status(last, own_id=own_id))
        except UnreadableItem as exc:
            rejected.append(RejectedItem(f"{label} status {exc.item_id}", exc.reason))
    return ParsedList(tuple(messages), tuple(rejected), tuple(cursor_ids), len(items))


def parse_statuses(items: Iterable[Any], *, own_id: str) -> tuple[list[FetchedMessage], list[RejectedItem]]:
    messages: list[FetchedMessage] = []
    rejected: list[RejectedItem] = []
    for item in items:
        try:
            messages.append(parse_status(item, own_id=own_id))
        except UnreadableItem as exc:
            rejected.append(exc.rejected())
    return messages, rejected


def parse_context(body: Any) -> tuple[list[Any], list[Any]]:
    """(ancestors, descendants) of a /context payload, still raw."""
    if not isinstance(body, dict):
        raise UnreadableItem("context", f"is {_type_name(body)}, not an object")
    ancestors, descendants = body.get("ancestors"), body.get("descendants")
    if not isinstance(ancestors, list) or not isinstance(descendants, list):
        raise UnreadableItem("context", "has no ancestors/descendants lists")
    return ancestors, descendants


def parse_sent(status: Any) -> SentMessage:
    """The status the server created for a reply we posted."""
    if not isinstance(status, dict) or not isinstance(status.get("id"), str) or not status["id"]:
        raise UnreadableItem("sent status", "the server's answer has no status id")
    return SentMessage(
        platform_message_id=status["id"],
        created_at=parse_timestamp(status.get("created_at"), item_id=status["id"]),
        raw=status,
    )


def _language(value: Any) -> str:
    """The status's ISO 639 language tag; Mastodon sends null when the author's client did not say."""
    return value.strip()[:16] if isinstance(value, str) else ""


def _require_list(body: Any, *, what: str) -> list[Any]:
    if not isinstance(body, list):
        raise UnreadableItem(what, f"the server sent {_type_name(body)} where a list of {what} belongs")
    return body


def _visibility(value: Any, *, item_id: str) -> Visibility:
    if not isinstance(value, str):
        raise UnreadableItem(item_id, f"visibility is {_type_name(value)}, not text")
    try:
        return Visibility(value)
    except ValueError:
        # Forks add audiences such as "local"; treating them as followers-only keeps a reply from
        # reaching further than the message it answers.
        return Visibility.PRIVATE


def _mentions(value: Any, *, item_id: str) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise UnreadableItem(item_id, f"mentions is {_type_name(value)}, not a list")
    found: list[tuple[str, str]] = []
    for position, mention in enumerate(value):
        if (
            not isinstance(mention, dict)
            or not isinstance(mention.get("id"), str)
            or not isinstance(mention.get("acct"), str)
            or not mention["acct"]
        ):
            raise UnreadableItem(item_id, f"mention #{position} has no id or acct")
        found.append((mention["id"], "@" + mention["acct"]))
    return found


def _attachments(value: Any, *, item_id: str) -> tuple[str, ...]:
    """Media URLs only: attachments are linked, never downloaded."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise UnreadableItem(item_id, f"media_attachments is {_type_name(value)}, not a list")
    urls: list[str] = []
    for media in value:
        if isinstance(media, dict):
            url = media.get("url") or media.get("remote_url")
            if isinstance(url, str) and url.startswith(("https://", "http://")):
                urls.append(url)
    return tuple(urls)


def _body(content: str, spoiler: Any) -> tuple[str, str]:
    text, body_html = html_to_text(content), sanitize_html(content)
    if isinstance(spoiler, str) and spoiler.strip():
        # The content warning is part of what the person wrote; show it the way Mastodon does, first.
        warning = " ".join(spoiler.split())
        text = f"CW: {warning}\n{text}"
        body_html = f"<p>CW: {html.escape(warning)}</p>{body_html}"
    return text, body_html


def _type_name(value: Any) -> str:
    if value is None:
        return "missing"
    return {dict: "an object", list: "a list", str: "text", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )
