"""Meta's messaging windows as a pure rule: 24 hours for a response, 7 days with the Human Agent tag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.messaging_window import private_reply_rule, reply_rule
from app.domain.models import MessageKind, Platform

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("platform", [Platform.FACEBOOK, Platform.INSTAGRAM])
def test_a_reply_within_24_hours_is_a_response_and_one_second_later_is_refused(platform: Platform) -> None:
    inside = reply_rule(platform, MessageKind.DM, NOW - timedelta(hours=24), NOW)
    outside = reply_rule(platform, MessageKind.DM, NOW - timedelta(hours=24, seconds=1), NOW)

    assert (inside.allowed, inside.messaging_type, inside.tag) == (True, "RESPONSE", None)
    assert not outside.allowed and "24 hours" in outside.reason and "comments" in outside.alternative


def test_the_human_agent_tag_stretches_the_window_to_seven_days_and_no_further() -> None:
    late = reply_rule(Platform.FACEBOOK, MessageKind.DM, NOW - timedelta(days=6), NOW, human_agent=True)
    too_late = reply_rule(Platform.FACEBOOK, MessageKind.DM, NOW - timedelta(days=8), NOW, human_agent=True)

    assert (late.allowed, late.messaging_type, late.tag) == (True, "MESSAGE_TAG", "HUMAN_AGENT")
    assert not too_late.allowed and "8 days ago" in too_late.reason and "Human Agent" not in too_late.alternative


def test_nobody_who_never_wrote_can_be_messaged_and_other_platforms_and_comments_are_unaffected() -> None:
    assert not reply_rule(Platform.INSTAGRAM, MessageKind.DM, None, NOW).allowed
    assert reply_rule(Platform.FACEBOOK, MessageKind.COMMENT, NOW - timedelta(days=90), NOW).allowed
    assert reply_rule(Platform.MASTODON, MessageKind.DM, NOW - timedelta(days=90), NOW).allowed


def test_a_private_reply_is_possible_for_seven_days_after_the_comment() -> None:
    assert private_reply_rule(NOW - timedelta(days=7), NOW).allowed
    refused = private_reply_rule(NOW - timedelta(days=7, minutes=1), NOW)
    assert not refused.allowed and refused.alternative == "Reply publicly to the comment instead."
