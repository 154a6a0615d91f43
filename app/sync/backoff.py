"""When to try again after a failure: capped exponential backoff with full jitter, never before retry_at."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# The exponent stops growing here; 2**32 times any sane base is far past every cap.
_MAX_EXPONENT = 32


@dataclass(frozen=True)
class BackoffPolicy:
    """Delay after the n-th consecutive failure: uniform in [minimum, min(cap, base * 2**(n-1))].

    Full jitter (rather than a fixed doubling) keeps many accounts that failed together — a dropped
    network, one instance down — from all retrying in the same second.
    """

    base_s: float = 15.0
    cap_s: float = 900.0
    minimum_s: float = 1.0

    def __post_init__(self) -> None:
        if not 0 <= self.minimum_s <= self.base_s <= self.cap_s:
            raise ValueError("backoff needs 0 <= minimum_s <= base_s <= cap_s")

    def ceiling(self, failures: int) -> float:
        """The largest delay after `failures` consecutive failures (at least one)."""
        exponent = min(max(failures, 1) - 1, _MAX_EXPONENT)
        return min(self.cap_s, self.base_s * 2.0**exponent)

    def delay(self, failures: int, random: Callable[[], float]) -> float:
        """Seconds to wait; `random` returns a float in [0, 1) (injected so tests are deterministic)."""
        ceiling = self.ceiling(failures)
        return max(self.minimum_s, random() * ceiling)


def next_attempt(
    policy: BackoffPolicy,
    failures: int,
    now: datetime,
    random: Callable[[], float],
    *,
    retry_at: datetime | None = None,
) -> datetime:
    """When to try again: the jittered backoff from `now`, but never before the platform's `retry_at`."""
    candidate = now + timedelta(seconds=policy.delay(failures, random))
    if retry_at is not None and retry_at > candidate:
        return retry_at
    return candidate


def retry_at_from_epoch(retry_at: float | None) -> datetime | None:
    """RateLimited.retry_at (UTC epoch seconds, read from Retry-After or a reset header) as a datetime."""
    if retry_at is None:
        return None
    return datetime.fromtimestamp(retry_at, UTC)
