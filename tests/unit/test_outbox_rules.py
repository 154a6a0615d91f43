"""Outbox review rules: allowed state moves and the optional four-eyes rule for public replies."""

from __future__ import annotations

import pytest

from app.domain.outbox import OutboxRuleError, OutboxState, check_approval, check_move

S = OutboxState


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.DRAFT, S.AWAITING_REVIEW),
        (S.AWAITING_REVIEW, S.APPROVED),
        (S.APPROVED, S.SENDING),
        (S.SENDING, S.SENT),
        (S.FAILED, S.APPROVED),
        (S.HELD, S.APPROVED),
        (S.AWAITING_REVIEW, S.DRAFT),
    ],
)
def test_the_review_path_is_allowed(current: OutboxState, target: OutboxState) -> None:
    check_move(current, target)


@pytest.mark.parametrize(
    ("current", "target"), [(S.DRAFT, S.SENT), (S.SENT, S.DRAFT), (S.AWAITING_REVIEW, S.SENDING), (S.HELD, S.SENDING)]
)
def test_shortcuts_past_review_or_back_from_sent_are_refused(current: OutboxState, target: OutboxState) -> None:
    with pytest.raises(OutboxRuleError):
        check_move(current, target)


def test_public_replies_can_require_a_named_reviewer_other_than_the_author() -> None:
    check_approval(public=True, reviewer="", author="sam", public_needs_reviewer=False)
    check_approval(public=False, reviewer="", author="sam", public_needs_reviewer=True)
    check_approval(public=True, reviewer="Kim", author="sam", public_needs_reviewer=True)
    with pytest.raises(OutboxRuleError, match="name of the reviewer"):
        check_approval(public=True, reviewer=" ", author="sam", public_needs_reviewer=True)
    with pytest.raises(OutboxRuleError, match="someone other than its author"):
        check_approval(public=True, reviewer="Sam", author="sam", public_needs_reviewer=True)
