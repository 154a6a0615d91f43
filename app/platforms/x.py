"""The X connector (API v2, OAuth 2.0 user context): mentions and DMs in, replies and DMs out.

Streams:

* ``mentions``: GET /2/users/:id/mentions with ``since_id`` = the cursor (the newest mention stored).
* ``direct``: GET /2/dm_events. It has no ``since_id``: the connector pages back from the newest event
  with ``pagination_token`` and stops at the first event not newer than the cursor.

Both answer newest first. Only once every page down to the cursor is read can the newest id be stored,
so the pages are yielded oldest first afterwards and only the last one carries the new cursor. A walk
is bounded (`MAX_PAGES`); where the bound cuts it short after a cursor, the span in between is
reported as a gap (X offers no way to fetch it later).

X has no idempotency key for posts. Before posting, the connector looks for the same reply among the
account's own posts after the message it answers (own tweets replying to that tweet, or own DM events
in that conversation, with exactly the same text); X itself refuses a duplicate text, so this loses
nothing a person meant to send.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import requests

from app.domain.models import AccountRef, FetchedMessage, Gap, Identity, Page, RateLimit, ReplyTarget, SentMessage
from app.errors import AuthError, NotFound, PlatformError, RateLimited
from app.platforms.http import DEFAULT_TIMEOUT, json_body, parse_reset, raise_for_status
from app.platforms.mastodon_parse import UnreadableItem
from app.platforms.oauth2 import OAuthClient, PkceSignIn
from app.platforms.rest import OAuth2Connector
from app.platforms.x_parse import (
    ParsedPage,
    id_key,
    newest,
    parse_list,
    parse_sent,
    parse_user,
    snowflake_time,
)

log = logging.getLogger("app.platforms.x")

API_URL = "https://api.x.com"
AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
SCOPES = "dm.read dm.write tweet.read tweet.write users.read offline.access"
STREAMS = ("mentions", "direct")
REDIRECT_PORT = 8765  # the redirect registered in the X app: http://127.0.0.1:8765/callback
MAX_PAGES = 10
PAGE_SIZE = "100"
TWEET_FIELDS = "conversation_id,referenced_tweets,author_id,created_at,in_reply_to_user_id,lang"
TWEET_PARAMS = {
    "tweet.fields": TWEET_FIELDS,
    "expansions": "author_id,referenced_tweets.id",
    "user.fields": "username,name",
}
DM_PARAMS = {
    "dm_event.fields": "id,text,event_type,created_at,sender_id,dm_conversation_id,participant_ids,referenced_tweets",
    "expansions": "sender_id,participant_ids",
    "user.fields": "username,name",
}


def sign_in(
    client_id: str,
    *,
    client_secret: str = "",
    api_url: str = API_URL,
    authorize_url: str = AUTHORIZE_URL,
    port: int = REDIRECT_PORT,
) -> PkceSignIn:
    """A browser sign-in (OAuth 2.0 with PKCE) for the X app whose client id is given; a confidential
    ("web app") client also gives its secret."""
    client = OAuthClient(
        token_url=f"{api_url.rstrip('/')}/2/oauth2/token", client_id=client_id, client_secret=client_secret
    )
    return PkceSignIn(authorize_url, client, SCOPES, port=port)


class XConnector(OAuth2Connector):
    """A signed-in X account; the secret is a `TokenBundle`, `account.options["client_id"]` the app's client id."""

    max_reply_length = 280
    max_dm_length = 10_000

    def __init__(
        self,
        account: AccountRef,
        secret: str,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        base = (account.base_url or API_URL).rstrip("/")
        client = OAuthClient(
            token_url=str(account.options.get("token_url") or f"{base}/2/oauth2/token"),
            client_id=str(account.options.get("client_id") or ""),
        )
        super().__init__(account, secret, base=base, client=client, timeout=timeout, session=session)
        self._own_id = account.platform_user_id

    # -- the Connector interface -------------------------------------------------------------------

    def verify(self) -> Identity:
        body = self._get("/2/users/me", what="Checking the X sign-in", params={"user.fields": "username,name"})
        try:
            identity = parse_user(body.get("data") if isinstance(body, dict) else None)
        except UnreadableItem as exc:
            raise PlatformError(f"X sent an unreadable account: {exc.reason}.") from None
        self._own_id = identity.platform_user_id
        return identity

    def streams(self) -> tuple[str, ...]:
        return STREAMS

    def fetch(self, stream: str, cursor: str | None) -> Iterator[Page]:
        if stream == "mentions":
            own = self._require_own_id()
            params = {**TWEET_PARAMS, **({"since_id": cursor} if cursor else {})}
            return self._walk(stream, f"/2/users/{own}/mentions", params, cursor, dm=False)
        if stream == "direct":
            return self._walk(stream, "/2/dm_events", dict(DM_PARAMS), cursor, dm=True)
        raise PlatformError(f"X has no stream named {stream!r}.")

    def thread_context(self, platform_message_id: str) -> list[FetchedMessage]:
        self._require_own_id()
        what = "Loading the X thread"
        try:
            body = self._get(f"/2/tweets/{platform_message_id}", what=what, params=TWEET_PARAMS)
        except NotFound:
            event = self._get(f"/2/dm_events/{platform_message_id}", what=what, params=DM_PARAMS)
            conversation = (event.get("data") or {}).get("dm_conversation_id") if isinstance(event, dict) else None
            if not isinstance(conversation, str):
                raise PlatformError(f"{what}: X sent a DM event without its conversation.") from None
            page = self._parse(
                self._get(f"/2/dm_conversations/{conversation}/dm_events", what=what, params=DM_PARAMS),
                what=what,
                dm=True,
                conversation_id=conversation,
            )
            return sorted(page.messages, key=lambda m: id_key(m.platform_message_id))
        single = {**body, "data": [body.get("data")]} if isinstance(body, dict) else body
        messages = list(self._parse(single, what=what, dm=False).messages)
        root = messages[0].conversation_key.removeprefix("thread:") if messages else platform_message_id
        try:
            found = self._get(
                "/2/tweets/search/recent", what=what, params={**TWEET_PARAMS, "query": f"conversation_id:{root}"}
            )
        except AuthError:
            return messages  # recent search needs a paid API tier: the tweet alone is still a thread view
        seen = {m.platform_message_id for m in messages}
        messages += [m for m in self._parse(found, what=what, dm=False).messages if m.platform_message_id not in seen]
        return sorted(messages, key=lambda m: id_key(m.platform_message_id))

    def send_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> SentMessage:
        limit = self.reply_length_limit(direct=target.conversation_key.startswith("dm:"))
        if len(text) > limit:
            raise PlatformError(f"X accepts at most {limit} characters; this reply has {len(text)}.")
        own = self._require_own_id()
        if target.conversation_key.startswith("dm:"):
            return self._send_dm(target.conversation_key[3:], target, text, own)
        parent = target.in_reply_to_platform_id
        what = "Sending the X reply"
        if parent:
            earlier = self._own_reply(own, parent, text)
            if earlier is not None:
                log.info("reply %s was already posted as %s; not posting again", idempotency_key, earlier)
                return earlier
        payload: dict[str, Any] = {"text": text}
        if parent:
            payload["reply"] = {"in_reply_to_tweet_id": parent}
        response = self._call("POST", "/2/tweets", what=what, json=payload)
        return self._sent(response, what=what, id_field="id")

    def sign_out(self) -> bool:
        return self._tokens.revoke(f"{self._base}/2/oauth2/revoke")

    # -- sending ------------------------------------------------------------------------------------

    def _send_dm(self, conversation: str, target: ReplyTarget, text: str, own: str) -> SentMessage:
        what = "Sending the X direct message"
        earlier = self._own_dm(conversation, own, text, after=target.in_reply_to_platform_id)
        if earlier is not None:
            log.info("DM in %s was already sent as %s; not sending again", conversation, earlier.platform_message_id)
            return earlier
        members = conversation.split("-")
        if len(members) == 2 and own in members:
            other = members[1] if members[0] == own else members[0]
            path = f"/2/dm_conversations/with/{other}/messages"
        else:
            path = f"/2/dm_conversations/{conversation}/messages"
        response = self._call("POST", path, what=what, json={"text": text})
        return self._sent(response, what=what, id_field="dm_event_id")

    def _own_reply(self, own: str, parent: str, text: str) -> SentMessage | None:
        body = self._get(
            f"/2/users/{own}/tweets",
            what="Checking for an earlier copy of the X reply",
            params={"since_id": parent, "max_results": PAGE_SIZE, **TWEET_PARAMS},
        )
        page = self._parse(body, what="Checking for an earlier copy of the X reply", dm=False)
        for message in page.messages:
            if message.parent_platform_id == parent and message.text == text:
                return SentMessage(message.platform_message_id, message.created_at, raw=message.raw)
        return None

    def _own_dm(self, conversation: str, own: str, text: str, *, after: str | None) -> SentMessage | None:
        what = "Checking for an earlier copy of the X direct message"
        body = self._get(f"/2/dm_conversations/{conversation}/dm_events", what=what, params=DM_PARAMS)
        page = self._parse(body, what=what, dm=True, conversation_id=conversation)
        for message in page.messages:
            newer = after is None or id_key(message.platform_message_id) > id_key(after)
            if message.author.platform_user_id == own and message.text == text and newer:
                return SentMessage(message.platform_message_id, message.created_at, raw=message.raw)
        return None

    def _sent(self, response: requests.Response, *, what: str, id_field: str) -> SentMessage:
        try:
            return parse_sent(json_body(response, what=what), id_field=id_field)
        except UnreadableItem as exc:
            raise PlatformError(f"{what}: {exc.reason}.") from None

    # -- paging ---------------------------------------------------------------------------------------

    def _walk(self, stream: str, path: str, params: dict[str, str], cursor: str | None, *, dm: bool) -> Iterator[Page]:
        what = f"Reading X {stream}"
        collected: list[ParsedPage] = []
        token: str | None = None
        reached = cursor is None
        for _ in range(MAX_PAGES):
            query = {**params, "max_results": PAGE_SIZE, **({"pagination_token": token} if token else {})}
            page = self._parse(self._get(path, what=what, params=query), what=what, dm=dm)
            if cursor is not None:
                newer = _newer_than(page, cursor)
                reached = len(newer.ids) < len(page.ids)  # this page goes down to the cursor
                page = newer
            collected.append(page)
            token = page.next_token
            if token is None or reached:
                reached = True
                break
        ids = [i for page in collected for i in page.ids]
        top = newest(ids)
        new_cursor = top if top is not None and (cursor is None or id_key(top) > id_key(cursor)) else cursor
        gaps: tuple[Gap, ...] = ()
        if not reached and cursor is not None and ids:
            oldest = min(ids, key=id_key)
            gaps = (Gap(stream=stream, start=_time_of(cursor), end=_time_of(oldest), detail=f"{cursor}..{oldest}"),)
            log.warning("%s: more than %d pages since %s; the rest is recorded as a gap", stream, MAX_PAGES, cursor)
        if not ids:
            yield Page(
                stream=stream,
                messages=(),
                cursor=cursor,
                has_more=False,
                rejected=tuple(r for page in collected for r in page.rejected),
            )
            return
        ordered = list(reversed(collected))
        for index, page in enumerate(ordered):
            last = index == len(ordered) - 1
            yield Page(
                stream=stream,
                messages=page.own_parents + tuple(reversed(page.messages)),
                cursor=new_cursor if last else cursor,
                has_more=not last,
                rejected=page.rejected,
                gaps=gaps if last else (),
            )

    def _parse(self, body: Any, *, what: str, dm: bool, conversation_id: str | None = None) -> ParsedPage:
        try:
            return parse_list(body, own_id=self._own_id, dm=dm, conversation_id=conversation_id)
        except UnreadableItem as exc:
            raise PlatformError(f"{what}: {exc.reason}.") from None

    # -- HTTP -------------------------------------------------------------------------------------------

    def _require_own_id(self) -> str:
        if not self._own_id:
            self.verify()
        return self._own_id

    def _raise_for_status(self, response: requests.Response, *, what: str) -> None:
        if response.status_code == 429:
            retry_at = parse_reset(response.headers.get("x-rate-limit-reset")) or datetime.now(UTC).timestamp() + 900
            raise RateLimited(f"{what}: rate-limited by X.", retry_at=retry_at)
        if response.status_code == 403:
            # X answers 403 both for a missing scope and for an endpoint the app's API tier does not include.
            raise AuthError(
                f"{what}: X refused access ({_detail(response)}).",
                status=403,
                hint="Reading mentions and DMs needs a paid X API tier and the dm.read/tweet.read scopes; "
                "check the app's tier, then sign in again.",
            )
        raise_for_status(response, what=what)

    def _note_rate_limit(self, response: requests.Response) -> None:
        headers = response.headers
        if "x-rate-limit-remaining" not in headers:
            return
        reset = parse_reset(headers.get("x-rate-limit-reset"))
        self._rate = RateLimit(
            limit=_int_or_none(headers.get("x-rate-limit-limit")),
            remaining=_int_or_none(headers.get("x-rate-limit-remaining")),
            reset_at=datetime.fromtimestamp(reset, UTC) if reset is not None else None,
        )


def _newer_than(page: ParsedPage, cursor: str) -> ParsedPage:
    key = id_key(cursor)
    return ParsedPage(
        messages=tuple(m for m in page.messages if id_key(m.platform_message_id) > key),
        rejected=page.rejected,
        ids=tuple(i for i in page.ids if id_key(i) > key),
        next_token=page.next_token,
        own_parents=page.own_parents,
    )


def _time_of(item_id: str) -> datetime | None:
    try:
        return snowflake_time(item_id)
    except UnreadableItem:
        return None


def _detail(response: requests.Response) -> str:
    """X's problem detail (``{"title": ..., "detail": ...}``), short, or the HTTP reason."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("detail", "title", "reason"):
            if isinstance(body.get(key), str):
                return str(body[key])[:200]
    return response.reason or f"HTTP {response.status_code}"


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None
