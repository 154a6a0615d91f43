"""The playbook pane: answers grouped in folders, suggestions for the open conversation, fuzzy filtering as
you type, and a live preview of the selected answer rendered for that conversation.

Signals: entry_activated(entry_id) (Enter, double-click, or Insert in the menu), new_requested(),
edit_requested(entry_id), duplicate_requested(entry_id), delete_requested(entry_id).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.playbook import ConversationFacts, PlaybookEntry, category_path
from app.domain.playbook_search import search, suggest
from app.domain.templates import TemplateVariables
from app.ui.delegates.playbook_delegate import (
    BODY_ROLE,
    CATEGORY_ROLE,
    ENTRY_ID_ROLE,
    HEADER_ROLE,
    LANGUAGE_ROLE,
    SHORTCUT_ROLE,
    SUGGESTED_ROLE,
    PlaybookDelegate,
)
from app.ui.widgets.template_preview import TemplatePreview

SUGGESTED_HEADER = "Suggested for this conversation"
UNFILED_HEADER = "Not in a folder"


class PlaybookPanel(QFrame):
    entry_activated = Signal(int)
    new_requested = Signal()
    edit_requested = Signal(int)
    duplicate_requested = Signal(int)
    delete_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pane")
        self._entries: list[PlaybookEntry] = []
        self._by_id: dict[int, PlaybookEntry] = {}
        self._facts: ConversationFacts | None = None
        self._variables = TemplateVariables()
        self._limit = 500
        self._platform_name = ""
        self._usual_language = ""  # not shown as a chip: only the answers in other languages are marked

        title = QLabel("Playbook")
        title.setObjectName("paneTitle")
        self.new_button = QToolButton()
        self.new_button.setObjectName("paneButton")
        self.new_button.setText("+")
        self.new_button.setToolTip("New answer")
        self.new_button.setAccessibleName("New answer")
        self.menu_button = QToolButton()
        self.menu_button.setObjectName("paneButton")
        self.menu_button.setText("⋯")
        self.menu_button.setToolTip("Import, export and the starter playbook")
        self.menu_button.setAccessibleName("Playbook menu")
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu_button.setMenu(QMenu(self.menu_button))
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 8, 0)
        header.setSpacing(2)
        header.addWidget(title, 1)
        header.addWidget(self.new_button)
        header.addWidget(self.menu_button)

        self.search = QLineEdit()
        self.search.setObjectName("playbookSearch")
        self.search.setPlaceholderText("Search answers…")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search the playbook")
        self.list = QListWidget()
        self.list.setObjectName("playbookList")
        self.list.setItemDelegate(PlaybookDelegate(self.list))
        self.list.setMouseTracking(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setAccessibleName("Playbook answers")
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

        self.empty = QFrame()
        self.empty.setObjectName("playbookEmpty")
        empty_title = QLabel("No answers yet")
        empty_title.setObjectName("emptyTitle")
        self.empty_label = QLabel(
            "Start from the starter playbook: two dozen proven answers for complaints, refunds, late "
            "deliveries, praise, bugs and out-of-hours messages, in English, German, French and Spanish. "
            "Or import the file your team shares."
        )
        self.empty_label.setObjectName("emptyText")
        self.empty_label.setWordWrap(True)
        self.starter_button = QPushButton("Add the starter playbook")
        self.starter_button.setObjectName("primary")
        self.import_button = QPushButton("Import a file…")
        empty_layout = QVBoxLayout(self.empty)
        empty_layout.setContentsMargins(14, 18, 14, 14)
        empty_layout.setSpacing(10)
        empty_layout.addWidget(empty_title)
        empty_layout.addWidget(self.empty_label)
        empty_layout.addWidget(self.starter_button)
        empty_layout.addWidget(self.import_button)
        empty_layout.addStretch(1)

        self.preview_title = QLabel()
        self.preview_title.setObjectName("previewTitle")
        self.preview_title.setWordWrap(True)
        self.preview_notes = QLabel()
        self.preview_notes.setObjectName("previewNotes")
        self.preview_notes.setWordWrap(True)
        self.preview = TemplatePreview(height=90)
        preview_box = self.preview_box = QFrame()
        preview_box.setObjectName("playbookPreview")
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.setContentsMargins(12, 10, 12, 10)
        preview_layout.setSpacing(4)
        preview_layout.addWidget(self.preview_title)
        preview_layout.addWidget(self.preview_notes)
        preview_layout.addWidget(self.preview, 1)

        list_box = QWidget()
        list_layout = QVBoxLayout(list_box)
        list_layout.setContentsMargins(0, 0, 0, 0)
        list_layout.setSpacing(0)
        list_layout.addLayout(header)
        list_layout.addWidget(self.search)
        list_layout.addWidget(self.empty, 1)
        list_layout.addWidget(self.list, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setHandleWidth(1)
        self.splitter.addWidget(list_box)
        self.splitter.addWidget(preview_box)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

        self.search.installEventFilter(self)
        self.list.installEventFilter(self)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.search.returnPressed.connect(self._on_search_return_pressed)
        self.list.itemDoubleClicked.connect(self._on_list_item_double_clicked)
        self.list.currentItemChanged.connect(self._on_list_current_item_changed)
        self.list.customContextMenuRequested.connect(self._on_list_context_menu_requested)
        self.new_button.clicked.connect(self.new_requested)
        self._show_preview(None)

    # --- content -------------------------------------------------------------------------------------
    def add_menu_actions(self, actions: Sequence[QAction | None]) -> None:
        menu = self.menu_button.menu()
        for action in actions:
            if action is None:
                menu.addSeparator()
            else:
                menu.addAction(action)

    def set_entries(self, entries: Sequence[PlaybookEntry]) -> None:
        current = self.current_entry_id()
        self._entries = list(entries)
        self._by_id = {entry.id: entry for entry in self._entries}
        self.empty.setVisible(not self._entries)
        self.list.setVisible(bool(self._entries))
        self.preview_box.setVisible(bool(self._entries))
        languages = Counter(entry.content.language for entry in self._entries if entry.content.language)
        self._usual_language = languages.most_common(1)[0][0] if languages else ""
        self._rebuild(keep=current)

    def update_entry(self, entry: PlaybookEntry) -> None:
        """New bookkeeping (usage) for one listed entry, without rebuilding the list."""
        if entry.id not in self._by_id:
            return
        self._entries = [entry if e.id == entry.id else e for e in self._entries]
        self._by_id[entry.id] = entry
        if self.current_entry_id() == entry.id:
            self._show_preview(entry)

    def set_context(
        self, facts: ConversationFacts | None, variables: TemplateVariables, limit: int, platform_name: str
    ) -> None:
        """The conversation answers are for: it ranks the suggestions and fills the preview."""
        self._facts = facts
        self._variables = variables
        self._limit = limit
        self._platform_name = platform_name
        self._rebuild(keep=self.current_entry_id())

    def entry(self, entry_id: int) -> PlaybookEntry | None:
        return self._by_id.get(entry_id)

    def current_entry_id(self) -> int | None:
        item = self.list.currentItem()
        value = None if item is None else item.data(ENTRY_ID_ROLE)
        return int(value) if value is not None else None

    def select_entry(self, entry_id: int) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(ENTRY_ID_ROLE) == entry_id:
                self.list.setCurrentRow(row)
                return

    def visible_titles(self) -> list[str]:
        """Titles of the answers listed (suggestions included), in order; headers left out."""
        return [item.text() for item in self._entry_items()]

    def suggested_titles(self) -> list[str]:
        return [item.text() for item in self._entry_items() if item.data(SUGGESTED_ROLE)]

    def focus_list(self) -> None:
        """Focus the list on its selected answer, or the first one (a suggestion when there is one)."""
        item = self.list.currentItem()
        if item is None or item.data(HEADER_ROLE):
            first = next(iter(self._entry_items()), None)
            if first is not None:
                self.list.setCurrentItem(first)
        self.list.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _entry_items(self) -> list[QListWidgetItem]:
        items = [self.list.item(row) for row in range(self.list.count())]
        return [item for item in items if not item.data(HEADER_ROLE)]

    # --- building the list ---------------------------------------------------------------------------
    def _rebuild(self, keep: int | None) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        query = self.search.text().strip()
        if query:
            for entry in search(self._entries, query):
                self._add_entry(entry, show_folder=True)
        else:
            suggestions = suggest(self._entries, self._facts) if self._facts is not None else []
            if suggestions:
                self._add_header(SUGGESTED_HEADER, suggested=True)
                for suggestion in suggestions:
                    self._add_entry(suggestion.entry, suggested=True, show_folder=True)
            filed = [entry for entry in self._entries if entry.category]
            unfiled = [entry for entry in self._entries if not entry.category]
            group: str | None = None
            for entry in filed:  # in store order: folder by folder, then by title
                if entry.category != group:
                    group = entry.category
                    parent, child = category_path(group)
                    self._add_header(f"{parent} › {child}" if child else parent)
                self._add_entry(entry)
            if unfiled:
                if filed or suggestions:
                    self._add_header(UNFILED_HEADER)
                for entry in unfiled:
                    self._add_entry(entry)
        self.list.blockSignals(False)
        target = next(
            (item for item in self._entry_items() if keep is not None and item.data(ENTRY_ID_ROLE) == keep), None
        )
        if target is None and query:
            target = next(iter(self._entry_items()), None)
        if target is not None:
            self.list.setCurrentItem(target)
        self._on_list_current_item_changed(self.list.currentItem(), None)

    def _add_header(self, text: str, *, suggested: bool = False) -> None:
        item = QListWidgetItem(text)
        item.setData(HEADER_ROLE, True)
        item.setData(SUGGESTED_ROLE, suggested)
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        self.list.addItem(item)

    def _add_entry(self, entry: PlaybookEntry, *, suggested: bool = False, show_folder: bool = False) -> None:
        item = QListWidgetItem(entry.title)
        item.setData(ENTRY_ID_ROLE, entry.id)
        item.setData(BODY_ROLE, entry.body)
        item.setData(CATEGORY_ROLE, entry.category if show_folder else "")  # under its folder's header: no chip
        item.setData(SHORTCUT_ROLE, entry.shortcut)
        language = entry.content.language
        item.setData(LANGUAGE_ROLE, language if language != self._usual_language else "")
        item.setData(SUGGESTED_ROLE, suggested)
        tip = [entry.title]
        if entry.shortcut:
            tip.append(f"Type {entry.shortcut} then Tab in the reply to insert it.")
        if entry.content.notes:
            tip.append(entry.content.notes)
        item.setToolTip("\n".join(tip))
        self.list.addItem(item)

    # --- preview -------------------------------------------------------------------------------------
    def _show_preview(self, entry: PlaybookEntry | None) -> None:
        if entry is None:
            self.preview_title.setText("")
            self.preview_notes.hide()
            self.preview.show_message("Select an answer to preview it for the open conversation.")
            return
        meta = [entry.shortcut] if entry.shortcut else []
        if entry.usage_count:
            meta.append(f"used {entry.usage_count}×")
        extra = f"  <span style='color:#9AA1B2; font-weight:400'>{' · '.join(meta)}</span>" if meta else ""
        self.preview_title.setText(f"<b>{_escape(entry.title)}</b>{extra}")
        self.preview_notes.setText(entry.content.notes)
        self.preview_notes.setVisible(bool(entry.content.notes))
        self.preview.show_template(entry.body, self._variables, self._limit, self._platform_name)

    # --- slots ---------------------------------------------------------------------------------------
    @Slot(str)
    def _on_search_text_changed(self, _text: str) -> None:
        self._rebuild(keep=None)

    @Slot()
    def _on_search_return_pressed(self) -> None:
        """Enter in the search field takes the selected answer, or the first one listed."""
        item = self.list.currentItem()
        if item is None or item.data(HEADER_ROLE):
            item = next(iter(self._entry_items()), None)
        if item is not None:
            self.entry_activated.emit(int(item.data(ENTRY_ID_ROLE)))

    @Slot(QListWidgetItem)
    def _on_list_item_double_clicked(self, item: QListWidgetItem) -> None:
        if not item.data(HEADER_ROLE):
            self.entry_activated.emit(int(item.data(ENTRY_ID_ROLE)))

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_list_current_item_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        entry_id = None if current is None else current.data(ENTRY_ID_ROLE)
        self._show_preview(None if entry_id is None else self._by_id.get(int(entry_id)))

    @Slot(QPoint)
    def _on_list_context_menu_requested(self, position: QPoint) -> None:
        item = self.list.itemAt(position)
        menu = QMenu(self)
        menu.setObjectName("playbookContextMenu")
        if item is not None and not item.data(HEADER_ROLE):
            entry_id = int(item.data(ENTRY_ID_ROLE))
            menu.addAction("Insert in reply", lambda: self.entry_activated.emit(entry_id))
            menu.addSeparator()
            menu.addAction("Edit…", lambda: self.edit_requested.emit(entry_id))
            menu.addAction("Duplicate…", lambda: self.duplicate_requested.emit(entry_id))
            menu.addAction("Delete…", lambda: self.delete_requested.emit(entry_id))
            menu.addSeparator()
        menu.addAction("New answer…", self.new_requested.emit)
        menu.popup(self.list.viewport().mapToGlobal(position))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return super().eventFilter(watched, event)
        key = event.key()
        if watched is self.search and key in (Qt.Key.Key_Down, Qt.Key.Key_PageDown):
            self.focus_list()
            return True
        if watched is self.list:
            entry_id = self.current_entry_id()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and entry_id is not None:
                self.entry_activated.emit(entry_id)
                return True
            if key == Qt.Key.Key_F2 and entry_id is not None:
                self.edit_requested.emit(entry_id)
                return True
            if key == Qt.Key.Key_Delete and entry_id is not None:
                self.delete_requested.emit(entry_id)
                return True
            if key == Qt.Key.Key_Up and self.list.currentRow() <= 1 and self._is_first_entry():
                self.search.setFocus(Qt.FocusReason.OtherFocusReason)
                return True
            text = event.text()
            no_command = not event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier
            if text and text.isprintable() and not text.isspace() and no_command:
                self.search.setFocus(Qt.FocusReason.OtherFocusReason)
                self.search.insert(text)  # typing in the list goes on filtering
                return True
        return super().eventFilter(watched, event)

    def _is_first_entry(self) -> bool:
        items = self._entry_items()
        return bool(items) and self.list.currentItem() is items[0]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
