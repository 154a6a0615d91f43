"""Finding answers: fuzzy filtering, and suggestions ranked for conversations stored in a real profile."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from app.demo.resources import starter_playbook
from app.domain.models import MessageKind, Platform
from app.domain.playbook import ConversationFacts, EntryContent, PlaybookEntry
from app.domain.playbook_search import guess_language, search, suggest
from app.store import accounts
from app.store import playbook as store
from app.store.database import open_store
from app.store.ingest import store_page
from app.store.playbook_file import read_playbook
from app.store.schema import conversation_tags, conversations, tags
from tests.factories import message, page


def entry(index: int, title: str, body: str, **fields: object) -> PlaybookEntry:
    return PlaybookEntry(index, f"u{index}", EntryContent(title=title, body=body, **fields))  # type: ignore[arg-type]


SMALL = [
    entry(1, "Refund timeline", "Refunds reach your card within 5 working days.", category="Billing"),
    entry(2, "Lost parcel", "Sorry your parcel is late; I've asked the courier.", tags=("delivery",)),
    entry(3, "Escalate to a lead", "I'm handing this over.", shortcut=";up"),
]


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("courier", ["Lost parcel"]),
        ("refnd", ["Refund timeline"]),  # a typo still finds it
        ("parcel late", ["Lost parcel"]),  # every word must match
        ("parcel refund", []),
        ("late", ["Lost parcel", "Escalate to a lead"]),  # a whole word ranks above the inside of "escalate"
        (";up", ["Escalate to a lead"]),
        ("billing", ["Refund timeline"]),
        ("zz", []),  # short words must appear as typed, not fuzzily
    ],
)
def test_search_is_fuzzy_requires_every_word_and_ranks_the_best_match_first(query: str, titles: list[str]) -> None:
    assert [e.title for e in search(SMALL, query)] == titles


def test_an_empty_query_keeps_every_entry_in_order() -> None:
    assert search(SMALL, "  ") == SMALL


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Where is my order? It still has not arrived.", "en"),
        ("Meine Bestellung ist noch nicht da, wo ist sie?", "de"),
        ("Ma commande n'est toujours pas arrivée, c'est pour quand ?", "fr"),
        ("Mi pedido todavía no ha llegado, ¿dónde está?", "es"),
        ("ok", ""),
        ("", ""),
    ],
)
def test_language_is_guessed_from_common_words(text: str, language: str) -> None:
    assert guess_language(text) == language


@pytest.fixture
def profile(tmp_path: Path):
    engine = open_store(tmp_path / "cache.sqlite3", backups=tmp_path / "backups")
    store.apply_import(engine, store.plan_import(engine, read_playbook(starter_playbook())))
    account = accounts.add_account(
        engine, platform=Platform.MASTODON, name="brand", base_url="https://m.example", now=message("x").created_at
    )
    yield engine, account
    engine.dispose()


def conversation_saying(engine, account, key: str, text: str, *, tag: str = "") -> ConversationFacts:  # type: ignore[no-untyped-def]
    store_page(
        engine, account.id, page(message(f"{key}-1", key=key, text=text, author="cust")), now=message("x").created_at
    )
    with engine.begin() as connection:
        conversation_id = connection.execute(
            select(conversations.c.id).where(conversations.c.conversation_key == key)
        ).scalar_one()
        if tag:
            tag_id = connection.execute(insert(tags).values(name=tag)).inserted_primary_key[0]
            connection.execute(insert(conversation_tags).values(conversation_id=conversation_id, tag_id=tag_id))
    facts = store.conversation_facts(engine, conversation_id)
    assert facts is not None
    return facts


@pytest.mark.parametrize(
    "complaint",
    [
        "My package was supposed to arrive last week and it's still not here. Really disappointed.",
        "Ordered two weeks ago and STILL nothing. This is ridiculous, where is my delivery??",
        "Your courier has had my parcel for 9 days, tracking is stuck. When will it be delivered?",
    ],
)
def test_a_complaint_about_a_late_delivery_ranks_the_shipping_delay_answer_first(profile, complaint: str) -> None:
    engine, account = profile
    facts = conversation_saying(engine, account, "late", complaint)
    ranked = suggest(store.list_entries(engine), facts)
    assert ranked[0].entry.title == "Shipping delay", [(s.entry.title, round(s.score, 1)) for s in ranked]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Meine Bestellung ist immer noch nicht angekommen, seit zwei Wochen!", "Lieferverzögerung"),
        ("Ma commande n'est toujours pas arrivée, ça fait dix jours.", "Retard de livraison"),
        ("Mi pedido todavía no ha llegado y ya pasó una semana.", "Retraso en el envío"),
        ("Charged twice for the March subscription, can someone look into it?", "Charged twice"),
        ("Absolutely love your coffee, best thing ever!", "Thank for praise"),
        ("The app crashes every time I open the camera, latest update.", "Route a bug to product"),
    ],
)
def test_suggestions_follow_the_words_and_language_of_the_last_message(profile, text: str, expected: str) -> None:
    engine, account = profile
    ranked = suggest(store.list_entries(engine), conversation_saying(engine, account, "k", text))
    assert ranked[0].entry.title == expected, [(s.entry.title, round(s.score, 1)) for s in ranked]


def test_conversation_tags_and_platform_move_an_answer_up_or_down(profile) -> None:
    engine, account = profile
    entries = store.list_entries(engine)
    facts = conversation_saying(engine, account, "t", "Hello there!", tag="security")
    assert suggest(entries, facts)[0].entry.title == "Never share your password"  # the tag alone points there

    neutral = ConversationFacts(1, Platform.MASTODON, MessageKind.MENTION, last_inbound_text="a bug in the app")
    bug = next(e for e in entries if e.title == "Route a bug to product")
    elsewhere = replace(bug, content=replace(bug.content, platforms=("matrix",)))
    same = replace(bug, content=replace(bug.content, platforms=("mastodon",)))
    assert suggest([same], neutral)[0].score > suggest([bug], neutral)[0].score > suggest([elsewhere], neutral)[0].score


def test_no_suggestion_without_any_signal() -> None:
    facts = ConversationFacts(1, Platform.MASTODON, MessageKind.MENTION, last_inbound_text="")
    assert suggest(SMALL, facts) == []
