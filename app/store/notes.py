"""Internal notes on conversations: kept in the local store only; nothing here can reach a platform."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, insert, select

from app.domain.models import InternalNote
from app.errors import KnownError
from app.store.schema import notes

MAX_NOTE_LENGTH = 20_000


class NoteError(KnownError):
    """A note the store refuses (empty or far too long)."""


def add_note(engine: Engine, conversation_id: int, body: str, *, author: str, now: datetime) -> InternalNote:
    text = body.strip()
    if not text:
        raise NoteError("The note is empty.")
    if len(text) > MAX_NOTE_LENGTH:
        raise NoteError(f"A note holds at most {MAX_NOTE_LENGTH:,} characters.", hint="Split it into two notes.")
    with engine.begin() as connection:
        key = connection.execute(
            insert(notes).values(conversation_id=conversation_id, author=author.strip(), body=text, created_at=now)
        ).inserted_primary_key
        assert key is not None
        new_id = key[0]
    return InternalNote(int(new_id), conversation_id, author.strip(), text, now)


def notes_of(engine: Engine, conversation_id: int) -> list[InternalNote]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(notes).where(notes.c.conversation_id == conversation_id).order_by(notes.c.created_at, notes.c.id)
        )
        return [InternalNote(r.id, r.conversation_id, r.author, r.body, r.created_at) for r in rows]
