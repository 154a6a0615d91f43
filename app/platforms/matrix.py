"""The Matrix connector: password sign-in, /sync with back-filled gaps, DMs and mentions, replies by transaction id.

Conversations: a direct room (listed in the account's `m.direct` data, or joined from an `is_direct`
invite) is one DM conversation keyed `room:<room id>`. In a group room only messages that mention us
become MENTION conversations, one per room and sender (`room:<room id> <sender>`) so that two people
asking in the same room each get their own response timer; replies thread into their parent's
conversation through `parent_platform_id`. Our own messages are OUTBOUND: all of them in direct rooms,
and in group rooms those that reply to something (an answer given from another client still stops the
timer).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from app.domain.models import (
    AccountRef,
    FetchedMessage,
    Gap,
    Identity,
    Page,
    Platform,
    RejectedItem,
    ReplyTarget,
    SentMessage,
)
from app.errors import AuthError, NotFound, PlatformError, RateLimited
from app.platforms.base import BackfillUnsupported, Connector
from app.platforms.matrix_api import MatrixApi, quote
from app.platforms.matrix_parse import (
    RoomView,
    Unreadable,
    as_dict,
    as_list,
    direct_rooms,
    joined_just_now,
    read_event,
    read_invite,
    room_of_key,
    section,
)
from app.platforms.matrix_sync import (
    INVITES_FILTER,
    ROOM_EVENT_FILTER,
    STREAM,
    backfill,
    carries_news,
    gap_detail,
    gap_in,
    read_gap_detail,
    split_pages,
    sync_filter,
)

log = logging.getLogger("app.platforms.matrix")

MAX_SYNCS_PER_FETCH = 10
ROOM_CACHE_SIZE = 10_000
ROOM_SEARCH_LIMIT = 50
CONTEXT_LIMIT = 10
ANCESTOR_DEPTH = 5


@dataclass(frozen=True)
class MatrixLogin:
    """A new session: its access token, who it belongs to, and when the homeserver said it expires."""

    token: str = field(repr=False)
    identity: Identity
    expires_at: datetime | None = None


def device_id_for(seed: str) -> str:
    """A stable device id per installation and account: signing in again reuses the device, not a new one."""
    return "PARLEY" + hashlib.sha256(seed.encode()).hexdigest()[:10].upper()


class MatrixConnector(Connector):
    """One signed-in Matrix device.

    `account.options` may set `auto_accept_direct_invites` (default true), `timeline_limit` (events per
    room per /sync), `backfill_pages` and `backfill_page_size` (how far a limited timeline is back-filled
    before a Gap is reported) and `gap_fill_pages` (how far one later `backfill` of a gap goes).
    """

    max_reply_length = 32_000

    def __init__(self, account: AccountRef, secret: str) -> None:
        super().__init__(account, secret)
        self._api = MatrixApi(account.base_url, secret)
        self.timeline_limit = self._option_int("timeline_limit", 50)
        self.backfill_pages = self._option_int("backfill_pages", 10)
        self.backfill_page_size = max(1, self._option_int("backfill_page_size", 100))
        self.gap_fill_pages = max(1, self._option_int("gap_fill_pages", 20))
        self.auto_accept_direct_invites = bool(account.options.get("auto_accept_direct_invites", True))
        self._me: Identity | None = None
        self._direct: dict[str, str] | None = None  # room id -> the other person, from m.direct
        self._direct_content: dict[str, Any] = {}
        self._room_of_event: dict[str, str] = {}

    def _option_int(self, name: str, default: int) -> int:
        value = self.account.options.get(name, default)
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default

    @classmethod
    def sign_in(cls, base_url: str, user: str, password: str, *, device_id: str) -> tuple[str, Identity]:
        """Log in with a password on a device id we choose; return the access token and who it belongs to."""
        login = cls.login(base_url, user, password, device_id=device_id)
        return login.token, login.identity

    @classmethod
    def login(cls, base_url: str, user: str, password: str, *, device_id: str) -> MatrixLogin:
        """Log in with a password on a device id we choose.

        The password goes to the homeserver once and is not kept; the caller stores the token in the keyring.
        A homeserver that limits session lifetimes answers with `expires_in_ms`: kept as `expires_at`.
        Parley does not ask for a refresh token, so such a session ends and the person signs in again.
        """
        if not base_url.strip().startswith(("https://", "http://")):
            raise PlatformError(
                f"{base_url!r} is not a homeserver address.", hint="Use the full address, like https://matrix.org."
            )
        login = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user},
            "password": password,
            "device_id": device_id,
            "initial_device_display_name": "Parley",
        }
        api = MatrixApi(base_url, None)
        try:
            answer = api.call("POST", "/login", body=login, what="Signing in to Matrix", signing_in=True)
        finally:
            api.close()
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise PlatformError("Signing in to Matrix: the homeserver did not start a session.")
        lifetime = answer.get("expires_in_ms")
        expires_at = None
        if isinstance(lifetime, int) and not isinstance(lifetime, bool) and lifetime > 0:
            expires_at = datetime.now(UTC) + timedelta(milliseconds=lifetime)
        connector = cls(AccountRef(id=0, platform=Platform.MATRIX, name=user, base_url=api.base_url), token)
        try:
            return MatrixLogin(token=token, identity=connector.verify(), expires_at=expires_at)
        finally:
            connector.close()

    def verify(self) -> Identity:
        who = self._api.call("GET", "/account/whoami", what="Checking the Matrix sign-in")
        user_id = who.get("user_id")
        if not isinstance(user_id, str) or not user_id:
            raise PlatformError("Checking the Matrix sign-in: the homeserver did not say who this is.")
        try:
            profile = self._api.call("GET", f"/profile/{quote(user_id)}/displayname", what="Reading the profile")
        except NotFound:
            profile = {}
        name = profile.get("displayname")
        self._me = Identity(
            platform_user_id=user_id, handle=user_id, display_name=name if isinstance(name, str) else ""
        )
        return self._me

    def _identity(self) -> Identity:
        return self._me or self.verify()

    def streams(self) -> tuple[str, ...]:
        return (STREAM,)

    # -- sync ----------------------------------------------------------------------------------------------

    def fetch(self, stream: str, cursor: str | None) -> Iterator[Page]:
        """One page per /sync answer (more when it is huge), each carrying its next_batch; ends on a quiet one."""
        if stream != STREAM:
            raise PlatformError(f"Matrix has no stream named {stream!r}.")
        me = self._identity()
        since = cursor
        for _ in range(MAX_SYNCS_PER_FETCH):
            # A background reader must not show the brand as online; timeout 0: no long-poll.
            params = {"timeout": "0", "set_presence": "offline", "filter": sync_filter(self.timeline_limit)}
            if since:
                params["since"] = since
            body = self._api.call("GET", "/sync", params=params, what="Syncing with Matrix")
            next_batch = body.get("next_batch")
            if not isinstance(next_batch, str) or not next_batch:
                raise PlatformError("Syncing with Matrix: the homeserver sent no next_batch token.")
            fresh = next_batch != since and carries_news(body)
            yield from self._pages(body, since, next_batch, fresh, me)
            since = next_batch
            if not fresh:
                return

    def _pages(
        self, body: dict[str, Any], since: str | None, next_batch: str, fresh: bool, me: Identity
    ) -> Iterator[Page]:
        self._absorb_account_data(section(body, "account_data", "events"))
        messages: list[FetchedMessage] = []
        rejected: list[RejectedItem] = []
        gaps: list[Gap] = []
        for room_id, room in as_dict(section(body, "rooms", "join")).items():
            if not isinstance(room, dict):
                rejected.append(RejectedItem(str(room_id), "room section is not an object"))
                continue
            got, bad, gap = self._read_room(str(room_id), room, since, me)
            messages.extend(got)
            rejected.extend(bad)
            gaps.extend([gap] if gap else [])
        self._handle_invites(section(body, "rooms", "invite"), me)
        return split_pages(messages, rejected, gaps, next_batch=next_batch, fresh=fresh)

    def _read_room(
        self, room_id: str, room: dict[str, Any], since: str | None, me: Identity
    ) -> tuple[list[FetchedMessage], list[RejectedItem], Gap | None]:
        timeline = as_dict(room.get("timeline"))
        events = as_list(timeline.get("events"))
        state = as_list(section(room, "state", "events"))
        view = self._room_view(room_id, me)
        view.learn_members(state)
        view.learn_members(events)
        gap = None
        prev_batch = timeline.get("prev_batch")
        # A room we just joined has no earlier sync position to close up to: its history was never promised.
        limited = timeline.get("limited") is True and isinstance(prev_batch, str)
        if since and limited and not joined_just_now(state + events, me.platform_user_id):
            found = backfill(
                self._api, room_id, str(prev_batch), since, pages=self.backfill_pages, page_size=self.backfill_page_size
            )
            view.learn_members(found.state)
            seen = {e.get("event_id") for e in events if isinstance(e, dict)}
            events = [e for e in found.events if as_dict(e).get("event_id") not in seen] + events
            if not found.closed:
                fetched = self.backfill_pages * self.backfill_page_size + self.timeline_limit
                gap = gap_in(self._api, room_id, since, events, fetched=fetched, resume_from=found.resume_from)
        messages, rejected = self._read_events(events, view)
        return messages, rejected, gap

    def backfill(self, gap_detail_text: str) -> Iterator[Page]:
        """Page on backwards from where a limited timeline's back-fill stopped, down to the sync before it.

        At most `gap_fill_pages` calls; what is still missing then comes back as a smaller gap (its start
        left open: the engine keeps the old gap's start).
        """
        try:
            room_id, resume_from, since, note = read_gap_detail(gap_detail_text)
        except ValueError:
            raise BackfillUnsupported("This gap was recorded without what Matrix needs to fetch it again.") from None
        view = self._room_view(room_id, self._identity())
        found = backfill(
            self._api, room_id, resume_from, since, pages=self.gap_fill_pages, page_size=self.backfill_page_size
        )
        view.learn_members(found.state)
        messages, rejected = self._read_events(found.events, view)
        remainder: list[Gap] = []
        if not found.closed:
            stamps = [m.created_at for m in messages]
            end = min(stamps) if stamps else None
            remainder.append(
                Gap(stream=STREAM, start=None, end=end, detail=gap_detail(room_id, found.resume_from, since, note))
            )
        for page in split_pages(messages, rejected, remainder, next_batch="", fresh=False):
            yield Page(
                stream=page.stream,
                messages=page.messages,
                cursor=None,  # the stream's cursor is already past this span
                has_more=page.has_more,
                rejected=page.rejected,
                gaps=page.gaps,
            )

    def _read_events(
        self, events: list[Any], view: RoomView, *, everything: bool = False
    ) -> tuple[list[FetchedMessage], list[RejectedItem]]:
        messages: list[FetchedMessage] = []
        rejected: list[RejectedItem] = []
        for event in events:
            try:
                message = read_event(event, view, everything=everything)
            except Unreadable as exc:
                event_id = as_dict(event).get("event_id") or "?"
                rejected.append(RejectedItem(str(event_id), f"room {view.room_id}: {exc}"))
                continue
            if message is not None:
                self._remember_room(message.platform_message_id, view.room_id)
                messages.append(message)
        return messages, rejected

    def _room_view(self, room_id: str, me: Identity) -> RoomView:
        direct = self._direct_map()
        return RoomView(
            room_id=room_id,
            me=me.platform_user_id,
            my_name=me.display_name,
            direct=room_id in direct,
            counterpart=direct.get(room_id, ""),
        )

    def _remember_room(self, event_id: str, room_id: str) -> None:
        self._room_of_event[event_id] = room_id
        if len(self._room_of_event) > ROOM_CACHE_SIZE:
            del self._room_of_event[next(iter(self._room_of_event))]

    # -- direct rooms and invites --------------------------------------------------------------------------

    def _direct_map(self) -> dict[str, str]:
        """m.direct, read once per connector (an incremental sync only carries it when it changes)."""
        if self._direct is None:
            me = self._identity().platform_user_id
            try:
                content = self._api.call("GET", f"/user/{quote(me)}/account_data/m.direct", what="Reading direct rooms")
            except NotFound:
                content = {}
            self._direct_content, self._direct = content, direct_rooms(content)
        return self._direct

    def _absorb_account_data(self, events: Any) -> None:
        for event in as_list(events):
            content = as_dict(event).get("content")
            if as_dict(event).get("type") == "m.direct" and isinstance(content, dict):
                self._direct_content, self._direct = content, direct_rooms(content)

    def _handle_invites(self, invites: Any, me: Identity) -> None:
        for room_id, room in as_dict(invites).items():
            invite = read_invite(str(room_id), room, me.platform_user_id)
            if not (invite.is_direct and self.auto_accept_direct_invites):
                log.info(
                    "%s: invited to %s by %s; left for a person to accept", self.account.name, room_id, invite.inviter
                )
                continue
            try:
                self.accept_invite(invite.room_id)
            except RateLimited:
                raise
            except PlatformError as exc:
                log.warning("%s: could not accept the direct invite to %s: %s", self.account.name, room_id, exc)
                continue
            self._mark_direct(invite.room_id, invite.inviter)

    def _mark_direct(self, room_id: str, other: str) -> None:
        """Record a joined direct room in m.direct, as other clients do, so every device sees it as a DM."""
        if not other:
            return
        self._direct_map()
        content = {user: list(rooms) for user, rooms in self._direct_content.items() if isinstance(rooms, list)}
        if room_id not in content.setdefault(other, []):
            content[other].append(room_id)
        self._direct_content, self._direct = content, direct_rooms(content)
        me = self._identity().platform_user_id
        try:
            self._api.call("PUT", f"/user/{quote(me)}/account_data/m.direct", body=content, what="Saving direct rooms")
        except PlatformError as exc:
            log.warning("%s: %s is a DM here but m.direct was not saved: %s", self.account.name, room_id, exc)

    def pending_invites(self) -> list[dict[str, Any]]:
        """Invites waiting for a person (room_id, inviter, room_name, is_direct), read fresh from the server."""
        me = self._identity().platform_user_id
        params = {"timeout": "0", "set_presence": "offline", "filter": INVITES_FILTER}
        invites = section(
            self._api.call("GET", "/sync", params=params, what="Listing Matrix invites"), "rooms", "invite"
        )
        if not invites:
            return []
        # Synapse answers a repeated initial sync from a cache for minutes: drop invites accepted meanwhile.
        joined = set(as_list(self._api.call("GET", "/joined_rooms", what="Listing rooms").get("joined_rooms")))
        return [
            read_invite(str(room_id), room, me).as_dict()
            for room_id, room in as_dict(invites).items()
            if room_id not in joined
        ]

    def accept_invite(self, room_id: str) -> None:
        self._api.call("POST", f"/join/{quote(room_id)}", body={}, what="Joining the Matrix room")

    # -- replies and threads -------------------------------------------------------------------------------

    def send_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> SentMessage:
        """PUT with the idempotency key as transaction id: the homeserver posts a retried send only once."""
        try:
            room_id = target.room_id or room_of_key(target.conversation_key)
        except ValueError:
            raise PlatformError(f"Cannot tell which Matrix room {target.conversation_key!r} is.") from None
        if not text.strip():
            raise PlatformError("The reply is empty.")
        if len(text) > self.max_reply_length:
            raise PlatformError(f"The reply is longer than Matrix allows ({self.max_reply_length} characters).")
        if not idempotency_key:
            raise ValueError("a send needs an idempotency key")
        me = self.account.platform_user_id or (self._me.platform_user_id if self._me else "")
        content: dict[str, Any] = {"msgtype": "m.text", "body": text}
        mentioned = sorted({p for p in target.participants if p.startswith("@") and p != me})
        if mentioned:
            content["m.mentions"] = {"user_ids": mentioned}
        if target.in_reply_to_platform_id:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": target.in_reply_to_platform_id}}
        path = f"/rooms/{quote(room_id)}/send/m.room.message/{quote(idempotency_key)}"
        answer = self._api.call("PUT", path, body=content, what="Sending the reply")
        event_id = answer.get("event_id")
        if not isinstance(event_id, str) or not event_id:
            raise PlatformError("Sending the reply: the homeserver did not return the message id.")
        self._remember_room(event_id, room_id)
        return SentMessage(platform_message_id=event_id, created_at=datetime.now(UTC), raw=answer)

    def thread_context(self, platform_message_id: str) -> list[FetchedMessage]:
        """Matrix event ids do not name their room: it comes from the events this connector has read or
        sent, else from a bounded search of joined rooms. Callers that know the room use thread_context_in."""
        room_id = self._room_of_event.get(platform_message_id) or self._find_room(platform_message_id)
        return self.thread_context_in(room_id, platform_message_id)

    def thread_context_in(self, room_id: str, event_id: str) -> list[FetchedMessage]:
        """The messages around one event (every message, not only mentions) and its reply chain upwards."""
        what = "Reading the Matrix thread"
        params = {"limit": str(CONTEXT_LIMIT), "filter": ROOM_EVENT_FILTER}
        body = self._api.call("GET", f"/rooms/{quote(room_id)}/context/{quote(event_id)}", params=params, what=what)
        view = self._room_view(room_id, self._identity())
        view.learn_members(as_list(body.get("state")))
        events = [*reversed(as_list(body.get("events_before"))), body.get("event"), *as_list(body.get("events_after"))]
        messages, rejected = self._read_events(events, view, everything=True)
        for item in rejected:
            log.info("thread view: skipped %s: %s", item.item_id, item.reason)
        known = {m.platform_message_id: m for m in messages}
        parent = known[event_id].parent_platform_id if event_id in known else None
        for _ in range(ANCESTOR_DEPTH):
            if not parent or parent in known:
                break
            try:
                event = self._api.call("GET", f"/rooms/{quote(room_id)}/event/{quote(parent)}", what=what)
                ancestor = read_event(event, view, everything=True)
            except (NotFound, Unreadable):
                break
            if ancestor is None:
                break
            known[parent] = ancestor
            parent = ancestor.parent_platform_id
        return sorted(known.values(), key=lambda m: (m.created_at, m.platform_message_id))

    def _find_room(self, event_id: str) -> str:
        rooms = [
            str(r) for r in as_list(self._api.call("GET", "/joined_rooms", what="Listing rooms").get("joined_rooms"))
        ]
        direct = self._direct_map()
        rooms.sort(key=lambda r: r not in direct)  # a thread view is most often opened on a DM
        for room_id in rooms[:ROOM_SEARCH_LIMIT]:
            try:
                self._api.call("GET", f"/rooms/{quote(room_id)}/event/{quote(event_id)}", what="Finding the message")
            except NotFound:
                continue
            except PlatformError as exc:
                if exc.status != 403 or isinstance(exc, AuthError):
                    raise
                continue
            self._remember_room(event_id, room_id)
            return room_id
        raise NotFound(f"Message {event_id} is not in any Matrix room this account has joined.")

    def sign_out(self) -> bool:
        """POST /logout: the homeserver ends this device's session and forgets the device."""
        self._api.call("POST", "/logout", body={}, what="Signing the Matrix device out")
        return True

    def abort(self) -> None:
        self._api.abort()

    def close(self) -> None:
        self._api.close()
