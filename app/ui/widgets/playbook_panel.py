"""The playbook pane: the team's canned answers, filtered as you type; activating one inserts its text."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.store.playbook import PlaybookEntry
from app.ui.delegates.playbook_delegate import BODY_ROLE, CATEGORY_ROLE, PlaybookDelegate


class PlaybookPanel(QFrame):
    """Signals: entry_chosen(str) with the body of the entry the user activated."""

    entry_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pane")
        title = QLabel("Playbook")
        title.setObjectName("paneTitle")
        self.search = QLineEdit()
        self.search.setObjectName("playbookSearch")
        self.search.setPlaceholderText("Search answers…")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search the playbook")
        self.list = QListWidget()
        self.list.setObjectName("playbookList")
        self.list.setUniformItemSizes(True)
        self.list.setItemDelegate(PlaybookDelegate(self.list))
        self.list.setMouseTracking(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setAccessibleName("Playbook answers")
        self.empty = QLabel("No answers in the playbook yet.")
        self.empty.setObjectName("paneSubtitle")
        self.empty.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(title)
        layout.addWidget(self.search)
        layout.addWidget(self.empty)
        layout.addWidget(self.list, 1)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.list.itemActivated.connect(self._on_list_item_activated)
        self.search.returnPressed.connect(self._on_search_return_pressed)

    def set_entries(self, entries: Sequence[PlaybookEntry]) -> None:
        self.list.clear()
        for entry in entries:
            item = QListWidgetItem(entry.title)
            item.setData(BODY_ROLE, entry.body)
            item.setData(CATEGORY_ROLE, entry.category)
            item.setToolTip(entry.body[:400])
            self.list.addItem(item)
        self.empty.setVisible(not entries)
        self._on_search_text_changed(self.search.text())

    def visible_titles(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count()) if not self.list.item(i).isHidden()]

    @Slot(str)
    def _on_search_text_changed(self, text: str) -> None:
        words = text.casefold().split()
        for row in range(self.list.count()):
            item = self.list.item(row)
            haystack = f"{item.text()} {item.data(CATEGORY_ROLE)} {item.data(BODY_ROLE)}".casefold()
            item.setHidden(not all(word in haystack for word in words))

    @Slot()
    def _on_search_return_pressed(self) -> None:
        """Enter in the search field takes the selected answer, or the first one shown."""
        current: QListWidgetItem | None = self.list.currentItem()
        if current is None or current.isHidden():
            current = next(
                (self.list.item(r) for r in range(self.list.count()) if not self.list.item(r).isHidden()), None
            )
        if current is not None:
            self._on_list_item_activated(current)

    @Slot(QListWidgetItem)
    def _on_list_item_activated(self, item: QListWidgetItem) -> None:
        self.entry_chosen.emit(str(item.data(BODY_ROLE)))
