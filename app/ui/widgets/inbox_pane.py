"""The left pane: the views sidebar beside the list column (title with count, filter bar, conversation list)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QSplitter, QVBoxLayout, QWidget

from app.ui.widgets.filter_bar import FilterBar
from app.ui.widgets.inbox_view import InboxView
from app.ui.widgets.views_sidebar import ViewsSidebar

SIDEBAR_WIDTH = 180


class InboxPane(QFrame):
    def __init__(
        self, sidebar: ViewsSidebar, title: QLabel, filters: FilterBar, view: InboxView, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("pane")
        self.setAccessibleName("inboxPane")
        self.sidebar, self.title, self.filters, self.view = sidebar, title, filters, view
        column = QFrame()
        column.setObjectName("pane")
        column_layout = QVBoxLayout(column)
        column_layout.setContentsMargins(0, 0, 0, 0)
        column_layout.setSpacing(0)
        column_layout.addWidget(title)
        column_layout.addWidget(filters)
        column_layout.addWidget(view, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("inboxSplit")
        self.splitter.setChildrenCollapsible(True)
        self.splitter.setHandleWidth(1)
        self.splitter.addWidget(sidebar)
        self.splitter.addWidget(column)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        sidebar.setMinimumWidth(130)
        column.setMinimumWidth(260)
        self.splitter.setSizes([SIDEBAR_WIDTH, 400])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

    def set_sidebar_visible(self, shown: bool) -> None:
        self.sidebar.setVisible(shown)
