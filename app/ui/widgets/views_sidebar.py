"""The sidebar of saved views, accounts, tags and team, each with a live count; choosing one fills the list.

Each entry has a key ("view:all-open", "account:brand", "tag:complaint", "assignee:HR"); the inbox controller
turns a key into a query and counts every entry off the GUI thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QFrame, QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from app.domain.views import SavedView
from app.ui import theme

KEY_ROLE = int(Qt.ItemDataRole.UserRole) + 10
SECTIONS = (("views", "Views"), ("accounts", "Accounts"), ("tags", "Tags"), ("team", "Team"))


class ViewsSidebar(QTreeWidget):
    """Signals: entry_chosen(str) with the chosen entry's key."""

    entry_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("viewsSidebar")
        self.setAccessibleName("Views")
        self.setColumnCount(2)
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.setIndentation(8)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.setStyleSheet(
            f"QTreeWidget#viewsSidebar {{ background: {theme.BRAND_SOFT.name()}; }}"
            f"QTreeWidget#viewsSidebar::item {{ padding: 3px 2px; }}"
            f"QTreeWidget#viewsSidebar::item:selected {{ background: {theme.BRAND_TINT.name()};"
            f" color: {theme.BRAND.name()}; }}"
        )
        self._items: dict[str, QTreeWidgetItem] = {}
        self._sections: dict[str, QTreeWidgetItem] = {}
        for key, title in SECTIONS:
            section = QTreeWidgetItem([title.upper(), ""])
            section.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = QFont(self.font())
            font.setPointSizeF(max(6.5, font.pointSizeF() * 0.78))
            font.setWeight(QFont.Weight.Bold)
            font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 108)
            section.setFont(0, font)
            section.setForeground(0, QBrush(theme.TEXT_FAINT))
            section.setSizeHint(0, QSize(10, 26))
            self.addTopLevelItem(section)
            section.setExpanded(True)
            self._sections[key] = section
        self.currentItemChanged.connect(self._on_current_item_changed)

    # --- entries ------------------------------------------------------------------------------------------
    def set_views(self, views: Sequence[SavedView]) -> None:
        self._replace("views", [(f"view:{v.key}", v.name, v.description) for v in views])

    def set_accounts(self, names: Iterable[tuple[str, str]]) -> None:
        """(account name, platform) pairs."""
        self._replace("accounts", [(f"account:{n}", n, f"{n} on {p.title()}") for n, p in names])

    def set_tags(self, names: Iterable[str]) -> None:
        self._replace("tags", [(f"tag:{n}", f"#{n}", f"Tagged {n}, not closed") for n in names])

    def set_team(self, names: Iterable[str]) -> None:
        self._replace("team", [(f"assignee:{n}", n, f"Assigned to {n}, not closed") for n in names])

    def _replace(self, section_key: str, entries: list[tuple[str, str, str]]) -> None:
        section = self._sections[section_key]
        current = self.current_key()
        self.blockSignals(True)
        try:
            for index in reversed(range(section.childCount())):
                child = section.takeChild(index)
                if child is not None:
                    self._items.pop(str(child.data(0, KEY_ROLE)), None)
            for key, text, tip in entries:
                item = QTreeWidgetItem([text, ""])
                item.setData(0, KEY_ROLE, key)
                item.setToolTip(0, tip)
                item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setForeground(1, QBrush(QColor(theme.TEXT_MUTED)))
                section.addChild(item)
                self._items[key] = item
            if current in self._items:
                self.setCurrentItem(self._items[current])
        finally:
            self.blockSignals(False)

    def keys(self) -> list[str]:
        return list(self._items)

    def current_key(self) -> str | None:
        item = self.currentItem()
        key = item.data(0, KEY_ROLE) if item is not None else None
        return str(key) if key else None

    def choose(self, key: str) -> bool:
        """Make `key` the current entry (emitting entry_chosen); False when there is no such entry."""
        item = self._items.get(key)
        if item is None:
            return False
        self.setCurrentItem(item)
        return True

    def entry_text(self, key: str) -> str:
        item = self._items.get(key)
        return item.text(0) if item is not None else ""

    def set_counts(self, counts: Mapping[str, int]) -> None:
        for key, value in counts.items():
            item = self._items.get(key)
            if item is not None:
                item.setText(1, f"{value:,}" if value else "")

    def count_text(self, key: str) -> str:
        item = self._items.get(key)
        return item.text(1) if item is not None else ""

    @Slot(QTreeWidgetItem, QTreeWidgetItem)
    def _on_current_item_changed(self, current: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        key = current.data(0, KEY_ROLE) if current is not None else None
        if key:
            self.entry_chosen.emit(str(key))

    def sizeHint(self) -> QSize:
        return QSize(190, 400)
