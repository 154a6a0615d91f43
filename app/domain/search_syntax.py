"""The inbox search language: words, "phrases", prefix*, and operators such as from:, tag:, is:, before:."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from app.domain.models import ConversationStatus, Platform
from app.domain.triage import Priority

OPERATORS = (
    "from",
    "platform",
    "account",
    "tag",
    "is",
    "status",
    "sla",
    "assignee",
    "before",
    "after",
    "kind",
    "priority",
    "closed",
)
IS_VALUES = ("unread", "read", "open", "pending", "snoozed", "closed", "mine", "negative")
RELATIVE_DAYS = ("today", "yesterday")
SLA_VALUES = ("breached", "warning", "ok")
_TOKEN = re.compile(r'\s*(?:(?P<op>[A-Za-z]+):(?P<value>"[^"]*"?|\S*)|(?P<phrase>"[^"]*"?)|(?P<word>\S+))')


class SearchSyntaxError(ValueError):
    """A query the inbox cannot run; `position` points at the offending text for an inline hint."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


@dataclass(frozen=True)
class Term:
    text: str
    prefix: bool = False
    phrase: bool = False


@dataclass(frozen=True)
class SearchQuery:
    terms: tuple[Term, ...] = ()
    authors: tuple[str, ...] = ()
    platforms: tuple[Platform, ...] = ()
    accounts: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    statuses: tuple[ConversationStatus, ...] = ()
    flags: frozenset[str] = field(default_factory=frozenset)
    sla: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    before: datetime | None = None
    after: datetime | None = None
    priorities: tuple[Priority, ...] = ()
    closed_on: str | None = None  # "today", "yesterday" or an ISO date, read in the display time zone
    # Names exactly as stored (the sidebar's team entries); typed `assignee:` values match in any case.
    exact_assignees: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return self == SearchQuery()


def parse_query(text: str) -> SearchQuery:
    """Parse a search box's text; raise SearchSyntaxError with a position for anything it cannot read."""
    values: dict[str, list[object]] = {name: [] for name in OPERATORS}
    terms: list[Term] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            break
        start = next(match.start(g) for g in ("op", "phrase", "word") if match.group(g) is not None)
        position = match.end()
        if match.group("op") is not None:
            name, value = match.group("op").lower(), _unquote(match.group("value"), start)
            if name not in OPERATORS:
                raise SearchSyntaxError(
                    f"Unknown filter '{name}:'. Try one of: {', '.join(o + ':' for o in OPERATORS)}", start
                )
            if not value:
                raise SearchSyntaxError(f"'{name}:' needs a value, for example {_example(name)}", start)
            values[name].append(_operator_value(name, value, start))
        elif match.group("phrase") is not None:
            phrase = _unquote(match.group("phrase"), start)
            words = _words(phrase)
            if words:
                terms.append(Term(" ".join(words), phrase=True))
        else:
            raw = match.group("word")
            prefix = raw.endswith("*")
            words = _words(raw.rstrip("*"))
            if prefix and not words:
                raise SearchSyntaxError("A '*' must follow the start of a word, as in refun*", start)
            terms.extend(Term(word, prefix=prefix and index == len(words) - 1) for index, word in enumerate(words))
    before = min(values["before"], default=None)  # type: ignore[type-var]
    after = max(values["after"], default=None)  # type: ignore[type-var]
    return SearchQuery(
        terms=tuple(terms),
        authors=tuple(str(v).lstrip("@").lower() for v in values["from"]),
        platforms=tuple(values["platform"]),  # type: ignore[arg-type]
        accounts=tuple(str(v) for v in values["account"]),
        tags=tuple(str(v).lower() for v in values["tag"]),
        statuses=tuple(values["status"]),  # type: ignore[arg-type]
        flags=frozenset(str(v) for v in values["is"]),
        sla=tuple(str(v) for v in values["sla"]),
        assignees=tuple(str(v) for v in values["assignee"]),
        kinds=tuple(str(v) for v in values["kind"]),
        before=before,  # type: ignore[arg-type]
        after=after,  # type: ignore[arg-type]
        priorities=tuple(values["priority"]),  # type: ignore[arg-type]
        closed_on=str(values["closed"][-1]) if values["closed"] else None,
    )


def _unquote(value: str, position: int) -> str:
    if value.startswith('"'):
        if len(value) < 2 or not value.endswith('"'):
            raise SearchSyntaxError('A quoted phrase is missing its closing "', position)
        return value[1:-1]
    return value


def _words(text: str) -> list[str]:
    # FTS5's unicode61 tokenizer splits on anything that is not a letter or digit; do the same.
    return [w for w in re.split(r"[^\w]+", text, flags=re.UNICODE) if w]


def _operator_value(name: str, value: str, position: int) -> object:
    lowered = value.lower()
    if name == "platform":
        try:
            return Platform(lowered)
        except ValueError:
            raise SearchSyntaxError(
                f"Unknown platform '{value}'. Try: {', '.join(p.value for p in Platform)}", position
            ) from None
    if name == "status":
        try:
            return ConversationStatus(lowered)
        except ValueError:
            raise SearchSyntaxError(
                f"Unknown status '{value}'. Try: open, pending, snoozed, closed", position
            ) from None
    if name == "is" and lowered not in IS_VALUES:
        raise SearchSyntaxError(f"Unknown 'is:{value}'. Try: {', '.join('is:' + v for v in IS_VALUES)}", position)
    if name == "sla" and lowered not in SLA_VALUES:
        raise SearchSyntaxError(f"Unknown 'sla:{value}'. Try: sla:breached, sla:warning, sla:ok", position)
    if name == "priority":
        try:
            return Priority.parse(value)
        except ValueError as exc:
            raise SearchSyntaxError(str(exc), position) from None
    if name == "closed":
        if lowered in RELATIVE_DAYS:
            return lowered
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise SearchSyntaxError(
                f"'closed:' takes today, yesterday or a date like 2026-03-31, not '{value}'", position
            ) from None
    if name in ("before", "after"):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise SearchSyntaxError(f"'{name}:' takes a date like 2026-03-31, not '{value}'", position) from None
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    return lowered if name in ("is", "sla", "kind") else value


def _example(name: str) -> str:
    return {
        "from": "from:@maria",
        "platform": "platform:mastodon",
        "tag": "tag:complaint",
        "is": "is:unread",
        "status": "status:pending",
        "sla": "sla:breached",
        "before": "before:2026-03-31",
        "after": "after:2026-03-01",
        "assignee": "assignee:Sam",
        "account": "account:brand",
        "kind": "kind:dm",
        "priority": "priority:high",
        "closed": "closed:today",
    }[name]
