"""Reviewing the outbox from the window: what the outbox view's buttons and keys do to the stored queue.

Every rule (which moves are allowed, the four-eyes rule for public replies) is the store's; this only asks
and reports. The reads are a few indexed queries over the (small) queue, fine on the GUI thread.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from app.context import AppContext
from app.domain.outbox import OutboxItem, OutboxRuleError, OutboxState
from app.errors import KnownError
from app.store import inbox, outbox
from app.ui.widgets.outbox_view import OutboxRow, OutboxView

log = logging.getLogger("app.ui.outbox")

CONTEXT_MESSAGES = 3


class OutboxReview(QObject):
    """Signals: message(str) for the status bar; changed() after the queue changed here.

    `outbox_controller` (optional) is asked to send as soon as something is approved while online.
    """

    message = Signal(str)
    changed = Signal()

    def __init__(
        self, ctx: AppContext, view: OutboxView, outbox_controller: Any | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx, self.view, self.outbox_controller = ctx, view, outbox_controller
        self._discarded: list[list[OutboxItem]] = []
        view.reviewer.setText(ctx.preferences.agent_name)
        view.approve_requested.connect(self.approve)
        view.approve_all_requested.connect(self.approve_all)
        view.draft_requested.connect(self.return_to_draft)
        view.discard_requested.connect(self.discard)
        view.undo_requested.connect(self.undo_discard)
        view.move_requested.connect(self.move)
        view.edit_saved.connect(self.save_edit)

    # --- reading ----------------------------------------------------------------------------------------
    @Slot()
    def reload(self, current: int | None = None) -> None:
        items = outbox.list_items(self.ctx.engine)
        summaries = inbox.summaries(self.ctx.engine, sorted({item.conversation_id for item in items}))
        rows = []
        for item in items:
            summary = summaries.get(item.conversation_id)
            context = outbox.recent_inbound(self.ctx.engine, item.conversation_id, CONTEXT_MESSAGES)
            new = 0
            if item.state is OutboxState.HELD:
                new = len(outbox.inbound_since(self.ctx.engine, item.conversation_id, item.queued_after_message_at))
            rows.append(
                OutboxRow(
                    item=item,
                    contact=(summary.contact_name or summary.contact_handle) if summary else "",
                    account=summary.account_name if summary else "",
                    public=outbox.is_public(self.ctx.engine, item.conversation_id),
                    context=tuple(context),
                    new_since_queued=new,
                )
            )
        self.view.show_rows(rows, current=current)

    # --- review -----------------------------------------------------------------------------------------
    @Slot(list)
    def approve(self, ids: list[int]) -> None:
        reviewer = self.view.reviewer.text().strip()
        self._do(
            lambda: outbox.approve(
                self.ctx.engine, ids, now=self.ctx.clock.now(), reviewer=reviewer,
                public_needs_reviewer=self.ctx.preferences.public_replies_need_review,
            ),
            f"Approved {self._replies(ids)}." + self._sending_note(),
        )  # fmt: skip
        self._send()

    @Slot()
    def approve_all(self) -> None:
        waiting = outbox.list_items(self.ctx.engine, [OutboxState.DRAFT, OutboxState.AWAITING_REVIEW])
        if waiting:
            self.approve([item.id for item in waiting])

    @Slot(list, str)
    def return_to_draft(self, ids: list[int], comment: str) -> None:
        now = self.ctx.clock.now()
        self._do(
            lambda: outbox.move_state(self.ctx.engine, ids, OutboxState.DRAFT, now=now, comment=comment),
            f"Returned {self._replies(ids)} to draft" + (" with your comment." if comment else "."),
        )

    @Slot(list)
    def discard(self, ids: list[int]) -> None:
        try:
            gone = outbox.discard(self.ctx.engine, ids)
        except (KnownError, OutboxRuleError) as exc:
            self._refused(exc)
            return
        self._discarded.append(gone)
        self.view.set_undo_available(len(self._discarded))
        self._changed(f"Discarded {self._replies(ids)}. Undo with Ctrl+Z.")

    @Slot()
    def undo_discard(self) -> None:
        if not self._discarded:
            return
        items = self._discarded.pop()
        try:
            outbox.restore(self.ctx.engine, items)
        except KnownError as exc:
            self._refused(exc)
            return
        self.view.set_undo_available(len(self._discarded))
        self._changed(f"Restored {self._replies(items)}.", current=items[0].id)

    @Slot(int, int)
    def move(self, item_id: int, step: int) -> None:
        try:
            moved = outbox.move(self.ctx.engine, item_id, step)
        except KnownError as exc:
            self._refused(exc)
            return
        if moved:
            self._changed("", current=item_id)

    @Slot(int, str)
    def save_edit(self, item_id: int, text: str) -> None:
        self._do(lambda: outbox.edit_body(self.ctx.engine, item_id, text, now=self.ctx.clock.now()), "Reply saved.")

    # --- helpers ----------------------------------------------------------------------------------------
    def _do(self, change: Any, done: str) -> None:
        try:
            change()
        except (KnownError, OutboxRuleError) as exc:
            self._refused(exc)
            return
        self._changed(done)

    def _changed(self, text: str, *, current: int | None = None) -> None:
        self.reload(current)
        self.changed.emit()
        if text:
            self.message.emit(text)

    def _refused(self, exc: Exception) -> None:
        log.info("outbox review refused: %s", exc)
        self.message.emit(f"Not done: {exc}")
        self.reload()

    def _send(self) -> None:
        if self.outbox_controller is not None and not self.ctx.offline:
            self.outbox_controller.send_now()

    def _sending_note(self) -> str:
        return " Working offline: sent when you are back online." if self.ctx.offline else ""

    @staticmethod
    def _replies(items: list[Any]) -> str:
        return "1 reply" if len(items) == 1 else f"{len(items)} replies"
