"""Reading the playbook of canned answers: titles and bodies for the playbook pane."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select

from app.store.schema import playbook_entries


@dataclass(frozen=True)
class PlaybookEntry:
    id: int
    title: str
    body: str
    category: str
    shortcut: str


def list_entries(engine: Engine) -> list[PlaybookEntry]:
    """Every entry, grouped by category then title, as the pane lists them."""
    query = select(
        playbook_entries.c.id,
        playbook_entries.c.title,
        playbook_entries.c.body,
        playbook_entries.c.category,
        playbook_entries.c.shortcut,
    ).order_by(playbook_entries.c.category, playbook_entries.c.title, playbook_entries.c.id)
    with engine.connect() as connection:
        return [
            PlaybookEntry(id=row.id, title=row.title, body=row.body, category=row.category, shortcut=row.shortcut)
            for row in connection.execute(query)
        ]
