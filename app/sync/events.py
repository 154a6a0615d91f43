"""What a sync run reports while it runs and when it ends: frozen values safe to hand across threads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.models import AccountState


@dataclass(frozen=True)
class SyncProgress:
    """One page of one stream was stored.

    `pages` counts the pages of `stream` stored in this run; `stored` and `duplicates` are totals
    for the whole run so far; `page_stored` and `conversation_ids` belong to this page alone.
    """

    account_id: int
    account_name: str
    stream: str
    pages: int
    stored: int
    duplicates: int
    rejected: int
    page_stored: int = 0
    conversation_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class SyncOutcome:
    """How one account's sync run ended.

    `state` is the account state the run left behind. `stream` is the stream worked on last
    (the one that failed, when one did). `retry_at` is the earliest moment the platform allows
    another attempt. `cancelled` runs keep what they stored and leave the account state alone;
    `work_offline` runs did nothing because the app works offline.
    """

    account_id: int
    account_name: str
    state: AccountState
    stream: str = ""
    pages: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    error: str = ""
    retry_at: datetime | None = None
    conversation_ids: tuple[int, ...] = ()
    cancelled: bool = False
    work_offline: bool = False

    @property
    def failed(self) -> bool:
        return not self.cancelled and (self.state is not AccountState.OK or bool(self.error))
