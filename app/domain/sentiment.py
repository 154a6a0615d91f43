"""Local sentiment estimate of a customer message (VADER lexicon; nothing leaves the machine) and what it implies."""

from __future__ import annotations

import functools
from typing import Any

# Scores are VADER's compound value in [-1, 1], stored as whole hundredths in [-100, 100].
NEGATIVE = -5  # VADER's own threshold for "negative" (compound <= -0.05)
POSITIVE = 5
LIKELY_COMPLAINT = -40  # strong enough that the conversation's priority is raised and a marker shown
# VADER's cost grows faster than the text (a 100 KB body takes tens of seconds); the opening of a message
# carries its tone, so only that much is read. Measured: ~25 µs per typical message at this cap (app.domain.vader).
MAX_CHARS = 500

SENTIMENT_LABELS = ("negative", "neutral", "positive")


@functools.cache
def _analyzer() -> Any:
    # Imported on first use: loading the lexicon costs a few milliseconds that a CLI command need not pay.
    from app.domain.vader import FastAnalyzer

    return FastAnalyzer()


def score(text: str) -> int | None:
    """The message's tone in hundredths (-100 very negative .. 100 very positive); None when it has no text."""
    sample = text[:MAX_CHARS].strip()
    if not sample:
        return None
    compound = float(_analyzer().polarity_scores(sample)["compound"])
    return round(compound * 100)


def label(value: int | None) -> str:
    """ "negative", "neutral" or "positive" (a message without text is neutral)."""
    if value is None:
        return "neutral"
    if value <= NEGATIVE:
        return "negative"
    if value >= POSITIVE:
        return "positive"
    return "neutral"


def is_likely_complaint(value: int | None) -> bool:
    return value is not None and value <= LIKELY_COMPLAINT
