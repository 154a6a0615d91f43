"""Above the inbox list: the search box with its inline syntax hint, and the status, priority, unread and order
filters. It only reads what the user chose; the inbox controller runs the queries."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QToolButton, QVBoxLayout, QWidget

from app.domain.models import ConversationStatus
from app.domain.search_syntax import SearchQuery, SearchSyntaxError, parse_query
from app.domain.triage import Priority
from app.domain.views import Order
from app.ui import theme

SEARCH_DELAY_MS = 250
_STATUS_CHOICES = [("State", "")] + [(s.value.title(), f"status:{s.value}") for s in ConversationStatus]
_PRIORITY_CHOICES = [("Priority", "")] + [
    (p.label, f"priority:{p.name.lower()}") for p in sorted(Priority, reverse=True)
]


class FilterBar(QWidget):
    """Signals: changed() when the search or a filter changed (after a short pause while typing);
    submitted() when Enter is pressed in the search box; escaped() when Esc is pressed in it."""

    changed = Signal()
    submitted = Signal()
    escaped = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filterBar")
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Search (/)  refund from:@maria tag:complaint")
        self.search.setToolTip(
            'Words, "phrases" and prefix* words, with from:, platform:, account:, tag:, is:unread, is:open, '
            "status:, sla:breached, assignee:, priority:, kind:, closed:today, before: and after: dates"
        )
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search conversations")
        self.hint = QLabel()
        self.hint.setObjectName("searchHint")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(f"color: {theme.DANGER.name()}; padding: 0 2px;")
        self.hint.hide()
        self.status = self._combo("statusFilter", _STATUS_CHOICES, "Only conversations in this state")
        self.priority = self._combo("priorityFilter", _PRIORITY_CHOICES, "Only conversations of this priority")
        self.order = self._combo(
            "orderChoice",
            [(o.label, o.value) for o in Order],
            "Urgent first: past their response time, then least time left, then the newest",
        )
        self.unread = QToolButton()
        self.unread.setObjectName("unreadFilter")
        self.unread.setText("Unread")
        self.unread.setCheckable(True)
        self.unread.setToolTip("Only conversations with unread messages")

        filters = QHBoxLayout()
        filters.setContentsMargins(0, 0, 0, 0)
        filters.setSpacing(6)
        for widget in (self.status, self.priority, self.unread):
            filters.addWidget(widget)
        filters.addStretch(1)
        filters.addWidget(self.order)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 4, 10, 6)
        layout.setSpacing(4)
        layout.addWidget(self.search)
        layout.addWidget(self.hint)
        layout.addLayout(filters)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.changed)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.search.installEventFilter(self)
        for combo in (self.status, self.priority, self.order):
            combo.currentIndexChanged.connect(self._on_filter_changed)
        self.unread.toggled.connect(self._on_filter_changed)

    @staticmethod
    def _combo(name: str, choices: list[tuple[str, str]], tip: str) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(name)
        combo.setToolTip(tip)
        for text, value in choices:
            combo.addItem(text, value)
        combo.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # Tab goes search → list; the keys go to triage
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        return combo

    # --- what the user asked for --------------------------------------------------------------------------
    def search_query(self) -> SearchQuery:
        """The search box's query; raises SearchSyntaxError (and shows the hint) when it cannot be read."""
        text = self.search.text()
        try:
            query = parse_query(text)
        except SearchSyntaxError as exc:
            self._show_hint(text, exc)
            raise
        self.hint.hide()
        self.search.setStyleSheet("")
        return query

    def filter_query(self) -> SearchQuery:
        parts = [str(self.status.currentData() or ""), str(self.priority.currentData() or "")]
        if self.unread.isChecked():
            parts.append("is:unread")
        return parse_query(" ".join(p for p in parts if p))

    def current_order(self) -> Order:
        return Order(str(self.order.currentData()))

    def set_order(self, order: Order) -> None:
        self.order.blockSignals(True)
        self.order.setCurrentIndex(max(0, self.order.findData(order.value)))
        self.order.blockSignals(False)

    def _show_hint(self, text: str, error: SearchSyntaxError) -> None:
        where = text[error.position : error.position + 24].split(" ")[0] or text[-12:]
        self.hint.setText(f"{error}  (at “{where}”, character {error.position + 1})")
        self.hint.show()
        self.search.setStyleSheet(f"QLineEdit#search {{ border: 1px solid {theme.DANGER.name()}; }}")

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    # --- events -------------------------------------------------------------------------------------------
    @Slot(str)
    def _on_search_text_changed(self, _text: str) -> None:
        self._timer.start()

    @Slot()
    def _on_filter_changed(self, *_args: object) -> None:
        self.changed.emit()

    def flush(self) -> None:
        """Apply typed text now instead of after the pause."""
        if self._timer.isActive():
            self._timer.stop()
            self.changed.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search and isinstance(event, QKeyEvent):
            key = event.key()
            if event.type() == QEvent.Type.ShortcutOverride and key in (Qt.Key.Key_Escape, Qt.Key.Key_Return):
                event.accept()  # these keys belong to the search box, not to the window's shortcuts
                return True
            if event.type() == QEvent.Type.KeyPress and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.flush()
                self.submitted.emit()
                return True
            if event.type() == QEvent.Type.KeyPress and key == Qt.Key.Key_Escape:
                if self.search.text():
                    self.search.clear()
                    self.flush()
                self.escaped.emit()
                return True
        return super().eventFilter(watched, event)
