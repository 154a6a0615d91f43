"""The playbook in the store: entries (create, read, update, delete), usage, merging an imported file."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from app.domain.models import Direction, MessageKind, Platform
from app.domain.playbook import (
    ConversationFacts,
    EntryContent,
    PlaybookEntry,
    PlaybookError,
    changed_fields,
    new_uid,
    normalise_content,
)
from app.domain.templates import TemplateError, analyse
from app.store.schema import accounts, contacts, conversation_tags, conversations, messages, playbook_entries, tags

_ORDER = (playbook_entries.c.category, playbook_entries.c.title, playbook_entries.c.id)


def checked_content(content: EntryContent) -> EntryContent:
    """The content as it will be stored, or PlaybookError: a bad field, or a template that cannot render."""
    clean = normalise_content(content)
    try:
        analyse(clean.body)
    except TemplateError as exc:
        raise PlaybookError(f"The answer “{clean.title}” cannot be used: {exc}", hint=exc.hint) from None
    return clean


def list_entries(engine: Engine) -> list[PlaybookEntry]:
    """Every entry, grouped by category then title, as the pane lists them."""
    with engine.connect() as connection:
        return [_entry(row) for row in connection.execute(select(playbook_entries).order_by(*_ORDER))]


def get_entry(engine: Engine, entry_id: int) -> PlaybookEntry:
    with engine.connect() as connection:
        row = connection.execute(select(playbook_entries).where(playbook_entries.c.id == entry_id)).first()
    if row is None:
        raise PlaybookError("That answer is no longer in the playbook.", hint="Someone may have deleted it.")
    return _entry(row)


def find_by_shortcut(engine: Engine, shortcut: str) -> PlaybookEntry | None:
    """The entry a keyword opens, compared casefolded (in Python, so every database agrees with the composer)."""
    wanted = shortcut.strip().casefold()
    if not wanted:
        return None
    with engine.connect() as connection:
        rows = connection.execute(
            select(playbook_entries).where(playbook_entries.c.shortcut != "").order_by(*_ORDER)
        ).all()
    return next((_entry(row) for row in rows if row.shortcut.casefold() == wanted), None)


def shortcuts(engine: Engine) -> set[str]:
    """Every shortcut keyword, casefolded, for the composer to recognise before Tab."""
    with engine.connect() as connection:
        rows = connection.execute(select(playbook_entries.c.shortcut).where(playbook_entries.c.shortcut != ""))
        return {str(value).casefold() for value in rows.scalars()}


def categories(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(playbook_entries.c.category).where(playbook_entries.c.category != "").distinct()
        )
        return sorted(rows.scalars(), key=str.casefold)


def is_empty(engine: Engine) -> bool:
    with engine.connect() as connection:
        return connection.execute(select(playbook_entries.c.id).limit(1)).first() is None


def create_entry(engine: Engine, content: EntryContent, *, uid: str | None = None) -> PlaybookEntry:
    clean = checked_content(content)
    with engine.begin() as connection:
        _refuse_shortcut_clash(connection, clean, exclude_id=None)
        new_id = connection.execute(
            insert(playbook_entries).values(uid=uid or new_uid(), **_columns(clean))
        ).inserted_primary_key
    assert new_id is not None
    return get_entry(engine, int(new_id[0]))


def update_entry(engine: Engine, entry_id: int, content: EntryContent) -> PlaybookEntry:
    clean = checked_content(content)
    with engine.begin() as connection:
        _refuse_shortcut_clash(connection, clean, exclude_id=entry_id)
        result = connection.execute(
            update(playbook_entries).where(playbook_entries.c.id == entry_id).values(**_columns(clean))
        )
    if result.rowcount == 0:
        raise PlaybookError("That answer is no longer in the playbook.", hint="Someone may have deleted it.")
    return get_entry(engine, entry_id)


def delete_entry(engine: Engine, entry_id: int) -> None:
    with engine.begin() as connection:
        connection.execute(delete(playbook_entries).where(playbook_entries.c.id == entry_id))


def record_use(engine: Engine, entry_id: int, now: datetime) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(playbook_entries)
            .where(playbook_entries.c.id == entry_id)
            .values(usage_count=playbook_entries.c.usage_count + 1, last_used_at=now)
        )


def _columns(content: EntryContent) -> dict[str, Any]:
    return {
        "title": content.title,
        "body": content.body,
        "category": content.category,
        "tags": list(content.tags),
        "platforms": list(content.platforms),
        "language": content.language,
        "shortcut": content.shortcut,
        "notes": content.notes,
        "author": content.author,
    }


def _entry(row: Any) -> PlaybookEntry:
    return PlaybookEntry(
        id=row.id,
        uid=row.uid,
        content=EntryContent(
            title=row.title,
            body=row.body,
            category=row.category,
            tags=tuple(row.tags or ()),
            platforms=tuple(row.platforms or ()),
            language=row.language,
            shortcut=row.shortcut,
            notes=row.notes,
            author=row.author,
        ),
        usage_count=row.usage_count,
        last_used_at=row.last_used_at,
    )


def _refuse_shortcut_clash(connection: Connection, content: EntryContent, exclude_id: int | None) -> None:
    if not content.shortcut:
        return
    query = select(playbook_entries.c.id, playbook_entries.c.title, playbook_entries.c.shortcut).where(
        playbook_entries.c.shortcut != ""
    )
    wanted = content.shortcut.casefold()
    taken = next(
        (row.title for row in connection.execute(query) if row.id != exclude_id and row.shortcut.casefold() == wanted),
        None,
    )
    if taken is not None:
        raise PlaybookError(
            f"The shortcut {content.shortcut} already belongs to “{taken}”.", hint="Each shortcut opens one answer."
        )


# --- conversation facts ---------------------------------------------------------------------------


def conversation_facts(engine: Engine, conversation_id: int) -> ConversationFacts | None:
    """What templates and suggestions need about one conversation: two indexed reads."""
    tag_names = (
        select(func.aggregate_strings(tags.c.name, "\x1f"))
        .select_from(conversation_tags.join(tags, tags.c.id == conversation_tags.c.tag_id))
        .where(conversation_tags.c.conversation_id == conversations.c.id)
        .scalar_subquery()
    )
    query = (
        select(
            conversations.c.kind,
            conversations.c.opened_at,
            accounts.c.platform,
            accounts.c.name.label("account_name"),
            accounts.c.display_name.label("account_display_name"),
            contacts.c.handle,
            contacts.c.display_name,
            tag_names.label("tag_names"),
        )
        .join(accounts, accounts.c.id == conversations.c.account_id)
        .outerjoin(contacts, contacts.c.id == conversations.c.contact_id)
        .where(conversations.c.id == conversation_id)
    )
    last_inbound = (
        select(messages.c.body_text)
        .where(messages.c.conversation_id == conversation_id, messages.c.direction == Direction.INBOUND.value)
        .order_by(messages.c.created_at.desc(), messages.c.id.desc())
        .limit(1)
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
        text = connection.execute(last_inbound).scalar()
    if row is None:
        return None
    return ConversationFacts(
        conversation_id=conversation_id,
        platform=Platform(row.platform),
        kind=MessageKind(row.kind),
        contact_name=row.display_name or "",
        contact_handle=row.handle or "",
        account_name=row.account_display_name or row.account_name,
        opened_at=row.opened_at,
        tags=tuple(sorted(row.tag_names.split("\x1f"))) if row.tag_names else (),
        last_inbound_text=text or "",
    )


# --- merging a shared file ------------------------------------------------------------------------


class Choice(enum.StrEnum):
    MINE = "mine"
    THEIRS = "theirs"


@dataclass(frozen=True)
class Conflict:
    """The same uid in the profile and in the file with different content."""

    uid: str
    mine: EntryContent
    theirs: EntryContent

    @property
    def fields(self) -> list[str]:
        return changed_fields(self.mine, self.theirs)


@dataclass(frozen=True)
class ImportPlan:
    """What importing a file would do; nothing is written until `apply_import`."""

    added: tuple[tuple[str, EntryContent], ...] = ()
    unchanged: tuple[str, ...] = ()
    conflicts: tuple[Conflict, ...] = ()

    def summary(self) -> str:
        return (
            f"{len(self.added)} new, {len(self.unchanged)} unchanged, "
            f"{len(self.conflicts)} in conflict (same id, different text)"
        )


@dataclass(frozen=True)
class ImportResult:
    added: int = 0
    replaced: int = 0
    kept: int = 0
    unchanged: int = 0
    titles: tuple[str, ...] = field(default=(), compare=False)


def plan_import(engine: Engine, incoming: Sequence[tuple[str, EntryContent]]) -> ImportPlan:
    """Compare a file's entries with the profile by uid. Raises PlaybookError for a uid listed twice."""
    seen: set[str] = set()
    for uid, _content in incoming:
        if uid in seen:
            raise PlaybookError(f"The file lists the id {uid} twice.", hint="Each entry needs its own uid.")
        seen.add(uid)
    current = {entry.uid: entry.content for entry in list_entries(engine)}
    added, unchanged, conflicts = [], [], []
    for uid, theirs in incoming:
        mine = current.get(uid)
        if mine is None:
            added.append((uid, theirs))
        elif mine == theirs:
            unchanged.append(uid)
        else:
            conflicts.append(Conflict(uid, mine, theirs))
    return ImportPlan(tuple(added), tuple(unchanged), tuple(conflicts))


def apply_import(engine: Engine, plan: ImportPlan, choices: Mapping[str, Choice] | None = None) -> ImportResult:
    """Write the plan in one transaction, taking the file's version of each conflict chosen THEIRS.

    Refuses (changing nothing) when a conflict has no choice, when the profile changed since the plan
    was made, or when the result would give one shortcut to two answers.
    """
    choices = dict(choices or {})
    undecided = [c.uid for c in plan.conflicts if c.uid not in choices]
    if undecided:
        raise PlaybookError(
            f"{len(undecided)} conflicting answers need a choice before importing.",
            hint="Choose, for each, whether to keep yours or take the file's.",
        )
    with engine.begin() as connection:
        rows = connection.execute(select(playbook_entries)).all()
        current = {row.uid: _entry(row) for row in rows}
        for conflict in plan.conflicts:
            if conflict.uid not in current or current[conflict.uid].content != conflict.mine:
                raise PlaybookError("The playbook changed while importing.", hint="Import the file again.")
        for uid, _ in plan.added:
            if uid in current:
                raise PlaybookError("The playbook changed while importing.", hint="Import the file again.")
        final = {uid: entry.content for uid, entry in current.items()}
        replaced = [c for c in plan.conflicts if choices[c.uid] is Choice.THEIRS]
        final.update({c.uid: c.theirs for c in replaced})
        final.update(dict(plan.added))
        _refuse_clashes(final.items())
        for uid, content in plan.added:
            connection.execute(insert(playbook_entries).values(uid=uid, **_columns(content)))
        for conflict in replaced:
            connection.execute(
                update(playbook_entries)
                .where(playbook_entries.c.uid == conflict.uid)
                .values(**_columns(conflict.theirs))
            )
    return ImportResult(
        added=len(plan.added),
        replaced=len(replaced),
        kept=len(plan.conflicts) - len(replaced),
        unchanged=len(plan.unchanged),
        titles=tuple(content.title for _, content in plan.added),
    )


def _refuse_clashes(entries: Iterable[tuple[str, EntryContent]]) -> None:
    owners: dict[str, list[str]] = {}
    for _uid, content in entries:
        if content.shortcut:
            owners.setdefault(content.shortcut.casefold(), []).append(content.title)
    clashes = {key: titles for key, titles in owners.items() if len(titles) > 1}
    if clashes:
        detail = "; ".join(f"{key} → {', '.join(sorted(titles))}" for key, titles in sorted(clashes.items()))
        raise PlaybookError(
            f"After importing, one shortcut would open several answers: {detail}.",
            hint="Give each answer its own shortcut in the file (or in the profile) and import again.",
        )
