"""Deterministic benchmark data: N messages in N/5 conversations across platforms, kinds and languages."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.domain.models import Direction, FetchedMessage, Identity, MessageKind, Platform, Visibility

SEED = 1_000_003
START = datetime(2025, 6, 1, tzinfo=UTC)

ACCOUNTS = (
    ("brand-mastodon", Platform.MASTODON, 0.5),
    ("brand-matrix", Platform.MATRIX, 0.2),
    ("brand-support", Platform.MASTODON, 0.3),
)
KINDS = ((MessageKind.MENTION, 0.45), (MessageKind.DM, 0.3), (MessageKind.COMMENT, 0.15), (MessageKind.REPLY, 0.1))
VOCABULARY = {
    "en": "order delivery late refund parcel jacket boots tent size shipping thanks great broken zip return "
    "payment tracking weekend customer service help please still waiting warranty exchange store app".split(),
    "de": "bestellung lieferung paket rückerstattung danke jacke größe versand warten hilfe bitte".split(),
    "fr": "commande livraison colis remboursement merci veste taille expédition attendre aide".split(),
    "es": "pedido entrega paquete reembolso gracias chaqueta talla envío esperar ayuda".split(),
}
LANGUAGES = (("en", 0.7), ("de", 0.1), ("fr", 0.1), ("es", 0.1))


@dataclass(frozen=True)
class GeneratedMessage:
    account: int
    message: FetchedMessage


def _weighted(rng: random.Random, choices: tuple[tuple[object, float], ...]) -> object:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def generate(total: int, *, seed: int = SEED) -> Iterator[GeneratedMessage]:
    """Messages oldest first; about five per conversation; bodies from a few words to a long complaint."""
    rng = random.Random(seed)
    conversations = max(1, total // 5)
    span = timedelta(days=180)
    step = span / max(total, 1)
    account_weights = tuple((index, weight) for index, (_, _, weight) in enumerate(ACCOUNTS))
    # Each conversation gets an account, kind, customer and language once; messages are then dealt to
    # conversations at random, so threads have varied lengths and interleave in time as real ones do.
    meta = []
    for number in range(conversations):
        account = int(_weighted(rng, account_weights))  # type: ignore[call-overload]
        kind = _weighted(rng, KINDS)
        language = str(_weighted(rng, LANGUAGES))
        meta.append((account, kind, f"c{rng.randrange(conversations * 2)}", language, number))
    last_in_conversation: dict[int, str] = {}
    for index in range(total):
        conversation = index if index < conversations else rng.randrange(conversations)
        account, kind, customer, language, number = meta[conversation]
        outbound = index >= conversations and rng.random() < 0.35
        words = VOCABULARY[language]
        length = min(400, max(3, int(rng.lognormvariate(2.8, 0.8))))
        text = " ".join(rng.choice(words) for _ in range(length))
        pid = f"{account}-{index}"
        author = Identity("brand", "@brand", "Brand") if outbound else Identity(customer, f"@{customer}", customer)
        yield GeneratedMessage(
            account,
            FetchedMessage(
                platform_message_id=pid,
                conversation_key=f"conv-{number}",
                author=author,
                kind=kind,  # type: ignore[arg-type]
                direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
                created_at=START + step * index,
                text=text,
                html=f"<p>{text}</p>",
                parent_platform_id=last_in_conversation.get(conversation),
                visibility=Visibility.DIRECT if kind is MessageKind.DM else Visibility.PUBLIC,
                raw={"id": pid, "lang": language},
            ),
        )
        last_in_conversation[conversation] = pid
