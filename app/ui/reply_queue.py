"""From the composer to the outbox: every reply is queued first, then sent in the background when online."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from app.context import AppContext
from app.domain.outbox import OutboxRuleError, OutboxState
from app.errors import KnownError
from app.store import outbox

log = logging.getLogger("app.ui.replies")


class ReplyQueue(QObject):
    """Signals: reply_queued(int conversation id, str message for the status bar); reply_refused(str why);
    outbox_count_changed(int).

    "Send" queues the reply as approved and asks the outbox to send now; "Queue for review" queues it for a
    reviewer. Queuing first means a reply written offline, or one whose send fails, is never lost.
    """

    reply_queued = Signal(int, str)
    reply_refused = Signal(str)
    outbox_count_changed = Signal(int)

    def __init__(self, ctx: AppContext, outbox_controller: Any | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.outbox_controller = outbox_controller
        if outbox_controller is not None:
            outbox_controller.outbox_changed.connect(self.announce_count)

    @Slot(int, str)
    def send(self, conversation_id: int, text: str) -> None:
        try:
            public = outbox.is_public(self.ctx.engine, conversation_id)
        except KnownError as exc:
            self.reply_refused.emit(str(exc))
            return
        needs_review = self.ctx.preferences.public_replies_need_review and public
        state = OutboxState.AWAITING_REVIEW if needs_review else OutboxState.APPROVED
        if not self._queue(conversation_id, text, state):
            return
        if needs_review:
            message = "Public replies need a reviewer: the reply waits in the outbox for approval."
        elif self.ctx.offline:
            message = "Working offline: the reply is in the outbox and goes out when you are back online."
        else:
            message = "Sending the reply…"
            if self.outbox_controller is not None:
                self.outbox_controller.send_now()
        self.reply_queued.emit(conversation_id, message)

    @Slot(int, str)
    def queue_for_review(self, conversation_id: int, text: str) -> None:
        if self._queue(conversation_id, text, OutboxState.AWAITING_REVIEW):
            self.reply_queued.emit(conversation_id, "The reply waits in the outbox for review.")

    def _queue(self, conversation_id: int, text: str, state: OutboxState) -> bool:
        try:
            outbox.queue_reply(
                self.ctx.engine,
                conversation_id,
                text,
                now=self.ctx.clock.now(),
                state=state,
                author=self.ctx.preferences.agent_name,
            )
        except (KnownError, OutboxRuleError) as exc:
            log.warning("reply not queued: %s", exc)
            self.reply_refused.emit(str(exc))
            return False
        self.announce_count()
        return True

    @Slot()
    def announce_count(self) -> None:
        self.outbox_count_changed.emit(outbox.count_pending(self.ctx.engine))
