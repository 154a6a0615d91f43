"""The playbook file: a stable YAML round trip, clear refusals of bad files, and the starter playbook."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.demo.resources import starter_playbook
from app.domain.playbook import EntryContent, PlaybookEntry, PlaybookError
from app.domain.templates import TemplateVariables, render
from app.platforms.mastodon import MastodonConnector
from app.store import playbook as store
from app.store.database import open_store
from app.store.playbook_file import dump_playbook, export_playbook, load_playbook, read_playbook

TRICKY = [
    EntryContent(
        title="Quotes: 'single' and \"double\" # not a comment",
        body='Line one\n---\n# a line that looks like YAML\n  indented: yes\n\n{{ contact.name | default("you") }} ✓',
        category="Billing/Refunds",
        tags=("refund", "yes", "null", "42"),
        platforms=("mastodon", "matrix"),
        language="de",
        shortcut=";x-1",
        notes="Multi\nline notes: with colons",
        author="Zoë",
    ),
    EntryContent(title="404", body="true", shortcut=":true"),
    EntryContent(title="Ends with spaces in a line", body="a   \nb\t\nc"),
]


def make_profile(tmp_path: Path, name: str):  # type: ignore[no-untyped-def]
    (tmp_path / name).mkdir()
    return open_store(tmp_path / name / "cache.sqlite3", backups=tmp_path / name / "backups")


def test_export_import_into_an_empty_profile_and_export_again_gives_the_identical_file(tmp_path: Path) -> None:
    source = make_profile(tmp_path, "a")
    for index, content in enumerate(TRICKY):
        store.create_entry(source, content, uid=f"uid-{index}")
    store.apply_import(source, store.plan_import(source, read_playbook(starter_playbook())))
    first = tmp_path / "first.yaml"
    assert export_playbook(source, first) == len(TRICKY) + len(read_playbook(starter_playbook()))

    empty = make_profile(tmp_path, "b")
    result = store.apply_import(empty, store.plan_import(empty, read_playbook(first)))
    assert result.added == len(store.list_entries(source))
    second = tmp_path / "second.yaml"
    export_playbook(empty, second)
    assert second.read_bytes() == first.read_bytes()
    assert {(e.uid, e.content) for e in store.list_entries(empty)} == {
        (e.uid, e.content) for e in store.list_entries(source)
    }
    # and importing the same file again adds nothing: merging is by uid, never by position or title
    again = store.plan_import(empty, read_playbook(first))
    assert (again.added, again.conflicts, len(again.unchanged)) == ((), (), result.added)
    source.dispose()
    empty.dispose()


def test_the_file_reads_like_the_text_it_carries() -> None:
    text = dump_playbook([PlaybookEntry(1, "refund", TRICKY[0])])
    assert text.startswith("# Parley playbook")
    assert "\n---\nparley_playbook: 1\n---\nuid: refund\n" in text
    assert "platforms: [mastodon, matrix]\n" in text
    assert "body: |-\n  Line one\n  ---\n  # a line that looks like YAML\n    indented: yes\n" in text
    assert "usage" not in text  # local statistics stay in the profile


_safe_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="{}%#\r") | st.sampled_from("\n\t"),
    max_size=80,
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(title=_safe_text.filter(lambda t: t.strip() and "\n" not in t), body=_safe_text, notes=_safe_text)
def test_any_text_survives_the_round_trip(title: str, body: str, notes: str) -> None:
    if not body.strip():
        body = "x" + body
    content = store.checked_content(EntryContent(title=title, body=body, notes=notes))
    text = dump_playbook([PlaybookEntry(1, "u1", content)])
    assert load_playbook(text) == [("u1", content)]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("title: [unclosed", "not valid YAML (line 1)"),
        ("uid: a\ntitle: T\nbody: b\n", "not a Parley playbook"),
        ("parley_playbook: 2\n", "version 2 playbook"),
        ("parley_playbook: 1\n---\nuid: a\ntitel: T\nbody: b\n", "line 3: unknown field “titel”"),
        ("parley_playbook: 1\n---\nuid: a\ntitle: T\nbody: b\ntags: refund\n", "must be a list of words"),
        ("parley_playbook: 1\n---\nuid: a\ntitle: [T]\nbody: b\n", "“title” must be text"),
        ("parley_playbook: 1\n---\nuid: 'a b'\ntitle: T\nbody: b\n", "needs a uid"),
        ("parley_playbook: 1\n---\n- a\n- b\n", "must be a set of “field: value” lines"),
        ("parley_playbook: 1\n---\nuid: a\ntitle: T\nbody: '{% if %}'\n", "Line 1: Syntax error"),
    ],
)
def test_bad_files_are_refused_with_a_message_naming_the_problem(text: str, words: str) -> None:
    with pytest.raises(PlaybookError) as caught:
        load_playbook(text, source="shared.yaml")
    assert words in caught.value.user_message()


def test_an_imported_template_reaching_python_internals_is_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    shared = tmp_path / "shared.yaml"
    shared.write_text(
        "parley_playbook: 1\n---\nuid: ok\ntitle: Fine\nbody: Hello\n"
        "---\nuid: evil\ntitle: Innocent looking\nbody: |\n  Hi {{ contact.name }}\n  {{ ''.__class__.__mro__ }}\n",
        encoding="utf-8",
    )
    engine = make_profile(tmp_path, "p")
    with pytest.raises(PlaybookError) as caught:
        store.plan_import(engine, read_playbook(shared))
    message = caught.value.user_message()
    assert "shared.yaml, line 7: The answer “Innocent looking” cannot be used" in message
    assert "Line 2: The sandbox refused “__class__”: templates cannot reach Python internals" in message
    assert store.is_empty(engine)
    engine.dispose()


def test_an_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match="Cannot read"):
        read_playbook(tmp_path / "missing.yaml")
    (tmp_path / "latin1.yaml").write_bytes("title: caf\xe9".encode("latin-1"))
    with pytest.raises(PlaybookError, match="Cannot read"):
        read_playbook(tmp_path / "latin1.yaml")


def test_the_starter_playbook_covers_the_usual_situations_in_four_languages() -> None:
    entries = read_playbook(starter_playbook())
    assert len(entries) >= 20
    assert len({uid for uid, _ in entries}) == len(entries)
    titles = {content.title for _, content in entries}
    for needed in (
        "Acknowledge a complaint and move to DM",
        "Refund policy",
        "Shipping delay",
        "Thank for praise",
        "Route a bug to product",
        "Answer a pre-purchase question",
        "Calm reply to an angry public thread",
        "Out-of-hours reply",
    ):
        assert needed in titles
    assert {content.language for _, content in entries} >= {"en", "de", "fr", "es"}
    shortcuts = [content.shortcut.casefold() for _, content in entries if content.shortcut]
    assert len(shortcuts) == len(set(shortcuts)) == len(entries)


def test_every_starter_answer_renders_within_mastodons_limit_and_the_file_is_in_canonical_form() -> None:
    variables = TemplateVariables(
        contact_name="Maximiliane Oberholzer-Steinbach", contact_handle="@maximiliane@social.example",
        agent_name="Samantha from Support", account_name="Northwind Coffee Roasters", platform="Mastodon",
    )  # fmt: skip
    answers = {"order number": "NW-2026-048213", "dispatch date": "Monday 2 March"}
    entries = read_playbook(starter_playbook())
    for _uid, content in entries:
        text = render(content.body, variables, answers)
        assert "{" not in text and len(text) <= MastodonConnector.max_reply_length, content.title
    canonical = dump_playbook([PlaybookEntry(i, uid, content) for i, (uid, content) in enumerate(entries)])
    assert starter_playbook().read_text(encoding="utf-8") == canonical
