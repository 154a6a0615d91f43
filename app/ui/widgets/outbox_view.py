"""The outbox view: queued replies in send order on the left; the chosen one beside its conversation's latest
inbound messages (sanitised, nothing loaded) on the right, with the review actions.

It shows what it is given and says what the reviewer asked for; app.ui.outbox_review does the work.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from PySide6.QtCore import QEvent, Qt, Signal, SignalInstance, Slot
from PySide6.QtGui import QBrush, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.models import StoredMessage
from app.domain.outbox import EDITABLE, OutboxItem, OutboxState
from app.ui import theme
from app.ui.timefmt import exact, relative
from app.ui.widgets.thread_view import SafeTextBrowser, message_body_html

ID_ROLE = int(Qt.ItemDataRole.UserRole) + 20
S = OutboxState
STATE_TEXT = {
    S.DRAFT: ("Draft", theme.TEXT_MUTED),
    S.AWAITING_REVIEW: ("Awaiting review", theme.WARNING_TEXT),
    S.APPROVED: ("Approved", theme.SUCCESS),
    S.SENDING: ("Sending", theme.BRAND),
    S.SENT: ("Sent", theme.TEXT_MUTED),
    S.FAILED: ("Failed", theme.DANGER),
    S.HELD: ("Held", theme.DANGER),
}
APPROVE_TEXT = {S.FAILED: "&Retry", S.HELD: "&Approve again"}


@dataclass(frozen=True)
class OutboxRow:
    """One queued reply with what the list and the detail show about its conversation."""

    item: OutboxItem
    contact: str
    account: str
    public: bool
    context: Sequence[StoredMessage] = field(default_factory=tuple)
    new_since_queued: int = 0  # inbound messages newer than the reply's approval (held replies)


class OutboxList(QTreeWidget):
    """The queue. Keys: Alt+Up/Alt+Down move the reply, Ctrl+Return approves, Delete discards, Ctrl+Z undoes
    a discard, Esc goes back. They are taken before the window's shortcuts of the same keys (those act on
    the inbox, which is not shown while the outbox is).

    Signals: key_command(str) with "up", "down", "approve", "discard", "undo" or "back".
    """

    key_command = Signal(str)
    _KEYS = {
        QKeySequence("Alt+Up"): "up",
        QKeySequence("Alt+Down"): "down",
        QKeySequence("Ctrl+Return"): "approve",
        QKeySequence("Ctrl+Enter"): "approve",
        QKeySequence("Delete"): "discard",
        QKeySequence("Ctrl+Z"): "undo",
        QKeySequence("Esc"): "back",
    }

    def _command(self, event: QKeyEvent) -> str | None:
        return self._KEYS.get(QKeySequence(event.keyCombination()))

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) and self._command(event):
            event.accept()  # the key comes to keyPressEvent instead of triggering a window shortcut
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        command = self._command(event)
        if command is None:
            super().keyPressEvent(event)
            return
        self.key_command.emit(command)
        event.accept()


class OutboxView(QFrame):
    """Signals (ids are outbox item ids): back_requested(); approve_requested(list); approve_all_requested();
    draft_requested(list, comment); discard_requested(list); undo_requested(); move_requested(id, step);
    edit_saved(id, text); current_changed(id, or -1)."""

    back_requested = Signal()
    approve_requested = Signal(list)
    approve_all_requested = Signal()
    draft_requested = Signal(list, str)
    discard_requested = Signal(list)
    undo_requested = Signal()
    move_requested = Signal(int, int)
    edit_saved = Signal(int, str)
    current_changed = Signal(int)

    def __init__(
        self, now: Callable[[], datetime], zone: Callable[[], tzinfo | None], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("outboxView")
        self.now, self.zone = now, zone
        self._rows: dict[int, OutboxRow] = {}
        self._shown: int | None = None

        self.back_button = QPushButton("← Inbox")
        self.title = QLabel("Outbox")
        self.title.setObjectName("paneTitle")
        self.reviewer = QLineEdit()
        self.reviewer.setObjectName("outboxReviewer")
        self.reviewer.setPlaceholderText("your name")
        self.reviewer.setMaximumWidth(180)
        self.approve_all_button = QPushButton("Approve a&ll")
        self.undo_button = QPushButton("&Undo discard")
        self.undo_button.setEnabled(False)
        top = QHBoxLayout()
        top.setContentsMargins(12, 8, 12, 8)
        top.addWidget(self.back_button)
        top.addWidget(self.title, 1)
        top.addWidget(QLabel("Approving as:"))
        top.addSpacing(4)
        top.addWidget(self.reviewer)
        top.addWidget(self.undo_button)
        top.addWidget(self.approve_all_button)

        self.list = OutboxList()
        self.list.setObjectName("outboxList")
        self.list.setAccessibleName("Outbox")
        self.list.setColumnCount(3)
        self.list.setHeaderLabels(["State", "To", "Reply"])
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setStyleSheet("QTreeWidget::item { padding: 4px 2px; }")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        header = self.list.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.empty = QLabel("Nothing waits in the outbox.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet(f"color: {theme.TEXT_MUTED.name()}; padding: 24px;")
        self.up_button = QPushButton("Move &up")
        self.down_button = QPushButton("Move &down")
        self.up_button.setToolTip("Send earlier (Alt+Up)")
        self.down_button.setToolTip("Send later (Alt+Down)")
        moves = QHBoxLayout()
        moves.setContentsMargins(8, 4, 8, 8)
        moves.addWidget(QLabel("Sent top to bottom."))
        moves.addStretch(1)
        moves.addWidget(self.up_button)
        moves.addWidget(self.down_button)
        left = QFrame()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(0)
        left_layout.addWidget(self.list, 1)
        left_layout.addWidget(self.empty)
        left_layout.addLayout(moves)

        self.heading = QLabel()
        self.heading.setObjectName("outboxHeading")
        self.heading.setWordWrap(True)
        self.state_label = QLabel()
        self.state_label.setObjectName("outboxState")
        self.state_label.setWordWrap(True)
        self.state_label.setTextFormat(Qt.TextFormat.RichText)
        self.context = SafeTextBrowser()
        self.context.setObjectName("outboxContext")
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("outboxEditor")
        self.editor.setPlaceholderText("The reply")
        self.save_button = QPushButton("&Save changes")
        self.approve_button = QPushButton("&Approve")
        self.approve_button.setToolTip("Approve the selected replies (Ctrl+Return)")
        self.comment = QLineEdit()
        self.comment.setObjectName("outboxComment")
        self.comment.setPlaceholderText("Comment for the author (optional)")
        self.draft_button = QPushButton("Return to d&raft")
        self.discard_button = QPushButton("Dis&card")
        self.discard_button.setToolTip("Discard the selected replies (Delete; undo with Ctrl+Z)")
        actions = QHBoxLayout()
        actions.addWidget(self.comment, 1)
        actions.addWidget(self.draft_button)
        actions.addWidget(self.discard_button)
        actions.addWidget(self.approve_button)
        right = QFrame()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(12, 8, 12, 8)
        right_layout.addWidget(self.heading)
        right_layout.addWidget(self.state_label)
        right_layout.addWidget(self._caption("Latest from the conversation"))
        right_layout.addWidget(self.context, 3)
        reply_row = QHBoxLayout()
        reply_row.addWidget(self._caption("Reply"), 1)
        reply_row.addWidget(self.save_button)
        right_layout.addLayout(reply_row)
        right_layout.addWidget(self.editor, 2)
        right_layout.addLayout(actions)
        self.detail = right

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([460, 640])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)

        self.back_button.clicked.connect(self.back_requested)
        self.approve_all_button.clicked.connect(self.approve_all_requested)
        self.undo_button.clicked.connect(self.undo_requested)
        self.approve_button.clicked.connect(lambda: self._emit_selected(self.approve_requested))
        self.discard_button.clicked.connect(lambda: self._emit_selected(self.discard_requested))
        self.draft_button.clicked.connect(self._on_draft_button_clicked)
        self.save_button.clicked.connect(self._on_save_button_clicked)
        self.up_button.clicked.connect(lambda: self._move(-1))
        self.down_button.clicked.connect(lambda: self._move(1))
        self.list.key_command.connect(self._on_list_key_command)
        self.list.itemSelectionChanged.connect(self._on_list_item_selection_changed)
        self.show_rows([])

    @staticmethod
    def _caption(text: str) -> QLabel:
        label = QLabel(text.upper())
        label.setStyleSheet(f"color: {theme.TEXT_FAINT.name()}; font-weight: 700; margin-top: 6px;")
        return label

    # --- content ----------------------------------------------------------------------------------------
    def show_rows(self, rows: Sequence[OutboxRow], *, current: int | None = None) -> None:
        """Replace the list, keeping the current reply (or `current`) chosen when it is still there."""
        keep = current if current is not None else self.current_id()
        self._rows = {row.item.id: row for row in rows}
        self.list.blockSignals(True)
        try:
            self.list.clear()
            for row in rows:
                text, colour = STATE_TEXT[row.item.state]
                first_line = row.item.body.splitlines()[0] if row.item.body.strip() else ""
                entry = QTreeWidgetItem([text, row.contact, first_line])
                entry.setData(0, ID_ROLE, row.item.id)
                entry.setForeground(0, QBrush(colour))
                entry.setToolTip(2, row.item.body)
                self.list.addTopLevelItem(entry)
                if row.item.id == keep:
                    self.list.setCurrentItem(entry)
                    entry.setSelected(True)
            if self.list.currentItem() is None and self.list.topLevelItemCount():
                first = self.list.topLevelItem(0)
                self.list.setCurrentItem(first)
                first.setSelected(True)
        finally:
            self.list.blockSignals(False)
        count = len(rows)
        self.title.setText(f"Outbox  <span style='color:{theme.TEXT_FAINT.name()}; font-weight:400'>{count}</span>")
        self.empty.setVisible(not rows)
        self.list.setVisible(bool(rows))
        self.approve_all_button.setEnabled(any(r.item.state in (S.DRAFT, S.AWAITING_REVIEW) for r in rows))
        self._show_detail(self.current_id())

    def current_id(self) -> int | None:
        item = self.list.currentItem()
        return int(item.data(0, ID_ROLE)) if item is not None else None

    def selected_ids(self) -> list[int]:
        """The selected replies in queue order (the current one when nothing is selected)."""
        chosen = {int(item.data(0, ID_ROLE)) for item in self.list.selectedItems()}
        ordered = [i for i in self._rows if i in chosen]
        current = self.current_id()
        return ordered or ([current] if current is not None else [])

    def choose(self, item_id: int) -> None:
        """Make this reply the current and only selected one."""
        for index in range(self.list.topLevelItemCount()):
            entry = self.list.topLevelItem(index)
            if entry is not None and int(entry.data(0, ID_ROLE)) == item_id:
                self.list.clearSelection()
                self.list.setCurrentItem(entry)
                entry.setSelected(True)
                return

    def set_undo_available(self, count: int) -> None:
        self.undo_button.setEnabled(count > 0)
        self.undo_button.setText(f"&Undo discard ({count})" if count > 1 else "&Undo discard")

    def _show_detail(self, item_id: int | None) -> None:
        row = self._rows.get(item_id) if item_id is not None else None
        self._shown = item_id
        self.detail.setEnabled(row is not None)
        if row is None:
            self.heading.setText("")
            self.state_label.setText("")
            self.context.setHtml("")
            self.editor.setPlainText("")
            return
        item = row.item
        where = "public reply" if row.public else "direct reply"
        self.heading.setText(
            f"<b>To {html.escape(row.contact or 'the conversation')}</b>"
            f" <span style='color:{theme.TEXT_MUTED.name()}'>· {html.escape(row.account)} · {where}</span>"
        )
        self.state_label.setText(self._state_html(row))
        self.context.setHtml(self._context_html(row))
        self.editor.setPlainText(item.body)
        editable = item.state in EDITABLE
        self.editor.setReadOnly(not editable)
        self.save_button.setEnabled(editable)
        self.approve_button.setText(APPROVE_TEXT.get(item.state, "&Approve"))
        self.approve_button.setEnabled(item.state in (S.DRAFT, S.AWAITING_REVIEW, S.FAILED, S.HELD))
        self.draft_button.setEnabled(item.state is not S.SENDING and item.state is not S.DRAFT)
        self.discard_button.setEnabled(item.state is not S.SENDING)

    @staticmethod
    def _state_html(row: OutboxRow) -> str:
        item = row.item
        text, colour = STATE_TEXT[item.state]
        parts = [f"<b style='color:{colour.name()}'>{text}</b>"]
        if item.author:
            parts.append(f"written by {html.escape(item.author)}")
        if item.reviewer and item.state is not S.DRAFT:
            parts.append(f"approved by {html.escape(item.reviewer)}")
        line = " · ".join(parts)
        if item.state is S.FAILED and item.error:
            line += f"<br><span style='color:{theme.DANGER.name()}'>The platform said: {html.escape(item.error)}</span>"
        elif item.state is S.HELD:
            line += (
                f"<br><span style='color:{theme.DANGER.name()}'>Not sent: {row.new_since_queued} new message(s) "
                "arrived after it was approved (marked below). Read them, edit if needed, and approve again.</span>"
            )
        elif item.error:
            line += f"<br><span style='color:{theme.TEXT_MUTED.name()}'>{html.escape(item.error)}</span>"
        if item.comment:
            line += f"<br><span style='color:{theme.WARNING_TEXT.name()}'>Comment: {html.escape(item.comment)}</span>"
        return line

    def _context_html(self, row: OutboxRow) -> str:
        if not row.context:
            return f"<p style='color:{theme.TEXT_MUTED.name()}'>No message from the customer is stored.</p>"
        since = row.item.queued_after_message_at
        now, zone, muted = self.now(), self.zone(), theme.TEXT_MUTED.name()
        blocks = []
        for message in row.context:
            author = html.escape(message.author_name or message.author_handle or "Unknown")
            is_new = row.item.state is S.HELD and since is not None and message.created_at > since
            badge = f" <b style='color:{theme.DANGER.name()}'>· new since it was queued</b>" if is_new else ""
            background = theme.WARNING_BG.name() if is_new else theme.INBOUND_BG.name()
            when = f"{exact(message.created_at, zone)} · {relative(message.created_at, now)}"
            blocks.append(
                f"<table width='100%' cellpadding='8' style='margin-bottom:6px'><tr>"
                f"<td bgcolor='{background}' style='border:1px solid {theme.LINE.name()}'>"
                f"<b>{author}</b>{badge}<br><span style='color:{muted}; font-size:small'>{html.escape(when)}</span>"
                f"<div>{message_body_html(message)}</div></td></tr></table>"
            )
        return "".join(blocks)

    # --- reviewer's requests ----------------------------------------------------------------------------
    def _emit_selected(self, signal: SignalInstance) -> None:
        ids = self.selected_ids()
        if ids:
            signal.emit(ids)

    def _move(self, step: int) -> None:
        current = self.current_id()
        if current is not None:
            self.move_requested.emit(current, step)

    @Slot()
    def _on_draft_button_clicked(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.draft_requested.emit(ids, self.comment.text().strip())
            self.comment.clear()

    @Slot()
    def _on_save_button_clicked(self) -> None:
        if self._shown is not None:
            self.edit_saved.emit(self._shown, self.editor.toPlainText())

    @Slot(str)
    def _on_list_key_command(self, command: str) -> None:
        if command == "up":
            self._move(-1)
        elif command == "down":
            self._move(1)
        elif command == "approve":
            self._emit_selected(self.approve_requested)
        elif command == "discard":
            self._emit_selected(self.discard_requested)
        elif command == "undo":
            self.undo_requested.emit()
        elif command == "back":
            self.back_requested.emit()

    @Slot()
    def _on_list_item_selection_changed(self) -> None:
        current = self.current_id()
        if current != self._shown:
            self._show_detail(current)
            self.current_changed.emit(current if current is not None else -1)
