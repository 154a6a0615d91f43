"""The Facebook Page and Instagram connectors against the Graph API emulator, through the real sync engine,
store, keyring and outbox: conversations and comments arrive threaded, replies go out exactly once."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from app.context import AppContext
from app.domain.models import AccountRef, AccountState, Direction, MessageKind, Platform
from app.domain.outbox import OutboxState
from app.platforms.graph import FacebookConnector
from app.platforms.http import make_session
from app.platforms.instagram import InstagramConnector
from app.store import accounts, inbox, outbox
from app.sync.engine import SyncEngine
from app.sync.sender import OutboxSender
from app.sync.writer import StoreWriter
from tests.peers.graph_api import GraphApi, graph_error
from tests.sync_fakes import isolate_keyring


@pytest.fixture
def graph() -> Iterator[GraphApi]:
    server = GraphApi().start()
    yield server
    server.stop()


@pytest.fixture
def ctx(context: AppContext) -> AppContext:
    isolate_keyring(context)
    return context


def add_page(ctx: AppContext, graph: GraphApi, platform: Platform = Platform.FACEBOOK, **options: object) -> AccountRef:
    account = accounts.add_account(
        ctx.engine, platform=platform, name=f"acme-{platform.value}", base_url=graph.url, now=datetime.now(UTC),
        options={"page_id": graph.page.id, **options},
    )  # fmt: skip
    own = graph.page if platform is Platform.FACEBOOK else graph.ig
    accounts.update_identity(ctx.engine, account.id, handle=own.username and "@" + own.username or own.name,
                             display_name=own.name, platform_user_id=own.id)  # fmt: skip
    ctx.secrets.set(account.id, graph.token)
    return accounts.get_account(ctx.engine, account.id)


def sync(ctx: AppContext, account: AccountRef, **connector_options: object) -> AccountState:
    def factory(ref: AccountRef, secret: str) -> FacebookConnector:
        cls = FacebookConnector if ref.platform is Platform.FACEBOOK else InstagramConnector
        return cls(ref, secret, session=make_session(backoff=0.01), **connector_options)  # type: ignore[arg-type]

    writer = StoreWriter()
    try:
        outcome = SyncEngine(ctx, connector_factory=factory, writer=writer).sync_account(account.id, threading.Event())
    finally:
        writer.shutdown(timeout=5)
    return outcome.state


def threads(ctx: AppContext, account: AccountRef) -> dict[str, list[tuple[str, str | None, Direction]]]:
    """Each conversation of the account as [(text, parent platform id, direction)], keyed by its first text."""
    found = {}
    for row in inbox.inbox_page(ctx.engine):
        if row.account_id == account.id:
            messages = inbox.thread(ctx.engine, row.id)
            found[messages[0].text] = [(m.text, m.parent_platform_id, m.direction) for m in messages]
    return found


def conversation_of(ctx: AppContext, account: AccountRef, first_text: str) -> int:
    for row in inbox.inbox_page(ctx.engine):
        if row.account_id == account.id and inbox.thread(ctx.engine, row.id)[0].text == first_text:
            return row.id
    raise AssertionError(f"no conversation starting with {first_text!r}")


def test_messenger_and_page_comments_sync_into_threaded_conversations(ctx: AppContext, graph: GraphApi) -> None:
    ann, bob, cy = graph.person("Ann Lee"), graph.person("Bob Ray"), graph.person("Cy Moss")
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    graph.message_from(ann, "Where is my tent?", at=hour_ago)
    post = graph.post("New tents are in!", at=hour_ago)
    question = graph.comment(post["id"], bob, "Do they fit four?", at=hour_ago)
    graph.comment(post["id"], graph.page, "Yes, the large one does.", parent=question["id"], at=hour_ago)
    follow_up = graph.comment(post["id"], bob, "Great, thanks", parent=question["id"])
    graph.comment(post["id"], cy, "Price?")
    account = add_page(ctx, graph)

    assert sync(ctx, account) is AccountState.OK

    found = threads(ctx, account)
    assert found["Where is my tent?"] == [("Where is my tent?", None, Direction.INBOUND)]
    assert found["Do they fit four?"] == [
        ("Do they fit four?", None, Direction.INBOUND),
        ("Yes, the large one does.", question["id"], Direction.OUTBOUND),
        ("Great, thanks", question["id"], Direction.INBOUND),
    ]
    assert found["Price?"] == [("Price?", None, Direction.INBOUND)]
    assert len(found) == 3

    # A second sync reads from the stored cursors: a new message lands, nothing is stored twice.
    graph.message_from(ann, "Any news?")
    graph.comment(post["id"], cy, "Still waiting on the price", parent=follow_up["id"])
    assert sync(ctx, account) is AccountState.OK
    again = threads(ctx, account)
    assert [text for text, _p, _d in again["Where is my tent?"]] == ["Where is my tent?", "Any news?"]
    assert again["Do they fit four?"][-1] == ("Still waiting on the price", question["id"], Direction.INBOUND)
    assert inbox.message_count(ctx.engine) == 7
    assert accounts.get_cursor(ctx.engine, account.id, "messenger") is not None


def test_instagram_messages_and_media_comments_sync_with_replies_under_their_comment(
    ctx: AppContext, graph: GraphApi
) -> None:
    dee = graph.person("Dee", instagram=True)
    graph.message_from(dee, "Is the red jacket back?", platform="instagram")
    graph.message_from(graph.person("Ann Lee"), "a Messenger message, not Instagram's")
    media = graph.media_item("Autumn drop")
    top = graph.ig_comment(media["id"], dee, "Love this")
    graph.ig_comment(media["id"], graph.ig, "Thank you!", parent=top["id"])
    account = add_page(ctx, graph, Platform.INSTAGRAM)

    assert sync(ctx, account) is AccountState.OK

    found = threads(ctx, account)
    assert found == {
        "Is the red jacket back?": [("Is the red jacket back?", None, Direction.INBOUND)],
        "Love this": [("Love this", None, Direction.INBOUND), ("Thank you!", top["id"], Direction.OUTBOUND)],
    }
    row = next(r for r in inbox.inbox_page(ctx.engine) if r.account_id == account.id and r.kind is MessageKind.DM)
    assert row.contact_handle == "@dee"


def queue_and_approve(ctx: AppContext, conversation_id: int, text: str, reply_to: str | None = None) -> int:
    item = outbox.queue_reply(
        ctx.engine, conversation_id, text, now=datetime.now(UTC), in_reply_to_platform_id=reply_to
    )
    outbox.move_state(ctx.engine, [item.id], OutboxState.APPROVED, now=datetime.now(UTC), reviewer="Kim")
    return item.id


def sender(ctx: AppContext, **options: object) -> OutboxSender:
    def factory(ref: AccountRef, secret: str) -> FacebookConnector:
        cls = FacebookConnector if ref.platform is Platform.FACEBOOK else InstagramConnector
        return cls(ref, secret, session=make_session(backoff=0.01), **options)  # type: ignore[arg-type]

    return OutboxSender(ctx, connector_factory=factory)


def test_a_comment_reply_and_a_messenger_reply_are_posted_once_and_not_stored_twice(
    ctx: AppContext, graph: GraphApi
) -> None:
    ann, bob = graph.person("Ann Lee"), graph.person("Bob Ray")
    graph.message_from(ann, "Where is my tent?")
    post = graph.post("New tents are in!")
    question = graph.comment(post["id"], bob, "Do they fit four?")
    account = add_page(ctx, graph)
    sync(ctx, account)
    dm_item = queue_and_approve(ctx, conversation_of(ctx, account, "Where is my tent?"), "It ships today.")
    comment_item = queue_and_approve(
        ctx, conversation_of(ctx, account, "Do they fit four?"), "Yes, four fit.", question["id"]
    )

    report = sender(ctx).send_ready()

    assert sorted(report.sent) == sorted([dm_item, comment_item]), report.messages
    (dm_body,) = graph.posted_to(f"/{graph.page.id}/messages")
    assert dm_body == {
        "recipient": {"id": ann.id},
        "messaging_type": "RESPONSE",
        "message": {"text": "It ships today."},
    }
    assert graph.posted_to(f"/{question['id']}/comments") == [{"message": "Yes, four fit."}]
    sync(ctx, account)
    assert inbox.message_count(ctx.engine) == 4  # the synced copies are the sent messages, not new ones


@pytest.mark.parametrize("where", ["messenger", "comment", "instagram comment"])
def test_a_send_whose_answer_timed_out_after_the_server_stored_it_is_not_posted_again(
    ctx: AppContext, graph: GraphApi, where: str
) -> None:
    """The emulator stores the first POST and answers only after the client's 0.5 s read timeout."""
    person = graph.person("Ann Lee", instagram=where == "instagram comment")
    if where == "messenger":
        graph.message_from(person, "Where is my tent?")
        platform, first, path = Platform.FACEBOOK, "Where is my tent?", f"/{graph.page.id}/messages"
        reply_to = None
    elif where == "comment":
        comment = graph.comment(graph.post("Tents")["id"], person, "Where is my tent?")
        platform, first, path, reply_to = (
            Platform.FACEBOOK,
            "Where is my tent?",
            f"/{comment['id']}/comments",
            comment["id"],
        )
    else:
        comment = graph.ig_comment(graph.media_item("Tents")["id"], person, "Where is my tent?")
        platform, first, path, reply_to = (
            Platform.INSTAGRAM,
            "Where is my tent?",
            f"/{comment['id']}/replies",
            comment["id"],
        )
    account = add_page(ctx, graph, platform)
    sync(ctx, account)
    item = queue_and_approve(ctx, conversation_of(ctx, account, first), "On its way.", reply_to)
    graph.hold_posts = 1

    timed_out = sender(ctx, timeout=(2.0, 0.5)).send_ready()
    graph.release.set()
    retried = sender(ctx).send_ready()

    assert timed_out.waiting == [item] and "did not answer in time" in " ".join(timed_out.messages)
    assert retried.sent == [item], retried.messages
    assert len(graph.posted_to(path)) == 1
    (stored,) = outbox.list_items(ctx.engine, [OutboxState.SENT])
    assert stored.id == item


def test_messenger_reply_outside_the_24_hour_window_fails_with_the_reason_and_posts_nothing(
    ctx: AppContext, graph: GraphApi
) -> None:
    ann = graph.person("Ann Lee")
    graph.message_from(ann, "Where is my tent?", at=datetime.now(UTC) - timedelta(hours=30))
    account = add_page(ctx, graph)
    sync(ctx, account)
    item = queue_and_approve(ctx, conversation_of(ctx, account, "Where is my tent?"), "Sorry for the wait.")

    report = sender(ctx).send_ready()

    assert report.failed == [item] and "24 hours" in report.messages[0]
    assert graph.posted_to(f"/{graph.page.id}/messages") == []


def test_with_the_human_agent_permission_a_late_reply_goes_out_with_the_tag(ctx: AppContext, graph: GraphApi) -> None:
    ann = graph.person("Ann Lee")
    graph.message_from(ann, "Where is my tent?", at=datetime.now(UTC) - timedelta(days=3))
    account = add_page(ctx, graph, human_agent=True)
    sync(ctx, account)
    item = queue_and_approve(ctx, conversation_of(ctx, account, "Where is my tent?"), "Sorry for the wait.")

    assert sender(ctx).send_ready().sent == [item]
    (body,) = graph.posted_to(f"/{graph.page.id}/messages")
    assert (body["messaging_type"], body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_a_private_reply_to_a_comment_reaches_the_commenter_once(graph: GraphApi) -> None:
    bob = graph.person("Bob Ray")
    comment = graph.comment(graph.post("Tents")["id"], bob, "My order never came")
    account = AccountRef(1, Platform.FACEBOOK, "acme", graph.url, platform_user_id=graph.page.id,
                         options={"page_id": graph.page.id})  # fmt: skip
    connector = FacebookConnector(account, graph.token)

    sent = connector.send_private_reply(comment["id"], "Sorry! Send us your order number here.")

    (body,) = graph.posted_to(f"/{graph.page.id}/messages")
    assert body["recipient"] == {"comment_id": comment["id"]}
    conversation = next(c for c in graph.conversations.values() if c.person.id == bob.id)
    assert [m["id"] for m in conversation.messages] == [sent.platform_message_id]


def test_verify_names_the_page_and_the_linked_instagram_account(graph: GraphApi) -> None:
    page = AccountRef(0, Platform.FACEBOOK, "", graph.url, options={"page_id": graph.page.id})
    ig = AccountRef(0, Platform.INSTAGRAM, "", graph.url, options={"page_id": graph.page.id})

    assert FacebookConnector(page, graph.token).verify().display_name == "Acme Outdoor"
    identity = InstagramConnector(ig, graph.token).verify()
    assert (identity.platform_user_id, identity.handle) == (graph.ig.id, "@acme.outdoor")


def test_many_conversations_and_long_ones_are_read_across_pages_and_a_second_sync_stops_at_what_it_knows(
    ctx: AppContext, graph: GraphApi
) -> None:
    start = datetime.now(UTC) - timedelta(hours=5)
    people = [graph.person(f"Customer {n}") for n in range(30)]
    for n, person in enumerate(people):
        graph.message_from(person, f"question {n}", at=start + timedelta(minutes=n))
    for n in range(40):  # one long conversation: more messages than the nested edge holds
        graph.message_from(people[0], f"more {n}", at=start + timedelta(minutes=60 + n))
    account = add_page(ctx, graph)

    assert sync(ctx, account) is AccountState.OK

    assert inbox.message_count(ctx.engine) == 70
    assert len(threads(ctx, account)) == 30
    assert any(path.endswith("/messages") for method, path in graph.requests if method == "GET")  # paged further
    graph.requests.clear()
    graph.message_from(people[5], "one new message")
    assert sync(ctx, account) is AccountState.OK
    reads = [path for method, path in graph.requests if path.endswith("/conversations")]
    assert len(reads) == 1  # the first page already reaches conversations older than the cursor
    assert inbox.message_count(ctx.engine) == 71


def test_a_throttled_send_waits_in_the_outbox_and_posts_nothing(ctx: AppContext, graph: GraphApi) -> None:
    comment = graph.comment(graph.post("Tents")["id"], graph.person("Bob"), "Do they fit four?")
    account = add_page(ctx, graph)
    sync(ctx, account)
    item = queue_and_approve(ctx, conversation_of(ctx, account, "Do they fit four?"), "Yes.", comment["id"])
    usage = {graph.page.id: [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 3}]}
    graph.fail(
        "/comments$",
        method="POST",
        body=graph_error("(#32) Page request limit reached", 32),
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )

    report = sender(ctx).send_ready()

    assert report.waiting == [item] and report.sent == []
    assert accounts.account_state(ctx.engine, account.id) is AccountState.RATE_LIMITED
    assert graph.posted_to(f"/{comment['id']}/comments") == []
    (waiting,) = outbox.list_items(ctx.engine, [OutboxState.APPROVED])
    assert waiting.retry_at is not None and waiting.retry_at > datetime.now(UTC) + timedelta(minutes=2)


def test_a_new_account_reads_the_last_30_days_not_the_pages_whole_history(ctx: AppContext, graph: GraphApi) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=40)
    graph.message_from(graph.person("Old Timer"), "from last season", at=long_ago)
    old_post = graph.post("Last season", at=long_ago)
    graph.comment(old_post["id"], graph.person("Bob"), "old comment", at=long_ago)
    graph.message_from(graph.person("Ann"), "this week")
    account = add_page(ctx, graph)

    assert sync(ctx, account) is AccountState.OK

    assert list(threads(ctx, account)) == ["this week"]


def test_a_reply_to_a_comment_deleted_meanwhile_fails_with_the_reason_and_posts_nothing(
    ctx: AppContext, graph: GraphApi
) -> None:
    comment = graph.comment(graph.post("Tents")["id"], graph.person("Bob"), "spam spam")
    account = add_page(ctx, graph)
    sync(ctx, account)
    item = queue_and_approve(ctx, conversation_of(ctx, account, "spam spam"), "Please stop.", comment["id"])
    del graph.comments[comment["id"]]  # the author deleted it

    report = sender(ctx).send_ready()

    assert report.failed == [item] and "does not exist" in report.messages[0]
    assert graph.posted == []
