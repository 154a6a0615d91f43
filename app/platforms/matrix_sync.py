"""Reading Matrix /sync: the filters, back-filling a limited timeline down to the last sync, gaps, paging."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.models import FetchedMessage, Gap, Page, RejectedItem
from app.errors import PlatformError
from app.platforms.matrix_api import MatrixApi, quote
from app.platforms.matrix_parse import (
    ENCRYPTED,
    MEMBER,
    MESSAGE,
    Unreadable,
    as_dict,
    as_list,
    section,
    timestamp,
)

log = logging.getLogger("app.platforms.matrix")

STREAM = "sync"
TIMELINE_TYPES = [MESSAGE, ENCRYPTED, MEMBER]
MAX_PAGE_MESSAGES = 500
GAP_KIND = "matrix-room"


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


ROOM_EVENT_FILTER = compact({"types": TIMELINE_TYPES, "lazy_load_members": True})
# Enough to list invites without pulling any room's timeline.
INVITES_FILTER = compact(
    {
        "presence": {"types": []},
        "account_data": {"types": []},
        "room": {
            "timeline": {"limit": 0},
            "state": {"lazy_load_members": True},
            "ephemeral": {"types": []},
            "account_data": {"types": []},
        },
    }
)


def sync_filter(timeline_limit: int) -> str:
    """Messages and memberships only; members lazy-loaded but always sent, since a connector may be new."""
    return compact(
        {
            "presence": {"types": []},
            "account_data": {"types": ["m.direct"]},
            "room": {
                "timeline": {"types": TIMELINE_TYPES, "limit": timeline_limit},
                "state": {"types": [MEMBER], "lazy_load_members": True, "include_redundant_members": True},
                "ephemeral": {"types": []},
                "account_data": {"types": []},
            },
        }
    )


@dataclass(frozen=True)
class Backfill:
    """Events found between a limited timeline's start and the last sync, oldest first."""

    events: list[Any]
    state: list[Any]
    closed: bool  # False: the page bound was reached before the last sync's position
    resume_from: str  # where paging backwards would go on from, when not closed


def backfill(api: MatrixApi, room_id: str, prev_batch: str, since: str, *, pages: int, page_size: int) -> Backfill:
    """Page /messages backwards from `prev_batch` down to `since` (the previous sync), at most `pages` calls."""
    older: list[Any] = []
    state: list[Any] = []
    token = prev_batch
    closed = False
    for _ in range(pages):
        params = {"dir": "b", "from": token, "to": since, "limit": str(page_size), "filter": ROOM_EVENT_FILTER}
        body = api.call("GET", f"/rooms/{quote(room_id)}/messages", params=params, what="Fetching missed messages")
        chunk = as_list(body.get("chunk"))
        older.extend(chunk)
        state.extend(as_list(body.get("state")))
        end = body.get("end")
        # No `end`, or nothing more before `to`: the span is closed.
        if not chunk or not isinstance(end, str) or end == token:
            closed = True
            break
        token = end
    older.reverse()
    return Backfill(events=older, state=state, closed=closed, resume_from=token)


def gap_in(api: MatrixApi, room_id: str, since: str, events: list[Any], *, fetched: int, resume_from: str) -> Gap:
    """The span a back-fill could not close: from the last message before `since` to the oldest one we have.

    The detail carries what `MatrixConnector.backfill` needs to page on from where this back-fill stopped.
    """
    times = [e.get("origin_server_ts") for e in events if isinstance(e, dict)]
    stamps = [t for t in times if isinstance(t, int) and not isinstance(t, bool)]
    end = _time_or_none(min(stamps)) if stamps else None
    start = None
    try:
        params = {"dir": "b", "from": since, "limit": "1", "filter": compact({"types": [MESSAGE]})}
        body = api.call("GET", f"/rooms/{quote(room_id)}/messages", params=params, what="Bounding missed messages")
        before = as_list(body.get("chunk"))
        start = _time_or_none(as_dict(before[0]).get("origin_server_ts")) if before else None
    except PlatformError as exc:
        log.info("room %s: could not bound a sync gap: %s", room_id, exc)
    note = f"More than {fetched} events arrived in a Matrix room between two syncs; some were not fetched yet."
    return Gap(stream=STREAM, start=start, end=end, detail=gap_detail(room_id, resume_from, since, note))


def gap_detail(room_id: str, resume_from: str, since: str, note: str) -> str:
    return compact({"kind": GAP_KIND, "room_id": room_id, "from": resume_from, "to": since, "note": note})


def read_gap_detail(detail: str) -> tuple[str, str, str, str]:
    """(room id, token to page back from, token to stop at, note) of a gap this connector recorded."""
    try:
        found = json.loads(detail)
    except ValueError:
        found = None
    if not isinstance(found, dict) or found.get("kind") != GAP_KIND:
        raise ValueError("not a Matrix room gap")
    fields = (found.get("room_id"), found.get("from"), found.get("to"), found.get("note") or "")
    if not all(isinstance(value, str) for value in fields) or not all(fields[:3]):
        raise ValueError("a Matrix room gap without its room or tokens")
    return fields  # type: ignore[return-value]


def _time_or_none(milliseconds: Any) -> datetime | None:
    try:
        return timestamp(milliseconds)
    except Unreadable:
        return None


def carries_news(body: dict[str, Any]) -> bool:
    """Whether a /sync answer held anything new for this account (timeline events, invites, account data)."""
    joined = as_dict(section(body, "rooms", "join"))
    if any(as_list(section(room, "timeline", "events")) for room in joined.values()):
        return True
    if section(body, "rooms", "invite") or section(body, "rooms", "leave"):
        return True
    return bool(as_list(section(body, "account_data", "events")))


def split_pages(
    messages: list[FetchedMessage],
    rejected: list[RejectedItem],
    gaps: list[Gap],
    *,
    next_batch: str,
    fresh: bool,
) -> Iterator[Page]:
    """One /sync answer as pages of bounded size, oldest first.

    Only the last page moves the cursor: resuming after an earlier one re-reads the whole answer, and
    the store drops the duplicates.
    """
    ordered = sorted(messages, key=lambda m: (m.created_at, m.platform_message_id))
    parts = [ordered[i : i + MAX_PAGE_MESSAGES] for i in range(0, len(ordered), MAX_PAGE_MESSAGES)] or [[]]
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        yield Page(
            stream=STREAM,
            messages=tuple(part),
            cursor=next_batch if last else None,
            has_more=fresh if last else True,
            rejected=tuple(rejected) if last else (),
            gaps=tuple(gaps) if last else (),
        )
