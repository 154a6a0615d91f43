"""Status-bar text for each account's sync state, fed by the sync controller's signals.

The store is the source of truth for an account's state (the sync engine records it there before it
signals), so a finished or failed sync re-reads the accounts table. Progress objects are read by
attribute: `account_id` (required), and optionally `account_name` and a count of new messages in one of
`stored`, `new_messages` or `fetched`.

An account that needs the person (sign-in needed, or a sign-in that expires within 7 days) is shown as a
link; clicking it asks for the Accounts dialog on that account (`sign_in_requested`).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget
from sqlalchemy import Engine

from app.domain.models import AccountState
from app.store.accounts import account_status_rows
from app.ui import theme
from app.ui.account_health import expiry_warning, health_of
from app.ui.timefmt import clock_time, relative


def account_state_text(row: dict[str, Any], now: datetime, zone: tzinfo | None) -> str:
    """ "brand: synced 2 min ago", "brand: rate-limited until 14:05", "brand: sign-in needed"…"""
    name = row["name"]
    try:
        state = AccountState(row.get("state") or "ok")
    except ValueError:
        state = AccountState.ERROR
    if state is AccountState.NEEDS_SIGN_IN:
        return f"{name}: sign-in needed"
    if state is AccountState.RATE_LIMITED and row.get("rate_limited_until"):
        return f"{name}: rate-limited until {clock_time(row['rate_limited_until'], now, zone)}"
    if state is AccountState.RATE_LIMITED:
        return f"{name}: rate-limited"
    health = health_of(row)
    retry = health.retry_at if health.retry_at is not None and health.retry_at > now else None
    retrying = f", retrying at {clock_time(retry, now, zone)}" if retry else ""
    if state is AccountState.OFFLINE:
        return f"{name}: offline{retrying}"
    if state is AccountState.ERROR:
        return f"{name}: sync failed{retrying}"
    synced = row.get("last_synced_at")
    text = f"{name}: synced {relative(synced, now)}" if synced else f"{name}: not synced yet"
    if health.gaps:
        text += " · possible missed messages"
    return text


def attention_text(row: dict[str, Any], now: datetime) -> str:
    """What the person must do for this account ('brand: sign-in needed', '... expires in 3 days'), or ''."""
    if row.get("state") == AccountState.NEEDS_SIGN_IN.value:
        return f"{row['name']}: sign-in needed"
    warning = expiry_warning(health_of(row), now)
    return f"{row['name']}: {warning}" if warning else ""


def progress_text(name: str, progress: Any) -> str:
    count = next(
        (getattr(progress, attr) for attr in ("stored", "new_messages", "fetched") if hasattr(progress, attr)), None
    )
    return f"{name}: syncing… ({count} new)" if isinstance(count, int) and count else f"{name}: syncing…"


class SyncStatusWidget(QWidget):
    """One line of per-account states; an account that needs the user is a link to sign it in.

    Signals:
      sign_in_requested(int): the person clicked an account's "sign-in needed" (or "expires") link.
    """

    sign_in_requested = Signal(int)

    def __init__(
        self,
        engine: Engine,
        now: Callable[[], datetime],
        zone: Callable[[], tzinfo | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._engine = engine
        self._now = now
        self._zone = zone
        self._rows: list[dict[str, Any]] = []
        self._in_progress: dict[int, str] = {}
        self.label = QLabel()
        self.label.setObjectName("syncStatus")
        self.links: dict[int, QPushButton] = {}  # account id -> its sign-in link
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self.label)
        self._layout.addStretch(1)
        self._ticker = QTimer(self)  # keeps "synced 2 min ago" true while nothing else happens
        self._ticker.setInterval(30_000)
        self._ticker.timeout.connect(self._render)
        self._ticker.start()
        self.reload_accounts()

    def text(self) -> str:
        return self.label.toolTip()

    @Slot()
    def reload_accounts(self) -> None:
        self._rows = account_status_rows(self._engine)
        self._render()

    @Slot(object)
    def on_progressed(self, progress: Any) -> None:
        account_id = int(progress.account_id)
        name = getattr(progress, "account_name", None) or self._name_of(account_id)
        self._in_progress[account_id] = progress_text(name, progress)
        self._render()

    @Slot(object)
    def on_finished(self, outcome: Any) -> None:
        self._in_progress.pop(int(getattr(outcome, "account_id", -1)), None)
        self.reload_accounts()

    def _name_of(self, account_id: int) -> str:
        return next((row["name"] for row in self._rows if row["id"] == account_id), f"account {account_id}")

    @Slot()
    def _render(self) -> None:
        if not self._rows:
            self.label.setText("No accounts yet — add one under Accounts")
            self.label.setToolTip("No accounts yet")
            self.label.show()
            self._show_links({})
            return
        now = self._now()
        zone = self._zone()
        parts: list[str] = []
        plain: list[str] = []
        attention: dict[int, str] = {}
        for row in self._rows:
            text = self._in_progress.get(row["id"]) or attention_text(row, now)
            if text and row["id"] not in self._in_progress:
                attention[row["id"]] = text
                plain.append(text)
                continue
            text = text or account_state_text(row, now, zone)
            plain.append(text)
            needs_user = row.get("state") in (AccountState.NEEDS_SIGN_IN.value, AccountState.ERROR.value)
            colour = theme.DANGER if needs_user and row["id"] not in self._in_progress else theme.TEXT_MUTED
            parts.append(f'<span style="color:{colour.name()}">{html.escape(text)}</span>')
        self.label.setText("  ·  ".join(parts))
        self.label.setVisible(bool(parts))
        self.label.setToolTip("\n".join(plain))
        self._show_links(attention)

    def _show_links(self, attention: dict[int, str]) -> None:
        for account_id in list(self.links):
            if account_id not in attention:
                self.links.pop(account_id).deleteLater()
        for position, (account_id, text) in enumerate(attention.items()):
            link = self.links.get(account_id)
            if link is None:
                link = QPushButton(self)
                link.setObjectName("signInLink")
                link.setFlat(True)
                link.setCursor(Qt.CursorShape.PointingHandCursor)
                link.setStyleSheet(f"color:{theme.DANGER.name()}; text-decoration: underline; border: none;")
                link.setToolTip("Open Accounts to sign in again")
                link.clicked.connect(lambda _checked=False, which=account_id: self.sign_in_requested.emit(which))
                self._layout.insertWidget(1 + position, link)
                self.links[account_id] = link
            link.setText(text)
