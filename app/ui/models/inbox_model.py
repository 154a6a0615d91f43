"""The inbox list model: row count known up front from the ordered id list, row data loaded in cached blocks.

What runs where: everything here runs on the GUI thread, and only two reads touch the database — the
ordered id list (`load_ids`, by default `inbox.conversation_ids`) on `refresh()`, and `inbox.summaries` for
one block of `block_size` rows (a few milliseconds) the first time a row of that block is asked for. The
inbox controller reads a view's id list on a worker thread and hands it over with `set_ids()`. Nothing else is
read per row, and at most `max_blocks` blocks stay cached (least recently used dropped first), so memory stays
flat on huge inboxes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from sqlalchemy import Engine

from app.domain.models import ConversationSummary
from app.store import inbox

SUMMARY_ROLE = int(Qt.ItemDataRole.UserRole) + 1
CONVERSATION_ID_ROLE = int(Qt.ItemDataRole.UserRole) + 2

_Index = QModelIndex | QPersistentModelIndex


class InboxModel(QAbstractListModel):
    """Conversations in inbox order. `SUMMARY_ROLE` gives the row's ConversationSummary for the delegate."""

    def __init__(
        self,
        engine: Engine,
        *,
        block_size: int = 200,
        max_blocks: int = 32,
        parent: Any = None,
        load_ids: Callable[[], list[int]] | None = None,
        ids: list[int] | None = None,
    ) -> None:
        super().__init__(parent)
        self._engine = engine
        self._load_ids = load_ids or (lambda: inbox.conversation_ids(engine))
        self._block_size = block_size
        self._max_blocks = max_blocks
        self._ids: list[int] = []
        self._row_of: dict[int, int] | None = None
        self._blocks: OrderedDict[int, dict[int, ConversationSummary]] = OrderedDict()
        self.block_loads = 0  # how many block reads hit the database; lets tests prove laziness
        self._ids = self._load_ids() if ids is None else list(ids)

    # --- Qt overrides -------------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._ids)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.column() != 0 or not 0 <= index.row() < len(self._ids):
            return None
        role = int(role)
        if role == CONVERSATION_ID_ROLE:
            return self._ids[index.row()]
        if role not in (
            SUMMARY_ROLE,
            int(Qt.ItemDataRole.DisplayRole),
            int(Qt.ItemDataRole.ToolTipRole),
            int(Qt.ItemDataRole.AccessibleTextRole),
        ):
            return None
        summary = self.summary(index.row())
        if summary is None:
            return None
        if role == SUMMARY_ROLE:
            return summary
        name = summary.contact_name or summary.contact_handle or summary.account_name
        if role == int(Qt.ItemDataRole.ToolTipRole):
            return f"{name} {summary.contact_handle}\n{summary.account_name} · {summary.kind.value}"
        return f"{name}: {summary.snippet}"

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    # --- lookups -------------------------------------------------------------------------------------
    def conversation_id(self, row: int) -> int | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, conversation_id: int) -> int | None:
        if self._row_of is None:
            self._row_of = {cid: row for row, cid in enumerate(self._ids)}
        return self._row_of.get(conversation_id)

    def summary(self, row: int) -> ConversationSummary | None:
        """The row's summary (None for a conversation deleted since the ids were read)."""
        if not 0 <= row < len(self._ids):
            return None
        block = row // self._block_size
        cached = self._blocks.get(block)
        if cached is None:
            cached = self._load_block(block)
        else:
            self._blocks.move_to_end(block)
        return cached.get(self._ids[row])

    def _load_block(self, block: int) -> dict[int, ConversationSummary]:
        start = block * self._block_size
        loaded = inbox.summaries(self._engine, self._ids[start : start + self._block_size])
        self.block_loads += 1
        self._blocks[block] = loaded
        while len(self._blocks) > self._max_blocks:
            self._blocks.popitem(last=False)
        return loaded

    # --- updates -------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the ordered ids (new conversations, new order) and drop every cached block."""
        self.set_ids(self._load_ids())

    def set_ids(self, ids: list[int]) -> None:
        """Show these conversations in this order (read elsewhere), dropping every cached block."""
        self.beginResetModel()
        self._ids = list(ids)
        self._row_of = None
        self._blocks.clear()
        self.endResetModel()

    def set_loader(self, load_ids: Callable[[], list[int]]) -> None:
        self._load_ids = load_ids

    def ids(self) -> list[int]:
        return list(self._ids)

    def reload_conversations(self, conversation_ids: Iterable[int]) -> None:
        """Forget the cached rows of these conversations (status or unread changed) and repaint them."""
        rows = sorted(r for r in (self.row_of(cid) for cid in conversation_ids) if r is not None)
        for block in {row // self._block_size for row in rows}:
            self._blocks.pop(block, None)
        for row in rows:
            index = self.index(row, 0)
            self.dataChanged.emit(index, index)
