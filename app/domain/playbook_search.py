"""Finding answers: fuzzy filtering as the user types, and suggestions ranked for one conversation."""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from app.domain.playbook import ConversationFacts, EntryContent, PlaybookEntry

MATCH_THRESHOLD = 60  # the score (see _word_score) a query word must reach in some field
RELATIVE_FLOOR = 0.3  # a suggestion scores at least this share of the best one
_FUZZY_RATIO = 80  # rapidfuzz partial_ratio that counts as a near miss
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)

_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "the a an and or but is are was were be been my me i you your it its to of in on at for with this that "
        "have has had not no do does did can could will would should where what when why how just so "
        "we our they them he she his her there here from by as about hasn't haven't isn't wasn't don't "
        "didn't can't won't i'm it's you're".split()
    ),
    "de": frozenset(
        "der die das und oder aber ist sind war waren ich du sie er es wir ihr mein meine meinen mir mich "
        "dein nicht kein keine noch wo was wann warum wie mit von zu auf für bei aus ein eine einen dem den "
        "des schon bitte hallo seit immer habe hat haben".split()
    ),
    "fr": frozenset(
        "le la les et ou mais est sont était je tu il elle nous vous ils elles mon ma mes ton ta ne pas plus "
        "où quand pourquoi comment avec de du des pour par sur un une dans toujours bonjour merci c'est "
        "j'ai n'est ai a".split()
    ),
    "es": frozenset(
        "el la los las y o pero es son era yo tú él ella nosotros mi mis tu no ni dónde donde cuándo por "
        "qué que cómo con de del para un una en todavía aún hola gracias está están he ha mí".split()
    ),
}
_ALL_STOPWORDS = frozenset().union(*_STOPWORDS.values())
_SUFFIXES = (
    ("ations", ""),
    ("ation", ""),
    ("ings", ""),
    ("ing", ""),
    ("ies", "i"),
    ("ed", ""),
    ("es", ""),
    ("ly", ""),
    ("s", ""),
    ("e", ""),
)


@dataclass(frozen=True)
class Suggestion:
    entry: PlaybookEntry
    score: float


def search(entries: Sequence[PlaybookEntry], query: str) -> list[PlaybookEntry]:
    """Entries where every query word matches title, shortcut, tags, category or text; best first.

    Matching is fuzzy (rapidfuzz partial ratio) so a typo still finds the answer; words of one or
    two letters must appear as typed.
    """
    words = query.casefold().split()
    if not words:
        return list(entries)
    scored = []
    for position, entry in enumerate(entries):
        fields = (
            (entry.title.casefold(), 1.0),
            (entry.shortcut.casefold(), 1.0),
            (" ".join(entry.content.tags).casefold(), 0.9),
            (entry.category.casefold(), 0.8),
            (entry.body.casefold(), 0.7),
        )
        total = 0.0
        for word in words:
            scores = [(_word_score(word, text), weight) for text, weight in fields]
            if max(score for score, _ in scores) < MATCH_THRESHOLD:
                break
            total += max(score * weight for score, weight in scores)
        else:
            scored.append((-total, position, entry))
    return [entry for _, _, entry in sorted(scored, key=lambda item: item[:2])]


def _word_score(word: str, text: str) -> float:
    """100 for the whole word, 92 for the start of a word, 60-70 for a near miss or a match inside a word."""
    if not text:
        return 0.0
    if word in text:
        if re.search(r"(?<!\w)" + re.escape(word), text) is None:
            return 60.0
        return 100.0 if re.search(r"(?<!\w)" + re.escape(word) + r"(?!\w)", text) else 92.0
    if len(word) < 3:
        return 0.0
    ratio = float(fuzz.partial_ratio(word, text))
    return 60.0 + (ratio - _FUZZY_RATIO) * 0.5 if ratio >= _FUZZY_RATIO else 0.0


def guess_language(text: str) -> str:
    """'en', 'de', 'fr' or 'es' by counting common words; '' when the text does not say clearly."""
    counts: Counter[str] = Counter()
    for word in _words(text):
        for language, stopwords in _STOPWORDS.items():
            if word in stopwords:
                counts[language] += 1
    ranked = counts.most_common(2)
    if not ranked or ranked[0][1] < 2:
        return ""
    if len(ranked) > 1 and ranked[1][1] * 1.5 > ranked[0][1]:
        return ""
    return ranked[0][0]


def suggest(entries: Sequence[PlaybookEntry], facts: ConversationFacts, limit: int = 3) -> list[Suggestion]:
    """The entries that fit this conversation best: words of the last inbound message (rarer words count
    more), shared tags, then platform and language as multipliers. Entries with no signal, or far behind
    the best one (a stray common word), are left out."""
    if not entries:
        return []
    message = {_stem(word) for word in _words(facts.last_inbound_text) if word not in _ALL_STOPWORDS}
    message.discard("")
    profiles = [_profile(entry.content) for entry in entries]
    frequency: Counter[str] = Counter(stem for profile in profiles for stem in profile)
    # Near misses ('deliveri' ~ 'deliver') are looked up once against every stem the playbook uses.
    near = {stem: _near_stems(stem, frequency) for stem in message}
    language = guess_language(facts.last_inbound_text)
    conversation_tags = {tag.casefold() for tag in facts.tags}
    suggestions = []
    for entry, profile in zip(entries, profiles, strict=True):
        score = 0.0
        for stem in message:
            weight = profile.get(stem, 0.0) or max((profile.get(other, 0.0) * 0.8 for other in near[stem]), default=0)
            if weight:
                score += weight * math.log(1 + len(entries) / max(1, frequency.get(stem, 1)))
        score += 6.0 * len(conversation_tags & set(entry.content.tags))  # a tag the team chose is a strong hint
        if score <= 0:
            continue
        if entry.content.platforms:
            score *= 1.2 if facts.platform.value in entry.content.platforms else 0.4
        if language and entry.content.language:
            score *= 1.5 if entry.content.language == language else 0.25
        score += 0.01 * math.log1p(entry.usage_count)  # breaks ties towards what the team uses
        suggestions.append(Suggestion(entry, score))
    suggestions.sort(key=lambda s: -s.score)
    if suggestions:
        floor = suggestions[0].score * RELATIVE_FLOOR
        suggestions = [s for s in suggestions if s.score >= floor]
    return suggestions[:limit]


@functools.lru_cache(maxsize=4096)
def _profile(content: EntryContent) -> dict[str, float]:
    """Each stem of an entry with the weight of the strongest field it appears in (cached by content)."""
    weighted: dict[str, float] = {}
    for text, weight in (
        (content.title, 3.0),
        (" ".join(content.tags), 3.0),
        (content.shortcut, 2.0),
        (content.category.replace("/", " "), 1.5),
        (_without_template_code(content.body), 1.0),
    ):
        for word in _words(text):
            if word in _ALL_STOPWORDS:
                continue
            stem = _stem(word)
            if stem and weight > weighted.get(stem, 0.0):
                weighted[stem] = weight
    return weighted


def _near_stems(stem: str, vocabulary: Iterable[str]) -> list[str]:
    if len(stem) < 5:
        return []
    candidates = [word for word in vocabulary if len(word) >= 5 and word != stem]
    return [
        match
        for match, _score, _index in process.extract(stem, candidates, scorer=fuzz.ratio, score_cutoff=88, limit=None)
    ]


def _without_template_code(body: str) -> str:
    return re.sub(r"\{\{.*?\}\}|\{%.*?%\}", " ", body, flags=re.S)


def _words(text: str) -> Iterable[str]:
    return (match.group(0) for match in _WORD.finditer(text.casefold().replace("’", "'")))


def _stem(word: str) -> str:
    """A crude stem, good enough to meet 'delivered'/'delivery' or 'refunds'/'refund' halfway."""
    word = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
    word = word.split("'")[0] if word.endswith(("'s", "'t")) else word.replace("'", "")
    if len(word) < 3:
        return ""
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)] + replacement
            break
    if word.endswith("y") and len(word) > 4:
        word = word[:-1] + "i"
    return word
