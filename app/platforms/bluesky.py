"""The Bluesky connector: mentions, replies and quotes in, threaded; direct messages both ways; replies out.

Streams:

* ``notifications``: app.bsky.notification.listNotifications (reasons mention, reply, quote). Bluesky
  lists newest first and pages backwards, so a fetch walks back to the stored cursor (the newest
  `indexedAt` already stored), then yields what is new oldest page first, each page's cursor covering
  only what it holds. An inbound reply to one of our own posts brings that post along (fetched once per
  connector) so the thread has both sides even when we answered from another client.
* ``chat``: chat.bsky.convo.getLog from its cursor (the chat service's incremental log); each
  `logCreateMessage` is a DM in the conversation `bsky-convo:<convo id>`. Chat calls go through the
  PDS with the `atproto-proxy` header, or straight to `account.options["chat_url"]` when set.
  `account.options["chat"] = False` leaves DMs out (an app password without DM access).

Replies to posts are records created with a record key derived from the idempotency key, so a retry
finds the post it already made instead of posting again. Chat has no idempotency key: a send that
timed out is looked up in the chat log (from the conversation's revision before the send) before it
is sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
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
from app.errors import AuthError, NetworkError, NotFound, PlatformError, RateLimited
from app.platforms.base import Connector
from app.platforms.bluesky_api import BlueskySession, XrpcApi
from app.platforms.bluesky_parse import (
    CHAT_PREFIX,
    LOG_CREATE,
    POST,
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
    timestamp,
)

log = logging.getLogger("app.platforms.bluesky")

NOTIFICATIONS, CHAT = "notifications", "chat"
PAGE_LIMIT = 50
MAX_NOTIFICATION_PAGES = 20
MAX_LOG_PAGES = 20
MAX_DM_GRAPHEMES = 1000
MAX_POST_BYTES = 3000
_KNOWN_OWN_POSTS_KEPT = 5000
_KNOWN_SENDS_KEPT = 1000


class BlueskyConnector(Connector):
    """A signed-in Bluesky account; `account.base_url` is its PDS, the secret the session JSON."""

    max_reply_length = 300  # graphemes, Bluesky's limit for a post

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
        self._members: dict[str, dict[str, Identity]] = {}
        self._fetched_own: set[str] = set()
        self._pending_dm: dict[str, str] = {}  # idempotency key -> convo rev before a send that timed out
        self._sent_dm: dict[str, SentMessage] = {}  # idempotency key -> what that send made

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
        what = "Reading Bluesky notifications"
        since = _moment(cursor)
        collected: list[Any] = []
        position: str | None = None
        reached_end = False
        for _ in range(MAX_NOTIFICATION_PAGES):
            params: dict[str, Any] = {"limit": str(PAGE_LIMIT), "reasons": ["mention", "reply", "quote"]}
            if position:
                params["cursor"] = position
            body = self._api.call("GET", "app.bsky.notification.listNotifications", params=params, what=what)
            items = body.get("notifications")
            if not isinstance(items, list):
                raise PlatformError(f"{what}: the answer holds no list of notifications.")
            for item in items:
                seen = _moment(as_dict(item).get("indexedAt"))
                if since and seen and seen < since:
                    reached_end = True
                    break
                collected.append(item)
            following = body.get("cursor")
            if reached_end or not items or not isinstance(following, str) or not following or following == position:
                reached_end = True
                break
            position = following
        collected.reverse()  # oldest first
        gaps: tuple[Gap, ...] = ()
        if not reached_end and since is not None:
            log.warning("%s: more new notifications than one fetch reads; older ones are skipped", self.account.name)
            oldest = [m for m in (_moment(as_dict(i).get("indexedAt")) for i in collected) if m]
            gaps = (Gap(stream=NOTIFICATIONS, start=since, end=min(oldest) if oldest else None),)
        if not collected:
            yield Page(stream=NOTIFICATIONS, messages=(), cursor=cursor, has_more=False, gaps=gaps)
            return
        for start in range(0, len(collected), PAGE_LIMIT):
            chunk = collected[start : start + PAGE_LIMIT]
            messages, rejected = self._read_notifications(chunk)
            newest = max((m for m in (_moment(as_dict(i).get("indexedAt")) for i in chunk) if m), default=None)
            if newest is not None and (since is None or newest >= since):
                since = newest
                cursor = newest.isoformat()
            own, bad = self._own_parents(messages)
            last = start + PAGE_LIMIT >= len(collected)
            yield Page(
                stream=NOTIFICATIONS,
                messages=tuple(messages + own),
                cursor=cursor,
                has_more=not last,
                rejected=tuple(rejected + bad),
                gaps=gaps if start == 0 else (),
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
            params = {"cursor": cursor} if cursor else None
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
            return self._send_dm(convo_id, text, idempotency_key)
        if graphemes(text) > self.max_reply_length or len(text.encode("utf-8")) > MAX_POST_BYTES:
            raise PlatformError(f"The reply is longer than Bluesky allows ({self.max_reply_length} characters).")
        parent = target.in_reply_to_platform_id
        if not parent and target.conversation_key.startswith(THREAD_PREFIX):
            parent = target.conversation_key[len(THREAD_PREFIX) :]
        if not parent:
            raise PlatformError(f"Cannot tell which Bluesky post {target.conversation_key!r} answers.")
        return self._post_reply(parent, text, tid_for(idempotency_key))

    def _post_reply(self, parent_uri: str, text: str, rkey: str) -> SentMessage:
        what = "Sending the Bluesky reply"
        existing = self._own_record(rkey)
        if existing is not None:
            return existing
        parent, root = self._reply_refs(parent_uri)
        record = {
            "$type": POST,
            "text": text,
            "createdAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "reply": {"root": root, "parent": parent},
        }
        body = {"repo": self._me, "collection": POST, "rkey": rkey, "record": record}
        try:
            answer = self._api.call("POST", "com.atproto.repo.createRecord", body=body, what=what)
        except (AuthError, RateLimited):
            raise
        except PlatformError:
            # The first attempt may have been stored although its answer never came back (or this one
            # was refused because it was): the record key tells.
            existing = self._own_record(rkey)
            if existing is None:
                raise
            return existing
        uri = answer.get("uri")
        if not isinstance(uri, str) or not uri:
            raise PlatformError(f"{what}: the server did not return the post's uri.")
        return SentMessage(platform_message_id=uri, created_at=datetime.now(UTC), raw=answer)

    def _own_record(self, rkey: str) -> SentMessage | None:
        params = {"repo": self._me, "collection": POST, "rkey": rkey}
        try:
            body = self._api.call("GET", "com.atproto.repo.getRecord", params=params, what="Checking for a sent reply")
        except NotFound:
            return None
        uri = body.get("uri")
        if not isinstance(uri, str) or not uri:
            return None
        created = as_dict(body.get("value")).get("createdAt")
        try:
            created_at = timestamp(created, "createdAt")
        except Unreadable:
            created_at = datetime.now(UTC)
        return SentMessage(platform_message_id=uri, created_at=created_at, raw=body)

    def _reply_refs(self, parent_uri: str) -> tuple[dict[str, str], dict[str, str]]:
        """Strong references (uri + cid) to the post answered and to its thread's root."""
        body = self._api.call("GET", "app.bsky.feed.getPosts", params={"uris": [parent_uri]}, what="Reading the post")
        posts = [p for p in as_list(body.get("posts")) if as_dict(p).get("uri") == parent_uri]
        if not posts:
            raise NotFound("The post being answered no longer exists on Bluesky.")
        view = as_dict(posts[0])
        cid = view.get("cid")
        if not isinstance(cid, str) or not cid:
            raise PlatformError("Reading the post: Bluesky sent it without its cid.")
        parent = {"uri": parent_uri, "cid": cid}
        root = as_dict(as_dict(as_dict(view.get("record")).get("reply")).get("root"))
        if isinstance(root.get("uri"), str) and isinstance(root.get("cid"), str):
            return parent, {"uri": root["uri"], "cid": root["cid"]}
        return parent, parent

    def _send_dm(self, convo_id: str, text: str, key: str) -> SentMessage:
        if key in self._sent_dm:
            return self._sent_dm[key]
        sent = self._send_dm_once(convo_id, text, key)
        self._pending_dm.pop(key, None)
        self._sent_dm[key] = sent
        if len(self._sent_dm) > _KNOWN_SENDS_KEPT:
            del self._sent_dm[next(iter(self._sent_dm))]
        return sent

    def _send_dm_once(self, convo_id: str, text: str, key: str) -> SentMessage:
        what = "Sending the Bluesky message"
        earlier = self._pending_dm.get(key)
        if earlier is not None:
            found = self._find_sent(convo_id, text, earlier)
            if found is not None:
                return found
        else:
            body = self._api.call("GET", "chat.bsky.convo.getConvo", params={"convoId": convo_id}, what=what)
            rev = as_dict(body.get("convo")).get("rev")
            # Kept before sending: should the answer be lost, the log after this revision tells.
            self._pending_dm[key] = rev if isinstance(rev, str) else ""
        try:
            answer = self._api.call(
                "POST", "chat.bsky.convo.sendMessage", body={"convoId": convo_id, "message": {"text": text}}, what=what
            )
        except NetworkError:
            found = self._find_sent(convo_id, text, self._pending_dm[key])
            if found is None:
                raise
            return found
        return self._sent_message(convo_id, answer)

    def _find_sent(self, convo_id: str, text: str, rev: str) -> SentMessage | None:
        """Our message with this text in the chat log after `rev`: a send whose answer was lost."""
        cursor = rev or None
        for _ in range(MAX_LOG_PAGES):
            body = self._api.call(
                "GET", "chat.bsky.convo.getLog", params={"cursor": cursor} if cursor else None, what="Checking a send"
            )
            for entry in as_list(body.get("logs")):
                entry = as_dict(entry)
                message = as_dict(entry.get("message"))
                if (
                    entry.get("$type") == LOG_CREATE
                    and entry.get("convoId") == convo_id
                    and as_dict(message.get("sender")).get("did") == self._me
                    and message.get("text") == text
                ):
                    return self._sent_message(convo_id, message)
            following = body.get("cursor")
            if not as_list(body.get("logs")) or not isinstance(following, str) or following == cursor:
                return None
            cursor = following
        return None

    def _sent_message(self, convo_id: str, answer: dict[str, Any]) -> SentMessage:
        message_id = answer.get("id")
        if not isinstance(message_id, str) or not message_id:
            raise PlatformError("Sending the Bluesky message: the chat service did not return its id.")
        try:
            created_at = timestamp(answer.get("sentAt"), "sentAt")
        except Unreadable:
            created_at = datetime.now(UTC)
        return SentMessage(
            platform_message_id=f"{CHAT_PREFIX}{convo_id}:{message_id}", created_at=created_at, raw=answer
        )

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


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
