"""Untrusted content: a hostile message rendered in the real thread view loads nothing and runs nothing.

The hostile status arrives the way a real one does, from a Mastodon-API server through the connector,
the parser and the store, and is shown in the main window. A second copy is stored as the platform sent
it, unsanitised, as a body stored before a sanitiser fix would be: the view must be safe on its own.
Every URL in the payload points at the same local server, which records each request it gets.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import QUrl

from app.context import AppContext, open_context
from app.domain.models import Page, Platform
from app.paths import ProfilePaths
from app.platforms.mastodon import MastodonConnector
from app.store import accounts, inbox
from app.store.ingest import store_page
from app.ui.launch import build_main_window
from tests.peers.json_server import JsonServer, Reply

AREA = "Untrusted content"
OWN = "1"


def hostile_html(base: str) -> str:
    return (
        "<p>Hello <script>document.title='pwned'; alert('pwned')</script>team</p>"
        f'<iframe src="{base}/frame.html"></iframe>'
        f'<img src="{base}/tracker.png" srcset="{base}/tracker-2x.png 2x">'
        f'<picture><source srcset="{base}/source.webp"></picture>'
        f'<object data="{base}/object.swf"></object><embed src="{base}/embed.swf">'
        f"<style>@import url({base}/import.css); p {{ background: url({base}/style-bg.png) }}</style>"
        f'<link rel="stylesheet" href="{base}/linked.css">'
        f'<p style="background:url({base}/inline-bg.png)">styled</p>'
        f'<svg onload="alert(1)"><image href="{base}/svg.png"/></svg>'
        f'<form action="{base}/form"><input type="image" src="{base}/input.png"></form>'
        f'<meta http-equiv="refresh" content="0;url={base}/refresh"><base href="{base}/base/">'
        '<p><a href="javascript:alert(document.cookie)">claim your refund</a>, '
        '<a href="file:///etc/passwd">your file</a>, '
        '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">a data link</a> and '
        '<a href="https://evil.example/login">https://bank.example/login</a></p>'
        '<p onclick="alert(2)" onmouseover="alert(3)">hover me</p>'
    )


@pytest.fixture
def server() -> Iterator[JsonServer]:
    server = JsonServer().start()
    yield server
    server.stop()


@pytest.fixture
def ui_ctx(tmp_path, secret_service: dict[str, str]) -> Iterator[AppContext]:  # type: ignore[no-untyped-def]
    ctx = open_context(ProfilePaths(tmp_path / "profile"))
    yield ctx
    ctx.close()


def test_a_hostile_message_renders_as_text_with_visible_link_targets_and_loads_nothing(
    qtbot, ui_ctx: AppContext, server: JsonServer
) -> None:
    """Fault: a message whose HTML carries a script, an iframe, remote images (img, srcset, picture, SVG),
    object/embed, style sheets and inline CSS, a form, meta refresh, and javascript:, file: and data: links,
    one of them labelled with another site's address; once sanitised on the way in, once stored raw.

    Survives: the thread view requests nothing from any server, shows no script text, turns the unsafe
    links into plain text, writes each safe link's real target next to its label, and opens nothing by itself.
    """
    base = server.url
    status = {
        "id": "777",
        "created_at": "2026-01-05T08:00:00.000Z",
        "in_reply_to_id": None,
        "visibility": "public",
        "content": hostile_html(base),
        "account": {"id": "66", "acct": "mallory@evil.example", "display_name": "Mallory \u202eevil\u202c"},
        "mentions": [{"id": OWN, "acct": "brand"}],
        "media_attachments": [],
    }
    server.routes["/api/v1/accounts/verify_credentials"] = Reply.json({"id": OWN, "acct": "brand"})
    server.routes["/api/v1/notifications"] = lambda query: Reply.json(
        [{"id": "1", "type": "mention", "status": status}] if query.get("min_id") == ["0"] else []
    )
    account = accounts.add_account(
        ui_ctx.engine, platform=Platform.MASTODON, name="brand", base_url=base, now=datetime.now(UTC),
        platform_user_id=OWN,
    )  # fmt: skip
    connector = MastodonConnector(account, "token-for-hostile-test")
    pages = list(connector.fetch("mentions", None))
    connector.close()
    for fetched in pages:
        store_page(ui_ctx.engine, account.id, fetched, now=datetime.now(UTC))
    (sanitised,) = [m for fetched in pages for m in fetched.messages]
    raw = replace(sanitised, platform_message_id="778", conversation_key="thread:778", html=status["content"])
    stored_raw = Page(stream="mentions", messages=(raw,), cursor=None, has_more=False)
    store_page(ui_ctx.engine, account.id, stored_raw, now=datetime.now(UTC))
    api_calls = len(server.requests)

    window = build_main_window(ui_ctx)
    qtbot.addWidget(window)
    with qtbot.waitExposed(window):
        window.show()
    browser = window.thread_view.browser
    opened: list[QUrl] = []
    browser.open_url = opened.append
    for conversation_id in inbox.conversation_ids(ui_ctx.engine):
        assert window.inbox_view.select_conversation(conversation_id)
        qtbot.waitUntil(lambda: "hover me" in browser.toPlainText())
        browser.document().adjustSize()  # lays the document out, which is when a view asks for images
        browser.viewport().repaint()
        text, markup = browser.toPlainText(), browser.toHtml()
        assert "pwned" not in text and "alert" not in markup and "document.title" not in markup
        assert "claim your refund" in text and "javascript:" not in markup
        assert "your file" in text and "file:" not in markup
        assert "a data link" in text and "data:text" not in markup
        assert "https://bank.example/login (https://evil.example/login)" in text
        assert base not in markup, "a reference to the tracking server survived into the document"

    assert server.requests[api_calls:] == [], "the thread view asked a server for something"
    assert opened == []
