"""VADER's analyser with the same scores at a fraction of the cost (vaderSentiment is pinned: this leans on it).

The stock analyser lower-cases the whole message again for every word it checks for negation or an idiom
(quadratic in the message's length) and rebuilds the text character by character to swap emoji for words.
This one lower-cases each message once, skips the emoji pass when the text has none and words that are not
in the lexicon (they score 0 without looking at their neighbours); everything else
is VADER's own code, so a score is the same to the last digit (tests compare the two on varied text).
"""

from __future__ import annotations

from typing import Any

from vaderSentiment import vaderSentiment as _vader


class FastAnalyzer(_vader.SentimentIntensityAnalyzer):  # type: ignore[misc]  # the package has no types
    def __init__(self) -> None:
        super().__init__()
        # Only single characters can match VADER's character-by-character emoji swap.
        self._emoji_chars = frozenset(key for key in self.emojis if len(key) == 1)
        # (words, lowered words) of the message being scored; one tuple so threads never see a torn pair.
        self._lowered: tuple[list[str] | None, list[str]] = (None, [])

    def polarity_scores(self, text: str) -> dict[str, float]:
        if not self._emoji_chars.isdisjoint(text):
            return dict(super().polarity_scores(text))
        return self._scores(text.strip())

    def _scores(self, text: str) -> dict[str, float]:
        # VADER's polarity_scores after its emoji pass, which changes nothing in text without emoji.
        sentitext = _vader.SentiText(text)
        sentiments: list[Any] = []
        words = sentitext.words_and_emoticons
        lowered = self._lower(words)
        lexicon = self.lexicon
        for i, item in enumerate(words):
            if lowered[i] in _vader.BOOSTER_DICT:
                sentiments.append(0)
                continue
            if i < len(words) - 1 and lowered[i] == "kind" and lowered[i + 1] == "of":
                sentiments.append(0)
                continue
            if lowered[i] not in lexicon:  # sentiment_valence would add a 0 for it too
                sentiments.append(0)
                continue
            sentiments = self.sentiment_valence(0, sentitext, item, i, sentiments)
        sentiments = self._but_check(words, sentiments)
        return dict(self.score_valence(sentiments, text))

    def _lower(self, words: list[str]) -> list[str]:
        cached_words, cached = self._lowered
        if cached_words is words:
            return cached
        lowered = [str(w).lower() for w in words]
        self._lowered = (words, lowered)
        return lowered

    def _negation_check(self, valence: float, words: list[str], start_i: int, i: int) -> float:
        lowered = self._lower(words)
        before = lowered[i - (start_i + 1)]
        if start_i == 1:
            if lowered[i - 2] == "never" and lowered[i - 1] in ("so", "this"):
                return valence * 1.25
            if lowered[i - 2] == "without" and lowered[i - 1] == "doubt":
                return valence
        if start_i == 2:
            if (lowered[i - 3] == "never" and lowered[i - 2] in ("so", "this")) or lowered[i - 1] in ("so", "this"):
                return valence * 1.25
            if lowered[i - 3] == "without" and (lowered[i - 2] == "doubt" or lowered[i - 1] == "doubt"):
                return valence
        if _negates(before):
            return valence * float(_vader.N_SCALAR)
        return float(valence)

    def _special_idioms_check(self, valence: float, words: list[str], i: int) -> float:
        lowered = self._lower(words)
        one_zero = f"{lowered[i - 1]} {lowered[i]}"
        two_one_zero = f"{lowered[i - 2]} {lowered[i - 1]} {lowered[i]}"
        two_one = f"{lowered[i - 2]} {lowered[i - 1]}"
        three_two_one = f"{lowered[i - 3]} {lowered[i - 2]} {lowered[i - 1]}"
        three_two = f"{lowered[i - 3]} {lowered[i - 2]}"
        for sequence in (one_zero, two_one_zero, two_one, three_two_one, three_two):
            if sequence in _vader.SPECIAL_CASES:
                valence = _vader.SPECIAL_CASES[sequence]
                break
        if len(lowered) - 1 > i:
            zero_one = f"{lowered[i]} {lowered[i + 1]}"
            if zero_one in _vader.SPECIAL_CASES:
                valence = _vader.SPECIAL_CASES[zero_one]
        if len(lowered) - 1 > i + 1:
            zero_one_two = f"{lowered[i]} {lowered[i + 1]} {lowered[i + 2]}"
            if zero_one_two in _vader.SPECIAL_CASES:
                valence = _vader.SPECIAL_CASES[zero_one_two]
        for n_gram in (three_two_one, three_two, two_one):
            if n_gram in _vader.BOOSTER_DICT:
                valence = valence + _vader.BOOSTER_DICT[n_gram]
        return float(valence)


_NEGATE = frozenset(_vader.NEGATE)


def _negates(word: str) -> bool:
    """VADER's `negated([word])` for one already lower-cased word."""
    return word in _NEGATE or "n't" in word
