"""Saved views, sidebar entries, filters and every search operator, through the window, on a known fixture.

The fixture (clock at T0 + 2 h; DMs are due 1 h after the customer wrote, public complaints 30 min, everything
else 4 h — the default response policies):
  late    brand/mastodon  maria  T0          "never arrived … refund"   #complaint (due T0+30m, breached), urgent
  praise  brand           tom    T0+5m       "Great jacket"             #praise, read
  ship    brand           ola    T0+10m      "ship to Norway"           #pre-purchase, pending, Sam
  dm1     brand (DM)      kim    T0+15m      furious                    due T0+1h15 (breached), high by tone
  closed  brand           lee    T0-1d+20m   "all sorted"               closed 10 minutes ago
  mx      support/matrix  maria  T0+30m DM   "Refunds take how long?"   answered at T0+35m, Customer Service
  snz     support         ann    T0+40m      "size guide"               snoozed for 3 hours
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import Engine

from app.context import AppContext
from app.domain.models import ConversationStatus, Direction, MessageKind, Platform
from app.domain.triage import Priority
from app.store import accounts, inbox, triage
from app.store.ingest import store_page
from app.store.schema import conversations
from app.ui.launch import build_main_window
from app.ui.main_window import MainWindow
from tests.factories import T0, message, page
from tests.ui.helpers import show_window

ALL_URGENT = ["late", "dm1", "praise", "snz", "mx", "ship", "closed"]


def build_fixture(ctx: AppContext) -> dict[str, int]:
    engine = ctx.engine
    brand = accounts.add_account(engine, platform=Platform.MASTODON, name="brand", base_url="https://m", now=T0)
    support = accounts.add_account(engine, platform=Platform.MATRIX, name="support", base_url="https://x", now=T0)
    angry = "Still no order after three weeks. This is awful, terrible service and I am furious."
    store_page(
        engine,
        brand.id,
        page(
            message("late", key="late", text="My parcel never arrived, I want a refund", author="maria"),
            message("praise", key="praise", minutes=5, text="Great jacket, thanks!", author="tom"),
            message("ship", key="ship", minutes=10, text="When do you ship to Norway?", author="ola"),
            message("dm1", key="dm1", minutes=15, text=angry, author="kim", kind=MessageKind.DM),
            message("closed", key="closed", minutes=20 - 1440, text="Thanks, all sorted now", author="lee"),
        ),
        now=T0,
    )
    answer = message("mx-re", key="mx", minutes=35, text="About five days", author="brand",
                     direction=Direction.OUTBOUND, kind=MessageKind.DM, parent="mx")  # fmt: skip
    store_page(
        engine,
        support.id,
        page(
            message("mx", key="mx", minutes=30, text="Refunds take how long?", author="maria", kind=MessageKind.DM),
            answer,
            message("snz", key="snz", minutes=40, text="Any news on the size guide?", author="ann"),
        ),
        now=T0,
    )
    with engine.connect() as connection:
        ids = {row.conversation_key: row.id for row in connection.execute(conversations.select())}
    now = ctx.clock.now()
    triage.set_tag(engine, [ids["late"]], "complaint", present=True)
    triage.set_tag(engine, [ids["praise"]], "praise", present=True)
    triage.set_tag(engine, [ids["ship"]], "pre-purchase", present=True)
    triage.set_read(engine, [ids["praise"]], True)
    triage.set_status(engine, [ids["ship"]], ConversationStatus.PENDING, now=now)
    triage.set_assignee(engine, [ids["ship"]], "Sam")
    triage.set_assignee(engine, [ids["mx"]], "Customer Service")
    triage.set_priority(engine, [ids["late"]], Priority.URGENT)
    triage.set_status(engine, [ids["closed"]], ConversationStatus.CLOSED, now=now - timedelta(minutes=10))
    triage.snooze(engine, [ids["snz"]], now + timedelta(hours=3), now=now)
    return ids


@pytest.fixture
def fixture_window(qtbot, ui_ctx: AppContext) -> tuple[MainWindow, dict[str, int]]:  # type: ignore[no-untyped-def]
    ui_ctx.preferences.agent_name = "Sam"
    ui_ctx.preferences.display_time_zone = "UTC"
    ids = build_fixture(ui_ctx)
    window = show_window(qtbot, build_main_window(ui_ctx))
    return window, ids


def shown(window: MainWindow, ids: dict[str, int]) -> list[str]:
    names = {v: k for k, v in ids.items()}
    return [names[window.inbox_model.conversation_id(row)] for row in range(window.inbox_model.rowCount())]  # type: ignore[index]


def settle(qtbot, window: MainWindow, change) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.inbox_controller.list_refreshed, timeout=5000):
        change()


def test_the_fixture_is_what_the_docstring_says(fixture_window) -> None:
    window, ids = fixture_window
    engine: Engine = window.ctx.engine
    dm1 = inbox.summaries(engine, [ids["dm1"]])[ids["dm1"]]
    assert dm1.priority == Priority.HIGH and not dm1.priority_locked  # raised by its tone, not by a person
    assert dm1.next_due_at is not None and dm1.next_due_at < window.now()


def test_each_saved_view_and_sidebar_entry_lists_exactly_its_conversations_with_counts(qtbot, fixture_window) -> None:
    window, ids = fixture_window
    assert shown(window, ids) == ["late", "dm1", "praise", "mx"]  # "All open" at start, most urgent first
    expected = {
        "view:all-open": ["late", "dm1", "praise", "mx"],
        "view:breaching": ["late", "dm1"],
        "view:complaints": ["late"],
        "view:pre-purchase": ["ship"],
        "view:mine": ["ship"],
        "view:closed-today": ["closed"],
        "view:everything": ALL_URGENT,
        "account:brand": ["late", "dm1", "praise", "ship"],
        "account:support": ["snz", "mx"],
        "tag:complaint": ["late"],
        "tag:praise": ["praise"],
        "tag:bug": [],
        "assignee:Sam": ["ship"],
        "assignee:Customer Service": ["mx"],
        "assignee:HR": [],
    }
    for key, names in expected.items():
        if key != window.sidebar.current_key():  # choosing the current entry again reads nothing
            settle(qtbot, window, lambda key=key: window.sidebar.choose(key))
        assert shown(window, ids) == names, key
        assert window.inbox_title.text().startswith(window.sidebar.entry_text(key))
    qtbot.waitUntil(lambda: window.sidebar.count_text("view:everything") == "7")
    for key, names in expected.items():
        assert window.sidebar.count_text(key) == (str(len(names)) if names else ""), key


def test_filters_and_order_narrow_the_chosen_view(qtbot, fixture_window) -> None:
    window, ids = fixture_window
    bar = window.filter_bar
    settle(qtbot, window, lambda: window.sidebar.choose("view:everything"))

    def pick(combo, value: str) -> None:  # type: ignore[no-untyped-def]
        settle(qtbot, window, lambda: combo.setCurrentIndex(combo.findData(value)))

    pick(bar.status, "status:pending")
    assert shown(window, ids) == ["ship"]
    pick(bar.status, "status:snoozed")
    assert shown(window, ids) == ["snz"]
    pick(bar.status, "")
    pick(bar.priority, "priority:urgent")
    assert shown(window, ids) == ["late"]
    pick(bar.priority, "priority:high")
    assert shown(window, ids) == ["dm1"]
    pick(bar.priority, "")
    settle(qtbot, window, lambda: bar.unread.setChecked(True))
    assert shown(window, ids) == ["late", "dm1", "snz", "mx", "ship", "closed"]
    settle(qtbot, window, lambda: bar.unread.setChecked(False))
    pick(bar.order, "newest")
    assert shown(window, ids) == ["snz", "mx", "dm1", "ship", "praise", "late", "closed"]
    pick(bar.order, "priority")
    assert shown(window, ids) == ["late", "dm1", "snz", "mx", "ship", "praise", "closed"]
    pick(bar.order, "urgent")
    settle(qtbot, window, lambda: window.sidebar.choose("view:complaints"))
    pick(bar.status, "status:closed")  # ANDed with the view: a closed complaint is not in "Complaints"
    assert shown(window, ids) == []


SEARCHES = [
    ("refund", ["late"]),
    ("refund*", ["mx", "late"]),
    ('"never arrived"', ["late"]),
    ('"arrived never"', []),
    ("from:@maria", ["mx", "late"]),
    ("from:maria refund*", ["mx", "late"]),
    ("platform:matrix", ["snz", "mx"]),
    ("account:brand", ["late", "dm1", "praise", "ship", "closed"]),
    ("tag:complaint", ["late"]),
    ("is:unread", ["late", "dm1", "snz", "mx", "ship", "closed"]),
    ("is:open", ["late", "dm1", "praise", "mx"]),
    ("is:mine", ["ship"]),
    ("is:negative", ["dm1"]),
    ("status:pending", ["ship"]),
    ("status:snoozed status:closed", ["snz", "closed"]),
    ("sla:breached", ["late", "dm1"]),
    ("assignee:sam", ["ship"]),
    ("kind:dm", ["dm1", "mx"]),
    ("priority:urgent", ["late"]),
    ("closed:today", ["closed"]),
    ("before:2026-03-02", ["closed"]),
    ("after:2026-03-02", ["late", "dm1", "praise", "snz", "mx", "ship"]),
    ("refund* platform:mastodon", ["late"]),
]


def test_each_search_operator_typed_in_the_box_lists_exactly_the_expected_conversations(qtbot, fixture_window) -> None:
    window, ids = fixture_window
    settle(qtbot, window, lambda: window.sidebar.choose("view:everything"))
    search = window.filter_bar.search
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_Slash)
    assert search.hasFocus()
    for text, names in SEARCHES:
        search.clear()
        qtbot.keyClicks(search, text)
        settle(qtbot, window, lambda: qtbot.keyClick(search, Qt.Key.Key_Return))
        assert shown(window, ids) == names, text
        assert not window.filter_bar.hint.isVisible(), text
        qtbot.keyClick(window.inbox_view, Qt.Key.Key_Slash)


def test_bad_syntax_shows_an_inline_hint_and_keeps_the_list(qtbot, fixture_window) -> None:
    window, ids = fixture_window
    search = window.filter_bar.search
    before = shown(window, ids)
    for text, hint in (
        ("refund colour:red", "Unknown filter 'colour:'"),
        ('"never arrived', "closing"),
        ("before:yesterday", "date like"),
        ("priority:soon", "Unknown priority"),
        ("*", "start of a word"),
    ):
        search.setFocus()
        search.clear()
        qtbot.keyClicks(search, text)
        with qtbot.assertNotEmitted(window.inbox_controller.list_refreshed, wait=300):
            qtbot.keyClick(search, Qt.Key.Key_Return)
        assert window.filter_bar.hint.isVisible() and hint in window.filter_bar.hint.text(), text
        assert shown(window, ids) == before
    search.clear()
    settle(qtbot, window, lambda: qtbot.keyClick(search, Qt.Key.Key_Return))
    assert not window.filter_bar.hint.isVisible()
    qtbot.keyClick(search, Qt.Key.Key_Escape)  # Esc in the search box: back to the list
    assert window.inbox_view.hasFocus()


def test_counts_follow_triage_live(qtbot, fixture_window) -> None:
    window, ids = fixture_window
    qtbot.waitUntil(lambda: window.sidebar.count_text("view:complaints") == "1")
    window.inbox_view.select_conversation(ids["dm1"])
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_T)
    qtbot.keyClicks(window.picker.filter, "complaint")
    qtbot.keyClick(window.picker.filter, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.sidebar.count_text("view:complaints") == "2")
    qtbot.waitUntil(lambda: window.sidebar.count_text("tag:complaint") == "2")
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.sidebar.count_text("view:complaints") == "1")
    summary = inbox.summaries(window.ctx.engine, [ids["dm1"]])[ids["dm1"]]
    assert replace(summary, tags=()) == summary  # the undo took the tag off again
