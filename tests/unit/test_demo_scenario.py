"""The demo's planned story: deterministic, varied, and big enough to fill an inbox."""

from __future__ import annotations

from collections import Counter

from app.demo.scenario import plan_demo


def test_plan_is_deterministic() -> None:
    first, second = plan_demo(), plan_demo()
    assert [[p.text for p in t] for t in first.threads] == [[p.text for p in t] for t in second.threads]


def test_plan_covers_the_situations_a_brand_meets() -> None:
    plan = plan_demo()
    openers = [thread[0] for thread in plan.threads]
    visibilities = Counter(post.visibility for post in openers)
    # DMs from one customer share a conversation, so public threads carry most of the 200+ conversations.
    direct_authors = {post.author for post in openers if post.visibility == "direct"}
    assert visibilities["public"] + len(direct_authors) >= 220
    texts = " ".join(post.text for post in openers)
    for needle in ("refund", "Bestellung", "veste", "crashes", "Shameful", "Classic wool hat"):
        assert needle in texts
    longest = max(plan.threads, key=len)
    assert len(longest) >= 10 and any(p.reply_to not in (None, 0) for p in longest), "a reply tree, not a list"
    answered = sum(1 for thread in plan.threads if any(p.author == plan.brand.username for p in thread))
    assert 0.3 < answered / len(plan.threads) < 0.6, "some conversations answered, most still waiting"
