"""Sending the outbox: approved replies go out in queue order, each once, through the connector's idempotent send."""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select

from app.context import AppContext
from app.domain.models import AccountRef, AccountState, Direction, ReplyTarget, Visibility
from app.domain.outbox import OutboxItem, OutboxRuleError, OutboxState, check_approval
from app.errors import AuthError, KnownError, NetworkError, PlatformError, RateLimited
from app.platforms.base import Connector
from app.platforms.registry import make_connector
from app.store import accounts, outbox
from app.store.schema import conversations, messages
from app.sync.engine import keep_rotated_secret

log = logging.getLogger("app.sync.sender")

ConnectorFactory = Callable[[AccountRef, str], Connector]
Write = Callable[..., object]


class _Result(enum.Enum):
    SENT = "sent"
    CONVERSATION_BLOCKED = "conversation blocked"  # held or failed: later replies in it wait
    ACCOUNT_BLOCKED = "account blocked"  # rate-limited, signed out or offline: the account's queue waits


@dataclass
class SendReport:
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)  # rate-limited, offline or needing sign-in: kept approved
    messages: list[str] = field(default_factory=list)
    conversation_ids: set[int] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.failed


class OutboxSender:
    """Sends what is approved. A crash between the platform accepting a reply and Parley recording it leaves
    the item in `sending`; the next run sends it again with the same idempotency key, which the platform
    answers with the message it already made — so a reply is never posted twice and never lost."""

    def __init__(
        self, ctx: AppContext, *, connector_factory: ConnectorFactory = make_connector, write: Write | None = None
    ) -> None:
        self.ctx = ctx
        self.connector_factory = connector_factory
        self._write = write or (lambda fn, *args, **kwargs: fn(*args, **kwargs))

    def send_ready(self, *, cancel: threading.Event | None = None, account_id: int | None = None) -> SendReport:
        report = SendReport()
        if self.ctx.offline:
            report.messages.append("Working offline: the outbox waits until you go online.")
            return report
        items = outbox.ready_to_send(self.ctx.engine, now=self._now(), account_id=account_id)
        by_account: dict[int, list[OutboxItem]] = {}
        for item in items:
            by_account.setdefault(item.account_id, []).append(item)
        for account_key, account_items in by_account.items():
            if cancel is not None and cancel.is_set():
                break
            self._send_for_account(account_key, account_items, report, cancel)
        return report

    def _now(self) -> datetime:
        return self.ctx.clock.now()

    def _send_for_account(
        self, account_id: int, items: list[OutboxItem], report: SendReport, cancel: threading.Event | None
    ) -> None:
        account = accounts.get_account(self.ctx.engine, account_id)
        try:
            secret = self.ctx.secrets.get(account.id)
        except KnownError as exc:
            self._wait_all(items, report, f"{account.name}: {exc}")
            return
        if not secret:
            accounts.set_account_state(
                self.ctx.engine, account.id, AccountState.NEEDS_SIGN_IN, "Sign in again to send the queued replies."
            )
            self._wait_all(items, report, f"{account.name}: sign-in needed; replies kept in the outbox")
            return
        connector = self.connector_factory(account, secret)
        blocked_conversations: set[int] = set()
        try:
            for index, item in enumerate(items):
                if cancel is not None and cancel.is_set():
                    return
                if item.conversation_id in blocked_conversations:
                    report.waiting.append(item.id)  # keep per-conversation order: nothing overtakes a failure
                    continue
                result = self._send_one(connector, account, item, report)
                if result is _Result.ACCOUNT_BLOCKED:
                    self._wait_all(items[index + 1 :], report, "")
                    return
                if result is _Result.CONVERSATION_BLOCKED:
                    blocked_conversations.add(item.conversation_id)
        finally:
            # A send may renew the sign-in (X rotates its refresh token): the old one would no longer work.
            keep_rotated_secret(self.ctx, account, connector)
            connector.close()

    def _send_one(self, connector: Connector, account: AccountRef, item: OutboxItem, report: SendReport) -> _Result:
        engine, now = self.ctx.engine, self._now()
        if item.state is OutboxState.APPROVED:
            refusal = self._approval_refused(item)
            if refusal:
                # Approved around the review rule (an older version, another tool): back to the reviewer.
                self._write(outbox.move_state, engine, [item.id], OutboxState.AWAITING_REVIEW, now=now, error=refusal)
                report.waiting.append(item.id)
                report.messages.append(f"reply {item.id} not sent: {refusal}")
                return _Result.CONVERSATION_BLOCKED
            news = outbox.inbound_since(engine, item.conversation_id, item.queued_after_message_at)
            if news:
                self._write(
                    outbox.move_state,
                    engine,
                    [item.id],
                    OutboxState.HELD,
                    now=now,
                    error=f"{len(news)} new message(s) arrived after this reply was approved.",
                )
                report.held.append(item.id)
                return _Result.CONVERSATION_BLOCKED
            self._write(outbox.move_state, engine, [item.id], OutboxState.SENDING, now=now)
        try:
            sent = connector.send_reply(self._target(item), item.body, item.idempotency_key)
        except RateLimited as exc:
            retry_at = datetime.fromtimestamp(exc.retry_at, UTC)
            until = f"until {retry_at:%H:%M} UTC"
            return self._account_blocked(
                item, account, report, AccountState.RATE_LIMITED, str(exc), f"rate-limited {until}",
                note=f"Rate-limited {until}", retry_at=retry_at,
            )  # fmt: skip
        except AuthError as exc:
            return self._account_blocked(
                item, account, report, AccountState.NEEDS_SIGN_IN, str(exc),
                "sign-in needed; replies kept in the outbox",
            )  # fmt: skip
        except NetworkError as exc:
            return self._account_blocked(item, account, report, AccountState.OFFLINE, str(exc), f"offline ({exc})")
        except PlatformError as exc:
            self._write(outbox.move_state, engine, [item.id], OutboxState.FAILED, now=now, error=str(exc))
            report.failed.append(item.id)
            report.messages.append(f"reply {item.id} failed: {exc}")
            return _Result.CONVERSATION_BLOCKED
        self._write(outbox.record_sent, engine, item, sent, now=now)
        report.sent.append(item.id)
        report.conversation_ids.add(item.conversation_id)
        log.info("sent outbox item %s as %s", item.id, sent.platform_message_id)
        return _Result.SENT

    def _approval_refused(self, item: OutboxItem) -> str:
        """Why the four-eyes rule forbids sending this approved reply ("" when it may go)."""
        rule = self.ctx.preferences.public_replies_need_review
        if not rule:
            return ""
        try:
            check_approval(
                public=outbox.is_public(self.ctx.engine, item.conversation_id),
                reviewer=item.reviewer,
                author=item.author,
                public_needs_reviewer=rule,
            )
        except OutboxRuleError as exc:
            return str(exc)
        return ""

    def _account_blocked(
        self,
        item: OutboxItem,
        account: AccountRef,
        report: SendReport,
        state: AccountState,
        reason: str,
        message: str,
        *,
        note: str = "",
        retry_at: datetime | None = None,
    ) -> _Result:
        """Trouble with the account, not the reply: keep the reply approved (not before `retry_at`), record
        the account's state and `reason`, report the reply as waiting with `message`. The reply keeps `note`
        (default: the reason) as its last error."""
        self._write(
            outbox.move_state, self.ctx.engine, [item.id], OutboxState.APPROVED,
            now=self._now(), retry_at=retry_at, error=note or reason,
        )  # fmt: skip
        accounts.set_account_state(self.ctx.engine, account.id, state, reason, rate_limited_until=retry_at)
        report.waiting.append(item.id)
        report.messages.append(f"{account.name}: {message}")
        return _Result.ACCOUNT_BLOCKED

    def _wait_all(self, items: list[OutboxItem], report: SendReport, message: str) -> None:
        report.waiting.extend(item.id for item in items)
        if message:
            report.messages.append(message)

    def _target(self, item: OutboxItem) -> ReplyTarget:
        """Where the reply goes, with who must be mentioned: everyone in a DM, the author answered otherwise."""
        with self.ctx.engine.connect() as connection:
            conversation = connection.execute(
                select(conversations.c.conversation_key, conversations.c.visibility).where(
                    conversations.c.id == item.conversation_id
                )
            ).one()
            visibility = Visibility(conversation.visibility)
            authors = select(messages.c.author_handle).where(
                messages.c.conversation_id == item.conversation_id, messages.c.direction == Direction.INBOUND.value
            )
            if visibility is not Visibility.DIRECT and item.in_reply_to_platform_id:
                authors = authors.where(messages.c.platform_message_id == item.in_reply_to_platform_id)
            participants = tuple(dict.fromkeys(h for h in connection.execute(authors).scalars() if h))
        return ReplyTarget(
            conversation_key=conversation.conversation_key,
            in_reply_to_platform_id=item.in_reply_to_platform_id,
            visibility=visibility,
            participants=participants,
        )
