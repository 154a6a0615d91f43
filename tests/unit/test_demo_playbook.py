"""The demo profile gets the starter playbook once; after that the answers are the user's to change."""

from __future__ import annotations

from app.context import AppContext
from app.demo.resources import starter_playbook
from app.demo.workspace import ensure_starter_playbook
from app.domain.playbook import EntryContent
from app.store import playbook as store
from app.store.playbook_file import read_playbook


def test_an_empty_demo_playbook_gets_the_starter_answers(context: AppContext) -> None:
    ensure_starter_playbook(context)
    listed = {entry.uid: entry.content for entry in store.list_entries(context.engine)}
    assert listed == dict(read_playbook(starter_playbook())) and len(listed) >= 20


def test_a_playbook_with_answers_is_left_alone_on_the_next_start(context: AppContext) -> None:
    ensure_starter_playbook(context)
    refund = store.find_by_shortcut(context.engine, ";refund")
    assert refund is not None
    store.update_entry(context.engine, refund.id, EntryContent(title="Our own refund text", body="Ours."))
    store.delete_entry(context.engine, store.find_by_shortcut(context.engine, ";ooh").id)  # type: ignore[union-attr]

    ensure_starter_playbook(context)  # the demo starting again
    assert store.get_entry(context.engine, refund.id).title == "Our own refund text"
    assert store.find_by_shortcut(context.engine, ";ooh") is None
    assert len(store.list_entries(context.engine)) == len(read_playbook(starter_playbook())) - 1
