"""Answer templates: Jinja2's sandbox, a fixed set of variables, prompted fields, errors that name their line.

A template is analysed first (syntax, known variables, no reach into Python internals, the labels of its
`ask("…")` prompts) so the UI can ask for the prompted fields; then it is rendered whole with the answers,
or not at all: an error never leaves half a text behind.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from types import TracebackType
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, UndefinedError, nodes
from jinja2.exceptions import SecurityError
from jinja2.exceptions import TemplateError as JinjaTemplateError
from jinja2.sandbox import SandboxedEnvironment

from app.domain.models import Platform
from app.domain.playbook import ConversationFacts
from app.errors import KnownError

# What each namespace offers; anything else is an unknown variable, reported with its line.
FIELDS: dict[str, tuple[str, ...]] = {
    "contact": ("name", "first_name", "handle"),
    "agent": ("name",),
    "account": ("name",),
    "conversation": ("opened_at",),
}
PLAIN_VARIABLES = ("platform",)
VARIABLE_HELP: tuple[tuple[str, str], ...] = (
    ("{{ contact.name }}", "the customer's name (or handle when they have none)"),
    ('{{ contact.first_name | default("there") }}', "the first word of their name, with a fallback"),
    ("{{ contact.handle }}", "their handle, for example @maya@social.example"),
    ("{{ agent.name }}", "your name, from Settings"),
    ("{{ account.name }}", "the brand account that answers"),
    ("{{ platform }}", "Mastodon, Matrix, …"),
    ("{{ conversation.opened_at }}", "the day the conversation started, for example 2 March 2026"),
    ('{{ ask("order number") }}', "asks you for a value each time the answer is inserted"),
)
PLATFORM_NAMES = {
    Platform.MASTODON: "Mastodon",
    Platform.MATRIX: "Matrix",
    Platform.BLUESKY: "Bluesky",
    Platform.X: "X",
    Platform.FACEBOOK: "Facebook",
    Platform.INSTAGRAM: "Instagram",
    Platform.REDDIT: "Reddit",
}
MAX_OUTPUT = 20_000  # far above any platform's limit; refuses templates that blow up
_MAX_REPEAT = 2_000
_TEMPLATE_FILE = "<template>"


class TemplateError(KnownError):
    """A template that cannot be rendered: its syntax, an unknown variable, or something the sandbox refused."""

    def __init__(self, message: str, *, line: int | None = None, hint: str = "") -> None:
        super().__init__(f"Line {line}: {message}" if line else message, hint=hint)
        self.line = line


@dataclass(frozen=True)
class Analysis:
    """What the UI needs before rendering: the labels to ask for, in the order they appear."""

    prompts: tuple[str, ...]


@dataclass(frozen=True)
class Moment:
    """A point in time as templates print it; `{{ conversation.opened_at.time }}` and `.iso` too."""

    value: datetime

    @property
    def date(self) -> str:
        return f"{self.value.day} {self.value:%B %Y}"

    @property
    def time(self) -> str:
        return f"{self.value:%H:%M}"

    @property
    def iso(self) -> str:
        return self.value.isoformat()

    def __str__(self) -> str:
        return self.date


@dataclass(frozen=True)
class _Named:
    name: str = ""

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class _Contact:
    name: str = ""
    first_name: str = ""
    handle: str = ""

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class _Conversation:
    opened_at: Moment | str = ""


@dataclass(frozen=True)
class TemplateVariables:
    """The values `{{ … }}` can use; empty strings where nothing is known, so `default(…)` applies."""

    contact_name: str = ""
    contact_handle: str = ""
    agent_name: str = ""
    account_name: str = ""
    platform: str = ""
    opened_at: datetime | None = None

    @property
    def contact_first_name(self) -> str:
        words = self.contact_name.split()
        return words[0] if words else ""

    def namespace(self) -> dict[str, Any]:
        return {
            "contact": _Contact(
                name=self.contact_name or self.contact_handle,
                first_name=self.contact_first_name,
                handle=self.contact_handle,
            ),
            "agent": _Named(self.agent_name),
            "account": _Named(self.account_name),
            "platform": self.platform,
            "conversation": _Conversation(Moment(self.opened_at) if self.opened_at else ""),
        }


def variables_for(facts: ConversationFacts | None, *, agent_name: str, zone: tzinfo | None = None) -> TemplateVariables:
    if facts is None:
        return TemplateVariables(agent_name=agent_name)
    opened = facts.opened_at.astimezone(zone) if facts.opened_at is not None and zone is not None else facts.opened_at
    return TemplateVariables(
        contact_name=facts.contact_name,
        contact_handle=facts.contact_handle,
        agent_name=agent_name,
        account_name=facts.account_name,
        platform=PLATFORM_NAMES.get(facts.platform, facts.platform.value.title()),
        opened_at=opened,
    )


def _default(value: object, fallback: object = "", boolean: bool = True) -> object:
    """Jinja's `default`, but an empty value counts as missing too: `contact.first_name | default("there")`."""
    if isinstance(value, Undefined) or value is None:
        return fallback
    if boolean and isinstance(value, str | list | tuple | dict) and not value:
        return fallback
    return value


class _Sandbox(SandboxedEnvironment):
    """The sandbox, also refusing repetition and powers that would build gigantic values."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*" and any(isinstance(v, str | list | tuple) for v in (left, right)):
            count = right if isinstance(right, int) else left
            if isinstance(count, int) and count > _MAX_REPEAT:
                raise SecurityError(f"repeating text {count} times is refused")
        if operator == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise SecurityError("powers above 64 are refused")
        return super().call_binop(context, operator, left, right)


def _environment() -> SandboxedEnvironment:
    env = _Sandbox(undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True)
    env.globals = {"range": env.globals["range"]}  # no cycler/joiner/namespace/lipsum/dict
    env.filters["default"] = env.filters["d"] = _default
    return env


_ENV = _environment()


def analyse(source: str) -> Analysis:
    """Check a template without rendering it; raise TemplateError naming the first problem's line."""
    _compile(source)
    return Analysis(prompts=tuple(dict.fromkeys(_prompts(_parse(source)))))


def render(source: str, variables: TemplateVariables, answers: Mapping[str, str] | None = None) -> str:
    """The whole text, or TemplateError: never a partial result."""
    answers = dict(answers or {})
    prompts = analyse(source).prompts
    missing = [label for label in prompts if label not in answers]
    if missing:
        raise TemplateError(f"No value was given for “{missing[0]}”.")
    return _render(source, variables, answers.__getitem__)


def preview(source: str, variables: TemplateVariables) -> str:
    """The text with each prompted field shown as [label]; raises TemplateError like `render`."""
    analyse(source)
    return _render(source, variables, lambda label: f"[{label}]")


def _render(source: str, variables: TemplateVariables, ask: Callable[[str], str]) -> str:
    template = _compile(source)
    try:
        text = str(template.render(**variables.namespace(), ask=ask))
    except SecurityError as exc:
        raise TemplateError(
            f"The sandbox refused this template: {exc}", line=_line_of(exc.__traceback__), hint=_INTERNALS_HINT
        ) from None
    except UndefinedError as exc:
        missing = _MISSING_ATTRIBUTE.search(str(exc))
        what = f"Unknown field “{missing.group(1)}”." if missing else f"Unknown variable: {exc}."
        raise TemplateError(what, line=_line_of(exc.__traceback__), hint=_KNOWN_HINT) from None
    except JinjaTemplateError as exc:
        raise TemplateError(str(exc), line=_line_of(exc.__traceback__)) from None
    except (ArithmeticError, TypeError, ValueError, LookupError, AttributeError, RecursionError) as exc:
        raise TemplateError(f"The template failed: {exc}", line=_line_of(exc.__traceback__)) from None
    if len(text) > MAX_OUTPUT:
        raise TemplateError(f"The template produced {len(text):,} characters; at most {MAX_OUTPUT:,} are allowed.")
    return text


_KNOWN_HINT = "Known variables: " + ", ".join(
    [f"{name}.{attr}" for name, attrs in FIELDS.items() for attr in attrs] + list(PLAIN_VARIABLES)
)
_MISSING_ATTRIBUTE = re.compile(r"has no attribute '([^']*)'")
_INTERNALS_HINT = "Templates may use the listed variables and filters only, not Python internals."


def _parse(source: str) -> nodes.Template:
    try:
        return _ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"Syntax error: {exc.message}", line=exc.lineno) from None


def _compile(source: str) -> Any:
    tree = _parse(source)
    _check(tree, source)
    try:
        return _ENV.from_string(tree)
    except TemplateSyntaxError as exc:  # unknown filters and tests are found when compiling
        raise TemplateError(f"Syntax error: {exc.message}", line=exc.lineno) from None


def _check(tree: nodes.Template, source: str) -> None:
    for include in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
        raise TemplateError("Templates cannot include or import other templates.", line=include.lineno)
    unsafe = []
    for access in tree.find_all((nodes.Getattr, nodes.Getitem)):
        name = access.attr if isinstance(access, nodes.Getattr) else _constant(getattr(access, "arg", None))
        if isinstance(name, str) and name.startswith("_"):
            unsafe.append((access.lineno, name))
    if unsafe:  # report the first as written: in ''.__class__.__mro__ that is __class__
        line, name = min(unsafe, key=lambda found: (found[0], source.find(found[1])))
        raise TemplateError(
            f"The sandbox refused “{name}”: templates cannot reach Python internals.", line=line, hint=_INTERNALS_HINT
        )
    names: list[nodes.Name] = list(tree.find_all(nodes.Name))
    local = {n.name for n in names if n.ctx in ("store", "param")} | {"loop", "range"}
    called = {id(call.node) for call in tree.find_all(nodes.Call)}
    for name_node in names:
        if name_node.ctx != "load" or name_node.name in local:
            continue
        if name_node.name == "ask":
            if id(name_node) not in called:
                raise TemplateError('ask needs a label, for example ask("order number").', line=name_node.lineno)
        elif name_node.name not in FIELDS and name_node.name not in PLAIN_VARIABLES:
            raise TemplateError(f"Unknown variable “{name_node.name}”.", line=name_node.lineno, hint=_KNOWN_HINT)
    attributes: list[nodes.Getattr] = list(tree.find_all(nodes.Getattr))
    for attribute in attributes:
        target = attribute.node
        if isinstance(target, nodes.Name) and target.name in FIELDS and target.name not in local:
            if attribute.attr not in FIELDS[target.name]:
                known = ", ".join(f"{target.name}.{attr}" for attr in FIELDS[target.name])
                raise TemplateError(
                    f"Unknown variable “{target.name}.{attribute.attr}”.",
                    line=attribute.lineno,
                    hint=f"Known: {known}.",
                )


def _prompts(tree: nodes.Template) -> list[str]:
    labels = []
    for call in tree.find_all(nodes.Call):
        if not (isinstance(call.node, nodes.Name) and call.node.name == "ask"):
            continue
        label = _constant(call.args[0]) if len(call.args) == 1 and not call.kwargs else None
        if not isinstance(label, str) or not label.strip():
            raise TemplateError('ask takes one quoted label, for example ask("order number").', line=call.lineno)
        labels.append(label)
    return labels


def _constant(node: nodes.Node | None) -> object:
    return node.value if isinstance(node, nodes.Const) else None


def _line_of(trace: TracebackType | None) -> int | None:
    """The template line Jinja maps a runtime error to (its rewritten frames carry the template's name)."""
    line = None
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == _TEMPLATE_FILE:
            line = trace.tb_lineno
        trace = trace.tb_next
    return line
