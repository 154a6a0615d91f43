"""The inbox view: fixed-height rows, an open conversation plus a multi-selection, refreshes that keep the place.

A one-column QTableView rather than a QListView: with a fixed vertical header the table never walks all
rows, while QListView's layout asks the (Python) model for an index per row on every relayout — measured
at 200k conversations, seconds instead of milliseconds. Selections are read as row ranges, never row by
row, so "select all" over 200k conversations stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, QPoint, QRect, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QPaintEvent, QRegion
from PySide6.QtWidgets import QAbstractItemView, QFrame, QHeaderView, QTableView, QWidget

from app.ui.delegates.conversation_delegate import ROW_HEIGHT, ConversationDelegate
from app.ui.models.inbox_model import InboxModel

_Flag = QItemSelectionModel.SelectionFlag
TICK_MS = 15_000  # the timers show minutes: four repaints a minute keep them within a quarter of one


class InboxView(QTableView):
    """Signals: conversation_selected(int) when the open (current) conversation changes to another one;
    selection_changed() when the set of selected conversations changes; ticked() after each `tick()`."""

    conversation_selected = Signal(int)
    selection_changed = Signal()
    ticked = Signal()

    def __init__(self, model: InboxModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inbox")
        self._current_id: int | None = None
        self.exposed_region: QRegion | None = None  # what the paint under way repaints (read by the delegate)
        rows = self.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(ROW_HEIGHT)
        rows.setMinimumSectionSize(ROW_HEIGHT)
        rows.hide()
        columns = self.horizontalHeader()
        columns.setStretchLastSection(True)
        columns.hide()
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setCornerButtonEnabled(False)
        self.setTabKeyNavigation(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setModel(model)
        self._model = model
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setMouseTracking(True)
        self.setAccessibleName("Inbox")
        # Selection, not the current index: focusing the list makes row 0 current without the user
        # choosing it, and opening (so marking read) the newest conversation on every start would be wrong.
        self.selectionModel().selectionChanged.connect(self._on_selection_changed)
        # One timer for the whole view, never one per row: each tick repaints the rows on screen.
        self.tick_timer = QTimer(self)
        self.tick_timer.setInterval(TICK_MS)
        self.tick_timer.timeout.connect(self.tick)
        self.tick_timer.start()

    @Slot()
    def tick(self) -> int:
        """Move the visible rows' response timers and ages on: repaint only the rows on screen whose timer or
        age now reads differently from what was painted (summaries are cached; nothing is read from the store),
        then emit `ticked`. Returns how many rows were marked for repaint."""
        viewport = self.viewport()
        first = self.rowAt(0)
        repainted = 0
        if first >= 0:
            last = self.rowAt(viewport.height() - 1)
            if last < 0:
                last = self._model.rowCount() - 1
            delegate = self.itemDelegate()
            faces = delegate if isinstance(delegate, ConversationDelegate) else None
            now = faces.now() if faces is not None else None
            shown: dict[int, tuple[object, ...]] = {}
            for row in range(first, last + 1):
                summary = self._model.summary(row)
                if faces is not None and now is not None and summary is not None:
                    painted = faces.painted_faces.get(summary.id)
                    if painted is not None:
                        shown[summary.id] = painted
                    if painted == faces.clock_face(summary, now):
                        continue
                row_rect = QRect(0, self.rowViewportPosition(row), viewport.width(), self.rowHeight(row))
                viewport.update(ConversationDelegate.time_region(row_rect) if faces is not None else row_rect)
                repainted += 1
            if faces is not None:
                faces.painted_faces = shown  # forget rows scrolled away: they are painted afresh when shown
        self.ticked.emit()
        return repainted

    def paintEvent(self, event: QPaintEvent) -> None:
        # The delegate reads what is being repainted, so a tick's repaint of the timers skips the rest of a row.
        self.exposed_region = event.region()
        try:
            super().paintEvent(event)
        finally:
            self.exposed_region = None

    def keyboardSearch(self, search: str) -> None:
        # Type-ahead would match DisplayRole over every row, loading the whole inbox block by block.
        return

    @property
    def current_conversation_id(self) -> int | None:
        return self._current_id

    # --- reading the selection ----------------------------------------------------------------------------
    def selected_rows(self) -> list[int]:
        rows: list[int] = []
        for selection_range in self.selectionModel().selection():
            rows.extend(range(selection_range.top(), selection_range.bottom() + 1))
        return sorted(set(rows))

    def selected_ids(self) -> list[int]:
        """The selected conversations in list order; the open one when nothing else is selected."""
        ids = [cid for cid in (self._model.conversation_id(r) for r in self.selected_rows()) if cid is not None]
        if not ids and self._current_id is not None:
            ids = [self._current_id]
        return ids

    # --- moving and selecting -----------------------------------------------------------------------------
    def select_conversation(self, conversation_id: int) -> bool:
        row = self._model.row_of(conversation_id)
        if row is None:
            return False
        self.select_row(row)
        return True

    def select_row(self, row: int) -> None:
        if not 0 <= row < self._model.rowCount():
            return
        index = self._model.index(row, 0)
        self.selectionModel().setCurrentIndex(index, _Flag.ClearAndSelect | _Flag.Rows)
        self.scrollTo(index)

    def step(self, delta: int, *, extend: bool = False) -> None:
        """Open the next (+1) or previous (-1) conversation; with `extend`, add it to the selection."""
        count = self._model.rowCount()
        if count == 0:
            return
        current = self.currentIndex()
        if not current.isValid():
            row = 0
        elif self._current_id is None:
            row = current.row()  # focus made it current, nobody opened it yet: open it rather than skip it
        else:
            row = min(max(current.row() + delta, 0), count - 1)
        index = self._model.index(row, 0)
        if extend:
            self.selectionModel().setCurrentIndex(index, _Flag.Select | _Flag.Rows)
            self._on_selection_changed(QItemSelection(), QItemSelection())
        else:
            self.selectionModel().setCurrentIndex(index, _Flag.ClearAndSelect | _Flag.Rows)
        self.scrollTo(index)

    def toggle_current(self) -> None:
        """Add the current row to the selection, or take it out (keyboard multi-selection)."""
        current = self.currentIndex()
        if current.isValid():
            self.selectionModel().select(current, _Flag.Toggle | _Flag.Rows)

    def select_ids(self, ids: Iterable[int], current: int | None) -> None:
        """Select these conversations (contiguous rows as ranges) with `current` as the open one."""
        rows = sorted(r for r in (self._model.row_of(cid) for cid in ids) if r is not None)
        selection = QItemSelection()
        start = previous = None
        for row in [*rows, None]:
            if row is not None and previous is not None and row == previous + 1:
                previous = row
                continue
            if start is not None and previous is not None:
                selection.select(self._model.index(start, 0), self._model.index(previous, 0))
            start = previous = row
        model = self.selectionModel()
        current_row = self._model.row_of(current) if current is not None else None
        if current_row is not None:
            model.setCurrentIndex(self._model.index(current_row, 0), _Flag.NoUpdate)
        model.select(selection, _Flag.ClearAndSelect | _Flag.Rows)

    # --- refreshing ---------------------------------------------------------------------------------------
    def refresh_keeping_place(self, update: Callable[[], None] | None = None) -> None:
        """Reload the rows (`update`, or re-read the ids); keep the open and selected conversations and the
        conversation at the top of the viewport, at the same pixel offset."""
        opened = self._current_id
        selected = [cid for cid in self.selected_ids() if cid != opened]
        scrollbar = self.verticalScrollBar()
        at_top = scrollbar.value() == 0
        top_index = self.indexAt(QPoint(1, 1))
        top_id = self._model.conversation_id(top_index.row()) if top_index.isValid() else None
        offset = self.visualRect(top_index).top() if top_index.isValid() else 0

        self.selectionModel().blockSignals(True)
        try:
            (update or self._model.refresh)()
            if opened is not None and self._model.row_of(opened) is not None:
                self.select_ids([opened, *selected], opened)
            else:
                self._current_id = None
        finally:
            self.selectionModel().blockSignals(False)
        self.executeDelayedItemsLayout()
        self.viewport().update()
        if opened is not None and self._current_id is None:
            self.selection_changed.emit()
        if at_top or top_id is None:
            scrollbar.setValue(0)
            return
        row = self._model.row_of(top_id)
        if row is None:
            return
        self.scrollTo(self._model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtTop)
        scrollbar.setValue(scrollbar.value() - offset)

    @Slot(QItemSelection, QItemSelection)
    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        current = self.currentIndex()
        rows = self.selected_rows()
        if current.isValid() and current.row() in rows:
            conversation_id = self._model.conversation_id(current.row())
        else:
            conversation_id = self._model.conversation_id(rows[0]) if rows else None
        self.selection_changed.emit()
        if conversation_id == self._current_id:
            return
        self._current_id = conversation_id
        if conversation_id is not None:
            self.conversation_selected.emit(conversation_id)

    def currentChanged(self, current: QModelIndex, previous: QModelIndex) -> None:  # type: ignore[override]
        super().currentChanged(current, previous)
        # Moving the current row within an unchanged selection (Shift+J/K) opens that row too.
        if current.isValid() and current.row() in self.selected_rows():
            conversation_id = self._model.conversation_id(current.row())
            if conversation_id is not None and conversation_id != self._current_id:
                self._current_id = conversation_id
                self.conversation_selected.emit(conversation_id)
