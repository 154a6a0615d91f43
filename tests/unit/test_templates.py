"""Answer templates: variables, fallbacks, prompted fields, errors with their line, and the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.domain.models import MessageKind, Platform
from app.domain.playbook import ConversationFacts
from app.domain.templates import TemplateError, TemplateVariables, analyse, preview, render, variables_for

MAYA = TemplateVariables(
    contact_name="Maya Lindqvist",
    contact_handle="@maya@social.example",
    agent_name="Sam",
    account_name="Northwind Coffee",
    platform="Mastodon",
    opened_at=datetime(2026, 3, 2, 9, 15, tzinfo=UTC),
)


def test_every_documented_variable_renders() -> None:
    source = (
        "{{ contact.name }} / {{ contact.first_name }} / {{ contact.handle }} / {{ agent.name }} / "
        "{{ account.name }} / {{ platform }} / {{ conversation.opened_at }} {{ conversation.opened_at.time }}"
    )
    assert render(source, MAYA) == (
        "Maya Lindqvist / Maya / @maya@social.example / Sam / Northwind Coffee / Mastodon / 2 March 2026 09:15"
    )


def test_default_fills_empty_values_not_only_missing_ones() -> None:
    source = 'Hi {{ contact.first_name | default("there") }}, {{ agent.name | default(account.name) }}'
    assert render(source, MAYA) == "Hi Maya, Sam"
    nobody = TemplateVariables(contact_handle="@x@example", account_name="Northwind")  # no display name, no agent
    assert render(source, nobody) == "Hi there, Northwind"
    assert render("{{ contact.name }}", nobody) == "@x@example"  # the handle stands in for a missing name


def test_variables_come_from_the_conversation_in_the_display_zone() -> None:
    facts = ConversationFacts(
        conversation_id=1,
        platform=Platform.MATRIX,
        kind=MessageKind.DM,
        contact_name="Jonas Berg",
        contact_handle="@jonas:matrix.example",
        account_name="Northwind",
        opened_at=datetime(2026, 3, 2, 23, 30, tzinfo=UTC),
    )
    from zoneinfo import ZoneInfo

    variables = variables_for(facts, agent_name="Sam", zone=ZoneInfo("Europe/Berlin"))
    assert render("{{ platform }} {{ conversation.opened_at }} {{ conversation.opened_at.time }}", variables) == (
        "Matrix 3 March 2026 00:30"
    )


def test_ask_prompts_are_found_in_order_once_each_and_rendered_with_the_answers() -> None:
    source = 'Order {{ ask("order number") }} left on {{ ask("dispatch date") }}; again: {{ ask("order number") }}'
    assert analyse(source).prompts == ("order number", "dispatch date")
    answers = {"order number": "48213", "dispatch date": "3 March"}
    assert render(source, MAYA, answers) == "Order 48213 left on 3 March; again: 48213"
    assert preview(source, MAYA) == "Order [order number] left on [dispatch date]; again: [order number]"


def test_a_missing_answer_refuses_to_render() -> None:
    with pytest.raises(TemplateError, match="No value was given for “dispatch date”"):
        render('{{ ask("order number") }} {{ ask("dispatch date") }}', MAYA, {"order number": "1"})


@pytest.mark.parametrize("source", ["{{ ask(contact.name) }}", "{{ ask() }}", '{{ ask("") }}', "{{ ask }}"])
def test_ask_needs_one_quoted_label(source: str) -> None:
    with pytest.raises(TemplateError, match="Line 1: ask"):
        analyse(source)


@pytest.mark.parametrize(
    ("source", "line", "words"),
    [
        ("Hello\n{{ contact.nmae }}", 2, "Unknown variable “contact.nmae”"),
        ("Hello\n\n{{ customer }}", 3, "Unknown variable “customer”"),
        ("{% if contact.name %}\nok\n{% endfor %}", 3, "Syntax error"),
        ("Hi\n{{ contact.name | shout }}", 2, "Syntax error: No filter named 'shout'"),
        ("Hi {{ contact.name", 1, "Syntax error"),
        ("{% set who = contact %}\n\n{{ who.nope }}", 3, "Unknown field “nope”"),  # only found when rendering
        ("a\n{{ 1 / 0 }}", 2, "division by zero"),
    ],
)
def test_errors_name_their_line_and_nothing_is_rendered(source: str, line: int, words: str) -> None:
    with pytest.raises(TemplateError) as caught:
        render(source, MAYA)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"Line {line}: ")
    assert words in str(caught.value)


def test_an_error_late_in_the_text_leaves_no_half_rendered_text() -> None:
    text = None
    with pytest.raises(TemplateError):
        text = render("Hi {{ contact.name }}, here is a long answer…\n{{ contact.name.missing_method() }}", MAYA)
    assert text is None


@pytest.mark.parametrize(
    ("source", "refused"),
    [
        ("{{ ''.__class__.__mro__ }}", "“__class__”"),
        ("{{ ''['__class__'] }}", "“__class__”"),
        ("{{ contact.__init__.__globals__ }}", "“__init__”"),
        ("{{ contact.name.__class__.__subclasses__() }}", "“__class__”"),
    ],
)
def test_the_sandbox_refuses_python_internals_with_a_clear_error(source: str, refused: str) -> None:
    with pytest.raises(TemplateError) as caught:
        analyse(source)
    message = caught.value.user_message()
    assert refused in message and "cannot reach Python internals" in message


def test_the_sandbox_also_refuses_internals_reached_at_run_time() -> None:
    # attr() builds the attribute name at run time, so only the sandbox itself can stop it.
    with pytest.raises(TemplateError, match="The sandbox refused this template: access to attribute '__class__'"):
        render('{{ contact | attr("__cl" ~ "ass__") }}', MAYA)


def test_globals_of_plain_jinja_are_not_there_to_climb_from() -> None:
    for name in ("cycler", "joiner", "namespace", "lipsum", "self"):
        with pytest.raises(TemplateError, match=f"Unknown variable “{name}”"):
            analyse(f"{{{{ {name} }}}}")


def test_templates_cannot_include_others_or_blow_up_in_size() -> None:
    with pytest.raises(TemplateError, match="cannot include or import"):
        analyse('{% include "/etc/passwd" %}')
    with pytest.raises(TemplateError, match="repeating text 10000000 times is refused"):
        render("{{ 'x' * 10000000 }}", MAYA)
    with pytest.raises(TemplateError, match="at most 20,000"):
        render("{% for i in range(30000) %}x{% endfor %}", MAYA)
