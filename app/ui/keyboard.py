"""Moving through the inbox without the mouse: j/k, Enter, r, n, /, x, Esc — each an action shown in the menus.

Single-letter shortcuts are window-wide but never steal typing: text fields claim printable keys (Qt's
ShortcutOverride), so `e` typed into the composer is an "e", while `e` over the list closes a conversation.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from app.ui.widgets.composer import Composer
from app.ui.widgets.filter_bar import FilterBar
from app.ui.widgets.inbox_view import InboxView
from app.ui.widgets.note_editor import NoteEditor
from app.ui.widgets.picker import Picker
from app.ui.widgets.thread_view import ThreadView


class KeyboardNavigation(QObject):
    """Owns the navigation actions; `back()` is Esc: close what is open, else return to the list."""

    def __init__(
        self,
        window: QWidget,
        view: InboxView,
        thread: ThreadView,
        composer: Composer,
        filters: FilterBar,
        notes: NoteEditor,
        picker: Picker,
        *,
        add_action: Callable[..., QAction],
        overlay: QWidget | None = None,
    ) -> None:
        super().__init__(window)
        self.window, self.view, self.thread, self.composer = window, view, thread, composer
        self.filters, self.notes, self.picker, self.overlay = filters, notes, picker, overlay
        self.action_next = add_action("&Next conversation", ["J", "Alt+Down"], lambda: view.step(1))
        self.action_previous = add_action("&Previous conversation", ["K", "Alt+Up"], lambda: view.step(-1))
        self.action_extend_down = add_action(
            "Add the next to the selection", ["Shift+J"], lambda: view.step(1, extend=True)
        )
        self.action_extend_up = add_action(
            "Add the previous to the selection", ["Shift+K"], lambda: view.step(-1, extend=True)
        )
        self.action_toggle = add_action("Select or unselect this one", ["X"], view.toggle_current)
        self.action_select_all = add_action("Select all in the list", ["Ctrl+A"], self.select_all)
        # Enter only means "open" over the list: everywhere else (a dialog's field, the composer) it belongs to
        # the focused widget, so this action lives on the list alone, not on the window.
        self.action_open = QAction("&Open (read the conversation)", view)
        self.action_open.setShortcuts([QKeySequence("Return"), QKeySequence("Enter")])
        self.action_open.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.action_open.setShortcutVisibleInContextMenu(True)
        self.action_open.triggered.connect(self.open_current)
        view.addAction(self.action_open)
        self.action_reply = add_action("&Reply", ["R", "Ctrl+R"], self.focus_composer)
        self.action_note = add_action("Add internal &note", ["N"], self.add_note)
        self.action_search = add_action("&Search", ["/", "Ctrl+F"], filters.focus_search)
        self.action_back = add_action("&Back to the list", ["Esc"], self.back)

    def menu_actions(self) -> list[QAction | None]:
        return [
            self.action_next,
            self.action_previous,
            self.action_open,
            self.action_back,
            None,
            self.action_extend_down,
            self.action_extend_up,
            self.action_toggle,
            self.action_select_all,
            None,
            self.action_search,
            self.action_reply,
            self.action_note,
        ]

    def select_all(self) -> None:
        self.view.selectAll()
        self.view.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def open_current(self) -> None:
        if self.view.current_conversation_id is None:
            self.view.step(0)
        if self.view.current_conversation_id is not None:
            self.thread.browser.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def focus_composer(self) -> None:
        if self.composer.editor.isEnabled():
            self.composer.editor.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def add_note(self) -> None:
        conversation_id = self.view.current_conversation_id
        if conversation_id is not None:
            self.notes.start(conversation_id)

    def back(self) -> None:
        if self.overlay is not None and self.overlay.isVisible():
            self.overlay.hide()
            return
        if self.picker.isVisible():
            self.picker.cancel()
            return
        if self.notes.isVisible():
            self.notes.cancel()
        self.view.setFocus(Qt.FocusReason.ShortcutFocusReason)
