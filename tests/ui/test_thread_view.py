"""Hostile message bodies render inert: no script text, no request to any server, link targets in plain sight."""

from __future__ import annotations

import http.server
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt, QUrl

from app.context import AppContext
from app.domain.models import Direction, MessageKind
from app.store import inbox
from app.store.ingest import store_page
from app.ui.launch import build_main_window
from app.ui.widgets.thread_view import SafeTextBrowser
from tests.factories import message, page
from tests.ui.helpers import add_mastodon, show_window


class CountingServer:
    """A real HTTP server on 127.0.0.1 that records every path asked for."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                owner.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def requests_before_sentinel(self) -> list[str]:
        """Paths requested before now: the server answers in order, so a sentinel request flushes them."""
        urllib.request.urlopen(f"http://127.0.0.1:{self.port}/sentinel", timeout=5).close()
        return [p for p in self.paths if p != "/sentinel"]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


RENDER_BUDGET_S = 1.5  # measured ~0.4 s on a 2-core machine; the budget leaves room for a busy CI


@pytest.fixture
def counting_server() -> Iterator[CountingServer]:
    server = CountingServer()
    yield server
    server.stop()


def hostile_html(port: int) -> str:
    return (
        "<p>Hi <script>document.title='pwned'; alert('pwned')</script>there</p>"
        f'<img src="http://127.0.0.1:{port}/tracker.png">'
        f'<p style="background:url(http://127.0.0.1:{port}/css.png)">styled</p>'
        '<p><a href="javascript:alert(1)">click me</a> and '
        '<a href="https://help.example.org/returns">our returns page</a></p>'
        "<p>" + ("A very long complaint. " * 4600) + "</p>"  # ~100 KB
    )


def test_hostile_body_renders_without_scripts_requests_or_hidden_link_targets(
    qtbot, ui_ctx: AppContext, counting_server: CountingServer
) -> None:
    account = add_mastodon(ui_ctx)
    body = hostile_html(counting_server.port)
    assert len(body) > 100_000
    hostile = replace(message("evil-1", key="evil", text="Hi there"), html=body)  # stored as the platform sent it
    store_page(ui_ctx.engine, account.id, page(hostile), now=hostile.created_at)
    window = show_window(qtbot, build_main_window(ui_ctx))
    opened: list[QUrl] = []
    browser = window.thread_view.browser
    browser.open_url = opened.append

    started = time.perf_counter()
    window.inbox_view.select_conversation(inbox.conversation_ids(ui_ctx.engine)[0])
    browser.document().adjustSize()  # laid out, as a paint would
    elapsed = time.perf_counter() - started
    assert elapsed < RENDER_BUDGET_S, f"a 100 KB body took {elapsed:.2f} s to render"

    text = browser.toPlainText()
    assert "Hi there" in text and "A very long complaint." in text
    assert "pwned" not in text and "alert" not in text and "document.title" not in text
    assert "our returns page (https://help.example.org/returns)" in text  # the target is visible
    assert "click me" in text and "javascript" not in browser.toHtml()  # the javascript: link is plain text
    assert counting_server.requests_before_sentinel() == []
    assert opened == []  # nothing opens by itself

    cursor = browser.document().find("our returns page")
    assert not cursor.isNull()
    browser.setTextCursor(cursor)
    browser.ensureCursorVisible()
    where = browser.cursorRect(cursor).center()
    where.setX(where.x() - 20)
    qtbot.mouseClick(browser.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert opened == [QUrl("https://help.example.org/returns")]


def test_the_browser_refuses_every_resource_even_for_unsanitised_html(qtbot, counting_server: CountingServer) -> None:
    browser = SafeTextBrowser()
    qtbot.addWidget(browser)
    browser.show()
    base = f"http://127.0.0.1:{counting_server.port}"
    browser.setHtml(
        f'<html><head><link rel="stylesheet" href="{base}/style.css"></head>'
        f'<body><img src="{base}/pixel.png"><img src="file:///etc/passwd"><p>text</p></body></html>'
    )
    browser.document().adjustSize()  # lays out, which is when images are asked for
    assert f"{base}/pixel.png" in browser.refused_resources
    assert "file:///etc/passwd" in browser.refused_resources
    assert counting_server.requests_before_sentinel() == []


def test_a_click_on_an_unsafe_scheme_opens_nothing(qtbot) -> None:
    browser = SafeTextBrowser()
    qtbot.addWidget(browser)
    opened: list[QUrl] = []
    browser.open_url = opened.append
    browser.anchorClicked.emit(QUrl("file:///etc/passwd"))
    browser.anchorClicked.emit(QUrl("javascript:alert(1)"))
    assert opened == []
    browser.anchorClicked.emit(QUrl("mailto:help@example.org"))
    assert opened == [QUrl("mailto:help@example.org")]


def test_public_replies_say_what_they_answer_and_attachments_are_listed_as_text(
    qtbot, ui_ctx: AppContext, counting_server: CountingServer
) -> None:
    account = add_mastodon(ui_ctx)
    first = message("p1", key="thread", text="Is the shop open on Sunday?", author="maya")
    answer = message("p2", key="thread", minutes=5, text="Yes, 10 to 4!", author="brand", direction=Direction.OUTBOUND,
                     parent="p1")  # fmt: skip
    picture = replace(
        message("p3", key="thread", minutes=9, text="Photo of the sign", author="maya", parent="p2"),
        attachments=(f"http://127.0.0.1:{counting_server.port}/sign.jpg",),
    )
    store_page(ui_ctx.engine, account.id, page(first, answer, picture), now=first.created_at)
    window = show_window(qtbot, build_main_window(ui_ctx))
    window.inbox_view.select_conversation(inbox.conversation_ids(ui_ctx.engine)[0])
    text = window.thread_view.browser.toPlainText()
    assert text.index("Is the shop open") < text.index("Yes, 10 to 4!") < text.index("Photo of the sign")
    assert "↳ in reply to Maya" in text and "↳ in reply to Brand" in text
    assert f"Attachment (not downloaded): http://127.0.0.1:{counting_server.port}/sign.jpg" in text
    assert "sent by the team" in text
    assert counting_server.requests_before_sentinel() == []
    assert first.kind is MessageKind.MENTION


def test_notes_interleave_with_messages_and_a_likely_complaint_is_marked(qtbot, ui_ctx: AppContext) -> None:
    from app.store import notes

    account = add_mastodon(ui_ctx)
    angry = message("t1", key="t", text="This is the worst service ever. I am furious and disgusted!", author="maya")
    calm = message("t2", key="t", minutes=30, text="Ok, thanks for checking.", author="maya", parent="t1")
    store_page(ui_ctx.engine, account.id, page(angry, calm), now=angry.created_at)
    conversation_id = inbox.conversation_ids(ui_ctx.engine)[0]
    notes.add_note(ui_ctx.engine, conversation_id, "Refund approved <b>by</b> Ana", author="Kim",
                   now=angry.created_at.replace(minute=10))  # fmt: skip
    window = show_window(qtbot, build_main_window(ui_ctx))
    window.inbox_view.select_conversation(conversation_id)
    text = window.thread_view.browser.toPlainText()
    assert text.index("worst service") < text.index("Internal note · Kim") < text.index("Ok, thanks")
    assert "Refund approved <b>by</b> Ana" in text  # a note's text is shown as typed, never as markup
    assert text.count("▼ likely complaint") == 1  # on the angry message only
    assert "High priority" in window.thread_view.subtitle.text()
    assert "likely complaint" in window.thread_view.subtitle.text()
