"""Seeding the demo server through its Mastodon API, and the traffic generator that keeps it alive."""

from __future__ import annotations

import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests

from app.demo.scenario import Plan, PlannedPost, load_scenario, plan_demo, traffic_post

log = logging.getLogger("app.demo")

TIMEOUT = 10


@dataclass
class SeededServer:
    url: str
    brand_token: str
    tokens: dict[str, str]


class DemoApi:
    """The few Mastodon client API calls the demo needs, plus mastodon-mock's user-creation endpoint."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.session = requests.Session()

    def create_user(self, username: str, display_name: str) -> str:
        response = self.session.post(
            f"{self.url}/api/v1/_mock/dev_user",
            json={"username": username, "display_name": display_name},
            timeout=TIMEOUT,
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def post(self, token: str, text: str, visibility: str, in_reply_to: str | None = None) -> dict[str, Any]:
        data = {"status": text, "visibility": visibility}
        if in_reply_to:
            data["in_reply_to_id"] = in_reply_to
        response = self.session.post(
            f"{self.url}/api/v1/statuses", headers={"Authorization": f"Bearer {token}"}, data=data, timeout=TIMEOUT
        )
        response.raise_for_status()
        return dict(response.json())


def seed(url: str, plan: Plan | None = None, *, workers: int = 4) -> SeededServer:
    """Create the brand and its customers and play every planned thread; threads run side by side."""
    plan = plan or plan_demo()
    api = DemoApi(url)
    tokens = {plan.brand.username: api.create_user(plan.brand.username, plan.brand.display_name)}
    for customer in plan.customers:
        tokens[customer.username] = api.create_user(customer.username, customer.display_name)

    def play(thread: list[PlannedPost]) -> None:
        thread_api = DemoApi(url)
        ids: list[str] = []
        for post in thread:
            parent = ids[post.reply_to] if post.reply_to is not None else None
            ids.append(str(thread_api.post(tokens[post.author], post.text, post.visibility, parent)["id"]))

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="demo-seed") as pool:
        list(pool.map(play, plan.threads))
    log.info("demo server seeded with %d threads", len(plan.threads))
    return SeededServer(url=url, brand_token=tokens[plan.brand.username], tokens=tokens)


class TrafficGenerator(threading.Thread):
    """Posts a new customer message every few seconds so the inbox and its timers visibly live."""

    def __init__(self, seeded: SeededServer, *, interval_s: float = 8.0, seed: int = 7) -> None:
        super().__init__(name="demo-traffic", daemon=True)
        self.seeded = seeded
        self.interval_s = interval_s
        self.stopped = threading.Event()
        self.posted = 0
        self._rng = random.Random(seed)
        self._plan = plan_demo(openers=0)
        self._scenario = load_scenario()

    def run(self) -> None:
        api = DemoApi(self.seeded.url)
        while not self.stopped.wait(self.interval_s):
            post = traffic_post(self._rng, self._plan, self._scenario)
            try:
                api.post(self.seeded.tokens[post.author], post.text, post.visibility)
                self.posted += 1
            except requests.RequestException as exc:
                log.info("demo traffic paused: %s", type(exc).__name__)

    def stop(self) -> None:
        self.stopped.set()
