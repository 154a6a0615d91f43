"""Triage from the keyboard or the menu: close, pending, snooze, reopen, tag, assign, priority, read state, undo.

Every action works on the selected conversations (or the open one), writes through app.store.triage on the
GUI thread (one short transaction each), remembers what it changed for Ctrl+Z, repaints the touched rows at
once and asks the inbox controller for a fresh list in the background. Close, pending and snooze move on to
the next conversation straight away, so pressing `e` again acts on the next one without waiting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from app.context import AppContext
from app.domain.models import ConversationStatus
from app.domain.triage import Priority, parse_snooze, snooze_presets
from app.errors import KnownError
from app.store import triage
from app.store.triage import TriageChange
from app.ui.inbox_controller import InboxController
from app.ui.models.inbox_model import InboxModel
from app.ui.timefmt import exact
from app.ui.widgets.inbox_view import InboxView
from app.ui.widgets.picker import Choice, Picker

log = logging.getLogger("app.ui.triage")

UNDO_DEPTH = 50
UNASSIGNED = "\x00unassigned"


class TriageActions(QObject):
    """Signals: changed(list[int]) after a triage write or its undo, with the conversations it touched;
    message(str) with a line for the status bar."""

    changed = Signal(list)
    message = Signal(str)

    def __init__(
        self,
        ctx: AppContext,
        window: QWidget,
        view: InboxView,
        model: InboxModel,
        controller: InboxController,
        picker: Picker,
        *,
        add_action: Callable[..., QAction],
    ) -> None:
        super().__init__(window)
        self.ctx, self.window, self.view, self.model, self.controller = ctx, window, view, model, controller
        self.picker = picker
        self.undo_stack: list[TriageChange] = []
        self._pending_pick: Callable[[str], None] | None = None
        picker.chosen.connect(self._on_picker_chosen)
        picker.cancelled.connect(self._on_picker_cancelled)

        status = ConversationStatus
        self.action_close = add_action("&Close and open next", ["E", "Ctrl+E"], self.close_and_next)
        self.action_pending = add_action(
            "Mark &pending (waiting on the customer)", ["P", "Ctrl+Alt+P"], lambda: self.set_status(status.PENDING)
        )
        self.action_snooze = add_action("&Snooze…", "S", self.pick_snooze)
        self.action_reopen = add_action("Re&open", ["O", "Ctrl+Shift+E"], lambda: self.set_status(status.OPEN))
        self.action_tag = add_action("&Tag…", "T", self.pick_tag)
        self.action_assign = add_action("&Assign…", "A", self.pick_assignee)
        self.action_priority = add_action("Set p&riority…", ["!", "Shift+!"], self.pick_priority)
        self.action_unread = add_action("Mark &unread / read", ["U", "Ctrl+Shift+M"], self.toggle_unread)
        self.action_mark_read = add_action("&Mark as read", "Ctrl+M", lambda: self._apply(self._read(True)))
        self.action_undo = add_action("&Undo last triage", QKeySequence.StandardKey.Undo, self.undo)
        self.action_undo.setEnabled(False)

    def menu_actions(self) -> list[QAction | None]:
        return [
            self.action_close,
            self.action_pending,
            self.action_snooze,
            self.action_reopen,
            None,
            self.action_tag,
            self.action_assign,
            self.action_priority,
            None,
            self.action_unread,
            self.action_mark_read,
            None,
            self.action_undo,
        ]

    # --- the actions --------------------------------------------------------------------------------------
    def targets(self) -> list[int]:
        return self.view.selected_ids()

    def close_and_next(self) -> None:
        self.set_status(ConversationStatus.CLOSED)

    def set_status(self, status: ConversationStatus) -> None:
        ids = self.targets()
        if not ids:
            return self._nothing_selected()
        now = self.ctx.clock.now()
        self._apply(lambda: triage.set_status(self.ctx.engine, ids, status, now=now), advance=status != "open")

    def toggle_unread(self) -> None:
        ids = self.targets()
        if not ids:
            return self._nothing_selected()
        unread = [s for s in (self.model.summary(r) for r in self.view.selected_rows()) if s and s.unread_count]
        self._apply(self._read(bool(ids) and len(unread) == len(ids)))

    def _read(self, read: bool) -> Callable[[], TriageChange] | None:
        ids = self.targets()
        if not ids:
            self._nothing_selected()
            return None
        return lambda: triage.set_read(self.ctx.engine, ids, read)

    def pick_snooze(self) -> None:
        ids = self.targets()
        if not ids:
            return self._nothing_selected()
        now = self.ctx.clock.now()
        zone = self.controller.zone()
        presets = snooze_presets(now, zone)
        choices = [Choice(label, label) for label, _moment in presets]
        chosen_times = dict(presets)

        def problem(text: str) -> str | None:
            try:
                parse_snooze(text, now)
            except ValueError as exc:
                return str(exc)
            return None

        def snooze(key: str) -> None:
            until = chosen_times.get(key) or parse_snooze(key, now)
            self._apply(lambda: triage.snooze(self.ctx.engine, ids, until, now=now), advance=True)
            self.message.emit(f"Snoozed until {exact(until, zone)}. Ctrl+Z to undo.")

        self._pick(
            f"Snooze {self._count(ids)} until…", choices, snooze, hint="Or type a length: 45m, 2h, 3d", free=problem
        )

    def pick_tag(self) -> None:
        ids = self.targets()
        if not ids:
            return self._nothing_selected()
        have = triage.tags_of(self.ctx.engine, ids)
        names = triage.list_tags(self.ctx.engine)
        choices = [Choice(n, f"#{n}", all(n.lower() in {t.lower() for t in tags} for tags in have.values()))
                   for n in names]  # fmt: skip

        def problem(text: str) -> str | None:
            return None if text.strip().lstrip("#") else "A tag needs a name"

        self._pick(
            f"Tag {self._count(ids)}",
            choices,
            lambda name: self._apply(lambda: triage.toggle_tag(self.ctx.engine, ids, name.strip().lstrip("#"))),
            hint="Enter adds the tag, or takes it off when every selected conversation has it",
            free=problem,
        )

    def pick_assignee(self) -> None:
        ids = self.targets()
        if not ids:
            return self._nothing_selected()
        me = self.ctx.preferences.agent_name.strip()
        team = triage.list_assignees(self.ctx.engine)
        choices = [Choice(me, f"Me ({me})")] if me else []
        choices += [Choice(name, name) for name in team if name != me]
        choices.append(Choice(UNASSIGNED, "Unassigned"))

        def assign(name: str) -> None:
            who = "" if name == UNASSIGNED else name
            self._apply(lambda: triage.set_assignee(self.ctx.engine, ids, who))

        self._pick(f"Assign {self._count(ids)} to…", choices, assign)

    def pick_priority(self) -> None:
        ids = self.targets()
        if not ids:
            return self._nothing_selected()
        choices = [Choice(p.name, p.label) for p in sorted(Priority, reverse=True)]
        self._pick(
            f"Priority of {self._count(ids)}",
            choices,
            lambda name: self._apply(lambda: triage.set_priority(self.ctx.engine, ids, Priority[name])),
            hint="Your choice stands: sentiment and rules no longer change it",
        )

    def undo(self) -> None:
        if self.picker.isVisible():
            return
        if not self.undo_stack:
            self.message.emit("Nothing to undo.")
            return
        change = self.undo_stack.pop()
        try:
            triage.undo(self.ctx.engine, change)
        except KnownError as exc:
            self.message.emit(f"Could not undo: {exc}")
            return
        self.action_undo.setEnabled(bool(self.undo_stack))
        self._after(list(change.conversation_ids))
        if change.conversation_ids:
            ids = list(change.conversation_ids)
            self.controller.select_when_listed(ids, ids[0])
        self.message.emit(f"Undone: {change.description}.")

    # --- plumbing -----------------------------------------------------------------------------------------
    def _apply(self, write: Callable[[], TriageChange] | None, *, advance: bool = False) -> None:
        if write is None:
            return
        acted_rows = self.view.selected_rows() or (
            [r] if (r := self.model.row_of(self.view.current_conversation_id or -1)) is not None else []
        )
        try:
            change = write()
        except KnownError as exc:
            self.message.emit(exc.user_message())
            return
        self.undo_stack.append(change)
        del self.undo_stack[:-UNDO_DEPTH]
        self.action_undo.setEnabled(True)
        ids = list(change.conversation_ids)
        if advance and acted_rows:
            self._select_after(acted_rows, set(ids))
        self._after(ids)
        self.message.emit(f"{change.description}. Ctrl+Z to undo.")

    def _select_after(self, rows: list[int], acted: set[int]) -> None:
        """Open the first conversation below the acted ones (else the one above), without waiting for the list."""
        candidates = [*range(max(rows) + 1, self.model.rowCount()), *range(min(rows) - 1, -1, -1)]
        for row in candidates:
            conversation_id = self.model.conversation_id(row)
            if conversation_id is not None and conversation_id not in acted:
                self.view.select_row(row)
                return
        self.view.clearSelection()

    def _after(self, ids: list[int]) -> None:
        self.model.reload_conversations(ids)
        self.controller.after_change()
        self.changed.emit(ids)

    def _pick(
        self,
        title: str,
        choices: list[Choice],
        on_chosen: Callable[[str], None],
        *,
        hint: str = "",
        free: Callable[[str], str | None] | None = None,
    ) -> None:
        self._pending_pick = on_chosen
        self.picker.open(title, choices, hint=hint, free_text=free, anchor=self.view)

    def _on_picker_chosen(self, key: str) -> None:
        handler, self._pending_pick = self._pending_pick, None
        if handler is not None:
            try:
                handler(key)
            except (KnownError, ValueError) as exc:
                self.message.emit(str(exc))

    def _on_picker_cancelled(self) -> None:
        self._pending_pick = None

    def _nothing_selected(self) -> None:
        self.message.emit("Select a conversation first.")

    @staticmethod
    def _count(ids: list[Any]) -> str:
        return "this conversation" if len(ids) == 1 else f"{len(ids)} conversations"
