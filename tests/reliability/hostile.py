"""Hypothesis strategies for hostile platform payloads: wrong types, odd unicode, odd timestamps, mutations."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Small example counts keep the suite fast; each example is a full HTTP fetch and a store transaction.
PAYLOAD_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

SPECIAL_TEXT = (
    "\u202eevil\u202c",  # right-to-left override
    "שלום עולם مرحبا",  # RTL scripts
    "\u200f\u200e\u061c",  # direction marks
    "Z\u0351\u0352\u0353\u0354a\u0300\u0301\u0302\u0303l\u0334\u0335\u0336go",  # stacked combining marks
    "e\u0301" * 50,
    "👩\u200d👩\u200d👧\u200d👦 🏳️\u200d🌈 👨🏽\u200d💻",  # emoji ZWJ sequences and modifiers
    "nul\x00byte",
    "\x00",
    "\ud800",  # a lone high surrogate (JSON can carry one as an escape)
    "x\udfffy",  # a lone low surrogate
    "\ufeffbom",
    "line\u2028sep\u2029para",
    "\uffff\ufffe",
    "𝕳𝖔𝖘𝖙𝖎𝖑𝖊 \U0010ffff",
    "<b>not markup</b> &amp; &#0; &#xD800;",
)

hostile_text = st.one_of(
    st.sampled_from(SPECIAL_TEXT),
    st.text(st.one_of(st.characters(), st.sampled_from("\x00\u202e\u200d\u0301\ud800\udc00")), max_size=40),
)

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    hostile_text,
    st.lists(st.one_of(st.none(), st.integers(), hostile_text), max_size=3),
    st.dictionaries(hostile_text, st.one_of(st.none(), st.integers(), hostile_text), max_size=3),
)

ODD_ISO_TIMESTAMPS = (
    "9999-12-31T23:59:59.999999Z",
    "9999-12-31T23:59:59-12:00",  # past the last representable moment once in UTC
    "0001-01-01T00:00:00+14:00",  # before the first one
    "0001-01-01T00:00:00Z",
    "1970-01-01T00:00:00Z",
    "1969-12-31T23:59:59Z",
    "2999-01-01T00:00:00Z",
    "+275760-09-13T00:00:00Z",
    "2026-13-45T99:99:99Z",
    "2026-02-30T10:00:00Z",
    "2026-01-01",
    "2026-01-01T00:00:00",
    "2026-01-01T00:00:00.123456789Z",
    "2026-01-01 10:00:00+05:45",
    "20260101T100000Z",
    "2026-W01-1",
    "Mon, 05 Jan 2026 10:00:00 GMT",
    "",
    "   ",
    "yesterday",
    "2026-01-01T00:00:00Z\x00",
)

odd_timestamp = st.one_of(
    st.sampled_from(ODD_ISO_TIMESTAMPS),
    st.datetimes().map(lambda moment: moment.isoformat()),
    junk,
)

# Epoch milliseconds as Matrix sends them, and what a broken server might send instead.
odd_millis = st.one_of(
    st.sampled_from([0, -1, 2**53, 2**63, -(2**63), 253_402_300_800_000, 99_999_999_999_999, 1.5e300]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**80), max_value=2**80),
    junk,
)


def mutate(payload: dict[str, Any], path: tuple[str, ...], action: str, value: Any) -> dict[str, Any]:
    """A deep copy of `payload` with the field at `path` dropped, replaced by `value`, or given an extra sibling."""
    result = copy.deepcopy(payload)
    parent: Any = result
    for key in path[:-1]:
        if not isinstance(parent, dict) or not isinstance(parent.get(key), dict):
            return result
        parent = parent[key]
    last = path[-1]
    if action == "drop":
        parent.pop(last, None)
    elif action == "replace":
        parent[last] = value
    else:  # "extra": an unknown field next to the known ones
        parent[f"x_{last}_extra"] = value
    return result


def mutations(paths: list[tuple[str, ...]], values: st.SearchStrategy[Any] = junk) -> st.SearchStrategy[Any]:
    return st.tuples(st.sampled_from(paths), st.sampled_from(["drop", "replace", "extra"]), values)


def nested_json(depth: int) -> str:
    """JSON text nested `depth` levels deep (objects inside lists inside objects), built without recursion."""
    opening = "".join('{"n":' if level % 2 == 0 else "[" for level in range(depth))
    closing = "".join("}" if level % 2 == 0 else "]" for level in reversed(range(depth)))
    return opening + '"bottom"' + closing
