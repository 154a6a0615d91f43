"""The demo's story, planned deterministically: who writes what to the brand, and which get answered."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.demo.resources import demo_file

SEED = 20261123


@dataclass(frozen=True)
class Customer:
    username: str
    display_name: str
    language: str


@dataclass
class PlannedPost:
    """One post; `reply_to` points at an earlier post of the same plan by index (None: starts a thread)."""

    author: str
    text: str
    visibility: str
    reply_to: int | None = None


@dataclass
class Plan:
    brand: Customer
    customers: list[Customer]
    threads: list[list[PlannedPost]] = field(default_factory=list)


def load_scenario(path: Path | None = None) -> dict[str, Any]:
    with (path or demo_file("scenario.json")).open(encoding="utf-8") as handle:
        return dict(json.load(handle))


def plan_demo(openers: int = 340, *, seed: int = SEED, scenario: dict[str, Any] | None = None) -> Plan:
    """A few hundred varied conversations: each a list of posts in the order they are made."""
    data = scenario or load_scenario()
    rng = random.Random(seed)
    brand = Customer(data["brand"]["username"], data["brand"]["display_name"], "en")
    customers = [Customer(*row) for row in data["customers"]]
    plan = Plan(brand=brand, customers=customers)
    topics = data["topics"]
    topic_names = sorted(topics)
    for index in range(openers):
        customer = _pick_customer(rng, customers, topics, topic_names)
        topic = topics[customer[1]]
        plan.threads.append(_topic_thread(rng, brand, customer[0], topic, data["brand_replies"], index))
    plan.threads.append(_angry_thread(rng, brand, customers, data["angry_thread"]))
    plan.threads.append(_long_thread(rng, brand, customers, data["long_thread"]))
    return plan


def _pick_customer(
    rng: random.Random, customers: list[Customer], topics: dict[str, Any], names: list[str]
) -> tuple[Customer, str]:
    topic = rng.choice(names)
    wanted = "en" if topic != "other_language" else None
    pool = [c for c in customers if (c.language == "en") == (wanted == "en")] or customers
    return rng.choice(pool), topic


def order_number(rng: random.Random) -> str:
    return f"NW-{rng.randint(10000, 99999)}"


def _fill(template: str, rng: random.Random, brand: Customer, name: str = "") -> str:
    return template.format(brand=f"@{brand.username}", order=order_number(rng), name=name.split()[0] if name else "")


def _topic_thread(
    rng: random.Random, brand: Customer, customer: Customer, topic: dict[str, Any], replies: list[str], index: int
) -> list[PlannedPost]:
    visibility = _visibility(rng, topic["visibility"])
    posts = [PlannedPost(customer.username, _fill(rng.choice(topic["openers"]), rng, brand), visibility)]
    roll = rng.random()
    if roll < 0.45:  # answered by the brand, sometimes with a follow-up from the customer
        reply = _fill(rng.choice(replies), rng, brand, customer.display_name)
        posts.append(PlannedPost(brand.username, f"@{customer.username} {reply}", visibility, reply_to=0))
        if topic["follow_ups"] and rng.random() < 0.4:
            follow = f"@{brand.username} {rng.choice(topic['follow_ups'])}"
            posts.append(PlannedPost(customer.username, follow, visibility, reply_to=1))
    elif roll < 0.65 and topic["follow_ups"]:  # the customer chases an unanswered question
        follow = f"@{brand.username} {rng.choice(topic['follow_ups'])}"
        posts.append(PlannedPost(customer.username, follow, visibility, reply_to=0))
    return posts


def _visibility(rng: random.Random, allowed: list[str]) -> str:
    """Mostly public, as on real brand accounts; a topic that only happens in private stays private."""
    if allowed == ["direct"]:
        return "direct"
    return "direct" if "direct" in allowed and rng.random() < 0.25 else "public"


def _mention(brand: Customer, text: str) -> str:
    handle = f"@{brand.username}"
    return text if handle in text else f"{handle} {text}"


def _angry_thread(
    rng: random.Random, brand: Customer, customers: list[Customer], data: dict[str, Any]
) -> list[PlannedPost]:
    author = rng.choice(customers)
    posts = [PlannedPost(author.username, _fill(data["opener"], rng, brand), "public")]
    for line in data["pile_on"]:
        someone = rng.choice(customers)
        posts.append(PlannedPost(someone.username, _mention(brand, _fill(line, rng, brand)), "public", 0))
    return posts


def _long_thread(
    rng: random.Random, brand: Customer, customers: list[Customer], data: dict[str, Any]
) -> list[PlannedPost]:
    author = rng.choice(customers)
    posts = [PlannedPost(author.username, _fill(data["opener"], rng, brand), "public")]
    for number, line in enumerate(data["replies"]):
        someone = rng.choice(customers)
        parent = rng.randint(0, number)  # a reply tree, not a flat list
        posts.append(PlannedPost(someone.username, _mention(brand, _fill(line, rng, brand)), "public", parent))
    return posts


def traffic_post(rng: random.Random, plan: Plan, scenario: dict[str, Any]) -> PlannedPost:
    """A fresh customer message for the live traffic generator."""
    topics = scenario["topics"]
    customer, topic_name = _pick_customer(rng, plan.customers, topics, sorted(topics))
    topic = topics[topic_name]
    return PlannedPost(
        customer.username, _fill(rng.choice(topic["openers"]), rng, plan.brand), rng.choice(topic["visibility"])
    )
