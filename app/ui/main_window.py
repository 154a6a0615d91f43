"""The main window: inbox (views sidebar, filters, list), thread with notes and composer, and playbook in one
splitter; menus, status bar, window state. It wires the parts together; the parts do the work:
app.ui.inbox_controller (what the list shows), app.ui.triage_actions (triage and undo), app.ui.keyboard
(moving about), app.ui.reply_queue (replies).

What runs where: the GUI thread does only fast indexed reads (blocks of row summaries, one conversation's
messages and notes, the playbook titles) and single-statement triage writes. View id lists and counts are
read by worker jobs; everything that may wait on a network or the keyring runs in the sync controller or
in worker jobs (see app.ui.workers).
"""

from __future__ import annotations

import logging
from datetime import datetime, tzinfo
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QMainWindow,
    QMenu,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app import APP_NAME
from app.context import AppContext
from app.domain.messaging_window import ALLOWED, META_PLATFORMS, last_inbound_at, reply_rule
from app.domain.models import Visibility
from app.errors import KnownError
from app.store import accounts, inbox, notes
from app.ui.delegates.conversation_delegate import ConversationDelegate
from app.ui.dialogs.shortcuts_overlay import ShortcutsOverlay
from app.ui.inbox_controller import InboxController
from app.ui.keyboard import KeyboardNavigation
from app.ui.models.inbox_model import InboxModel
from app.ui.outbox_review import OutboxReview
from app.ui.playbook_controller import PlaybookController
from app.ui.reply_queue import ReplyQueue
from app.ui.resources import app_icon
from app.ui.response_timers import ResponseTimers
from app.ui.timefmt import display_zone
from app.ui.triage_actions import TriageActions
from app.ui.widgets.banner import Banner
from app.ui.widgets.composer import Composer
from app.ui.widgets.filter_bar import FilterBar
from app.ui.widgets.inbox_pane import InboxPane
from app.ui.widgets.inbox_view import InboxView
from app.ui.widgets.note_editor import NoteEditor
from app.ui.widgets.outbox_view import OutboxView
from app.ui.widgets.picker import Picker
from app.ui.widgets.playbook_panel import PlaybookPanel
from app.ui.widgets.sync_status import SyncStatusWidget
from app.ui.widgets.thread_view import ThreadView
from app.ui.widgets.views_sidebar import ViewsSidebar

log = logging.getLogger("app.ui.window")

LIVE_REFRESH_MS = 300  # how often a running sync refreshes the list at most

DEFAULT_SIZE = (1280, 800)
DEFAULT_SPLIT = [560, 470, 250]
_PANE_KEYS = ("panes/inbox", "panes/thread", "panes/playbook")
_EXTRA_KEYS = [
    ("Move through the inbox", "↑ / ↓"),
    ("Widen the selection", "Shift+↑ / ↓"),
    ("Insert the chosen playbook answer", "Enter"),
    ("Save the internal note", "Ctrl+Return"),
    ("In a picker: filter, choose, cancel", "type · Enter · Esc"),
    ("In the outbox: approve, discard, undo, move, back", "Ctrl+Return · Delete · Ctrl+Z · Alt+↑ / ↓ · Esc"),
    ("Expand a playbook shortcut typed in the reply (e.g. ;refund)", "Tab"),
    ("Close this overlay", "Esc"),
]


def _int_list(value: object) -> list[int]:
    """A list of ints from QSettings (an INI file gives strings back), or [] when it is not one."""
    items = value if isinstance(value, list) else [value] if value is not None else []
    try:
        return [int(str(item)) for item in items]
    except ValueError:
        return []


class MainWindow(QMainWindow):
    """Signals: offline_changed(bool); reply_send_requested(int, str); reply_review_requested(int, str);
    policies_applied() after open conversations were moved to newly saved response policies.

    `sync_controller` is optional (None: no sync in this session). When given it must offer the signals
    account_progressed, account_synced, account_failed, messages_stored(list[int]), states_changed and
    the method sync_now(account_id=None).
    """

    offline_changed = Signal(bool)
    policies_applied = Signal()
    reply_send_requested = Signal(int, str)
    reply_review_requested = Signal(int, str)

    def __init__(
        self,
        ctx: AppContext,
        sync_controller: Any | None = None,
        parent: QWidget | None = None,
        *,
        outbox_controller: Any | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.sync_controller = sync_controller
        self.outbox_controller = outbox_controller
        self.replies = ReplyQueue(ctx, outbox_controller, self)
        self._base_title = APP_NAME + (" — demo" if ctx.demo else "")
        self.setWindowTitle(self._base_title)
        self.setWindowIcon(app_icon())
        self.setObjectName("mainWindow")

        self.inbox_model = InboxModel(ctx.engine, parent=self, ids=[])
        self.inbox_view = InboxView(self.inbox_model)
        self.inbox_view.setItemDelegate(ConversationDelegate(self.now, self.zone, self.inbox_view))
        self.inbox_title = QLabel("Inbox")
        self.inbox_title.setObjectName("paneTitle")
        self.sidebar = ViewsSidebar()
        self.filter_bar = FilterBar()
        self.inbox_pane = InboxPane(self.sidebar, self.inbox_title, self.filter_bar, self.inbox_view)
        self.inbox_controller = InboxController(
            ctx, self.inbox_model, self.inbox_view, self.sidebar, self.filter_bar, now=self.now, zone=self.zone,
            parent=self,
        )  # fmt: skip

        self.thread_view = ThreadView(self.now, self.zone)
        self.note_editor = NoteEditor()
        self.composer = Composer()
        self.thread_pane = self._pane("threadPane", self.thread_view, self.note_editor, self.composer)

        self.playbook = PlaybookPanel()
        self.playbook.setObjectName("playbookPane")
        self.playbook_controller = PlaybookController(ctx, self.playbook, self.composer, self)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("panes")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setHandleWidth(1)
        for index, (pane, minimum) in enumerate(
            ((self.inbox_pane, 260), (self.thread_pane, 300), (self.playbook, 180))
        ):
            pane.setMinimumWidth(minimum)
            self.splitter.addWidget(pane)
            self.splitter.setStretchFactor(index, 1 if pane is self.thread_pane else 0)

        self.outbox_view = OutboxView(self.now, self.zone)
        self.outbox_review = OutboxReview(ctx, self.outbox_view, outbox_controller, self)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.splitter)
        self.pages.addWidget(self.outbox_view)

        self.banner = Banner()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self.sync_status = SyncStatusWidget(ctx.engine, self.now, self.zone)
        self.offline_label = QLabel("Working offline")
        self.offline_label.setStyleSheet("color: #A35200; font-weight: 600;")
        self.keyring_label = QLabel("Keyring unavailable")
        self.keyring_label.setStyleSheet("color: #C92A2A; font-weight: 600;")
        self.keyring_label.hide()
        self.counts_label = QLabel()
        self.counts_label.setObjectName("counts")
        self.offline_button = QToolButton()
        self.offline_button.setObjectName("offlineToggle")
        self.offline_button.setAutoRaise(True)
        self.outbox_button = QToolButton()
        self.outbox_button.setObjectName("outboxButton")
        self.outbox_button.setAutoRaise(True)
        self.statusBar().addWidget(self.sync_status, 1)
        self.statusBar().addPermanentWidget(self.keyring_label)
        self.statusBar().addPermanentWidget(self.offline_label)
        self.statusBar().addPermanentWidget(self.offline_button)
        self.statusBar().addPermanentWidget(self.outbox_button)
        self.statusBar().addPermanentWidget(self.counts_label)
        self.statusBar().setSizeGripEnabled(False)

        self._panes: list[QWidget] = [self.inbox_pane, self.thread_pane, self.playbook]
        self._pane_widths: dict[int, int] = dict(enumerate(DEFAULT_SPLIT))
        self.overlay = ShortcutsOverlay(self)
        self.picker = Picker(self)
        self._build_actions()
        self._pane_actions = [self.action_show_inbox, self.action_show_thread, self.action_show_playbook]
        self._build_menus()
        self.overlay.set_sections(self.shortcut_sections())

        self.inbox_view.conversation_selected.connect(self._on_inbox_conversation_selected)
        self.inbox_view.selection_changed.connect(self._on_inbox_selection_changed)
        self.inbox_controller.list_refreshed.connect(self._on_inbox_list_refreshed)
        self.inbox_controller.view_changed.connect(self._on_inbox_view_changed)
        self.filter_bar.submitted.connect(self.inbox_view.setFocus)
        self.filter_bar.escaped.connect(self.inbox_view.setFocus)
        self.triage.changed.connect(self._on_triage_changed)
        self.triage.message.connect(self._show_message)
        self.note_editor.note_saved.connect(self._on_note_editor_note_saved)
        self.composer.send_requested.connect(self.reply_send_requested)
        self.composer.review_requested.connect(self.reply_review_requested)
        self.reply_send_requested.connect(self.replies.send)
        self.reply_review_requested.connect(self.replies.queue_for_review)
        self.replies.reply_queued.connect(self._on_replies_reply_queued)
        self.replies.reply_refused.connect(self._on_replies_reply_refused)
        self.replies.outbox_count_changed.connect(self._on_replies_outbox_count_changed)
        if outbox_controller is not None:
            outbox_controller.outbox_sent.connect(self._on_outbox_sent)
            outbox_controller.outbox_changed.connect(self._on_outbox_changed)
        self.outbox_review.message.connect(self._show_message)
        self.outbox_review.changed.connect(self.replies.announce_count)
        self.outbox_view.back_requested.connect(lambda: self.action_show_outbox.setChecked(False))
        self.outbox_button.clicked.connect(self.action_show_outbox.toggle)
        self.offline_button.clicked.connect(self.action_offline.toggle)
        self.sync_status.sign_in_requested.connect(self._on_sync_status_sign_in_requested)
        self.playbook_controller.status_changed.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self._changed_conversations: set[int] = set()
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(LIVE_REFRESH_MS)
        self._refresh_timer.timeout.connect(self._on_refresh_timer_timeout)
        self._connect_controller(sync_controller)
        self.alerts = self.timers.alerts
        self.alerts.breached_count_changed.connect(self._on_alerts_breached_count_changed)
        self.inbox_view.ticked.connect(self.alerts.check)
        self.inbox_view.ticked.connect(self._on_inbox_view_ticked)
        self.inbox_controller.list_refreshed.connect(self.alerts.check)
        self.timers.policies_applied.connect(self._on_timers_policies_applied)
        self.timers.status_message.connect(self.statusBar().showMessage)
        self.alerts.check()

        self._set_offline_label(self.action_offline.isChecked())
        self._update_counts()
        self.replies.announce_count()
        self.restore_window_state()
        self.inbox_view.setFocus(Qt.FocusReason.OtherFocusReason)  # the keys work the list from the start

    # --- time ----------------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.ctx.clock.now()

    def zone(self) -> tzinfo | None:
        return display_zone(self.ctx.preferences.display_time_zone)

    # --- construction --------------------------------------------------------------------------------
    @staticmethod
    def _pane(name: str, *children: QWidget) -> QFrame:
        pane = QFrame()
        pane.setObjectName("pane")
        pane.setAccessibleName(name)
        layout = QVBoxLayout(pane)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        for child in children:
            layout.addWidget(child, 1 if not isinstance(child, (QLabel, Composer, NoteEditor)) else 0)
        return pane

    def _action(self, text: str, keys: Any, slot: Any, *, checkable: bool = False) -> QAction:
        action = QAction(text, self)
        sequences = [QKeySequence(k) for k in (keys if isinstance(keys, list) else [keys])]
        action.setShortcuts(sequences)
        action.setShortcutVisibleInContextMenu(True)
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        self.addAction(action)  # shortcuts work while the menu bar is hidden or a pane has focus
        return action

    def _build_actions(self) -> None:
        offline = self.ctx.offline or self.ctx.preferences.work_offline
        self.ctx.offline = offline  # the saved "Work offline" choice holds for this session too
        self.action_offline = self._action("Work &offline", "Ctrl+Shift+O", self.set_offline, checkable=True)
        self.action_offline.blockSignals(True)
        self.action_offline.setChecked(offline)
        self.action_offline.blockSignals(False)
        self.action_settings = self._action("&Settings…", "Ctrl+,", self.open_settings)
        self.action_show_outbox = self._action("&Outbox", "Ctrl+Shift+B", self.show_outbox, checkable=True)
        self.action_quit = self._action("&Quit", "Ctrl+Q", self.close)

        self.action_show_inbox = self._action("&Inbox pane", "Ctrl+1", self._on_toggle_inbox, checkable=True)
        self.action_show_thread = self._action("&Conversation pane", "Ctrl+2", self._on_toggle_thread, checkable=True)
        self.action_show_playbook = self._action("&Playbook pane", "Ctrl+3", self._on_toggle_playbook, checkable=True)
        for action in (self.action_show_inbox, self.action_show_thread, self.action_show_playbook):
            action.blockSignals(True)
            action.setChecked(True)
            action.blockSignals(False)
        self.action_find_playbook = self._action("&Find in playbook", "Ctrl+K", self.focus_playbook_search)
        self.action_focus_playbook = self._action("Go to the &playbook", "Ctrl+Shift+P", self.focus_playbook)
        self.action_shortcuts = self._action(
            "&Keyboard shortcuts", ["?", "Shift+?", "F1"], self.toggle_shortcuts
        )  # "Shift+?" too: some keymaps report the shift that typing "?" needs

        self.keys = KeyboardNavigation(
            self, self.inbox_view, self.thread_view, self.composer, self.filter_bar, self.note_editor, self.picker,
            add_action=self._action, overlay=self.overlay,
        )  # fmt: skip
        self.action_send = self._action("&Send reply", "Ctrl+Return", self.composer.request_send)
        self.action_review = self._action("&Queue reply for review", "Ctrl+Shift+Return", self.composer.request_review)
        self.triage = TriageActions(
            self.ctx,
            self,
            self.inbox_view,
            self.inbox_model,
            self.inbox_controller,
            self.picker,
            add_action=self._action,
        )
        self.action_rules = self._action("&Rules…", "Ctrl+Shift+R", self.open_rules)
        self.action_lists = self._action("Tags and &team…", "Ctrl+Shift+T", self.open_lists)
        self.timers = ResponseTimers(self.ctx, self.now, self.zone, sync_controller=self.sync_controller, parent=self)
        self.action_policies = self._action("Response-time &policies…", "Ctrl+Shift+L", self.timers.open_policies)
        self.action_show_sidebar = self._action("&Views sidebar", "Ctrl+0", self._on_toggle_sidebar, checkable=True)
        self.action_show_sidebar.blockSignals(True)
        self.action_show_sidebar.setChecked(True)
        self.action_show_sidebar.blockSignals(False)

        self.action_reports = self._action("&Reports…", "Ctrl+Alt+R", self.open_reports)
        self.reports_window: Any = None
        self.action_accounts = self._action("&Accounts…", "Ctrl+Shift+A", self.open_accounts)
        self.action_sync_now = self._action("&Sync now", "F5", self.sync_now)
        self.action_about = self._action(f"&About {APP_NAME}", "Shift+F1", self.open_about)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self._add_menu(bar.addMenu("&File"), [self.action_offline, None, self.action_settings, None, self.action_quit])
        self._add_menu(
            bar.addMenu("&View"),
            [
                self.action_show_inbox,
                self.action_show_thread,
                self.action_show_playbook,
                self.action_show_sidebar,
                None,
                self.action_show_outbox,
                None,
                self.action_find_playbook,
                None,
                self.action_reports,
                None,
                self.action_shortcuts,
            ],
        )
        self._add_menu(bar.addMenu("&Conversation"), [*self.keys.menu_actions(), self.action_send, self.action_review])
        self._add_menu(
            bar.addMenu("&Triage"),
            [*self.triage.menu_actions(), None, self.action_rules, self.action_lists, self.action_policies],
        )
        playbook = self.playbook_controller
        self._add_menu(
            bar.addMenu("&Playbook"),
            [self.action_focus_playbook, self.action_find_playbook, None, playbook.action_new, None,
             playbook.action_import, playbook.action_export, None, playbook.action_starter],
        )  # fmt: skip
        self._add_menu(bar.addMenu("&Accounts"), [self.action_accounts, self.action_sync_now])
        self._add_menu(bar.addMenu("&Help"), [self.action_shortcuts, None, self.action_about])

    @staticmethod
    def _add_menu(menu: QMenu, actions: list[QAction | None]) -> None:
        for action in actions:
            if action is None:
                menu.addSeparator()
            else:
                menu.addAction(action)

    def shortcut_sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """Every menu's actions with their keys, as the overlay lists them."""
        sections: list[tuple[str, list[tuple[str, str]]]] = []
        seen: set[int] = set()
        for menu_action in self.menuBar().actions():
            menu = menu_action.menu()
            if not isinstance(menu, QMenu):
                continue
            entries = []
            for action in menu.actions():
                if action.isSeparator() or id(action) in seen or not action.shortcuts():
                    continue
                seen.add(id(action))
                names = [s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts()]
                keys = " or ".join(n for n in names if n.removeprefix("Shift+") == n or n[6:] not in names)
                entries.append((action.text().replace("&", ""), keys))
            if entries:
                sections.append((menu_action.text().replace("&", ""), entries))
        sections.append(("Anywhere", list(_EXTRA_KEYS)))
        return sections

    # --- replies -------------------------------------------------------------------------------------
    @Slot(int, str)
    def _on_replies_reply_queued(self, conversation_id: int, message: str) -> None:
        self.composer.forget_sent(conversation_id)
        self.statusBar().showMessage(message, 6000)

    @Slot(str)
    def _on_replies_reply_refused(self, reason: str) -> None:
        self.statusBar().showMessage(f"Reply not queued: {reason}", 8000)

    @Slot(int)
    def _on_replies_outbox_count_changed(self, count: int) -> None:
        self.outbox_button.setText(f"Outbox · {count}" if count else "Outbox")
        waiting = f"{count} repl{'y' if count == 1 else 'ies'} not yet sent" if count else "Nothing waits to be sent"
        self.outbox_button.setToolTip(f"{waiting}. Review the outbox (Ctrl+Shift+B).")
        self.action_show_outbox.setText(f"&Outbox ({count})" if count else "&Outbox")

    @Slot(bool)
    def show_outbox(self, shown: bool) -> None:
        """Switch between the inbox and the outbox view (the same window, the same status bar)."""
        # The inbox's keys act on a list that is not shown: off while the outbox is (Esc included, which the
        # outbox list takes for "back").
        inbox_actions = [*self.keys.menu_actions(), *self.triage.menu_actions(), self.action_send, self.action_review]
        for action in inbox_actions:
            if action is not None and action is not self.triage.action_undo:
                action.setEnabled(not shown)
        if shown:
            self.outbox_review.reload()
            self.pages.setCurrentWidget(self.outbox_view)
            self.outbox_view.list.setFocus(Qt.FocusReason.ShortcutFocusReason)
        else:
            self.pages.setCurrentWidget(self.splitter)
            self.inbox_view.setFocus(Qt.FocusReason.ShortcutFocusReason)

    @Slot()
    def _on_outbox_changed(self) -> None:
        if self.pages.currentWidget() is self.outbox_view:
            self.outbox_review.reload()

    @Slot(object)
    def _on_outbox_sent(self, report: Any) -> None:
        parts = []
        if report.sent:
            parts.append(f"{len(report.sent)} repl{'y' if len(report.sent) == 1 else 'ies'} sent")
        if report.held:
            parts.append(f"{len(report.held)} held: the conversation moved on")
        if report.failed:
            parts.append(f"{len(report.failed)} failed")
        parts += [m for m in report.messages if m not in parts]
        if parts:
            self.statusBar().showMessage("; ".join(parts), 8000)
        if report.conversation_ids:
            self._on_controller_messages_stored(sorted(report.conversation_ids))

    def _connect_controller(self, controller: Any | None) -> None:
        if controller is None:
            return
        controller.account_progressed.connect(self.sync_status.on_progressed)
        controller.account_synced.connect(self.sync_status.on_finished)
        controller.account_failed.connect(self.sync_status.on_finished)
        controller.states_changed.connect(self.sync_status.reload_accounts)
        controller.states_changed.connect(self.inbox_controller.reload_entries)
        controller.messages_stored.connect(self._on_controller_messages_stored)

    # --- conversation --------------------------------------------------------------------------------
    @Slot(int)
    def _on_inbox_conversation_selected(self, conversation_id: int) -> None:
        self.show_conversation(conversation_id)
        self.note_editor.conversation_changed(conversation_id)
        summary = self._current_summary()
        if summary is not None and summary.unread_count:
            inbox.mark_read(self.ctx.engine, [conversation_id])
            self.inbox_model.reload_conversations([conversation_id])
            self.inbox_controller.refresh_counts()

    @Slot()
    def _on_inbox_selection_changed(self) -> None:
        if self.inbox_view.current_conversation_id is None:
            self.thread_view.clear()
            self.composer.clear_conversation()
            self.note_editor.conversation_changed(None)
        selected = len(self.inbox_view.selected_rows())
        if selected > 1:
            self.statusBar().showMessage(f"{selected:,} conversations selected: triage keys act on all of them", 4000)

    def show_conversation(self, conversation_id: int, *, keep_scroll: bool = False) -> None:
        summary = self._current_summary()
        if summary is None or summary.id != conversation_id:
            self.thread_view.clear()
            self.composer.clear_conversation()
            return
        thread = inbox.thread(self.ctx.engine, conversation_id)
        self.thread_view.show_thread(
            summary, thread, notes.notes_of(self.ctx.engine, conversation_id), keep_scroll=keep_scroll
        )
        self.thread_view.show_policy(self.timers.policy_text(summary))
        account_id, _key, visibility = inbox.conversation_key(self.ctx.engine, conversation_id)
        rule = ALLOWED
        if summary.platform in META_PLATFORMS:
            human_agent = bool(accounts.get_account(self.ctx.engine, account_id).options.get("human_agent"))
            rule = reply_rule(
                summary.platform, summary.kind, last_inbound_at(thread), self.ctx.clock.now(), human_agent=human_agent
            )
        self.composer.set_conversation(
            conversation_id, summary.platform, summary.kind, Visibility(visibility), rule=rule
        )

    def _current_summary(self) -> Any:
        conversation_id = self.inbox_view.current_conversation_id
        if conversation_id is None:
            return None
        row = self.inbox_model.row_of(conversation_id)
        return None if row is None else self.inbox_model.summary(row)

    @Slot()
    def focus_composer(self) -> None:
        self.keys.focus_composer()

    @Slot()
    def focus_playbook_search(self) -> None:
        if not self.playbook.isVisible():
            self.action_show_playbook.setChecked(True)
        self.playbook.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.playbook.search.selectAll()

    @Slot()
    def focus_playbook(self) -> None:
        if not self.playbook.isVisible():
            self.action_show_playbook.setChecked(True)
        self.playbook.focus_list()

    @Slot(list)
    def _on_triage_changed(self, conversation_ids: list[int]) -> None:
        current = self.inbox_view.current_conversation_id
        if current is not None and current in set(conversation_ids):
            self.show_conversation(current, keep_scroll=True)

    @Slot(int, str)
    def _on_note_editor_note_saved(self, conversation_id: int, text: str) -> None:
        author = self.ctx.preferences.agent_name.strip() or "You"
        try:
            notes.add_note(self.ctx.engine, conversation_id, text, author=author, now=self.now())
        except KnownError as exc:
            self._show_message(exc.user_message())
            return
        if self.inbox_view.current_conversation_id == conversation_id:
            self.show_conversation(conversation_id)
        self._show_message("Internal note saved (never sent).")

    @Slot(list)
    def _on_controller_messages_stored(self, conversation_ids: list[int]) -> None:
        # A large sync stores a page every few milliseconds: gather them and refresh at most a few times
        # a second, so the list stays live without the GUI thread redoing the same work for every page.
        self._changed_conversations.update(conversation_ids)
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    @Slot()
    def _on_refresh_timer_timeout(self) -> None:
        changed, self._changed_conversations = self._changed_conversations, set()
        self.inbox_controller.reload_entries()  # a new account's first messages, a tag a rule created
        self.inbox_controller.after_change()  # the list is read off the GUI thread and swapped in in place
        self._update_counts()
        current = self.inbox_view.current_conversation_id
        if current is not None and current in changed:
            self.inbox_model.reload_conversations([current])
            self.show_conversation(current, keep_scroll=True)

    @Slot()
    def _on_inbox_list_refreshed(self) -> None:
        self._update_counts()

    @Slot(str)
    def _on_inbox_view_changed(self, _name: str) -> None:
        self._update_counts()

    def _update_counts(self) -> None:
        conversations = inbox.count_conversations(self.ctx.engine)
        messages = inbox.message_count(self.ctx.engine)
        self.counts_label.setText(f"{conversations:,} conversations · {messages:,} messages")
        name = self.sidebar.entry_text(self.inbox_controller.current_key) or "Inbox"
        shown = self.inbox_model.rowCount()
        self.inbox_title.setText(f"{name}  <span style='color:#9AA1B2; font-weight:400'>{shown:,}</span>")

    @Slot(str)
    def _show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 6000)

    # --- menus ---------------------------------------------------------------------------------------
    @Slot(bool)
    def set_offline(self, offline: bool) -> None:
        self.ctx.preferences.work_offline = offline
        self.ctx.offline = offline
        try:
            self.ctx.save_preferences()
        except OSError as exc:
            log.warning("could not save the offline preference: %s", exc)
            self.statusBar().showMessage(f"Could not save the setting: {exc.strerror or exc}", 6000)
        self._set_offline_label(offline)
        self.offline_changed.emit(offline)
        if not offline:  # back online: catch up, then send what waited
            if self.sync_controller is not None:
                self.sync_controller.sync_now()
            if self.outbox_controller is not None:
                self.outbox_controller.send_now()

    def _set_offline_label(self, offline: bool) -> None:
        self.offline_label.setVisible(offline)
        self.offline_button.setText("Go online" if offline else "Work offline")
        self.offline_button.setToolTip(
            "Sync and send again (Ctrl+Shift+O)" if offline
            else "Stop syncing and sending; replies wait in the outbox (Ctrl+Shift+O)"
        )  # fmt: skip

    @Slot()
    def sync_now(self) -> None:
        if self.action_offline.isChecked():
            self.statusBar().showMessage("Working offline: turn off File › Work offline to sync.", 5000)
        elif self.sync_controller is None:
            self.statusBar().showMessage("Sync is not running in this session.", 5000)
        else:
            self.sync_controller.sync_now()
            self.statusBar().showMessage("Checking every account for new messages…", 3000)

    @Slot()
    def toggle_shortcuts(self) -> None:
        if self.overlay.isVisible():
            self.overlay.hide()
        else:
            self.overlay.open_over_parent()

    @Slot()
    def open_settings(self) -> None:
        from app.ui.dialogs.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.preferences_saved.connect(self._on_settings_preferences_saved)
        dialog.open()

    @Slot()
    def _on_settings_preferences_saved(self) -> None:
        self.inbox_view.viewport().update()
        self.inbox_controller.reload_entries()
        self.inbox_controller.after_change()
        self.sync_status.reload_accounts()
        self.outbox_view.reviewer.setText(self.ctx.preferences.agent_name)
        self.show_conversation(self.inbox_view.current_conversation_id or -1)

    @Slot()
    def open_about(self) -> None:
        from app.ui.dialogs.about_dialog import AboutDialog

        dialog = AboutDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    @Slot()
    def open_accounts(self) -> Any:
        from app.ui.dialogs.accounts_dialog import AccountsDialog

        dialog = AccountsDialog(self.ctx, parent=self, sync_controller=self.sync_controller)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(self.sync_status.reload_accounts)
        dialog.finished.connect(self.inbox_controller.reload_entries)
        dialog.open()
        return dialog

    @Slot()
    def open_reports(self) -> Any:
        """One Reports window at a time: asking again brings it to the front."""
        from app.ui.reports.window import ReportsWindow

        if self.reports_window is None:
            self.reports_window = ReportsWindow(self.ctx, self)
            self.reports_window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.reports_window.destroyed.connect(self._on_reports_window_destroyed)
        elif self.reports_window.isVisible():
            self.reports_window.raise_()  # already open: bring it to the front
        self.reports_window.show()
        self.reports_window.activateWindow()
        return self.reports_window

    @Slot()
    def _on_reports_window_destroyed(self) -> None:
        self.reports_window = None

    @Slot(int)
    def _on_sync_status_sign_in_requested(self, account_id: int) -> None:
        self.open_accounts().focus_account(account_id, sign_in=True)

    @Slot()
    def open_rules(self) -> None:
        from app.ui.dialogs.rules_dialog import RulesDialog

        dialog = RulesDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(self.inbox_controller.reload_entries)
        dialog.open()

    @Slot()
    def open_lists(self) -> None:
        from app.ui.dialogs.lists_dialog import ListsDialog

        dialog = ListsDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(self.inbox_controller.reload_entries)
        dialog.open()

    @Slot(int)
    def _on_timers_policies_applied(self, _moved: int) -> None:
        self.inbox_model.reload_conversations(self.inbox_model.ids())
        self.inbox_controller.after_change()
        current = self.inbox_view.current_conversation_id
        if current is not None:
            self.show_conversation(current, keep_scroll=True)
        self.policies_applied.emit()

    # --- response timers -----------------------------------------------------------------------------
    @Slot()
    def _on_inbox_view_ticked(self) -> None:
        summary = self._current_summary()
        if summary is not None:
            self.thread_view.show_policy(self.timers.policy_text(summary))

    @Slot(int)
    def _on_alerts_breached_count_changed(self, count: int) -> None:
        self.setWindowTitle(f"{self._base_title} — {count:,} breached" if count else self._base_title)

    @Slot(bool)
    def _on_toggle_sidebar(self, shown: bool) -> None:
        self.inbox_pane.set_sidebar_visible(shown)

    @Slot(bool)
    def _on_toggle_inbox(self, shown: bool) -> None:
        self._set_pane_visible(self.inbox_pane, shown)

    @Slot(bool)
    def _on_toggle_thread(self, shown: bool) -> None:
        self._set_pane_visible(self.thread_pane, shown)

    @Slot(bool)
    def _on_toggle_playbook(self, shown: bool) -> None:
        self._set_pane_visible(self.playbook, shown)

    # --- warnings ------------------------------------------------------------------------------------
    def show_keyring_warning(self, error: KnownError) -> None:
        """The keyring is missing: syncing and signing in cannot work, the cached inbox still can."""
        self.banner.show_message(
            "Accounts cannot sync: no OS keyring is available.",
            f"{error} Cached conversations stay readable. {error.hint}",
        )
        self.keyring_label.setToolTip(error.user_message())
        self.keyring_label.show()
        self.statusBar().showMessage("Keyring unavailable: working from cached data only.", 10000)

    # --- window state --------------------------------------------------------------------------------
    def _window_settings(self) -> QSettings:
        # An INI file in the profile: never the registry or a global location, so profiles stay apart.
        return QSettings(str(self.ctx.paths.window_state_file), QSettings.Format.IniFormat)

    def restore_window_state(self) -> None:
        settings = self._window_settings()
        geometry = settings.value("window/geometry")
        if not (isinstance(geometry, QByteArray) and self.restoreGeometry(geometry)):
            self.resize(*DEFAULT_SIZE)
        state = settings.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        widths = _int_list(settings.value("window/paneWidths"))
        if len(widths) != len(self._panes):
            widths = list(DEFAULT_SPLIT)
        self.splitter.setSizes(widths)
        self._pane_widths = dict(enumerate(widths))
        for key, action in zip(_PANE_KEYS, self._pane_actions, strict=True):
            action.setChecked(str(settings.value(key, "true")).lower() != "false")

    def save_window_state(self) -> None:
        settings = self._window_settings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())
        settings.setValue("window/paneWidths", [str(width) for width in self.pane_widths()])
        for key, action in zip(_PANE_KEYS, self._pane_actions, strict=True):
            settings.setValue(key, "true" if action.isChecked() else "false")
        settings.sync()
        if settings.status() != QSettings.Status.NoError:
            log.warning("could not save the window state to %s", self.ctx.paths.window_state_file)

    def pane_widths(self) -> list[int]:
        """Each pane's width; a hidden pane keeps the width it had when it was shown."""
        sizes = self.splitter.sizes()
        return [
            sizes[i] if pane.isVisible() else self._pane_widths.get(i, DEFAULT_SPLIT[i])
            for i, pane in enumerate(self._panes)
        ]

    def _set_pane_visible(self, pane: QWidget, shown: bool) -> None:
        index = self._panes.index(pane)
        if not shown:
            if not pane.isHidden():
                if self.isVisible():
                    self._pane_widths[index] = self.splitter.sizes()[index]
                pane.hide()
            return
        if not pane.isHidden():
            return
        sizes = self.splitter.sizes()
        pane.show()
        if not self.isVisible():
            return
        # The widest other pane gives the shown pane its old width back.
        want = self._pane_widths.get(index, DEFAULT_SPLIT[index])
        donor = max((i for i in range(len(sizes)) if i != index), key=lambda i: sizes[i])
        sizes[donor] = max(self._panes[donor].minimumWidth(), sizes[donor] - want - self.splitter.handleWidth())
        sizes[index] = want
        self.splitter.setSizes(sizes)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_window_state()
        super().closeEvent(event)
