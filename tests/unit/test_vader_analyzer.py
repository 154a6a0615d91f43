"""The faster VADER analyser scores every message exactly as stock vaderSentiment does."""

from __future__ import annotations

import random

import pytest
from vaderSentiment.vaderSentiment import BOOSTER_DICT, NEGATE, SPECIAL_CASES, SentimentIntensityAnalyzer

from app.domain import sentiment
from app.domain.vader import FastAnalyzer

CRAFTED = [
    "I am NOT happy, never so bad!!",
    "kind of good but really awful :(",
    "without doubt the best 😀 ever",
    "no good at all",
    "no, it is fine",
    "at least it works",
    "least helpful reply I have had",
    "this is the bomb",
    "yeah right, sort of fine",
    "I don't like it ???",
    "never this good",
    "Not bad at all 🙂🙂",
    "DREADFUL service, LOVE you though",
    "The parcel is late. Refund me NOW!!!!",
    "👍",
    "   ",
    "",
    "great great great but terrible terrible",
    "it isn't kind of nice, it was the shit",
    "GOOD",
]


def _random_texts(count: int) -> list[str]:
    """Sentences mixing VADER's special words (negations, boosters, idioms, 'but', caps, emoji, punctuation)."""
    rng = random.Random(20260101)
    specials = list(NEGATE) + list(BOOSTER_DICT) + [w for case in SPECIAL_CASES for w in case.split()]
    plain = "good bad love hate refund late parcel awful great kind of no least at very never so this doubt".split()
    extras = ["but", "BUT", "😀", "😡", ":)", ":(", "!", "??", "...", "LOVE", "HATE", "n't", "without"]
    vocabulary = specials + plain * 3 + extras
    return [" ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 40))) for _ in range(count)]


@pytest.mark.parametrize("text", CRAFTED)
def test_crafted_texts_score_as_stock_vader(text: str) -> None:
    """Each rule VADER applies (negation, 'but', idioms, 'least', caps, emoji, emphasis) gives the same scores."""
    assert FastAnalyzer().polarity_scores(text) == SentimentIntensityAnalyzer().polarity_scores(text)


def test_random_mixtures_of_special_words_score_as_stock_vader() -> None:
    """Thousands of sentences dense in negations, boosters and idioms: not one score differs."""
    stock, fast = SentimentIntensityAnalyzer(), FastAnalyzer()
    texts = _random_texts(3000)
    differing = [t for t in texts if fast.polarity_scores(t) != stock.polarity_scores(t)]
    assert differing == []


def test_one_analyser_scores_interleaved_messages_independently() -> None:
    """The per-message lower-cased words are not reused for the next message (each text scored alone)."""
    fast, stock = FastAnalyzer(), SentimentIntensityAnalyzer()
    first, second = "never so good", "no refund but I am not angry"
    assert [fast.polarity_scores(t) for t in (first, second, first)] == [
        stock.polarity_scores(t) for t in (first, second, first)
    ]


def test_store_scoring_uses_the_fast_analyser_with_the_same_result() -> None:
    """sentiment.score, which ingest calls, keeps VADER's compound in hundredths."""
    text = "The parcel never arrived and support is useless"
    expected = round(SentimentIntensityAnalyzer().polarity_scores(text)["compound"] * 100)
    assert isinstance(sentiment._analyzer(), FastAnalyzer)
    assert sentiment.score(text) == expected < 0
