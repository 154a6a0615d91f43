"""What the inbox list shows: the chosen sidebar entry, the filters and the search, read off the GUI thread.

What runs where: the id list of a view (up to ~120 ms at 200k conversations) and the sidebar's counts (a few
hundred ms for every entry together) are read by worker jobs; the GUI thread only swaps the finished id list
into the model, keeping the open conversation, the selection and the scroll position. Reloads asked for
while one runs are merged into one more run, so a burst of synced pages costs at most two reads. The first
screen is read on the GUI thread, so the window opens with its rows; the whole list is read once that
screen is painted, as the worker reading 200k ids would otherwise compete with start-up for the interpreter
(measured: a 1M-message profile painted ~20% later than an empty one, and as fast once deferred).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from shiboken6 import isValid

from app.context import AppContext
from app.domain.models import ConversationStatus
from app.domain.search_syntax import SearchQuery, SearchSyntaxError
from app.domain.views import DEFAULT_VIEWS, Order, SavedView
from app.store import accounts, triage
from app.store.inbox_query import InboxQuery, counts, ordered_ids, refresh_statistics
from app.ui.first_paint import FirstPaintWatcher
from app.ui.models.inbox_model import InboxModel
from app.ui.widgets.filter_bar import FilterBar
from app.ui.widgets.inbox_view import InboxView
from app.ui.widgets.views_sidebar import ViewsSidebar
from app.ui.workers import Job, start_job

log = logging.getLogger("app.ui.inbox")

DEFAULT_KEY = "view:all-open"
COUNTS_DELAY_MS = 400
TICK_MS = 60_000
FIRST_SCREEN = 1000  # rows read on the GUI thread at start-up: ~1 ms even at 200k conversations
WHOLE_LIST_LATEST_MS = 1000  # a window that is not shown (or never paints) still gets its whole list
STATISTICS_DELAY_MS = 5_000
_NOT_CLOSED = (ConversationStatus.OPEN, ConversationStatus.PENDING, ConversationStatus.SNOOZED)


class InboxController(QObject):
    """Signals: list_refreshed() after a new id list is in the model; counts_refreshed() after the sidebar's
    counts are updated; view_changed(str) with the sidebar entry's title when another entry is chosen."""

    list_refreshed = Signal()
    counts_refreshed = Signal()
    view_changed = Signal(str)

    def __init__(
        self,
        ctx: AppContext,
        model: InboxModel,
        view: InboxView,
        sidebar: ViewsSidebar,
        filters: FilterBar,
        *,
        now: Callable[[], datetime],
        zone: Callable[[], tzinfo | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx, self.model, self.view, self.sidebar, self.filters = ctx, model, view, sidebar, filters
        self._now, self._zone = now, zone
        self.views: dict[str, SavedView] = {v.key: v for v in DEFAULT_VIEWS}
        self._key = DEFAULT_KEY
        self._search = SearchQuery()
        self._generation = 0
        self._list_job: Job | None = None
        self._list_again = False
        self._counts_job: Job | None = None
        self._counts_again = False
        self._jobs: list[Job] = []
        self._entries: tuple[list[tuple[str, str]], list[str], list[str]] | None = None
        self._pending_selection: tuple[list[int], int] | None = None
        self._whole_list_due = False
        self._first_paint: FirstPaintWatcher | None = None
        self._counts_timer = QTimer(self)
        self._counts_timer.setSingleShot(True)
        self._counts_timer.setInterval(COUNTS_DELAY_MS)
        self._counts_timer.timeout.connect(self._start_counts)
        self._tick = QTimer(self)
        self._tick.setInterval(TICK_MS)
        self._tick.timeout.connect(self._on_tick_timeout)

        sidebar.set_views(DEFAULT_VIEWS)
        self.reload_entries()
        sidebar.choose(DEFAULT_KEY)
        filters.set_order(self.views[DEFAULT_KEY.split(":", 1)[1]].order)
        model.set_loader(self._read_ids)
        # The first screen is read on the GUI thread, so the window opens with its rows; the whole list
        # follows from a worker once that screen is painted (at 200k conversations it takes ~120 ms, the
        # first screen ~1 ms).
        first = ordered_ids(ctx.engine, self.current_query(), now=now(), limit=FIRST_SCREEN)
        model.set_ids(first)
        if len(first) >= FIRST_SCREEN:
            self._whole_list_due = True
            self._first_paint = FirstPaintWatcher(view, self._read_whole_list)
            QTimer.singleShot(WHOLE_LIST_LATEST_MS, self, self._read_whole_list)
        sidebar.entry_chosen.connect(self._on_sidebar_entry_chosen)
        filters.changed.connect(self._on_filters_changed)
        self._tick.start()
        self.refresh_counts()
        # After start-up has painted: the check is cheap, an ANALYZE at 200k conversations is not (~0.2 s).
        QTimer.singleShot(STATISTICS_DELAY_MS, self, self._refresh_statistics)

    # --- the query ----------------------------------------------------------------------------------------
    @property
    def current_key(self) -> str:
        return self._key

    def zone(self) -> tzinfo | None:
        return self._zone()

    def me(self) -> str:
        return self.ctx.preferences.agent_name.strip()

    def base_query(self, key: str) -> tuple[SearchQuery, Order | None]:
        kind, _, name = key.partition(":")
        if kind == "view" and name in self.views:
            return self.views[name].query, self.views[name].order
        if kind == "account":
            return SearchQuery(accounts=(name,), statuses=_NOT_CLOSED), None
        if kind == "tag":
            return SearchQuery(tags=(name.lower(),), statuses=_NOT_CLOSED), None
        if kind == "assignee":
            return SearchQuery(exact_assignees=(name,), statuses=_NOT_CLOSED), None
        return SearchQuery(), None

    def query_for(self, key: str, *, with_filters: bool = True) -> InboxQuery:
        base, order = self.base_query(key)
        parts = [base]
        if with_filters:
            parts += [self.filters.filter_query(), self._search]
            order = self.filters.current_order()
        return InboxQuery(
            queries=tuple(p for p in parts if not p.is_empty),
            order=order or Order.URGENT,
            me=self.me(),
            zone=self._zone(),
        )

    def current_query(self) -> InboxQuery:
        return self.query_for(self._key)

    def _read_ids(self) -> list[int]:
        return ordered_ids(self.ctx.engine, self.current_query(), now=self._now())

    # --- sidebar entries ----------------------------------------------------------------------------------
    def reload_entries(self) -> None:
        """Re-read the accounts, tags and team (an account was added, a list was edited); cheap when unchanged."""
        account_list = [(a.name, a.platform.value) for a in accounts.list_accounts(self.ctx.engine)]
        tags = triage.list_tags(self.ctx.engine)
        team = triage.list_assignees(self.ctx.engine)
        if self.me() and self.me() not in team:
            team.append(self.me())
        if (account_list, tags, team) == self._entries:
            return
        self._entries = (account_list, tags, team)
        self.sidebar.set_accounts(account_list)
        self.sidebar.set_tags(tags)
        self.sidebar.set_team(team)
        if self.sidebar.current_key() is None:
            self.sidebar.choose(DEFAULT_KEY)
        self.refresh_counts()

    def choose(self, key: str) -> bool:
        return self.sidebar.choose(key)

    @Slot(str)
    def _on_sidebar_entry_chosen(self, key: str) -> None:
        self._key = key
        _base, order = self.base_query(key)
        if order is not None:
            self.filters.set_order(order)
        self.view_changed.emit(self.sidebar.entry_text(key))
        self.reload(query_changed=True)

    @Slot()
    def _on_filters_changed(self) -> None:
        try:
            self._search = self.filters.search_query()
        except SearchSyntaxError:
            return  # the bar shows the hint; the list keeps what it showed
        self.reload(query_changed=True)

    # --- reloading ----------------------------------------------------------------------------------------
    @Slot()
    def _read_whole_list(self) -> None:
        if self._whole_list_due:
            self._whole_list_due = False
            self.reload()

    def reload(self, *, query_changed: bool = False) -> None:
        """Read the current query's ids on a worker and swap them in, keeping the user's place.

        A list read for an older query (another view, other filters) is thrown away; one read for the same
        query is shown even when newer data is already being read, so a long sync never starves the list.
        """
        if query_changed:
            self._generation += 1
        self._whole_list_due = False  # this read lists everything too
        if self._list_job is not None:
            self._list_again = True
            return
        generation, query, now = self._generation, self.current_query(), self._now()
        engine = self.ctx.engine
        self._list_job = self._run(
            lambda: (generation, ordered_ids(engine, query, now=now)),
            "reading the inbox",
            self._on_ids_read,
            self._on_list_failed,
        )

    @Slot(object)
    def _on_ids_read(self, result: tuple[int, list[int]]) -> None:
        self._list_job = None
        generation, ids = result
        if generation == self._generation:
            self.view.refresh_keeping_place(lambda: self.model.set_ids(ids))
            self._select_pending()
        if self._list_again:
            self._list_again = False
            self.reload()
        elif generation == self._generation:
            self.list_refreshed.emit()

    @Slot(object)
    def _on_list_failed(self, error: object) -> None:
        self._list_job = None
        log.warning("the inbox list could not be read: %s", error)
        if self._list_again:
            self._list_again = False
            self.reload()

    def select_when_listed(self, ids: list[int], current: int) -> None:
        """Select these conversations now, or as soon as a reload lists them (an undone close brings a
        conversation back into "All open" only after the list is read again)."""
        if self.model.row_of(current) is not None:
            self.view.select_ids(ids, current)
            self.view.scrollTo(self.view.currentIndex())
            self._pending_selection = None
        else:
            self._pending_selection = (ids, current)

    def _select_pending(self) -> None:
        pending, self._pending_selection = self._pending_selection, None
        if pending is not None and self.model.row_of(pending[1]) is not None:
            self.view.select_ids(*pending)
            self.view.scrollTo(self.view.currentIndex())

    def refresh_counts(self) -> None:
        """Recount every sidebar entry soon (several requests close together make one count)."""
        self._counts_timer.start()

    @Slot()
    def _start_counts(self) -> None:
        if self._counts_job is not None:
            self._counts_again = True
            return
        queries = {key: self.query_for(key, with_filters=False) for key in self.sidebar.keys()}
        engine, now = self.ctx.engine, self._now()
        self._counts_job = self._run(
            lambda: counts(engine, queries, now=now), "counting the views", self._on_counts_read, self._on_counts_failed
        )

    @Slot(object)
    def _on_counts_read(self, found: dict[str, int]) -> None:
        self._counts_job = None
        self.sidebar.set_counts(found)
        self.counts_refreshed.emit()
        if self._counts_again:
            self._counts_again = False
            self._start_counts()

    @Slot(object)
    def _on_counts_failed(self, error: object) -> None:
        self._counts_job = None
        log.warning("the view counts could not be read: %s", error)

    def after_change(self) -> None:
        """Something in the store changed (triage, sync): refresh the list and the counts."""
        self.reload()
        self.refresh_counts()

    @Slot()
    def _on_tick_timeout(self) -> None:
        # Timers move on their own: "breaching soon" and "closed today" change without any write.
        woken = triage.wake_snoozed(self.ctx.engine, now=self._now())
        if woken:
            self.reload()
        self.refresh_counts()

    @Slot()
    def _refresh_statistics(self) -> None:
        engine = self.ctx.engine
        self._run(lambda: refresh_statistics(engine), "refreshing the inbox statistics", self._on_statistics)

    @Slot(object)
    def _on_statistics(self, ran: object) -> None:
        if ran:
            log.info("inbox statistics refreshed")

    def busy(self) -> bool:
        return self._list_job is not None or self._counts_job is not None or self._counts_timer.isActive()

    # --- jobs ---------------------------------------------------------------------------------------------
    def _run(
        self,
        call: Callable[[], Any],
        description: str,
        on_finished: Callable[[Any], None],
        on_failed: Callable[[Any], None] | None = None,
    ) -> Job:
        job: Job | None = None

        # A job may finish after its window was closed and deleted; then there is nobody left to tell.
        def finished(result: Any) -> None:
            if not isValid(self):
                return
            self._forget(job)
            on_finished(result)

        def failed(error: Any) -> None:
            if not isValid(self):
                return
            self._forget(job)
            if on_failed is not None:
                on_failed(error)
            else:
                log.warning("%s failed: %s", description, error)

        job = start_job(call, description=description, on_finished=finished, on_failed=failed)
        self._jobs.append(job)
        return job

    def _forget(self, job: Job | None) -> None:
        if job in self._jobs:
            self._jobs.remove(job)
