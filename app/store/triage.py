"""Triage writes on conversations (status, snooze, tags, assignee, read state, priority), each one undoable.

Every action reads the values it is about to change, writes the new ones in the same transaction, and returns
a TriageChange holding the old values; `undo(change)` writes them back. Portable Core SQL throughout.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, case, delete, func, insert, select, update

from app.domain.models import ConversationStatus
from app.domain.triage import DEFAULT_ASSIGNEES, Priority
from app.errors import KnownError
from app.store import clocks
from app.store.dialect import chunks, upsert
from app.store.schema import conversation_tags, conversations, profile_settings, tags

ASSIGNEES_KEY = "assignees"
UNDO_COLUMNS = ("status", "snoozed_until", "closed_at", "assignee", "unread_count", "priority", "priority_locked")
# A status change also moves the response clock (closing stops it, pending pauses it); undo puts it back.
CLOCK_COLUMNS = ("waiting_since", "next_due_at", "next_warn_at", "paused_at")


class TriageError(KnownError):
    """A triage action the store refuses (an empty tag name, a snooze time in the past)."""


@dataclass(frozen=True)
class TriageChange:
    """What one triage action changed: the old column values and tag sets of each conversation it touched."""

    description: str
    conversation_ids: tuple[int, ...]
    columns: dict[int, dict[str, Any]] = field(default_factory=dict)
    tag_ids: dict[int, frozenset[int]] | None = None

    @property
    def count(self) -> int:
        return len(self.conversation_ids)


def _plural(count: int) -> str:
    return f"{count} conversation{'s' if count != 1 else ''}"


def _ids(conversation_ids: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(int(i) for i in conversation_ids))


def _snapshot(connection: Connection, ids: list[int], names: Sequence[str]) -> dict[int, dict[str, Any]]:
    cols = [conversations.c[name] for name in names]
    found: dict[int, dict[str, Any]] = {}
    for part in chunks(ids):
        for row in connection.execute(select(conversations.c.id, *cols).where(conversations.c.id.in_(part))):
            found[row[0]] = dict(zip(names, row[1:], strict=True))
    return found


def _write(connection: Connection, ids: list[int], values: dict[str, Any]) -> None:
    for part in chunks(ids):
        connection.execute(update(conversations).where(conversations.c.id.in_(part)).values(**values))


def _change(engine: Engine, ids: Iterable[int], values: dict[str, Any], description: str) -> TriageChange:
    targets = _ids(ids)
    with engine.begin() as connection:
        before = _snapshot(connection, targets, list(values))
        _write(connection, list(before), values)
        if "priority" in values:  # policies may depend on priority
            clocks.refresh_due(connection, list(before))
    return TriageChange(description, tuple(i for i in targets if i in before), before)


# --- status ------------------------------------------------------------------------------------------------
def set_status(
    engine: Engine,
    conversation_ids: Iterable[int],
    status: ConversationStatus,
    *,
    now: datetime,
    snoozed_until: datetime | None = None,
) -> TriageChange:
    """Open, pending (waiting on the customer), snoozed until a time, or closed (closing stamps the time)."""
    values: dict[str, Any] = {"status": status.value, "snoozed_until": None}
    if status is ConversationStatus.SNOOZED:
        if snoozed_until is None or snoozed_until <= now:
            raise TriageError("A snooze needs a wake-up time in the future.")
        values["snoozed_until"] = snoozed_until
    if status is ConversationStatus.CLOSED:
        values["closed_at"] = now
    ids = _ids(conversation_ids)
    label = {"snoozed": "Snoozed", "closed": "Closed", "pending": "Marked pending", "open": "Reopened"}
    with engine.begin() as connection:
        before = _snapshot(connection, ids, [*values, *CLOCK_COLUMNS])
        _write(connection, list(before), values)
        clocks.status_changed(connection, list(before), status, now=now)
    if status is not ConversationStatus.PENDING:
        # The pause up to now is already added to the clock: undoing this resumes pending from now, not twice.
        for old in before.values():
            if old["paused_at"] is not None:
                old["paused_at"] = now
    description = f"{label[status.value]} {_plural(len(ids))}"
    return TriageChange(description, tuple(i for i in ids if i in before), before)


def snooze(engine: Engine, conversation_ids: Iterable[int], until: datetime, *, now: datetime) -> TriageChange:
    return set_status(engine, conversation_ids, ConversationStatus.SNOOZED, now=now, snoozed_until=until)


def wake_snoozed(engine: Engine, *, now: datetime) -> list[int]:
    """Reopen every snoozed conversation whose time has come; their ids."""
    c = conversations.c
    with engine.begin() as connection:
        due = list(
            connection.execute(
                select(c.id).where(c.status == ConversationStatus.SNOOZED.value, c.snoozed_until <= now)
            ).scalars()
        )
        _write(connection, due, {"status": ConversationStatus.OPEN.value, "snoozed_until": None})
    return due


# --- assignee, read state, priority ------------------------------------------------------------------------
def set_assignee(engine: Engine, conversation_ids: Iterable[int], assignee: str) -> TriageChange:
    ids = _ids(conversation_ids)
    name = assignee.strip()
    what = f"Assigned {_plural(len(ids))} to {name}" if name else f"Unassigned {_plural(len(ids))}"
    return _change(engine, ids, {"assignee": name}, what)


def set_read(engine: Engine, conversation_ids: Iterable[int], read: bool) -> TriageChange:
    """Read clears the unread count; unread marks at least one message unread."""
    ids = _ids(conversation_ids)
    c = conversations.c
    value: Any = 0 if read else case((c.unread_count > 0, c.unread_count), else_=1)
    return _change(engine, ids, {"unread_count": value}, f"Marked {_plural(len(ids))} {'read' if read else 'unread'}")


def set_priority(engine: Engine, conversation_ids: Iterable[int], priority: Priority) -> TriageChange:
    """A person's choice of priority; sentiment and rules leave it alone from now on."""
    ids = _ids(conversation_ids)
    return _change(
        engine,
        ids,
        {"priority": int(priority), "priority_locked": 1},
        f"Set {_plural(len(ids))} to {priority.label.lower()} priority",
    )


# --- tags --------------------------------------------------------------------------------------------------
def list_tags(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(select(tags.c.name).order_by(tags.c.id)).scalars())


def tag_ids(connection: Connection, names: Iterable[str], *, create: bool) -> dict[str, int]:
    """Ids of the named tags (matched without regard to case), creating the missing ones when asked."""
    wanted = {n.strip().lower(): n.strip() for n in names if n.strip()}
    found = (
        {
            row.name.lower(): row.id
            for row in connection.execute(
                select(tags.c.id, tags.c.name).where(func.lower(tags.c.name).in_(list(wanted)))
            )
        }
        if wanted
        else {}
    )
    missing = [wanted[key] for key in wanted if key not in found]
    if missing and create:
        connection.execute(insert(tags), [{"name": name, "color": ""} for name in missing])
        return tag_ids(connection, names, create=False)
    return found


def add_tag(engine: Engine, name: str) -> None:
    clean = name.strip()
    if not clean:
        raise TriageError("A tag needs a name.")
    with engine.begin() as connection:
        tag_ids(connection, [clean], create=True)


def rename_tag(engine: Engine, old: str, new: str) -> None:
    clean = new.strip()
    if not clean:
        raise TriageError("A tag needs a name.")
    with engine.begin() as connection:
        ids = tag_ids(connection, [old, clean], create=False)
        if clean.lower() in ids and clean.lower() != old.strip().lower():
            raise TriageError(f"There is already a tag called '{clean}'.")
        if old.strip().lower() not in ids:
            raise TriageError(f"There is no tag called '{old}'.")
        connection.execute(update(tags).where(tags.c.id == ids[old.strip().lower()]).values(name=clean))


def remove_tag(engine: Engine, name: str) -> None:
    """Delete the tag everywhere (its conversations keep their other tags)."""
    with engine.begin() as connection:
        ids = tag_ids(connection, [name], create=False)
        for tag_id in ids.values():
            connection.execute(delete(conversation_tags).where(conversation_tags.c.tag_id == tag_id))
            connection.execute(delete(tags).where(tags.c.id == tag_id))


def _tag_sets(connection: Connection, ids: list[int]) -> dict[int, frozenset[int]]:
    sets: dict[int, set[int]] = {i: set() for i in ids}
    for part in chunks(ids):
        for row in connection.execute(
            select(conversation_tags.c.conversation_id, conversation_tags.c.tag_id).where(
                conversation_tags.c.conversation_id.in_(part)
            )
        ):
            sets[row[0]].add(row[1])
    return {i: frozenset(s) for i, s in sets.items()}


def attach_tags(connection: Connection, conversation_ids: Iterable[int], tag_id_list: Iterable[int]) -> None:
    """Give each conversation each tag (already tagged ones stay as they are)."""
    pairs = [{"conversation_id": c, "tag_id": t} for c in conversation_ids for t in tag_id_list]
    if pairs:
        connection.execute(upsert(connection, conversation_tags).on_conflict_do_nothing(), pairs)


def set_tag(engine: Engine, conversation_ids: Iterable[int], name: str, present: bool) -> TriageChange:
    """Add the tag to (or take it off) every given conversation."""
    ids = _ids(conversation_ids)
    with engine.begin() as connection:
        tag = tag_ids(connection, [name], create=present).get(name.strip().lower())
        before = _tag_sets(connection, ids)
        if tag is not None:
            if present:
                attach_tags(connection, ids, [tag])
            else:
                for part in chunks(ids):
                    connection.execute(
                        delete(conversation_tags).where(
                            conversation_tags.c.tag_id == tag, conversation_tags.c.conversation_id.in_(part)
                        )
                    )
            clocks.refresh_due(connection, ids)  # policies may depend on tags
    verb = "Tagged" if present else "Untagged"
    return TriageChange(f"{verb} {_plural(len(ids))} #{name.strip()}", tuple(ids), {}, before)


def toggle_tag(engine: Engine, conversation_ids: Iterable[int], name: str) -> TriageChange:
    """Take the tag off when every conversation has it, else give it to all of them."""
    ids = _ids(conversation_ids)
    with engine.connect() as connection:
        tag = tag_ids(connection, [name], create=False).get(name.strip().lower())
        have = 0
        if tag is not None:
            for part in chunks(ids):
                have += int(
                    connection.execute(
                        select(func.count()).where(
                            conversation_tags.c.tag_id == tag, conversation_tags.c.conversation_id.in_(part)
                        )
                    ).scalar_one()
                )
    return set_tag(engine, ids, name, present=not (ids and have == len(ids)))


def tags_of(engine: Engine, conversation_ids: Iterable[int]) -> dict[int, set[str]]:
    ids = _ids(conversation_ids)
    found: dict[int, set[str]] = {i: set() for i in ids}
    with engine.connect() as connection:
        for part in chunks(ids):
            for row in connection.execute(
                select(conversation_tags.c.conversation_id, tags.c.name)
                .join(tags, tags.c.id == conversation_tags.c.tag_id)
                .where(conversation_tags.c.conversation_id.in_(part))
            ):
                found[row[0]].add(row[1])
    return found


# --- undo --------------------------------------------------------------------------------------------------
def undo(engine: Engine, change: TriageChange) -> None:
    """Put back what `change` changed (conversations deleted since then are skipped)."""
    with engine.begin() as connection:
        if change.columns:
            names = sorted({name for values in change.columns.values() for name in values})
            statement = (
                update(conversations)
                .where(conversations.c.id == bindparam("target_id"))
                .values({name: bindparam(name) for name in names})
            )
            connection.execute(statement, [{"target_id": cid, **values} for cid, values in change.columns.items()])
        if change.tag_ids is not None:
            ids = list(change.tag_ids)
            for part in chunks(ids):
                connection.execute(delete(conversation_tags).where(conversation_tags.c.conversation_id.in_(part)))
            existing = set(connection.execute(select(tags.c.id)).scalars())
            pairs = [
                {"conversation_id": cid, "tag_id": tid}
                for cid, tids in change.tag_ids.items()
                for tid in tids
                if tid in existing
            ]
            live = set(_existing_ids(connection, ids))
            pairs = [p for p in pairs if p["conversation_id"] in live]
            if pairs:
                connection.execute(insert(conversation_tags), pairs)
        clocks.after_undo(connection, change.conversation_ids)
        clocks.refresh_due(connection, change.conversation_ids)


def _existing_ids(connection: Connection, ids: list[int]) -> list[int]:
    found: list[int] = []
    for part in chunks(ids):
        found += connection.execute(select(conversations.c.id).where(conversations.c.id.in_(part))).scalars()
    return found


# --- the team list -----------------------------------------------------------------------------------------
def list_assignees(engine: Engine) -> list[str]:
    """Departments and people conversations can be assigned to (the starter list until edited)."""
    with engine.connect() as connection:
        value = connection.execute(
            select(profile_settings.c.value).where(profile_settings.c.key == ASSIGNEES_KEY)
        ).scalar_one_or_none()
    if value is None:
        return list(DEFAULT_ASSIGNEES)
    try:
        names = json.loads(value)
    except ValueError:
        return list(DEFAULT_ASSIGNEES)
    return [str(n) for n in names if str(n).strip()] if isinstance(names, list) else list(DEFAULT_ASSIGNEES)


def save_assignees(engine: Engine, names: Iterable[str]) -> list[str]:
    clean = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    with engine.begin() as connection:
        statement = upsert(connection, profile_settings).values(key=ASSIGNEES_KEY, value=json.dumps(clean))
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=[profile_settings.c.key], set_={"value": statement.excluded.value}
            )
        )
    return clean


def conversation_state(engine: Engine, conversation_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The triage columns of these conversations as stored (tests and the undo banner read them)."""
    ids = _ids(conversation_ids)
    with engine.connect() as connection:
        return _snapshot(connection, ids, UNDO_COLUMNS)
