"""The Reddit connector (OAuth API): inbox (comment replies, mentions, private messages) and modmail.

Streams:

* ``inbox``: /message/inbox, newest first, paged back with ``after``. The cursor is ``<created_utc>|<fullname>``
  of the newest item stored; a walk stops at that item (or at anything older, should it be deleted).
* ``modmail`` (only when the account was added with modmail on: it needs a moderator and the ``modmail``
  scope): /api/mod/conversations sorted by recent activity; the cursor is the newest ``lastUpdated``.
  A conversation with news is read whole; messages already stored are recognised by the store.

Like X, the walk reads down to the cursor before yielding (oldest page first, the cursor on the last page).

Reddit has no idempotency key. Before a comment or message reply is posted the connector looks through the
account's own recent comments (or sent messages) for one with the same parent and exactly the same text;
a modmail reply looks in its conversation for our message with the same text after the one it answers.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import requests

from app import version
from app.domain.models import AccountRef, FetchedMessage, Identity, Page, RateLimit, ReplyTarget, SentMessage
from app.errors import AuthError, NotFound, PlatformError, RateLimited
from app.platforms.http import DEFAULT_TIMEOUT, json_body, parse_reset
from app.platforms.mastodon_parse import UnreadableItem, parse_timestamp
from app.platforms.oauth2 import OAuthClient, PkceSignIn
from app.platforms.reddit_parse import (
    ParsedListing,
    comment_errors,
    parse_comment_answer,
    parse_listing,
    parse_me,
    parse_modmail,
)
from app.platforms.rest import OAuth2Connector

log = logging.getLogger("app.platforms.reddit")

API_URL = "https://oauth.reddit.com"
AUTH_URL = "https://www.reddit.com"
SCOPES = "identity read privatemessages submit history modmail"
REDIRECT_PORT = 8765  # the redirect registered in the Reddit app: http://127.0.0.1:8765/callback
MAX_PAGES = 10
PAGE_SIZE = "100"
OWN_HISTORY = "100"  # how many of our own recent comments / sent messages a retried reply looks through


def sign_in(
    client_id: str, *, client_secret: str = "", auth_url: str = AUTH_URL, port: int = REDIRECT_PORT
) -> PkceSignIn:
    """A browser sign-in for the Reddit app whose client id is given (an "installed app" has no secret; a "script"
    or "web" app's secret is given too); ``duration=permanent`` asks for a refresh token. Reddit ignores the
    PKCE parameters; the state check still guards the redirect."""
    base = auth_url.rstrip("/")
    client = OAuthClient(
        token_url=f"{base}/api/v1/access_token", client_id=client_id, client_secret=client_secret, basic_auth=True
    )
    return PkceSignIn(f"{base}/api/v1/authorize", client, SCOPES, port=port, extra={"duration": "permanent"})


class RedditConnector(OAuth2Connector):
    """A signed-in Reddit account; the secret is a `TokenBundle`, `account.options` holds the app's client id
    (``client_id``), and ``modmail`` when the account's moderator mail is to be synced."""

    max_reply_length = 10_000
    token_type = "bearer"  # as Reddit's documentation writes it

    def __init__(
        self,
        account: AccountRef,
        secret: str,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        auth_base = str(account.options.get("auth_url") or AUTH_URL).rstrip("/")
        client = OAuthClient(
            token_url=f"{auth_base}/api/v1/access_token",
            client_id=str(account.options.get("client_id") or ""),
            basic_auth=True,
        )
        super().__init__(
            account, secret, base=account.base_url or API_URL, client=client, timeout=timeout, session=session
        )
        self._revoke_url = f"{auth_base}/api/v1/revoke_token"
        self._own_name = account.handle.removeprefix("u/")
        # Reddit asks every client for a unique, descriptive User-Agent and throttles generic ones.
        self._session.headers["User-Agent"] = f"desktop:parley:{version()} (by /u/{self._own_name or 'unknown'})"
        self._fetched_parents: set[str] = set()

    # -- the Connector interface -------------------------------------------------------------------

    def verify(self) -> Identity:
        body = self._get("/api/v1/me", what="Checking the Reddit sign-in")
        try:
            identity = parse_me(body)
        except UnreadableItem as exc:
            raise PlatformError(f"Reddit sent an unreadable account: {exc.reason}.") from None
        self._own_name = identity.handle.removeprefix("u/")
        self._session.headers["User-Agent"] = f"desktop:parley:{version()} (by /u/{self._own_name})"
        return identity

    def streams(self) -> tuple[str, ...]:
        return ("inbox", "modmail") if self.account.options.get("modmail") else ("inbox",)

    def fetch(self, stream: str, cursor: str | None) -> Iterator[Page]:
        if stream == "inbox":
            return self._walk_inbox(cursor)
        if stream == "modmail":
            return self._walk_modmail(cursor)
        raise PlatformError(f"Reddit has no stream named {stream!r}.")

    def thread_context(self, platform_message_id: str) -> list[FetchedMessage]:
        what = "Loading the Reddit conversation"
        if platform_message_id.startswith("mm_"):
            raise PlatformError(f"{what}: open the modmail conversation instead.")
        body = self._get("/api/info", what=what, params={"id": platform_message_id})
        return list(self._listing(body, what=what).messages)

    def send_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> SentMessage:
        if len(text) > self.max_reply_length:
            raise PlatformError(f"Reddit accepts at most {self.max_reply_length} characters; this has {len(text)}.")
        self._require_own_name()
        if target.conversation_key.startswith("modmail:"):
            return self._send_modmail(target.conversation_key.removeprefix("modmail:"), target, text)
        parent = target.in_reply_to_platform_id
        if not parent:
            raise PlatformError("A Reddit reply needs the comment or message it answers.")
        earlier = self._own_copy(parent, text)
        if earlier is not None:
            log.info("reply %s was already posted as %s; not posting again", idempotency_key, earlier)
            return earlier
        what = "Sending the Reddit reply"
        form = {"thing_id": parent, "text": text, "api_type": "json", "raw_json": "1"}
        body = json_body(self._call("POST", "/api/comment", what=what, data=form), what=what)
        self._raise_comment_errors(body, what=what)
        try:
            return parse_comment_answer(body)
        except UnreadableItem as exc:
            raise PlatformError(f"{what}: {exc.reason}.") from None

    def sign_out(self) -> bool:
        return self._tokens.revoke(self._revoke_url)

    # -- sending ------------------------------------------------------------------------------------

    def _own_copy(self, parent: str, text: str) -> SentMessage | None:
        what = "Checking for an earlier copy of the Reddit reply"
        if parent.startswith("t4_"):
            path = "/message/sent"
        else:
            path = f"/user/{self._own_name}/comments"
        body = self._get(path, what=what, params={"limit": OWN_HISTORY, "raw_json": "1", "sort": "new"})
        for message in self._listing(body, what=what).messages:
            if message.parent_platform_id == parent and message.raw.get("body") == text:
                return SentMessage(message.platform_message_id, message.created_at, raw=message.raw)
        return None

    def _send_modmail(self, conversation: str, target: ReplyTarget, text: str) -> SentMessage:
        what = "Sending the modmail reply"
        path = f"/api/mod/conversations/{conversation}"
        earlier = self._own_modmail(self._get(path, what=what, params={"raw_json": "1"}), text, target)
        if earlier is not None:
            log.info("modmail reply in %s was already posted as %s", conversation, earlier.platform_message_id)
            return earlier
        form = {"body": text, "isAuthorHidden": "false", "isInternal": "false"}
        answer = json_body(self._call("POST", path, what=what, data=form), what=what)
        sent = self._own_modmail(answer, text, target)
        if sent is None:
            raise PlatformError(f"{what}: Reddit's answer does not show the reply.")
        return sent

    def _own_modmail(self, body: Any, text: str, target: ReplyTarget) -> SentMessage | None:
        try:
            _, messages, _ = parse_modmail(body, own_name=self._own_name)
        except UnreadableItem as exc:
            raise PlatformError(f"Reading the modmail conversation: {exc.reason}.") from None
        answered = next((m for m in messages if m.platform_message_id == target.in_reply_to_platform_id), None)
        mine = [
            m
            for m in messages
            if m.author.handle.lower() == f"u/{self._own_name}".lower()
            and m.text == text
            and (answered is None or m.created_at >= answered.created_at)
        ]
        if not mine:
            return None
        newest = max(mine, key=lambda m: m.created_at)
        return SentMessage(newest.platform_message_id, newest.created_at, raw=newest.raw)

    def _raise_comment_errors(self, body: Any, *, what: str) -> None:
        errors = comment_errors(body)
        if not errors:
            return
        code = str(errors[0][0]) if errors[0] else ""
        detail = str(errors[0][1])[:200] if len(errors[0]) > 1 else code
        if code == "RATELIMIT":
            raise RateLimited(f"{what}: Reddit says {detail}", retry_at=time.time() + _wait_seconds(detail))
        raise PlatformError(f"{what}: Reddit refused it ({detail}).")

    # -- paging ---------------------------------------------------------------------------------------

    def _walk_inbox(self, cursor: str | None) -> Iterator[Page]:
        what = "Reading the Reddit inbox"
        self._require_own_name()
        stop_time, stop_name = _split_cursor(cursor)
        collected: list[ParsedListing] = []
        after: str | None = None
        for _ in range(MAX_PAGES):
            params = {"limit": PAGE_SIZE, "raw_json": "1", **({"after": after} if after else {})}
            page = self._listing(self._get("/message/inbox", what=what, params=params), what=what)
            keep = [p for p in page.positions if p[1] != stop_name and p[0] >= stop_time]
            reached = len(keep) < len(page.positions)
            names = {name for _, name in keep}
            collected.append(
                ParsedListing(
                    tuple(m for m in page.messages if m.platform_message_id in names),
                    page.rejected,
                    tuple(keep),
                    page.after,
                )
            )
            after = page.after
            if after is None or reached:
                break
        positions = [p for page in collected for p in page.positions]
        top = max(positions, default=None)
        new_cursor = f"{top[0]:.0f}|{top[1]}" if top is not None else cursor
        chunks = [(p.messages, p.rejected) for p in collected]
        parents, wanted = self._own_parents([m for page in collected for m in page.messages])
        if parents:  # with the oldest page, so each reply's parent is stored no later than the reply
            messages, rejected = chunks[-1]
            chunks[-1] = (messages + parents, rejected)
        yield from _oldest_first("inbox", chunks, cursor, new_cursor)
        self._fetched_parents.update(wanted)  # only once stored: a failed run fetches them again

    def _own_parents(self, messages: list[FetchedMessage]) -> tuple[tuple[FetchedMessage, ...], list[str]]:
        """Our comments and posts that replies in the inbox answer, so a thread keeps our side of it."""
        present = {m.platform_message_id for m in messages}
        wanted = list(
            dict.fromkeys(
                m.parent_platform_id
                for m in messages
                if m.raw.get("type") in ("comment_reply", "post_reply")
                and m.parent_platform_id
                and m.parent_platform_id not in present
                and m.parent_platform_id not in self._fetched_parents
            )
        )[: int(PAGE_SIZE)]
        if not wanted:
            return (), []
        what = "Reading our Reddit comments and posts"
        try:
            body = self._get("/api/info", what=what, params={"id": ",".join(wanted), "raw_json": "1"})
        except NotFound:
            return (), wanted  # gone since: the thread simply lacks them
        return self._listing(body, what=what).messages, wanted

    def _walk_modmail(self, cursor: str | None) -> Iterator[Page]:
        what = "Reading Reddit modmail"
        self._require_own_name()
        chunks: list[tuple[tuple[FetchedMessage, ...], tuple[Any, ...]]] = []
        newest = cursor
        after: str | None = None
        for _ in range(MAX_PAGES):
            params = {"sort": "recent", "state": "all", "limit": PAGE_SIZE, "raw_json": "1"}
            try:
                body = self._get(
                    "/api/mod/conversations", what=what, params={**params, **({"after": after} if after else {})}
                )
            except AuthError as exc:
                if exc.status != 403:
                    raise
                raise AuthError(
                    f"{what}: Reddit refused modmail.",
                    status=403,
                    hint="Modmail needs a moderator account and the modmail permission: sign in again, "
                    "or add the account without modmail.",
                ) from None
            try:
                found, messages, rejected = parse_modmail(body, own_name=self._own_name)
            except UnreadableItem as exc:
                raise PlatformError(f"{what}: {exc.reason}.") from None
            fresh = {cid for cid, updated in found if cursor is None or _later(updated, cursor)}
            for _cid, updated in found:
                if newest is None or _later(updated, newest):
                    newest = updated
            chunks.append((tuple(m for m in messages if m.conversation_key[8:] in fresh), tuple(rejected)))
            if len(fresh) < len(found) or len(found) < int(PAGE_SIZE) or not found:
                break
            after = found[-1][0]
        yield from _oldest_first("modmail", chunks, cursor, newest)

    def _listing(self, body: Any, *, what: str) -> ParsedListing:
        try:
            return parse_listing(body, own_name=self._own_name)
        except UnreadableItem as exc:
            raise PlatformError(f"{what}: {exc.reason}.") from None

    # -- HTTP -------------------------------------------------------------------------------------------

    def _require_own_name(self) -> str:
        if not self._own_name:
            self.verify()
        return self._own_name

    def _note_rate_limit(self, response: requests.Response) -> None:
        headers = response.headers
        if "x-ratelimit-remaining" not in headers:
            return
        used, remaining = _number(headers.get("x-ratelimit-used")), _number(headers.get("x-ratelimit-remaining"))
        reset = parse_reset(headers.get("x-ratelimit-reset"))
        self._rate = RateLimit(
            limit=used + remaining if used is not None and remaining is not None else None,
            remaining=remaining,
            reset_at=datetime.fromtimestamp(reset, UTC) if reset is not None else None,
        )


def _oldest_first(
    stream: str,
    chunks: list[tuple[tuple[FetchedMessage, ...], tuple[Any, ...]]],
    cursor: str | None,
    new_cursor: str | None,
) -> Iterator[Page]:
    if not any(messages for messages, _ in chunks):
        yield Page(
            stream=stream,
            messages=(),
            cursor=new_cursor,
            has_more=False,
            rejected=tuple(r for _, rejected in chunks for r in rejected),
        )
        return
    ordered = list(reversed(chunks))
    for index, (messages, rejected) in enumerate(ordered):
        last = index == len(ordered) - 1
        yield Page(
            stream=stream,
            messages=tuple(reversed(messages)),
            cursor=new_cursor if last else cursor,
            has_more=not last,
            rejected=rejected,
        )


def _split_cursor(cursor: str | None) -> tuple[float, str]:
    if not cursor or "|" not in cursor:
        return float("-inf"), cursor or ""
    moment, _, name = cursor.partition("|")
    try:
        return float(moment), name
    except ValueError:
        return float("-inf"), name


def _later(updated: str, than: str) -> bool:
    try:
        a = parse_timestamp(updated, item_id="modmail", field="lastUpdated")
        b = parse_timestamp(than, item_id="modmail", field="cursor")
    except UnreadableItem:
        return bool(updated) and updated > than
    return a > b


def _wait_seconds(detail: str) -> float:
    """'try again in 5 minutes.' / 'in 30 seconds' -> seconds to wait (a minute when Reddit does not say)."""
    found = re.search(r"(\d+)\s*(second|minute)", detail)
    if not found:
        return 60.0
    return float(found[1]) * (60 if found[2] == "minute" else 1)


def _number(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None
