"""Spans of time in which sync may have missed messages: listing, resolving and giving up on them.

A gap's `detail` is the connector's own text: for a gap it can fill again it is a JSON object with what
the connector needs to resume (a room and a pagination token, for Matrix) and a `note` for people;
older gaps and connectors that cannot resume store plain words. Only the store (for the note) and the
connector (for the rest) read it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select, update

from app.store.schema import sync_gaps


@dataclass(frozen=True)
class OpenGap:
    """A gap not filled yet; `fillable` False once the platform said it cannot fetch that span again."""

    id: int
    account_id: int
    stream: str
    start: datetime | None
    end: datetime | None
    detail: str
    detected_at: datetime
    fillable: bool
    fill_note: str

    @property
    def note(self) -> str:
        return gap_note(self.detail)


def gap_note(detail: str) -> str:
    """The words for people in a gap's detail (its `note` when the detail is the connector's JSON)."""
    try:
        decoded = json.loads(detail)
    except ValueError:
        return detail
    if isinstance(decoded, dict):
        return str(decoded.get("note") or "")
    return detail


def list_open_gaps(engine: Engine, account_id: int | None = None, *, fillable_only: bool = False) -> list[OpenGap]:
    """Unresolved gaps, oldest detected first; of one account when `account_id` is given."""
    query = select(sync_gaps).where(sync_gaps.c.resolved_at.is_(None)).order_by(sync_gaps.c.detected_at, sync_gaps.c.id)
    if account_id is not None:
        query = query.where(sync_gaps.c.account_id == account_id)
    if fillable_only:
        query = query.where(sync_gaps.c.fillable.is_(True))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        OpenGap(
            id=row.id,
            account_id=row.account_id,
            stream=row.stream,
            start=row.start_at,
            end=row.end_at,
            detail=row.detail,
            detected_at=row.detected_at,
            fillable=bool(row.fillable),
            fill_note=row.fill_note,
        )
        for row in rows
    ]


def resolve_gap(engine: Engine, gap_id: int, *, now: datetime) -> None:
    """The span was fetched again: the gap is closed (kept, with its time, for the record)."""
    with engine.begin() as connection:
        connection.execute(
            update(sync_gaps).where(sync_gaps.c.id == gap_id, sync_gaps.c.resolved_at.is_(None)).values(resolved_at=now)
        )


def note_fill_failure(engine: Engine, gap_id: int, note: str, *, fillable: bool) -> None:
    """A fill attempt failed: say why; `fillable=False` stops automatic retries (the platform cannot do it)."""
    with engine.begin() as connection:
        connection.execute(update(sync_gaps).where(sync_gaps.c.id == gap_id).values(fill_note=note, fillable=fillable))
