"""Bluesky's record keys made from idempotency keys, and its grapheme count for the post limit."""

from __future__ import annotations

import re

import pytest

from app.platforms.bluesky_parse import graphemes, tid_for

# The TID syntax from the AT Protocol spec: 13 base32-sortable characters, the first with its top bit clear.
TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")


def test_a_record_key_is_a_valid_tid_the_same_for_one_key_and_different_for_another() -> None:
    keys = [f"parley-{n}" for n in range(2000)]
    tids = [tid_for(key) for key in keys]
    assert all(TID.match(tid) for tid in tids)
    assert tid_for("parley-7") == tids[7]
    assert len(set(tids)) == len(tids)


@pytest.mark.parametrize(
    "text,count",
    [
        ("hello", 5),
        ("e\u0301" * 3, 3),  # combining accents belong to their letter
        ("👩\u200d👩\u200d👧\u200d👦", 1),  # a family joined by zero-width joiners
        ("👍🏽", 1),  # a skin-tone modifier
        ("🇳🇴🇩🇪", 2),  # two flags, each a pair of regional indicators
        ("❤️", 1),  # a variation selector
        ("日本語", 3),
    ],
)
def test_graphemes_count_what_a_person_sees(text: str, count: int) -> None:
    assert graphemes(text) == count
