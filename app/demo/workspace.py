"""The demo workspace: start the embedded server, seed it once, and add its brand account to the demo profile."""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from urllib.parse import urlparse

import requests

from app.context import AppContext
from app.demo.bluesky import ensure_bluesky_demo
from app.demo.resources import starter_playbook
from app.demo.rules import install_demo_rules
from app.demo.scenario import plan_demo
from app.demo.seeding import TIMEOUT, SeededServer, TrafficGenerator, seed
from app.demo.server import DemoServer, DemoUnavailable, free_port
from app.domain.models import AccountRef
from app.errors import StoreError
from app.store import accounts

log = logging.getLogger("app.demo")

DEMO_ACCOUNT = "northwind-demo"
DEMO_SYNC_INTERVAL_S = 5


@dataclass
class DemoSession:
    server: DemoServer
    seeded: SeededServer
    account: AccountRef
    traffic: TrafficGenerator | None

    def stop(self) -> None:
        if self.traffic is not None:
            self.traffic.stop()
        self.server.stop()


def start_demo(ctx: AppContext, *, traffic_interval_s: float | None = 8.0) -> DemoSession:
    """Blocking (seconds): run it off the GUI thread. The server's state persists in the demo profile."""
    if not ctx.demo:
        raise DemoUnavailable("The demo server only runs in the demo profile (parley --demo).")
    existing = _existing_account(ctx)
    server = DemoServer(port=_reusable_port(existing), state_dir=ctx.paths.root / "demo-server")
    server.start()
    try:
        marker = ctx.paths.root / "demo-server" / "seeded"
        if marker.exists():
            seeded = _sign_in_again(server.url)
        else:
            seeded = seed(server.url)
            marker.write_text("seeded\n", encoding="utf-8")
        account = _ensure_account(ctx, server.url, seeded.brand_token, existing)
        ensure_starter_playbook(ctx)
        ensure_bluesky_demo(ctx)
    except BaseException:
        server.stop()
        raise
    generator = None
    if traffic_interval_s:
        generator = TrafficGenerator(seeded, interval_s=traffic_interval_s)
        generator.start()
    return DemoSession(server=server, seeded=seeded, account=account, traffic=generator)


def ensure_starter_playbook(ctx: AppContext) -> None:
    """The demo profile starts with the starter playbook; once it has answers, they are the user's."""
    from app.store.playbook import apply_import, is_empty, plan_import
    from app.store.playbook_file import read_playbook

    if is_empty(ctx.engine):
        result = apply_import(ctx.engine, plan_import(ctx.engine, read_playbook(starter_playbook())))
        log.info("demo profile: added %d starter answers to the playbook", result.added)


def _existing_account(ctx: AppContext) -> AccountRef | None:
    try:
        return accounts.find_account(ctx.engine, DEMO_ACCOUNT)
    except StoreError:
        return None


def _reusable_port(account: AccountRef | None) -> int:
    if account is None:
        return free_port()
    port = urlparse(account.base_url).port

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port or 0))
        except OSError:
            return free_port()
    return port or free_port()


def _sign_in_again(url: str) -> SeededServer:
    """Fresh tokens for the seeded users (mastodon-mock's login shortcut): nothing is kept on disk."""
    plan = plan_demo(openers=0)
    tokens = {}
    for username in [plan.brand.username, *(c.username for c in plan.customers)]:
        response = requests.post(f"{url}/api/v1/_mock/login", json={"username": username}, timeout=TIMEOUT)
        response.raise_for_status()
        tokens[username] = str(response.json()["access_token"])
    return SeededServer(url=url, brand_token=tokens[plan.brand.username], tokens=tokens)


def _ensure_account(ctx: AppContext, url: str, token: str, existing: AccountRef | None) -> AccountRef:
    from app.sync import account_service

    if existing is None:
        install_demo_rules(ctx.engine)  # before the first sync, so the rules see every demo message
        account = account_service.add_mastodon_account(ctx, url, token, name=DEMO_ACCOUNT)
    else:
        account = existing
        ctx.secrets.set(account.id, token)
    accounts.update_connection(ctx.engine, account.id, base_url=url, sync_interval_s=DEMO_SYNC_INTERVAL_S)
    return accounts.get_account(ctx.engine, account.id)
