"""Bluesky payloads read into domain objects: notifications, thread views, chat logs; record keys and graphemes.

Threading keys: every public post of one thread shares `bsky-thread:<root post uri>` (a post that starts
a thread is its own root), and a reply points at its parent's uri, so the store nests it. A chat
conversation is one `bsky-convo:<convo id>`; its messages are `bsky-chat:<convo id>:<message id>`.
"""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import UTC, datetime
from typing import Any

from app.domain.clock import is_plausible
from app.domain.html import text_to_html
from app.domain.models import Direction, FetchedMessage, Identity, MessageKind, Visibility

THREAD_PREFIX = "bsky-thread:"
CONVO_PREFIX = "bsky-convo:"
CHAT_PREFIX = "bsky-chat:"
POST = "app.bsky.feed.post"
LOG_CREATE = "chat.bsky.convo.defs#logCreateMessage"
LOG_START = "2222222222222"  # the zero TID: a chat log cursor before every entry
MESSAGE_VIEW = "chat.bsky.convo.defs#messageView"
REASON_KIND = {"mention": MessageKind.MENTION, "quote": MessageKind.MENTION, "reply": MessageKind.REPLY}
MAX_TEXT = 100_000  # far above Bluesky's own limits: anything longer is cut, not stored whole

_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
# Record keys made from idempotency keys carry a timestamp inside one fortnight of January 2023 (see tid_for).
_TID_BASE_MICROS = 1_672_531_200_000_000


class Unreadable(ValueError):
    """An item Parley cannot turn into a message; it is rejected on its own, the page goes on."""


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def thread_key(root_uri: str) -> str:
    return f"{THREAD_PREFIX}{root_uri}"


def convo_key(convo_id: str) -> str:
    return f"{CONVO_PREFIX}{convo_id}"


def convo_of_key(key: str) -> str | None:
    return key[len(CONVO_PREFIX) :] or None if key.startswith(CONVO_PREFIX) else None


def timestamp(value: Any, what: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise Unreadable(f"no {what}")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Unreadable(f"{what} is not a date") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if not is_plausible(moment):
        raise Unreadable(f"{what} is not a plausible time for a message")
    return moment


def read_profile(value: Any) -> Identity:
    profile = as_dict(value)
    did, handle = profile.get("did"), profile.get("handle")
    if not isinstance(did, str) or not did.startswith("did:"):
        raise Unreadable("author without a DID")
    name = profile.get("displayName")
    return Identity(
        platform_user_id=did,
        handle=handle if isinstance(handle, str) and handle else did,
        display_name=name[:200] if isinstance(name, str) else "",
    )


def _text(record: dict[str, Any]) -> str:
    text = record.get("text")
    if not isinstance(text, str):
        raise Unreadable("post without text")
    return text[:MAX_TEXT]


def _reply_refs(record: dict[str, Any]) -> tuple[str | None, str | None]:
    """(root uri, parent uri) of a reply, (None, None) for a post that starts a thread."""
    reply = record.get("reply")
    if reply is None:
        return None, None
    root, parent = as_dict(as_dict(reply).get("root")).get("uri"), as_dict(as_dict(reply).get("parent")).get("uri")
    if not (
        isinstance(root, str) and root.startswith("at://") and isinstance(parent, str) and parent.startswith("at://")
    ):
        raise Unreadable("reply without root and parent uris")
    return root, parent


def read_post(
    uri: Any, author: Any, record: Any, indexed_at: Any, *, me: str, kind: MessageKind = MessageKind.REPLY
) -> FetchedMessage:
    """One post (from a notification or a thread view) as a message of its thread's conversation."""
    if not isinstance(uri, str) or not uri.startswith("at://"):
        raise Unreadable("post without an at:// uri")
    record = as_dict(record)
    if record.get("$type") not in (POST, None):
        raise Unreadable(f"not a post record ({str(record.get('$type'))[:60]})")
    who = read_profile(author)
    text = _text(record)
    root, parent = _reply_refs(record)
    stamp = record.get("createdAt") or indexed_at
    try:
        created_at = timestamp(stamp, "createdAt")
    except Unreadable:
        created_at = timestamp(indexed_at, "indexedAt")  # a client's clock may be wrong; the AppView's is not
    mine = who.platform_user_id == me
    langs = as_list(record.get("langs"))
    return FetchedMessage(
        platform_message_id=uri,
        conversation_key=thread_key(root or uri),
        author=who,
        kind=kind,
        direction=Direction.OUTBOUND if mine else Direction.INBOUND,
        created_at=created_at,
        text=text,
        html=text_to_html(text),
        parent_platform_id=parent,
        visibility=Visibility.PUBLIC,
        participants=() if mine else (who.handle,),
        raw={"uri": uri, "record": record},
        language=langs[0][:20] if langs and isinstance(langs[0], str) else "",
    )


def read_notification(item: Any, *, me: str) -> FetchedMessage | None:
    """A mention, reply or quote notification as a message; None for the other reasons (likes, follows)."""
    if not isinstance(item, dict):
        raise Unreadable("notification is not an object")
    kind = REASON_KIND.get(str(item.get("reason")))
    if kind is None:
        return None
    return read_post(item.get("uri"), item.get("author"), item.get("record"), item.get("indexedAt"), me=me, kind=kind)


def read_post_view(view: Any, *, me: str) -> FetchedMessage:
    view = as_dict(view)
    return read_post(view.get("uri"), view.get("author"), view.get("record"), view.get("indexedAt"), me=me)


def thread_posts(node: Any) -> list[Any]:
    """Every post view in a getPostThread answer: ancestors upwards, then the replies below, depth first."""
    found: list[Any] = []
    parent = as_dict(node).get("parent")
    while isinstance(parent, dict) and "post" in parent:
        found.append(parent["post"])
        parent = parent.get("parent")
    pending = [node]
    while pending:
        current = as_dict(pending.pop())
        if "post" in current:
            found.append(current["post"])
        pending.extend(reversed(as_list(current.get("replies"))))
    return found


def read_chat_message(message: Any, convo_id: str, *, me: str, names: dict[str, Identity]) -> FetchedMessage | None:
    """A chat messageView as a DM; None for a deleted message (it has no text left to show)."""
    message = as_dict(message)
    if message.get("$type") not in (MESSAGE_VIEW, None):
        return None
    message_id, sender = message.get("id"), as_dict(message.get("sender")).get("did")
    if not isinstance(message_id, str) or not message_id:
        raise Unreadable("chat message without an id")
    if not isinstance(sender, str) or not sender.startswith("did:"):
        raise Unreadable("chat message without a sender")
    text = message.get("text")
    if not isinstance(text, str):
        raise Unreadable("chat message without text")
    text = text[:MAX_TEXT]
    mine = sender == me
    author = names.get(sender) or Identity(platform_user_id=sender, handle=sender)
    others = [identity.handle for did, identity in names.items() if did != me and did.startswith("did:")]
    return FetchedMessage(
        platform_message_id=f"{CHAT_PREFIX}{convo_id}:{message_id}",
        conversation_key=convo_key(convo_id),
        author=author,
        kind=MessageKind.DM,
        direction=Direction.OUTBOUND if mine else Direction.INBOUND,
        created_at=timestamp(message.get("sentAt"), "sentAt"),
        text=text,
        html=text_to_html(text),
        visibility=Visibility.DIRECT,
        participants=tuple(sorted(others)) if mine else (author.handle,),
        raw=message,
    )


def tid_for(idempotency_key: str) -> str:
    """A record key (TID) that the same idempotency key always turns into.

    A TID is 64 bits (a zero bit, microseconds since 1970, a 10-bit clock id) in base32-sortable. The
    PDS refuses a second record with the same key, so a retried send cannot post twice. The timestamp
    is taken from the key's hash inside one fortnight of January 2023, a time no client wrote posts
    for our accounts with, so these keys never collide with TIDs a PDS makes itself.
    """
    digest = int.from_bytes(hashlib.sha256(idempotency_key.encode("utf-8")).digest()[:8], "big")
    micros = _TID_BASE_MICROS + (digest >> 24) % (1 << 40)
    value = (micros << 10) | (digest & 0x3FF)
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def graphemes(text: str) -> int:
    """User-perceived characters, as Bluesky counts its post limit (close to UAX #29 for real text).

    Combining marks, variation selectors, skin-tone modifiers, tag characters and whatever follows a
    zero-width joiner belong to the character before them; a pair of regional indicators is one flag.
    """
    count = 0
    joined = False
    flag_half = False
    for ch in text:
        code = ord(ch)
        regional = 0x1F1E6 <= code <= 0x1F1FF
        extends = (
            unicodedata.category(ch) in ("Mn", "Me", "Mc")
            or 0xFE00 <= code <= 0xFE0F
            or 0x1F3FB <= code <= 0x1F3FF
            or 0xE0020 <= code <= 0xE007F
        )
        if code == 0x200D:
            joined = True
            continue
        if (extends or joined) and count:
            joined = False
            continue
        if regional and flag_half:
            flag_half = False
            continue
        flag_half = regional
        joined = False
        count += 1
    return count
