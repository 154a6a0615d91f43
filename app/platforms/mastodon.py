"""The Mastodon connector: mentions and direct messages in, replies out, over the client REST API.

Streams:

* ``mentions``: /api/v1/notifications?types[]=mention, paged forward with ``min_id`` (Mastodon answers
  with the items just above it, newest first). The cursor is a notification id; with no cursor the
  walk starts at ``min_id=0`` so the whole history lands, oldest page first. Direct statuses arrive
  here too, as mentions with visibility "direct".
* ``direct``: /api/v1/conversations, each conversation's ``last_status`` (which picks up our own DMs
  sent from other clients). Mastodon pages conversations by ``last_status`` id, so the same forward
  ``min_id`` walk applies and the cursor is a status id; a conversation that gets a new message rises
  above the cursor and is read again.

Each page's cursor covers only what that page holds. An inbound reply to one of our own statuses
brings that status along (fetched once per connector) so the thread has both sides even when we
answered from another client. Threading keys are documented in `app.platforms.mastodon_parse`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from app.domain.models import (
    AccountRef,
    FetchedMessage,
    Identity,
    Page,
    RateLimit,
    RejectedItem,
    ReplyTarget,
    SentMessage,
)
from app.errors import NotFound, PlatformError
from app.platforms.http import DEFAULT_TIMEOUT, json_body, parse_reset, raise_for_status, request
from app.platforms.mastodon_parse import (
    ParsedList,
    UnreadableItem,
    id_key,
    newest_id,
    parse_account,
    parse_context,
    parse_conversations,
    parse_notifications,
    parse_sent,
    parse_status,
    parse_statuses,
)
from app.platforms.rest import RestConnector

log = logging.getLogger("app.platforms.mastodon")

PAGE_LIMIT = 40  # the largest page both notifications and conversations accept on stock Mastodon
STREAMS = ("mentions", "direct")
_KNOWN_OWN_STATUSES_KEPT = 5000


class MastodonConnector(RestConnector):
    """A signed-in Mastodon account; `account.base_url` is the instance, the secret its bearer token."""

    max_reply_length = 500

    def __init__(
        self,
        account: AccountRef,
        secret: str,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        super().__init__(account, secret, base=account.base_url, timeout=timeout, session=session)
        self._own_id = account.platform_user_id
        self._fetched_own: set[str] = set()

    # -- the Connector interface -------------------------------------------------------------------

    def verify(self) -> Identity:
        body = self._get("/api/v1/accounts/verify_credentials", what="Checking the Mastodon sign-in")
        try:
            identity = parse_account(body, item_id="verify_credentials")
        except UnreadableItem as exc:
            raise PlatformError(f"Mastodon sent an unreadable account: {exc.reason}.") from None
        self._own_id = identity.platform_user_id
        return identity

    def streams(self) -> tuple[str, ...]:
        return STREAMS

    def fetch(self, stream: str, cursor: str | None) -> Iterator[Page]:
        if stream == "mentions":
            return self._walk(stream, "/api/v1/notifications", {"types[]": "mention"}, cursor, parse_notifications)
        if stream == "direct":
            return self._walk(stream, "/api/v1/conversations", {}, cursor, parse_conversations)
        raise PlatformError(f"Mastodon has no stream named {stream!r}.")

    def thread_context(self, platform_message_id: str) -> list[FetchedMessage]:
        own_id = self._require_own_id()
        what = "Loading the Mastodon thread"
        status = self._get(f"/api/v1/statuses/{platform_message_id}", what=what)
        context = self._get(f"/api/v1/statuses/{platform_message_id}/context", what=what)
        try:
            ancestors, descendants = parse_context(context)
        except UnreadableItem as exc:
            raise PlatformError(f"{what}: Mastodon sent an unreadable thread ({exc.reason}).") from None
        messages, rejected = parse_statuses([*ancestors, status, *descendants], own_id=own_id)
        for item in rejected:
            log.warning(
                "thread of %s: skipped unreadable status %s: %s", platform_message_id, item.item_id, item.reason
            )
        return messages

    def send_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> SentMessage:
        what = "Sending the Mastodon reply"
        # A direct post reaches only those it mentions, and a public reply notifies only those it mentions:
        # so every participant the caller names is mentioned, whatever the visibility.
        body_text = with_mentions(text, target.participants, own_handle=self.account.handle)
        form = {"status": body_text, "visibility": target.visibility.value}
        if target.in_reply_to_platform_id:
            form["in_reply_to_id"] = target.in_reply_to_platform_id
        # The session never retries a POST; the caller retries with the same key and Mastodon
        # answers a repeated key with the status it already created.
        response = self._call(
            "POST", "/api/v1/statuses", what=what, data=form, headers={"Idempotency-Key": idempotency_key}
        )
        try:
            return parse_sent(json_body(response, what=what))
        except UnreadableItem as exc:
            raise PlatformError(f"{what}: {exc.reason}.") from None

    # -- paging ---------------------------------------------------------------------------------------

    def _walk(
        self,
        stream: str,
        path: str,
        params: dict[str, str],
        cursor: str | None,
        parse: Callable[..., ParsedList],
    ) -> Iterator[Page]:
        own_id = self._require_own_id()
        what = f"Reading Mastodon {stream}"
        position = cursor or "0"
        while True:
            response = self._call(
                "GET", path, what=what, params={**params, "min_id": position, "limit": str(PAGE_LIMIT)}
            )
            body = json_body(response, what=what)
            try:
                parsed = parse(body, own_id=own_id)
            except UnreadableItem as exc:
                raise PlatformError(f"{what}: {exc.reason}.") from None
            if parsed.raw_count == 0:
                yield Page(stream=stream, messages=(), cursor=cursor, has_more=False)
                return
            following = _next_min_id(response, parsed, position)
            if following is None:
                # The server ignored min_id or sent nothing that moves the cursor: stop rather than loop.
                log.warning("%s: page at min_id=%s did not advance; stopping", stream, position)
            else:
                position = cursor = following
            page, own_ids = self._page(stream, parsed, cursor=cursor, has_more=following is not None)
            yield page
            self._remember_own(own_ids)  # only once the page is stored: a failed page fetches them again
            if following is None:
                return

    def _page(self, stream: str, parsed: ParsedList, *, cursor: str | None, has_more: bool) -> tuple[Page, list[str]]:
        own, bad, own_ids = self._own_parents(list(parsed.messages))
        page = Page(
            stream=stream,
            messages=parsed.messages + tuple(own),
            cursor=cursor,
            has_more=has_more,
            rejected=parsed.rejected + tuple(bad),
        )
        return page, own_ids

    def _own_parents(
        self, messages: list[FetchedMessage]
    ) -> tuple[list[FetchedMessage], list[RejectedItem], list[str]]:
        """Our statuses that inbound messages of this page answer, so a thread keeps our side of it."""
        present = {m.platform_message_id for m in messages}
        wanted: list[str] = []
        for message in messages:
            parent = message.parent_platform_id
            if (
                parent
                and message.raw.get("in_reply_to_account_id") == self._own_id
                and parent not in present
                and parent not in self._fetched_own
                and parent not in wanted
            ):
                wanted.append(parent)
        found: list[FetchedMessage] = []
        rejected: list[RejectedItem] = []
        for status_id in wanted:
            try:
                body = self._get(f"/api/v1/statuses/{status_id}", what="Reading our Mastodon reply")
            except NotFound:
                continue  # deleted since: the thread simply lacks it
            try:
                found.append(parse_status(body, own_id=self._own_id))
            except UnreadableItem as exc:
                rejected.append(exc.rejected())
        return found, rejected, wanted

    def _remember_own(self, status_ids: list[str]) -> None:
        if len(self._fetched_own) + len(status_ids) > _KNOWN_OWN_STATUSES_KEPT:
            self._fetched_own.clear()
        self._fetched_own.update(status_ids)

    # -- HTTP -------------------------------------------------------------------------------------------

    def _require_own_id(self) -> str:
        if not self._own_id:
            self.verify()
        return self._own_id

    def _call(
        self, method: str, path: str, *, what: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> requests.Response:
        response = request(
            self._session,
            method,
            self._base + path,
            timeout=self._timeout,
            headers={"Authorization": f"Bearer {self._secret}", "Accept": "application/json", **(headers or {})},
            **kwargs,
        )
        self._note_rate_limit(response)
        raise_for_status(response, what=what)
        return response

    def _note_rate_limit(self, response: requests.Response) -> None:
        headers = response.headers
        if "X-RateLimit-Limit" not in headers and "X-RateLimit-Remaining" not in headers:
            return
        reset = parse_reset(headers.get("X-RateLimit-Reset"))
        self._rate = RateLimit(
            limit=_int_or_none(headers.get("X-RateLimit-Limit")),
            remaining=_int_or_none(headers.get("X-RateLimit-Remaining")),
            reset_at=datetime.fromtimestamp(reset, UTC) if reset is not None else None,
        )


def link_param(response: requests.Response, rel: str, name: str) -> str | None:
    """One query parameter of a `Link` header entry, e.g. the ``min_id`` of rel="prev"."""
    url = response.links.get(rel, {}).get("url")
    if not url:
        return None
    values = parse_qs(urlsplit(url).query).get(name)
    return values[0] if values else None


def _next_min_id(response: requests.Response, parsed: ParsedList, position: str) -> str | None:
    """Where the next forward page starts: the newest id on this page, else Link rel="prev"'s min_id.

    A min_id page holds every item between `position` and its newest id, so that id is safe to store.
    """
    candidate = newest_id(parsed.cursor_ids) or link_param(response, "prev", "min_id")
    if candidate is None or id_key(candidate) <= id_key(position):
        return None
    return candidate


def with_mentions(text: str, participants: tuple[str, ...], *, own_handle: str = "") -> str:
    """`text` with the participants it does not yet mention put in front: a direct post reaches only those."""
    own = own_handle.lower().lstrip("@")
    missing: list[str] = []
    for participant in participants:
        handle = "@" + participant.strip().lstrip("@")
        if handle == "@" or handle[1:].lower() == own or handle in missing:
            continue
        if not _mentions_handle(text, handle):
            missing.append(handle)
    return " ".join([*missing, text]) if missing else text


def _mentions_handle(text: str, handle: str) -> bool:
    # "@ann" must not count as mentioned by "@anna" or by "@ann@other.example".
    pattern = r"(?<![\w@])" + re.escape(handle) + r"(?![\w@-]|\.\w)"
    return re.search(pattern, text, flags=re.IGNORECASE) is not None


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
