"""How the Accounts dialog shows an account: its table cells, its health details, the outcome of a removal."""

from __future__ import annotations

import html
from datetime import datetime, tzinfo
from typing import Any

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTableWidgetItem

from app.ui.account_health import detail_lines, expiry_warning, health_of

COLUMNS = ("Name", "Platform", "Handle", "State", "Last synced")
STATE_TEXT = {
    "ok": "OK",
    "needs_sign_in": "Sign-in needed",
    "offline": "Offline",
    "rate_limited": "Rate-limited",
    "error": "Error",
}
WARN = "#A35200"
ERROR = "#C92A2A"
MUTED = "#687083"


def table_items(row: dict[str, Any], now: datetime) -> list[QTableWidgetItem]:
    """One table row: the state cell also carries an expiry warning and the number of possible gaps."""
    state = STATE_TEXT.get(str(row.get("state")), str(row.get("state")))
    health = health_of(row)
    warning = expiry_warning(health, now)
    if warning:
        state += f" · {warning}"
    if health.gaps:
        state += f" · {len(health.gaps)} possible gap{'s' if len(health.gaps) != 1 else ''}"
    cells = (row.get("name"), row.get("platform"), row.get("handle"), state, row.get("last_synced") or "never")
    items = [QTableWidgetItem("" if value is None else str(value)) for value in cells]
    if row.get("state_detail"):
        items[3].setToolTip(str(row["state_detail"]))
    if row.get("needs_sign_in") or warning:
        items[3].setForeground(QColor(ERROR if row.get("needs_sign_in") else WARN))
    return items


def details_html(account: dict[str, Any], now: datetime, zone: tzinfo | None) -> str:
    """The selected account's health, one fact a line, with what needs the person first."""
    lines = [html.escape(line) for line in detail_lines(account, now, zone)]
    warning = expiry_warning(health_of(account), now)
    if account.get("needs_sign_in"):
        lines.insert(0, f'<b style="color:{ERROR}">Sign-in needed: replies wait in the outbox.</b>')
    elif warning:
        lines.insert(0, f'<b style="color:{WARN}">The {html.escape(warning)}: sign in again to keep syncing.</b>')
    return f"<b>{html.escape(str(account['name']))}</b><br>" + "<br>".join(lines)


def remove_question(name: str) -> str:
    return (
        f"Remove the account “{name}”?\n\nParley signs its session out on the server (where the platform "
        "has one; if the server cannot be reached the account is removed anyway). Its keyring entry and "
        "every cached conversation and message of it are deleted from this computer. Nothing is deleted "
        "on the platform."
    )


def removal_text(name: str, result: Any) -> tuple[str, bool]:
    """(message, whether it deserves a warning colour: the platform session could not be ended)."""
    summary = getattr(result, "summary", None)
    if not callable(summary):
        return f"Removed {name} and its cached data.", False
    return f"{summary()} Its cached data is deleted.", not getattr(result, "signed_out", True)
