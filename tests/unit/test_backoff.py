"""Backoff after failures: capped exponential growth, full jitter from an injected source, retry_at honoured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.sync.backoff import BackoffPolicy, next_attempt, retry_at_from_epoch

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_ceiling_doubles_per_failure_and_stops_at_the_cap() -> None:
    policy = BackoffPolicy(base_s=10, cap_s=100, minimum_s=1)
    assert [policy.ceiling(n) for n in range(1, 7)] == [10, 20, 40, 80, 100, 100]


def test_a_huge_failure_count_stays_at_the_cap_instead_of_overflowing() -> None:
    assert BackoffPolicy(base_s=10, cap_s=100).ceiling(10**6) == 100


def test_delay_is_the_injected_random_fraction_of_the_ceiling() -> None:
    policy = BackoffPolicy(base_s=10, cap_s=100, minimum_s=1)
    assert policy.delay(3, lambda: 0.5) == 20.0
    assert policy.delay(3, lambda: 0.999) == pytest.approx(39.96)


def test_delay_never_drops_below_the_minimum_even_when_the_jitter_draws_zero() -> None:
    assert BackoffPolicy(base_s=10, cap_s=100, minimum_s=2).delay(1, lambda: 0.0) == 2.0


def test_same_random_source_gives_the_same_schedule() -> None:
    import random

    policy = BackoffPolicy()
    first = [policy.delay(n, random.Random(7).random) for n in range(1, 6)]
    second = [policy.delay(n, random.Random(7).random) for n in range(1, 6)]
    assert first == second


def test_retry_at_later_than_the_backoff_wins() -> None:
    retry_at = NOW + timedelta(minutes=15)
    assert next_attempt(BackoffPolicy(), 1, NOW, lambda: 0.5, retry_at=retry_at) == retry_at


def test_retry_at_already_past_does_not_shorten_the_backoff() -> None:
    policy = BackoffPolicy(base_s=10, cap_s=100, minimum_s=1)
    when = next_attempt(policy, 2, NOW, lambda: 0.5, retry_at=NOW - timedelta(minutes=1))
    assert when == NOW + timedelta(seconds=10)


@given(
    failures=st.integers(min_value=0, max_value=200),
    fraction=st.floats(min_value=0, max_value=1, exclude_max=True),
    retry_in=st.one_of(st.none(), st.floats(min_value=-3600, max_value=86400)),
)
def test_next_attempt_is_never_before_retry_at_nor_beyond_the_cap(
    failures: int, fraction: float, retry_in: float | None
) -> None:
    policy = BackoffPolicy(base_s=15, cap_s=900, minimum_s=1)
    retry_at = None if retry_in is None else NOW + timedelta(seconds=retry_in)
    when = next_attempt(policy, failures, NOW, lambda: fraction, retry_at=retry_at)
    assert when >= NOW + timedelta(seconds=policy.minimum_s)
    if retry_at is not None:
        assert when >= retry_at
    latest = NOW + timedelta(seconds=policy.cap_s)
    assert when <= max(latest, retry_at or latest)


@pytest.mark.parametrize(
    ("base", "cap", "minimum"), [(10, 5, 1), (10, 100, 20), (10, 100, -1)], ids=["cap<base", "min>base", "min<0"]
)
def test_inconsistent_policy_is_refused(base: float, cap: float, minimum: float) -> None:
    with pytest.raises(ValueError, match="backoff needs"):
        BackoffPolicy(base_s=base, cap_s=cap, minimum_s=minimum)


def test_rate_limit_epoch_seconds_become_an_aware_utc_datetime() -> None:
    assert retry_at_from_epoch(NOW.timestamp() + 90) == NOW + timedelta(seconds=90)
    assert retry_at_from_epoch(None) is None
