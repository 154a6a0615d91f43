"""The demo workspace's optional Bluesky account, on a local AT Protocol network when one is running.

`PARLEY_DEMO_BLUESKY` names a JSON file describing the network's brand account (`pds`, `handle`,
`appPassword`), as `python -m tests.peers.bluesky_network --info FILE` writes it. Without it the demo
stays Mastodon-only. The app password is used once to sign in; the session goes to the keyring.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from app.context import AppContext
from app.domain.models import AccountRef
from app.errors import KnownError, StoreError
from app.store import accounts

log = logging.getLogger("app.demo")

ENV = "PARLEY_DEMO_BLUESKY"
DEMO_BLUESKY_ACCOUNT = "northwind-bluesky"


def ensure_bluesky_demo(ctx: AppContext) -> AccountRef | None:
    """Add the local network's brand account once; None when no network is described or it cannot be used."""
    if not ctx.demo:
        return None
    where = os.environ.get(ENV, "").strip()
    if not where:
        return None
    try:
        return accounts.find_account(ctx.engine, DEMO_BLUESKY_ACCOUNT)
    except StoreError:
        pass
    try:
        info = json.loads(Path(where).read_text(encoding="utf-8"))
        pds, handle, app_password = str(info["pds"]), str(info["handle"]), str(info["appPassword"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("demo: %s=%s is not a readable network description (%s); no Bluesky account", ENV, where, exc)
        return None
    from app.sync import account_service

    try:
        return account_service.add_bluesky_account(ctx, handle, app_password, pds, DEMO_BLUESKY_ACCOUNT)
    except KnownError as exc:
        log.warning("demo: the local Bluesky network is not usable (%s); no Bluesky account", exc)
        return None
