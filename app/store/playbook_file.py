"""The playbook as a file teams keep in git: YAML, a header document, then one document per answer.

    # Parley playbook …
    parley_playbook: 1
    ---
    uid: 6f1c…            # stable id: import merges by it
    title: Refund policy
    shortcut: ;refund
    category: Billing/Refunds
    language: en
    platforms: [mastodon]
    tags: [refund, billing]
    author: Support team
    notes: When to use it, when not to.
    body: |
      Hi {{ contact.first_name | default("there") }}, …

Only uid, title and body are required. Usage counts stay in the profile. The writer is deterministic
(answers ordered by category, title, uid; fixed field order; empty fields left out), so exporting what
was imported gives the same bytes and diffs stay small.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine

from app.domain.playbook import EntryContent, PlaybookEntry, PlaybookError
from app.store.playbook import checked_content, list_entries

FORMAT_KEY = "parley_playbook"
FORMAT_VERSION = 1
HEADER = (
    "# Parley playbook: the team's canned answers. One YAML document per answer follows this header.\n"
    "# Fields: uid (stable id, required), title (required), shortcut, category (Parent/Child), language,\n"
    '# platforms, tags, author, notes, body (required; a template: {{ contact.name }}, {{ ask("…") }}).\n'
)
_FIELD_ORDER = ("uid", "title", "shortcut", "category", "language", "platforms", "tags", "author", "notes", "body")
_LISTS = {"platforms", "tags"}
_UID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]  # PyYAML ships no type hints
    """Multi-line text as literal blocks, so bodies read (and diff) like the text they are."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


class _Block(str):
    """Text always written as a literal block (answer bodies), even on one line."""


def _represent_block(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="|")


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(_Block, _represent_block)


def dump_playbook(entries: Sequence[PlaybookEntry]) -> str:
    ordered = sorted(entries, key=lambda e: (e.category.casefold(), e.title.casefold(), e.uid))
    documents: list[dict[str, Any]] = [{FORMAT_KEY: FORMAT_VERSION}]
    for entry in ordered:
        values = {"uid": entry.uid, **{name: getattr(entry.content, name) for name in _FIELD_ORDER[1:]}}
        document = {}
        for name in _FIELD_ORDER:
            value = values[name]
            if name in _LISTS:
                value = list(value)
            elif name == "body":
                value = _Block(value)
            if value or name in ("uid", "title", "body"):
                document[name] = value
        documents.append(document)
    text: str = yaml.dump_all(
        documents,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        explicit_start=True,
        width=4096,
    )
    return HEADER + text


def load_playbook(text: str, *, source: str = "The file") -> list[tuple[str, EntryContent]]:
    """(uid, content) per answer, each checked like an entry saved in the editor; PlaybookError naming the
    line of the first problem otherwise. Nothing is stored here."""
    loader = yaml.SafeLoader(text)
    try:
        documents = []
        while loader.check_node():
            node = loader.get_node()
            documents.append((node.start_mark.line + 1, loader.construct_document(node)))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PlaybookError(f"{source} is not valid YAML{where}: {problem}.") from None
    finally:
        loader.dispose()
    if not documents or not isinstance(documents[0][1], dict) or FORMAT_KEY not in documents[0][1]:
        raise PlaybookError(
            f"{source} is not a Parley playbook.", hint=f"A playbook file starts with “{FORMAT_KEY}: 1”."
        )
    version = documents[0][1][FORMAT_KEY]
    if version != FORMAT_VERSION:
        raise PlaybookError(
            f"{source} is a version {version} playbook; this Parley reads version {FORMAT_VERSION}.",
            hint="Update Parley to import it.",
        )
    return [_content(line, document, source) for line, document in documents[1:] if document is not None]


def _content(line: int, document: object, source: str) -> tuple[str, EntryContent]:
    where = f"{source}, line {line}"
    if not isinstance(document, dict):
        raise PlaybookError(f"{where}: an answer must be a set of “field: value” lines.")
    unknown = sorted(str(key) for key in document if key not in _FIELD_ORDER)
    if unknown:
        raise PlaybookError(f"{where}: unknown field “{unknown[0]}”.", hint=f"Known fields: {', '.join(_FIELD_ORDER)}.")
    values: dict[str, Any] = {}
    for name in _FIELD_ORDER:
        value = document.get(name)
        if name in _LISTS:
            value = [] if value is None else value
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise PlaybookError(f"{where}: “{name}” must be a list of words, for example [refund, billing].")
            values[name] = tuple(value)
        else:
            value = "" if value is None else value
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str):
                raise PlaybookError(f"{where}: “{name}” must be text.")
            values[name] = value
    uid = values.pop("uid")
    if not _UID.match(uid):
        raise PlaybookError(
            f"{where}: the answer “{values['title']}” needs a uid of letters, digits, '-', '_', '.' or ':'.",
            hint="The uid is how imports recognise the same answer in every copy of the playbook.",
        )
    try:
        return uid, checked_content(EntryContent(**values))
    except PlaybookError as exc:
        raise PlaybookError(f"{where}: {exc}", hint=exc.hint) from None


def export_playbook(engine: Engine, path: Path) -> int:
    entries = list_entries(engine)
    _write(path, dump_playbook(entries))
    return len(entries)


def read_playbook(path: Path) -> list[tuple[str, EntryContent]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlaybookError(f"Cannot read {path}: {getattr(exc, 'strerror', None) or exc}.") from None
    return load_playbook(text, source=path.name)


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_text(text, encoding="utf-8", newline="\n")
        temporary.replace(path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise PlaybookError(f"Cannot write {path}: {exc.strerror or exc}.") from None
