"""The Facebook Page and Instagram connectors: private messages and comments in, replies out, over the Graph API.

Both sign in with a Page access token; `account.options["page_id"]` names the Page (for a Facebook
account it is also `platform_user_id`; an Instagram account's `platform_user_id` is the Instagram
business account linked to the Page).

Streams (each cursor is the newest Graph time read, so a sync stops at what it already holds):

* ``messenger`` / ``messages``: /{page}/conversations?platform=messenger|instagram, newest-updated
  first, with each conversation's messages nested (more read from /{conversation}/messages when needed).
* ``comments``: Facebook walks /{page}/published_posts (a post's updated_time moves when someone
  comments) and reads /{post}/comments?filter=stream, every level with its `parent`. Instagram's
  comments are in `app.platforms.instagram`.

A new account reads the last FIRST_SYNC_SPAN (30 days). Pages come newest first and only the walk's last
page carries the new cursor: a walk cut short reads the same span again next time, and the store keeps
each message once.

Sends are made safe to retry without an idempotency key of Meta's: before posting, the connector looks
for an identical reply by the Page, after the message answered, and returns it instead of posting again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from app.domain.messaging_window import reply_rule
from app.domain.models import (
    AccountRef,
    Direction,
    FetchedMessage,
    Identity,
    MessageKind,
    Page,
    Platform,
    RateLimit,
    RejectedItem,
    ReplyTarget,
    SentMessage,
    Visibility,
)
from app.errors import PlatformError
from app.platforms.base import Connector
from app.platforms.graph_api import DEFAULT_GRAPH_URL, GraphClient, OutsideMessagingWindow
from app.platforms.graph_parse import (
    after_cursor,
    data_of,
    graph_time,
    parse_comment,
    parse_items,
    parse_message,
    parse_time,
    require_id,
)
from app.platforms.http import DEFAULT_TIMEOUT, make_session
from app.platforms.http_abort import abort_session
from app.platforms.mastodon_parse import UnreadableItem

log = logging.getLogger("app.platforms.graph")

MESSAGE_FIELDS = "id,from,to,message,created_time"
CONVERSATION_FIELDS = f"participants,updated_time,messages{{{MESSAGE_FIELDS}}}"
FB_COMMENT_FIELDS = "id,from,message,created_time,parent{id}"
IG_COMMENT_FIELDS = "id,text,timestamp,username,from,parent_id"
PAGE_SIZE = "25"
COMMENT_PAGES = 20  # pages of comments read per post or media at most, per sync
FIRST_SYNC_SPAN = timedelta(days=30)  # a new account reads this much history, not years of a busy Page


class GraphConnector(Connector):
    """What the Facebook and Instagram connectors share; subclasses name the messaging platform and comments."""

    platform = Platform.FACEBOOK
    messaging_platform = "messenger"
    message_stream = "messenger"
    max_reply_length = 8000  # a comment reply
    max_dm_length = 2000  # the Send API's text limit

    def __init__(
        self,
        account: AccountRef,
        secret: str,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(account, secret)
        self._session = session or make_session()
        self._client = GraphClient(account.base_url or DEFAULT_GRAPH_URL, secret, self._session, timeout=timeout)
        self._now = now or (lambda: datetime.now(UTC))
        self._sent: dict[str, SentMessage] = {}

    @property
    def page_id(self) -> str:
        page = self.account.options.get("page_id") or self.account.platform_user_id
        if not page:
            raise PlatformError("This account has no Facebook Page id.", hint="Add the account again with its Page id.")
        return str(page)

    def own_ids(self) -> frozenset[str]:
        return frozenset(i for i in (self.page_id, self.account.platform_user_id) if i)

    # -- the Connector interface -------------------------------------------------------------------

    def streams(self) -> tuple[str, ...]:
        return (self.message_stream, "comments")

    def fetch(self, stream: str, cursor: str | None) -> Iterator[Page]:
        if stream == self.message_stream:
            return self._conversations(stream, cursor)
        if stream == "comments":
            return self._comments(cursor)
        raise PlatformError(f"{self.platform.value.title()} has no stream named {stream!r}.")

    def thread_context(self, platform_message_id: str) -> list[FetchedMessage]:
        return []  # the synced conversation already holds the thread: Graph threads are two levels deep

    def send_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> SentMessage:
        if idempotency_key in self._sent:
            return self._sent[idempotency_key]
        kind, _, ref = target.conversation_key.partition(":")
        if kind == "dm" and ref:
            sent = self._send_message(ref, target.in_reply_to_platform_id, text)
        elif kind == "comments" and ref and target.visibility is Visibility.DIRECT:
            sent = self.send_private_reply(target.in_reply_to_platform_id or ref, text)
        elif kind == "comments" and ref:
            sent = self._reply_to_comment(ref, target.in_reply_to_platform_id, text)
        else:
            raise PlatformError(f"Parley cannot reply to {target.conversation_key!r} on {self.platform.value}.")
        self._sent[idempotency_key] = sent
        return sent

    def send_private_reply(self, comment_id: str, text: str) -> SentMessage:
        """A message to the person who wrote `comment_id` (Meta allows one, within 7 days of the comment)."""
        what = "Sending the private reply"
        body = self._client.post(
            f"/{self.page_id}/messages",
            what=what,
            body={"recipient": {"comment_id": comment_id}, "message": {"text": text}},
        )
        return self._sent_from(body, "message_id", what=what)

    def rate_limit(self) -> RateLimit:
        return self._client.rate

    def abort(self) -> None:
        abort_session(self._session)

    def close(self) -> None:
        self._session.close()

    # -- conversations -------------------------------------------------------------------------------

    def _conversations(self, stream: str, cursor: str | None) -> Iterator[Page]:
        what = f"Reading {self.platform.value.title()} conversations"
        since = cursor_time(cursor) or self._now() - FIRST_SYNC_SPAN
        newest = cursor_time(cursor)
        own = self.own_ids()
        params = {"platform": self.messaging_platform, "fields": CONVERSATION_FIELDS, "limit": PAGE_SIZE}
        after: str | None = None
        while True:
            body = self._client.get(f"/{self.page_id}/conversations", what=what, params=with_after(params, after))
            items = edge_data(body, what=what)
            messages: list[FetchedMessage] = []
            rejected: list[RejectedItem] = []
            reached_known = False
            for index, item in enumerate(items):
                try:
                    conversation_id = require_id(item, "conversation", index)
                    updated = parse_time(item.get("updated_time"), item_id=conversation_id, field="updated_time")
                except UnreadableItem as exc:
                    rejected.append(exc.rejected())
                    continue
                if since is not None and updated < since:
                    reached_known = True  # newest-updated first: everything after this is known
                    break
                newest = max(newest, updated) if newest else updated
                got, bad = self._conversation_messages(conversation_id, item.get("messages"), since, own)
                messages.extend(got)
                rejected.extend(bad)
            after = None if reached_known else after_cursor(body)
            last = after is None
            yield Page(
                stream=stream,
                messages=tuple(messages),
                cursor=graph_time(newest) if last and newest else None,
                has_more=not last,
                rejected=tuple(rejected),
            )
            if last:
                return

    def _conversation_messages(
        self, conversation_id: str, edge: Any, since: datetime | None, own: frozenset[str]
    ) -> tuple[list[FetchedMessage], list[RejectedItem]]:
        what = "Reading a conversation's messages"
        messages: list[FetchedMessage] = []
        rejected: list[RejectedItem] = []
        after: str | None = None
        body = edge
        for _ in range(COMMENT_PAGES):
            if body is None:
                body = self._client.get(
                    f"/{conversation_id}/messages",
                    what=what,
                    params=with_after({"fields": MESSAGE_FIELDS, "limit": PAGE_SIZE}, after),
                )
            got, bad = parse_items(
                edge_data(body, what=what), parse_message, conversation_id=conversation_id, own_ids=own
            )
            rejected.extend(bad)
            fresh = [m for m in got if since is None or m.created_at >= since]
            messages.extend(fresh)
            after = after_cursor(body)
            if after is None or len(fresh) < len(got):  # newest first: an older message ends the walk
                break
            body = None
        return messages, rejected

    # -- comments ---------------------------------------------------------------------------------------

    def _comments(self, cursor: str | None) -> Iterator[Page]:
        raise NotImplementedError

    def _comment_walk(
        self, path: str, params: dict[str, str], since: datetime | None, *, what: str, ordered: bool
    ) -> tuple[list[FetchedMessage], list[RejectedItem]]:
        """Readable comments of one edge newer than `since`; `ordered`: newest first, so stop at the first older."""
        own = self.own_ids()
        messages: list[FetchedMessage] = []
        rejected: list[RejectedItem] = []
        after: str | None = None
        for _ in range(COMMENT_PAGES):
            body = self._client.get(path, what=what, params=with_after(params, after))
            items = edge_data(body, what=what)
            got, bad = parse_items(items, parse_comment, own_ids=own)
            for item in items:
                replies = item.get("replies") if isinstance(item, dict) else None
                if isinstance(replies, dict) and isinstance(replies.get("data"), list) and item.get("id"):
                    more, worse = parse_items(replies["data"], parse_comment, own_ids=own, parent_id=item["id"])
                    got.extend(more)
                    bad.extend(worse)
            rejected.extend(bad)
            fresh = [m for m in got if since is None or m.created_at >= since]
            messages.extend(fresh)
            after = after_cursor(body)
            if after is None or (ordered and len(fresh) < len(got)):
                break
        return messages, rejected

    # -- sending ------------------------------------------------------------------------------------------

    def _send_message(self, conversation_id: str, in_reply_to: str | None, text: str) -> SentMessage:
        what = f"Sending the {self.platform.value.title()} message"
        own = self.own_ids()
        body = self._client.get(
            f"/{conversation_id}", what=what, params={"fields": f"participants,messages{{{MESSAGE_FIELDS}}}"}
        )
        history, _bad = parse_items(
            edge_data(body.get("messages") if isinstance(body, dict) else None, what=what),
            parse_message,
            conversation_id=conversation_id,
            own_ids=own,
        )
        inbound = [m for m in history if m.direction is Direction.INBOUND]
        last_inbound = max((m.created_at for m in inbound), default=None)
        anchor = next((m.created_at for m in history if m.platform_message_id == in_reply_to), last_inbound)
        existing = same_reply(history, text, anchor)
        if existing is not None:
            log.info("reply already in conversation %s as %s; not sending again", conversation_id, existing)
            return existing
        recipient = self._recipient(body, inbound, what=what)
        human_agent = bool(self.account.options.get("human_agent"))
        rule = reply_rule(self.platform, MessageKind.DM, last_inbound, self._now(), human_agent=human_agent)
        if not rule.allowed:
            raise OutsideMessagingWindow(f"{what}: {rule.reason}", hint=rule.alternative)
        payload: dict[str, Any] = {
            "recipient": {"id": recipient},
            "messaging_type": rule.messaging_type,
            "message": {"text": text},
        }
        if rule.tag:
            payload["tag"] = rule.tag
        return self._sent_from(self._client.post(f"/{self.page_id}/messages", what=what, body=payload), "message_id",
                               what=what)  # fmt: skip

    def _recipient(self, conversation: Any, inbound: list[FetchedMessage], *, what: str) -> str:
        people = conversation.get("participants") if isinstance(conversation, dict) else None
        for person in (people or {}).get("data", []) if isinstance(people, dict) else []:
            if isinstance(person, dict) and isinstance(person.get("id"), str) and person["id"] not in self.own_ids():
                return str(person["id"])
        if inbound:
            return inbound[0].author.platform_user_id
        raise PlatformError(f"{what}: Meta did not say who is in the conversation.")

    def _reply_to_comment(self, root: str, in_reply_to: str | None, text: str) -> SentMessage:
        raise NotImplementedError

    def _reply_once(
        self, root: str, edge: str, params: dict[str, str], in_reply_to: str | None, text: str, *, what: str
    ) -> SentMessage:
        """Post `text` on comment `root`'s `edge`, unless an earlier attempt whose answer was lost already did."""
        replies, _bad = self._comment_walk(f"/{root}/{edge}", params, None, what=what, ordered=False)
        replies = self._mark_own(replies)
        existing = same_reply(replies, text, time_of(replies, in_reply_to))
        if existing is not None:
            log.info("reply already under comment %s as %s; not posting again", root, existing.platform_message_id)
            return existing
        return self._sent_from(self._client.post(f"/{root}/{edge}", what=what, body={"message": text}), "id",
                               what=what)  # fmt: skip

    def _mark_own(self, replies: list[FetchedMessage]) -> list[FetchedMessage]:
        """The replies with ours marked outbound, where the platform does not say which are ours by id."""
        return replies

    def _sent_from(self, body: Any, key: str, *, what: str) -> SentMessage:
        if not isinstance(body, dict) or not isinstance(body.get(key), str) or not body[key]:
            raise PlatformError(f"{what}: Meta's answer has no {key}.")
        return SentMessage(platform_message_id=body[key], created_at=self._now(), raw=body)


class FacebookConnector(GraphConnector):
    """A Facebook Page: Messenger conversations and comments on the Page's posts."""

    platform = Platform.FACEBOOK
    messaging_platform = "messenger"
    message_stream = "messenger"

    def verify(self) -> Identity:
        body = self._client.get(f"/{self.page_id}", what="Checking the Page token", params={"fields": "id,name"})
        if not isinstance(body, dict) or body.get("id") != self.page_id:
            raise PlatformError("Meta answered the Page check with something other than this Page.")
        name = str(body["name"]) if isinstance(body.get("name"), str) else ""
        return Identity(platform_user_id=self.page_id, handle=name or f"page {self.page_id}", display_name=name)

    def _comments(self, cursor: str | None) -> Iterator[Page]:
        what = "Reading comments on the Page's posts"
        since = cursor_time(cursor) or self._now() - FIRST_SYNC_SPAN
        newest = cursor_time(cursor)
        after: str | None = None
        params = {"fields": "id,created_time,updated_time", "limit": PAGE_SIZE}
        while True:
            body = self._client.get(f"/{self.page_id}/published_posts", what=what, params=with_after(params, after))
            messages: list[FetchedMessage] = []
            rejected: list[RejectedItem] = []
            reached_known = False
            for index, post in enumerate(edge_data(body, what=what)):
                try:
                    post_id = require_id(post, "post", index)
                    updated = parse_time(post.get("updated_time") or post.get("created_time"), item_id=post_id,
                                         field="updated_time")  # fmt: skip
                except UnreadableItem as exc:
                    rejected.append(exc.rejected())
                    continue
                if since is not None and updated < since:
                    reached_known = True
                    break
                newest = max(newest, updated) if newest else updated
                comment_params = {"fields": FB_COMMENT_FIELDS, "filter": "stream", "order": "reverse_chronological",
                                  "limit": "100"}  # fmt: skip
                got, bad = self._comment_walk(f"/{post_id}/comments", comment_params, since, what=what, ordered=True)
                messages.extend(got)
                rejected.extend(bad)
            after = None if reached_known else after_cursor(body)
            last = after is None
            reached = max([newest, *(m.created_at for m in messages)], default=None, key=time_key)
            yield comments_page(messages, rejected, reached, last=last)
            if last:
                return

    def _reply_to_comment(self, root: str, in_reply_to: str | None, text: str) -> SentMessage:
        # Facebook threads are two levels deep: an answer to a reply goes under the top-level comment.
        params = {"fields": FB_COMMENT_FIELDS, "limit": "100"}
        return self._reply_once(root, "comments", params, in_reply_to, text, what="Sending the comment reply")


def comments_page(messages: list[FetchedMessage], rejected: list[RejectedItem], reached: datetime | None, *,
                  last: bool) -> Page:  # fmt: skip
    """A page of the comments stream; only the last one moves the cursor, to the newest time `reached`."""
    return Page(
        stream="comments",
        messages=tuple(messages),
        cursor=graph_time(reached) if last and reached else None,
        has_more=not last,
        rejected=tuple(rejected),
    )


def same_reply(history: list[FetchedMessage], text: str, after: datetime | None) -> SentMessage | None:
    """Our message with this text made at or after `after`: a send that reached Meta though its answer was lost."""
    wanted = text.strip()
    for message in history:
        if (
            message.direction is Direction.OUTBOUND
            and message.text.strip() == wanted
            and (after is None or message.created_at >= after)
        ):
            return SentMessage(message.platform_message_id, message.created_at, raw=message.raw)
    return None


def time_of(messages: list[FetchedMessage], platform_id: str | None) -> datetime | None:
    return next((m.created_at for m in messages if m.platform_message_id == platform_id), None)


def time_key(moment: datetime | None) -> float:
    return moment.timestamp() if moment else float("-inf")


def cursor_time(cursor: str | None) -> datetime | None:
    if not cursor:
        return None
    try:
        return parse_time(cursor, item_id="cursor")
    except UnreadableItem:
        log.warning("stored cursor %r is not a time; reading everything again", cursor[:40])
        return None


def with_after(params: dict[str, str], after: str | None) -> dict[str, str]:
    return {**params, "after": after} if after else params


def edge_data(body: Any, *, what: str) -> list[Any]:
    try:
        return data_of(body, what=what)
    except UnreadableItem as exc:
        raise PlatformError(f"{what}: {exc.reason}.") from None
