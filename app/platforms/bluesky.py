"""The Bluesky connector: mentions, replies and quotes in, threaded; direct messages both ways; replies out.

Streams:

* ``notifications``: app.bsky.notification.listNotifications (reasons mention, reply, quote). Bluesky
  lists newest first and pages backwards, so a fetch walks back to the stored cursor (the newest
  `indexedAt` already stored, less ten minutes for posts written on devices whose clock is behind),
  then yields what it found oldest page first, each page's cursor covering only what it holds. A
  fetch reads at most `options["notification_pages"]` pages of `["notification_page_size"]` (20 of
  50); what lies beyond is a Gap that `backfill` fetches later. An inbound reply to one of our own
  posts brings that post along (fetched once per connector) so the thread has both sides even when we
  answered from another client.
* ``chat``: chat.bsky.convo.getLog from its cursor (the chat service's incremental log; the first
  sync starts from the zero TID, the log's beginning); each
  `logCreateMessage` is a DM in the conversation `bsky-convo:<convo id>`. Chat calls go through the
  PDS with the `atproto-proxy` header, or straight to `account.options["chat_url"]` when set.
  `account.options["chat"] = False` leaves DMs out (an app password without DM access).

Replies to posts are records created with a record key derived from the idempotency key, so a retry
finds the post it already made instead of posting again. Chat has no idempotency key: a send that
timed out is looked up in the chat log (from the conversation's revision before the send) before it
is sent again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from app.domain.models import (
    AccountRef,
    FetchedMessage,
    Gap,
    Identity,
    Page,
    Platform,
    RateLimit,
    RejectedItem,
    ReplyTarget,
    SentMessage,
)
from app.errors import AuthError, NotFound, PlatformError, RateLimited
from app.platforms.base import BackfillUnsupported, Connector
from app.platforms.bluesky_api import BlueskySession, XrpcApi
from app.platforms.bluesky_parse import (
    CHAT_PREFIX,
    LOG_CREATE,
    LOG_START,
    THREAD_PREFIX,
    Unreadable,
    as_dict,
    as_list,
    convo_of_key,
    graphemes,
    read_chat_message,
    read_notification,
    read_post_view,
    read_profile,
    thread_posts,
    tid_for,
)
from app.platforms.bluesky_send import BlueskySender

log = logging.getLogger("app.platforms.bluesky")

NOTIFICATIONS, CHAT = "notifications", "chat"
PAGE_LIMIT = 50
MAX_LOG_PAGES = 20  # chat log pages per fetch
CLOCK_SKEW_OVERLAP = timedelta(minutes=10)
MAX_DM_GRAPHEMES = 1000
MAX_POST_BYTES = 3000
_KNOWN_OWN_POSTS_KEPT = 5000


class BlueskyConnector(Connector):
    """A signed-in Bluesky account; `account.base_url` is its PDS, the secret the session JSON."""

    max_reply_length = 300  # graphemes, Bluesky's limit for a post
    max_dm_length = MAX_DM_GRAPHEMES

    def __init__(self, account: AccountRef, secret: str, *, timeout: Any = None) -> None:
        super().__init__(account, secret)
        options = account.options
        chat_url = options.get("chat_url")
        self._api = XrpcApi(
            account.base_url,
            BlueskySession.loads(secret),
            chat_url=chat_url if isinstance(chat_url, str) else "",
            **({"timeout": timeout} if timeout is not None else {}),
        )
        self._chat = options.get("chat", True) is not False
        self._notification_pages = _positive(options.get("notification_pages"), 20)
        self._page_limit = min(_positive(options.get("notification_page_size"), PAGE_LIMIT), PAGE_LIMIT)
        self._members: dict[str, dict[str, Identity]] = {}
        self._fetched_own: set[str] = set()
        self._sender = BlueskySender(self._api)

    # -- signing in ------------------------------------------------------------------------------------

    @classmethod
    def sign_in(cls, base_url: str, identifier: str, app_password: str) -> tuple[str, Identity]:
        """createSession with an app password (sent once, never kept); the session JSON for the keyring."""
        api = XrpcApi(base_url, None)
        try:
            answer = api.call_anonymous(
                "POST",
                "com.atproto.server.createSession",
                what="Signing in to Bluesky",
                body={"identifier": identifier.strip().lstrip("@"), "password": app_password},
            )
        except AuthError as exc:
            raise AuthError(
                "Signing in to Bluesky: wrong handle or app password.",
                status=exc.status,
                hint="Create an app password under Settings → Privacy and security → App passwords.",
            ) from None
        except NotFound:
            raise PlatformError(
                f"{base_url} does not answer as a Bluesky server (PDS).",
                hint="Leave the server empty for accounts hosted by Bluesky, or give your PDS's address.",
            ) from None
        finally:
            api.close()
        session = BlueskySession.from_answer(answer, what="Signing in to Bluesky")
        account = AccountRef(id=0, platform=Platform.BLUESKY, name=session.handle, base_url=api.base_url)
        connector = cls(account, session.dumps())
        try:
            identity = connector.verify()
            return connector.new_secret() or session.dumps(), identity
        finally:
            connector.close()

    @property
    def _me(self) -> str:
        session = self._api.session
        return session.did if session else self.account.platform_user_id

    def verify(self) -> Identity:
        body = self._api.call("GET", "com.atproto.server.getSession", what="Checking the Bluesky sign-in")
        did, handle = body.get("did"), body.get("handle")
        if not isinstance(did, str) or not did.startswith("did:"):
            raise PlatformError("Checking the Bluesky sign-in: the server did not say who this is.")
        name = ""
        try:
            profile = self._api.call(
                "GET", "app.bsky.actor.getProfile", params={"actor": did}, what="Reading the profile"
            )
            name = read_profile(profile).display_name
        except (NotFound, Unreadable):
            pass
        except PlatformError as exc:
            if isinstance(exc, AuthError | RateLimited):
                raise
            log.info("%s: profile not readable yet: %s", self.account.name, exc)
        return Identity(platform_user_id=did, handle=handle if isinstance(handle, str) else did, display_name=name)

    def streams(self) -> tuple[str, ...]:
        return (NOTIFICATIONS, CHAT) if self._chat else (NOTIFICATIONS,)

    def fetch(self, stream: str, cursor: str | None) -> Iterator[Page]:
        if stream == NOTIFICATIONS:
            return self._notifications(cursor)
        if stream == CHAT:
            return self._chat_log(cursor)
        raise PlatformError(f"Bluesky has no stream named {stream!r}.")

    def rate_limit(self) -> RateLimit:
        return self._api.rate

    def new_secret(self) -> str | None:
        if not self._api.rotated or self._api.session is None:
            return None
        self._api.rotated = False
        return self._api.session.dumps()

    # -- notifications ---------------------------------------------------------------------------------

    def _notifications(self, cursor: str | None) -> Iterator[Page]:
        since = _moment(cursor)
        # The AppView sorts by the earlier of a post's createdAt and its indexing time, so a post from a
        # device whose clock is behind lands below posts indexed before it: walk on a little past the
        # cursor (what is read twice is stored once).
        stop_at = since - CLOCK_SKEW_OVERLAP if since else None
        collected, position = self._walk_back(None, stop_at)
        gaps: tuple[Gap, ...] = ()
        if position is not None and stop_at is not None:
            log.warning("%s: more new notifications than one fetch reads; the rest is a gap", self.account.name)
            gaps = (self._gap(collected, position, stop_at, start=since),)
        if not collected:
            yield Page(stream=NOTIFICATIONS, messages=(), cursor=cursor, has_more=False, gaps=gaps)
            return
        for start in range(0, len(collected), self._page_limit):
            chunk = collected[start : start + self._page_limit]
            newest = max((m for m in (_moment(as_dict(i).get("indexedAt")) for i in chunk) if m), default=None)
            if newest is not None and (since is None or newest >= since):
                since = newest
                cursor = newest.isoformat()
            page = self._page(chunk, cursor=cursor, has_more=start + self._page_limit < len(collected))
            yield replace(page, gaps=gaps if start == 0 else ())

    def backfill(self, gap_detail: str) -> Iterator[Page]:
        """Walk on down from where a fetch stopped (the listNotifications cursor in the gap) to its cursor."""
        try:
            detail = json.loads(gap_detail)
            position, until = str(detail["cursor"]), _moment(detail["until"])
        except (ValueError, KeyError, TypeError):
            raise BackfillUnsupported("This gap was recorded without what Bluesky needs to fetch it again.") from None
        if until is None:
            raise BackfillUnsupported("This gap was recorded without what Bluesky needs to fetch it again.")
        collected, following = self._walk_back(position, until)
        remainder = () if following is None else (self._gap(collected, following, until, start=None),)
        if not collected:
            yield Page(stream=NOTIFICATIONS, messages=(), cursor=None, has_more=False, gaps=remainder)
            return
        for start in range(0, len(collected), self._page_limit):
            page = self._page(
                collected[start : start + self._page_limit],
                cursor=None,
                has_more=start + self._page_limit < len(collected),
            )
            yield replace(page, gaps=remainder if start == 0 else ())

    def _walk_back(self, position: str | None, stop_at: datetime | None) -> tuple[list[Any], str | None]:
        """Notifications from `position` (None: the newest) down to `stop_at`, oldest first, at most
        `notification_pages` pages; with the cursor to go on from when that bound cut the walk short."""
        what = "Reading Bluesky notifications"
        collected: list[Any] = []
        for _ in range(self._notification_pages):
            params: dict[str, Any] = {"limit": str(self._page_limit), "reasons": ["mention", "reply", "quote"]}
            if position:
                params["cursor"] = position
            body = self._api.call("GET", "app.bsky.notification.listNotifications", params=params, what=what)
            items = body.get("notifications")
            if not isinstance(items, list):
                raise PlatformError(f"{what}: the answer holds no list of notifications.")
            for item in items:
                seen = _moment(as_dict(item).get("indexedAt"))
                if stop_at and seen and seen < stop_at:
                    return collected[::-1], None
                collected.append(item)
            following = body.get("cursor")
            if not items or not isinstance(following, str) or not following or following == position:
                return collected[::-1], None
            position = following
        return collected[::-1], position

    def _gap(self, collected: list[Any], position: str, until: datetime, *, start: datetime | None) -> Gap:
        oldest = min((m for m in (_moment(as_dict(i).get("indexedAt")) for i in collected) if m), default=None)
        detail = json.dumps({"cursor": position, "until": until.isoformat()})
        return Gap(stream=NOTIFICATIONS, start=start, end=oldest, detail=detail)

    def _page(self, chunk: list[Any], *, cursor: str | None, has_more: bool) -> Page:
        messages, rejected = self._read_notifications(chunk)
        own, bad = self._own_parents(messages)
        return Page(
            stream=NOTIFICATIONS,
            messages=tuple(messages + own),
            cursor=cursor,
            has_more=has_more,
            rejected=tuple(rejected + bad),
        )

    def _read_notifications(self, items: list[Any]) -> tuple[list[FetchedMessage], list[RejectedItem]]:
        messages: list[FetchedMessage] = []
        rejected: list[RejectedItem] = []
        for item in items:
            try:
                message = read_notification(item, me=self._me)
            except Unreadable as exc:
                rejected.append(RejectedItem(str(as_dict(item).get("uri") or "?")[:300], str(exc)))
                continue
            if message is not None:
                messages.append(message)
        return messages, rejected

    def _own_parents(self, messages: list[FetchedMessage]) -> tuple[list[FetchedMessage], list[RejectedItem]]:
        """Our own posts that inbound replies answer, so the thread shows both sides."""
        present = {m.platform_message_id for m in messages}
        wanted = sorted(
            {
                m.parent_platform_id
                for m in messages
                if m.parent_platform_id
                and m.parent_platform_id.startswith(f"at://{self._me}/")
                and m.parent_platform_id not in present
                and m.parent_platform_id not in self._fetched_own
            }
        )
        found: list[FetchedMessage] = []
        rejected: list[RejectedItem] = []
        for start in range(0, len(wanted), 25):  # getPosts takes at most 25 uris
            uris = wanted[start : start + 25]
            body = self._api.call("GET", "app.bsky.feed.getPosts", params={"uris": uris}, what="Reading our own posts")
            for view in as_list(body.get("posts")):
                try:
                    found.append(read_post_view(view, me=self._me))
                except Unreadable as exc:
                    rejected.append(RejectedItem(str(as_dict(view).get("uri") or "?")[:300], str(exc)))
            self._fetched_own.update(uris)
        if len(self._fetched_own) > _KNOWN_OWN_POSTS_KEPT:
            self._fetched_own.clear()
        return found, rejected

    # -- chat ------------------------------------------------------------------------------------------

    def _chat_log(self, cursor: str | None) -> Iterator[Page]:
        what = "Reading Bluesky direct messages"
        for _ in range(MAX_LOG_PAGES):
            # Without a cursor the chat service answers from now on; the zero TID reads the log from its start.
            params = {"cursor": cursor or LOG_START}
            body = self._api.call("GET", "chat.bsky.convo.getLog", params=params, what=what)
            logs = body.get("logs")
            if not isinstance(logs, list):
                raise PlatformError(f"{what}: the answer holds no list of log entries.")
            messages: list[FetchedMessage] = []
            rejected: list[RejectedItem] = []
            for entry in logs:
                try:
                    message = self._read_log_entry(entry)
                except Unreadable as exc:
                    item = as_dict(as_dict(entry).get("message")).get("id") or as_dict(entry).get("rev") or "?"
                    rejected.append(RejectedItem(str(item)[:300], str(exc)))
                    continue
                if message is not None:
                    messages.append(message)
            following = body.get("cursor")
            moved = isinstance(following, str) and bool(following) and following != cursor and bool(logs)
            cursor = str(following) if moved else cursor
            yield Page(stream=CHAT, messages=tuple(messages), cursor=cursor, has_more=moved, rejected=tuple(rejected))
            if not moved:
                return

    def _read_log_entry(self, entry: Any) -> FetchedMessage | None:
        if not isinstance(entry, dict):
            raise Unreadable("log entry is not an object")
        if entry.get("$type") != LOG_CREATE:
            return None  # conversations begun or left, reactions, reads: nothing for the inbox
        convo_id = entry.get("convoId")
        if not isinstance(convo_id, str) or not convo_id:
            raise Unreadable("log entry without a convoId")
        return read_chat_message(entry.get("message"), convo_id, me=self._me, names=self._convo_members(convo_id))

    def _convo_members(self, convo_id: str) -> dict[str, Identity]:
        if convo_id not in self._members:
            try:
                body = self._api.call(
                    "GET", "chat.bsky.convo.getConvo", params={"convoId": convo_id}, what="Reading a conversation"
                )
            except NotFound:
                body = {}
            members: dict[str, Identity] = {}
            for member in as_list(as_dict(body.get("convo")).get("members")):
                try:
                    identity = read_profile(member)
                except Unreadable:
                    continue
                members[identity.platform_user_id] = identity
            self._members[convo_id] = members
        return self._members[convo_id]

    # -- threads ---------------------------------------------------------------------------------------

    def thread_context(self, platform_message_id: str) -> list[FetchedMessage]:
        if platform_message_id.startswith(CHAT_PREFIX):
            convo_id = platform_message_id[len(CHAT_PREFIX) :].rsplit(":", 1)[0]
            return self._chat_history(convo_id)
        what = "Loading the Bluesky thread"
        params = {"uri": platform_message_id, "depth": "10", "parentHeight": "50"}
        body = self._api.call("GET", "app.bsky.feed.getPostThread", params=params, what=what)
        messages: dict[str, FetchedMessage] = {}
        for view in thread_posts(body.get("thread")):
            try:
                message = read_post_view(view, me=self._me)
            except Unreadable as exc:
                log.info("thread of %s: skipped %s: %s", platform_message_id, as_dict(view).get("uri"), exc)
                continue
            messages[message.platform_message_id] = message
        return sorted(messages.values(), key=lambda m: (m.created_at, m.platform_message_id))

    def _chat_history(self, convo_id: str) -> list[FetchedMessage]:
        params = {"convoId": convo_id, "limit": "50"}
        body = self._api.call("GET", "chat.bsky.convo.getMessages", params=params, what="Loading the conversation")
        names = self._convo_members(convo_id)
        found: list[FetchedMessage] = []
        for view in as_list(body.get("messages")):
            try:
                message = read_chat_message(view, convo_id, me=self._me, names=names)
            except Unreadable as exc:
                log.info("conversation %s: skipped a message: %s", convo_id, exc)
                continue
            if message is not None:
                found.append(message)
        return sorted(found, key=lambda m: (m.created_at, m.platform_message_id))

    # -- sending ---------------------------------------------------------------------------------------

    def send_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> SentMessage:
        if not idempotency_key:
            raise ValueError("a send needs an idempotency key")
        if not text.strip():
            raise PlatformError("The reply is empty.")
        convo_id = convo_of_key(target.conversation_key)
        if convo_id:
            if graphemes(text) > MAX_DM_GRAPHEMES:
                raise PlatformError(f"The message is longer than Bluesky allows ({MAX_DM_GRAPHEMES} characters).")
            return self._sender.send_dm(convo_id, text, idempotency_key)
        if graphemes(text) > self.max_reply_length or len(text.encode("utf-8")) > MAX_POST_BYTES:
            raise PlatformError(f"The reply is longer than Bluesky allows ({self.max_reply_length} characters).")
        parent = target.in_reply_to_platform_id
        if not parent and target.conversation_key.startswith(THREAD_PREFIX):
            parent = target.conversation_key[len(THREAD_PREFIX) :]
        if not parent:
            raise PlatformError(f"Cannot tell which Bluesky post {target.conversation_key!r} answers.")
        return self._sender.post_reply(parent, text, tid_for(idempotency_key))

    # -- lifecycle -------------------------------------------------------------------------------------

    def sign_out(self) -> bool:
        """deleteSession with the refresh token: the PDS ends this session (the app password stays valid)."""
        session = self._api.session
        if session is None:
            return False
        self._api.call_anonymous(
            "POST", "com.atproto.server.deleteSession", what="Signing out of Bluesky", bearer=session.refresh_jwt
        )
        return True

    def abort(self) -> None:
        self._api.abort()

    def close(self) -> None:
        self._api.close()


def _positive(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
