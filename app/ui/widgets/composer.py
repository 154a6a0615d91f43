"""The reply composer: text, a live count against the platform's limit with the overflow highlighted, the
reply's visibility, send buttons, and playbook shortcut keywords expanded with Tab."""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QColor, QKeyEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.domain.messaging_window import ALLOWED, SendRule
from app.domain.models import MessageKind, Platform, Visibility
from app.errors import PlatformError
from app.ui import theme

log = logging.getLogger("app.ui.composer")

DEFAULT_LIMIT = 500

_VISIBILITY_TEXT = {
    Visibility.DIRECT: "Direct reply: only the people in this conversation see it",
    Visibility.PRIVATE: "Followers-only reply",
    Visibility.UNLISTED: "Unlisted public reply",
    Visibility.PUBLIC: "Public reply: everyone can see it",
}


def reply_limit(platform: Platform, kind: MessageKind = MessageKind.REPLY) -> int:
    """The platform connector's limit for this kind of reply (DMs may differ); 500 when no connector is installed."""
    from app.platforms.registry import connector_class

    try:
        return connector_class(platform).reply_length_limit(direct=kind is MessageKind.DM)
    except (PlatformError, ImportError) as exc:
        log.debug("no connector limit for %s (%s); using %s", platform.value, exc, DEFAULT_LIMIT)
        return DEFAULT_LIMIT


def reply_visibility_text(platform: Platform, kind: MessageKind, visibility: Visibility) -> str:
    if platform is Platform.MATRIX:
        if kind is MessageKind.DM:
            return "Direct message: only the people in this room see it"
        return "Message in the room: everyone in it sees it"
    if kind is MessageKind.DM:
        return _VISIBILITY_TEXT[Visibility.DIRECT]
    return _VISIBILITY_TEXT.get(visibility, visibility.value)


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class Composer(QFrame):
    """Signals: send_requested(conversation_id, text), review_requested(conversation_id, text),
    conversation_shown(conversation_id, or -1 when cleared), shortcut_triggered(keyword): Tab typed right after a
    known playbook keyword (the keyword stays until `replace_keyword` swaps it for the answer)."""

    send_requested = Signal(int, str)
    review_requested = Signal(int, str)
    conversation_shown = Signal(int)
    shortcut_triggered = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("composer")
        self._conversation_id: int | None = None
        self._drafts: dict[int, str] = {}
        self._limit = DEFAULT_LIMIT
        self._shortcuts: set[str] = set()
        self._rule = ALLOWED
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("composerEdit")
        self.editor.setPlaceholderText("Select a conversation to reply")
        self.editor.setAccessibleName("Reply")
        self.editor.setTabChangesFocus(True)
        self.editor.setFixedHeight(92)
        self.visibility_label = QLabel()
        self.visibility_label.setObjectName("visibility")
        self.counter = QLabel()
        self.counter.setObjectName("counter")
        # Why a reply cannot go out here (Meta's 24-hour window) and what the person can do instead.
        self.rule_label = QLabel()
        self.rule_label.setObjectName("sendRule")
        self.rule_label.setWordWrap(True)
        self.rule_label.hide()
        self.review_button = QPushButton("Queue for review")
        self.review_button.setToolTip("Put the reply in the review queue (Ctrl+Shift+Return)")
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("primary")
        self.send_button.setToolTip("Send the reply (Ctrl+Return)")

        footer = QHBoxLayout()
        footer.setContentsMargins(0, 0, 0, 0)
        footer.addWidget(self.visibility_label, 1)
        footer.addWidget(self.counter)
        footer.addSpacing(8)
        footer.addWidget(self.review_button)
        footer.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(8)
        layout.addWidget(self.editor)
        layout.addWidget(self.rule_label)
        layout.addLayout(footer)

        self.editor.installEventFilter(self)
        self.editor.textChanged.connect(self._on_editor_text_changed)
        self.send_button.clicked.connect(self.request_send)
        self.review_button.clicked.connect(self.request_review)
        self.clear_conversation()

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def conversation_id(self) -> int | None:
        return self._conversation_id

    def set_shortcuts(self, keywords: set[str]) -> None:
        """The playbook's shortcut keywords (casefolded) that Tab expands."""
        self._shortcuts = {keyword.casefold() for keyword in keywords}

    def keyword_before_cursor(self) -> str:
        cursor = self.editor.textCursor()
        if cursor.hasSelection():
            return ""
        before = self.editor.toPlainText()[: cursor.position()]
        word = before.split()[-1] if before and not before[-1].isspace() else ""
        return word

    def replace_keyword(self, keyword: str, text: str) -> bool:
        """Swap the keyword just before the cursor for `text`; False (nothing changed) if it is not there."""
        if self._conversation_id is None or self.keyword_before_cursor().casefold() != keyword.casefold():
            return False
        cursor = self.editor.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.Left, QTextCursor.MoveMode.KeepAnchor, _utf16_length(keyword))
        cursor.insertText(text)
        self.editor.setTextCursor(cursor)
        self.editor.setFocus()
        return True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.editor and event.type() == QEvent.Type.KeyPress:
            key_event = event if isinstance(event, QKeyEvent) else None
            if (
                key_event is not None
                and key_event.key() == Qt.Key.Key_Tab
                and key_event.modifiers() == Qt.KeyboardModifier.NoModifier
            ):
                keyword = self.keyword_before_cursor()
                if keyword and keyword.casefold() in self._shortcuts:
                    self.shortcut_triggered.emit(keyword)
                    return True  # the keyword's Tab expands it instead of moving focus
        return super().eventFilter(watched, event)

    def set_conversation(
        self,
        conversation_id: int,
        platform: Platform,
        kind: MessageKind,
        visibility: Visibility,
        *,
        rule: SendRule = ALLOWED,
    ) -> None:
        """Show a conversation; `rule` says whether the platform lets a reply go out now, and if not, why."""
        if conversation_id != self._conversation_id:
            self._keep_draft()
            self.editor.setPlainText(self._drafts.pop(conversation_id, ""))
        self._conversation_id = conversation_id
        self._limit = reply_limit(platform, kind)
        self.editor.setEnabled(True)
        self.editor.setPlaceholderText("Write a reply…")
        self.visibility_label.setText(reply_visibility_text(platform, kind, visibility))
        self._show_rule(rule)
        self._update_state()
        self.conversation_shown.emit(conversation_id)

    def _show_rule(self, rule: SendRule) -> None:
        self._rule = rule
        lines = [rule.reason] if rule.reason and (not rule.allowed or rule.tag) else []
        if not rule.allowed and rule.alternative:
            lines.append(rule.alternative)
        self.rule_label.setText("\n".join(lines))
        self.rule_label.setStyleSheet(f"color: {(theme.DANGER if not rule.allowed else theme.TEXT_MUTED).name()};")
        self.rule_label.setVisible(bool(lines))

    @property
    def send_rule(self) -> SendRule:
        return self._rule

    def clear_conversation(self) -> None:
        self._keep_draft()
        had_conversation = self._conversation_id is not None
        self._conversation_id = None
        self.editor.clear()
        self.editor.setEnabled(False)
        self.editor.setPlaceholderText("Select a conversation to reply")
        self.visibility_label.setText("")
        self._show_rule(ALLOWED)
        self._update_state()
        if had_conversation:
            self.conversation_shown.emit(-1)

    def draft_for(self, conversation_id: int) -> str:
        """The unsent text of a conversation (kept in memory while another one is open)."""
        if conversation_id == self._conversation_id:
            return self.editor.toPlainText()
        return self._drafts.get(conversation_id, "")

    def _keep_draft(self) -> None:
        if self._conversation_id is not None and self.editor.toPlainText():
            self._drafts[self._conversation_id] = self.editor.toPlainText()

    def forget_sent(self, conversation_id: int) -> None:
        """The reply went to the outbox: clear it from the editor (or from the kept drafts)."""
        self._drafts.pop(conversation_id, None)
        if conversation_id == self._conversation_id:
            self.editor.clear()

    def insert_text(self, text: str) -> bool:
        """Insert at the cursor (a space first when it sits right after a word); False with no conversation."""
        if self._conversation_id is None:
            return False
        cursor = self.editor.textCursor()
        before = self.editor.toPlainText()[: cursor.selectionStart()]
        if before and not before[-1].isspace() and text and not text[0].isspace():
            text = " " + text
        self.editor.insertPlainText(text)
        self.editor.setFocus()
        return True

    def can_send(self) -> bool:
        length = len(self.editor.toPlainText())
        text = self.editor.toPlainText().strip()
        within_limit = self._conversation_id is not None and bool(text) and length <= self._limit
        return within_limit and self._rule.allowed

    @Slot()
    def request_send(self) -> None:
        if self.can_send() and self._conversation_id is not None:
            self.send_requested.emit(self._conversation_id, self.editor.toPlainText())

    @Slot()
    def request_review(self) -> None:
        if self.can_send() and self._conversation_id is not None:
            self.review_requested.emit(self._conversation_id, self.editor.toPlainText())

    @Slot()
    def _on_editor_text_changed(self) -> None:
        self._update_state()

    def _update_state(self) -> None:
        length = len(self.editor.toPlainText())
        over = length > self._limit
        self.counter.setText(f"{length} / {self._limit}")
        colour = theme.DANGER if over else theme.TEXT_MUTED
        self.counter.setStyleSheet(f"color: {colour.name()};{' font-weight: 600;' if over else ''}")
        self.counter.setToolTip(f"{length - self._limit} characters over the limit" if over else "")
        enabled = self.can_send()
        self.send_button.setEnabled(enabled)
        self.review_button.setEnabled(enabled)
        self._highlight_overflow(length)

    def overflow_text(self) -> str:
        """The characters past the platform's limit (what the highlight covers)."""
        return self.editor.toPlainText()[self._limit :]

    def _highlight_overflow(self, length: int) -> None:
        selections = []
        if length > self._limit:
            selection = QTextEdit.ExtraSelection()
            text = self.editor.toPlainText()
            cursor = QTextCursor(self.editor.document())
            cursor.setPosition(_utf16_length(text[: self._limit]))  # Qt positions count UTF-16 units
            cursor.setPosition(_utf16_length(text), QTextCursor.MoveMode.KeepAnchor)
            selection.cursor = cursor  # type: ignore[attr-defined]
            char_format = QTextCharFormat()
            char_format.setBackground(QColor("#FFE3E3"))
            char_format.setForeground(theme.DANGER)
            selection.format = char_format  # type: ignore[attr-defined]
            selections.append(selection)
        self.editor.setExtraSelections(selections)
