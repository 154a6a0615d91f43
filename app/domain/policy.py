"""Default response-time targets, until a team sets its own policies."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.domain.models import MessageKind

DEFAULT_FIRST_RESPONSE = {MessageKind.DM: timedelta(hours=1)}
DEFAULT_OTHER = timedelta(hours=4)


def default_due_at(waiting_since: datetime | None, kind: MessageKind) -> datetime | None:
    """When the next answer is due under the 24/7 default policy: DMs in 1 h, everything else in 4 h."""
    if waiting_since is None:
        return None
    return waiting_since + DEFAULT_FIRST_RESPONSE.get(kind, DEFAULT_OTHER)
