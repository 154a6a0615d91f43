"""Test helpers for UI tests: fill a real profile through the real ingest path; a sync-controller stand-in."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TypeVar

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget
from sqlalchemy import insert

from app.context import AppContext
from app.domain.models import AccountRef, Direction, Identity, MessageKind, Platform
from app.store import accounts
from app.store.ingest import store_page
from app.store.schema import playbook_entries
from tests.factories import T0, message, page

W = TypeVar("W", bound=QWidget)

CUSTOMERS = [
    ("Maya Lindqvist", "Where is my order #48213? The tracking page hasn't moved since Monday."),
    ("Jonas Berg", "Your app logs me out every time I switch to the camera. Pixel 8, latest update."),
    ("Priya Raman", "Loved the new recipe box! Can I pause deliveries while I'm travelling in May?"),
    ("Tomás Ortega", "Charged twice for the March subscription. Can someone look into it please?"),
    ("Ada Okafor", "Is the oat-milk version available in the Nordics yet?"),
    ("Lena Fischer", "The delivery driver left the box in the rain again, everything is soaked."),
]


class StandInSyncController(QObject):
    """A stand-in with the real SyncController's signals and methods, so the window can be driven
    without network. It is not the sync engine: the engine's own tests cover syncing."""

    account_progressed = Signal(object)
    account_synced = Signal(object)
    account_failed = Signal(object)
    messages_stored = Signal(list)
    states_changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.sync_requests: list[int | None] = []
        self.started = False
        self.stopped = False

    def start(self) -> None:
        self.started = True

    def sync_now(self, account_id: int | None = None) -> None:
        self.sync_requests.append(account_id)

    def shutdown(self) -> None:
        self.stopped = True


def add_mastodon(ctx: AppContext, name: str = "brand") -> AccountRef:
    return accounts.add_account(
        ctx.engine, platform=Platform.MASTODON, name=name, base_url="https://social.example", now=T0,
        handle=f"@{name}@social.example",
    )  # fmt: skip


def fill_inbox(ctx: AppContext, account: AccountRef, count: int, *, start_minute: int = 0) -> None:
    """`count` conversations with a customer message each (every third a DM, every fifth answered)."""
    fetched = []
    for i in range(count):
        name, text = CUSTOMERS[i % len(CUSTOMERS)]
        kind = MessageKind.DM if i % 3 == 0 else MessageKind.MENTION
        first = message(
            f"{account.name}-c{start_minute + i}", key=f"{account.name}-k{start_minute + i}",
            minutes=start_minute + i, text=text, author=f"cust{start_minute + i}", kind=kind,
        )  # fmt: skip
        first = replace(first, author=Identity(first.author.platform_user_id, f"@{name.split()[0].lower()}{i}", name))
        fetched.append(first)
        if i % 5 == 0:
            fetched.append(
                replace(
                    message(
                        f"{account.name}-r{start_minute + i}",
                        key=f"{account.name}-k{start_minute + i}",
                        minutes=start_minute + i,
                        text="Thanks for reaching out, we're on it.",
                        author="team",
                        direction=Direction.OUTBOUND,
                        kind=kind,
                        parent=first.platform_message_id,
                    ),
                    created_at=first.created_at + timedelta(seconds=30),
                )  # fmt: skip
            )
    store_page(ctx.engine, account.id, page(*fetched), now=T0)


def add_playbook_entry(ctx: AppContext, title: str, body: str, category: str = "") -> None:
    with ctx.engine.begin() as connection:
        connection.execute(
            insert(playbook_entries).values(uid=f"uid-{title}", title=title, body=body, category=category)
        )


def show_window(qtbot, window: W) -> W:  # type: ignore[no-untyped-def]
    """Show a top-level window and make it the active one, as shortcuts only reach the active window."""
    qtbot.addWidget(window)
    with qtbot.waitExposed(window):
        window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    return window
