"""Playbook entries as values: the fields a team shares, their rules, and the facts of a conversation."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime

from app.domain.models import MessageKind, Platform
from app.errors import KnownError

CATEGORY_SEPARATOR = "/"
SHORTCUT_PATTERN = re.compile(r"^[;:/!#.]?[\w-]{1,40}$")
LANGUAGES = {"": "Any language", "en": "English", "de": "German", "fr": "French", "es": "Spanish"}


class PlaybookError(KnownError):
    """A playbook entry or file that cannot be saved or read as it is."""


@dataclass(frozen=True)
class EntryContent:
    """What a team writes and shares about one answer: everything the playbook file carries."""

    title: str
    body: str
    category: str = ""
    tags: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    language: str = ""
    shortcut: str = ""
    notes: str = ""
    author: str = ""


CONTENT_FIELDS = tuple(f.name for f in fields(EntryContent))


@dataclass(frozen=True)
class PlaybookEntry:
    """A stored entry: its content plus the local bookkeeping (id, stable uid, usage)."""

    id: int
    uid: str
    content: EntryContent
    usage_count: int = 0
    last_used_at: datetime | None = None

    @property
    def title(self) -> str:
        return self.content.title

    @property
    def body(self) -> str:
        return self.content.body

    @property
    def category(self) -> str:
        return self.content.category

    @property
    def shortcut(self) -> str:
        return self.content.shortcut


@dataclass(frozen=True)
class ConversationFacts:
    """What templates and suggestions know about the conversation being answered."""

    conversation_id: int
    platform: Platform
    kind: MessageKind
    contact_name: str = ""
    contact_handle: str = ""
    account_name: str = ""
    opened_at: datetime | None = None
    tags: tuple[str, ...] = ()
    last_inbound_text: str = ""


def new_uid() -> str:
    return uuid.uuid4().hex


def normalise_category(category: str) -> str:
    """'Billing / Refunds ' -> 'Billing/Refunds'; folders nest one level, so a third part is refused."""
    parts = [part.strip() for part in category.split(CATEGORY_SEPARATOR)]
    parts = [part for part in parts if part]
    if len(parts) > 2:
        raise PlaybookError(
            f"The category “{category}” is nested too deep.",
            hint="Folders nest one level: use “Parent/Child”.",
        )
    return CATEGORY_SEPARATOR.join(parts)


def category_path(category: str) -> tuple[str, str]:
    """('Billing', 'Refunds') for 'Billing/Refunds'; ('Billing', '') for a top-level folder."""
    parent, _, child = category.partition(CATEGORY_SEPARATOR)
    return parent, child


def normalise_content(content: EntryContent) -> EntryContent:
    """The content as stored: trimmed, de-duplicated lists, a checked shortcut and category."""
    title = content.title.strip()
    if not title:
        raise PlaybookError("An answer needs a title.")
    if not content.body.strip():
        raise PlaybookError(f"The answer “{title}” has no text.")
    shortcut = content.shortcut.strip()
    if shortcut and not SHORTCUT_PATTERN.match(shortcut):
        raise PlaybookError(
            f"The shortcut “{shortcut}” cannot be typed as one word.",
            hint="Use letters, digits, - or _, optionally after one of ; : / ! # . (for example ;refund).",
        )
    known_platforms = {p.value for p in Platform}
    platforms = _unique(p.strip().lower() for p in content.platforms)
    unknown = [p for p in platforms if p not in known_platforms]
    if unknown:
        raise PlaybookError(
            f"The answer “{title}” names an unknown platform: {', '.join(unknown)}.",
            hint=f"Known platforms: {', '.join(sorted(known_platforms))}.",
        )
    return EntryContent(
        title=title,
        body=content.body.rstrip(),
        category=normalise_category(content.category),
        tags=_unique(t.strip().lower() for t in content.tags),
        platforms=platforms,
        language=content.language.strip().lower(),
        shortcut=shortcut,
        notes=content.notes.strip(),
        author=content.author.strip(),
    )


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value for value in values if value))


def changed_fields(mine: EntryContent, theirs: EntryContent) -> list[str]:
    return [name for name in CONTENT_FIELDS if getattr(mine, name) != getattr(theirs, name)]
