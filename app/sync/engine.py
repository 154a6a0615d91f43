"""SyncEngine: fetch every stream of one account page by page and store each page with its cursor."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from app.context import AppContext
from app.domain.models import AccountRef, AccountState, Page, RateLimit
from app.errors import AuthError, KnownError, NetworkError, PlatformError, RateLimited, StoreError
from app.logs import REDACTOR
from app.platforms.base import BackfillUnsupported, Connector
from app.platforms.registry import make_connector
from app.store import accounts, gaps
from app.store.gaps import OpenGap
from app.store.ingest import store_page
from app.sync.backoff import retry_at_from_epoch
from app.sync.events import SyncOutcome, SyncProgress
from app.sync.writer import StoreWriter

log = logging.getLogger("app.sync.engine")

ConnectorFactory = Callable[[AccountRef, str], Connector]
ProgressCallback = Callable[[SyncProgress], None]

WORK_OFFLINE_MESSAGE = "Working offline: Parley did not contact the platform."
NO_SECRET_MESSAGE = "No sign-in for this account in the OS keyring; sign in again from the Accounts dialog."


@dataclass
class _Run:
    """Running totals of one sync_account call."""

    account: AccountRef
    connector: Connector | None = None
    stream: str = ""
    pages: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    conversation_ids: set[int] = field(default_factory=set)

    def outcome(self, state: AccountState, **extra: Any) -> SyncOutcome:
        return SyncOutcome(
            account_id=self.account.id,
            account_name=self.account.name,
            state=state,
            stream=self.stream,
            pages=self.pages,
            stored=self.stored,
            duplicates=self.duplicates,
            rejected=self.rejected,
            conversation_ids=tuple(sorted(self.conversation_ids)),
            **extra,
        )


class SyncEngine:
    """Syncs one account per call; safe to call for different accounts from several threads at once.

    Reads happen on the calling thread; every write goes through the one `StoreWriter`.
    Trouble from the platform ends the run with an account state (needs sign-in, rate-limited,
    offline, error) for that account alone; what was stored before it stays stored.

    After its streams, a run back-fills the gaps that were open when it started (a gap found in this
    run waits for the next one, so one run stays within the connector's bounds): each page is stored,
    a remainder the connector could not reach yet becomes a new gap, and the old gap is resolved.
    """

    def __init__(
        self, ctx: AppContext, *, connector_factory: ConnectorFactory = make_connector, writer: StoreWriter
    ) -> None:
        self.ctx = ctx
        self.connector_factory = connector_factory
        self.writer = writer
        self._active: dict[int, Connector] = {}
        self._lock = threading.Lock()

    def sync_account(
        self, account_id: int, cancel: threading.Event, on_progress: ProgressCallback | None = None
    ) -> SyncOutcome:
        account = accounts.get_account(self.ctx.engine, account_id)
        run = _Run(account)
        if self.ctx.offline:
            return run.outcome(AccountState.OFFLINE, error=WORK_OFFLINE_MESSAGE, work_offline=True)
        if cancel.is_set():
            return run.outcome(accounts.account_state(self.ctx.engine, account_id), cancelled=True)
        try:
            secret = self.ctx.secrets.get(account.id)
        except KnownError as exc:
            return self._fail(run, AccountState.ERROR, exc)
        if not secret:
            return self._finish(run, AccountState.NEEDS_SIGN_IN, NO_SECRET_MESSAGE)
        open_gaps = gaps.list_open_gaps(self.ctx.engine, account.id, fillable_only=True)
        try:
            connector = self.connector_factory(account, secret)
        except KnownError as exc:
            return self._fail(run, AccountState.ERROR, exc)
        run.connector = connector
        with self._lock:
            self._active[account.id] = connector
        try:
            return self._sync_streams(run, connector, cancel, on_progress, open_gaps)
        finally:
            with self._lock:
                self._active.pop(account.id, None)
            self._keep_rotated_secret(account, connector)
            _close_quietly(connector)

    def close_active_connectors(self) -> None:
        """Close every connector in use, so requests in flight end sooner (used on shutdown)."""
        with self._lock:
            active = list(self._active.values())
        for connector in active:
            _close_quietly(connector)

    def abort_active_connectors(self) -> None:
        """Interrupt the requests in flight of every connector in use (quitting); quick, from any thread."""
        with self._lock:
            active = list(self._active.values())
        for connector in active:
            try:
                connector.abort()
            except Exception:
                log.warning("aborting %r failed", connector, exc_info=True)

    def _sync_streams(
        self,
        run: _Run,
        connector: Connector,
        cancel: threading.Event,
        on_progress: ProgressCallback | None,
        open_gaps: list[OpenGap],
    ) -> SyncOutcome:
        account = run.account
        try:
            for stream in connector.streams():
                run.stream = stream
                cursor = accounts.get_cursor(self.ctx.engine, account.id, stream)
                stream_pages = 0
                pages: Iterator[Page] = iter(connector.fetch(stream, cursor))
                try:
                    while True:
                        if cancel.is_set():
                            log.info("%s: sync cancelled in %s after %d pages", account.name, stream, stream_pages)
                            return run.outcome(accounts.account_state(self.ctx.engine, account.id), cancelled=True)
                        page = next(pages, None)
                        if page is None:
                            break
                        stream_pages += 1
                        progress = self._store(run, page, stream_pages)
                        self._keep_rotated_secret(account, connector)
                        if on_progress is not None:
                            on_progress(progress)
                finally:
                    _close_generator(pages)
            for gap in open_gaps:
                if cancel.is_set():
                    return run.outcome(accounts.account_state(self.ctx.engine, account.id), cancelled=True)
                self._fill_gap(run, connector, gap, cancel, on_progress)
        except Exception as exc:
            if cancel.is_set():  # closing the connector on shutdown makes requests in flight fail
                log.info("%s: sync cancelled in %s (%s)", account.name, run.stream, type(exc).__name__)
                return run.outcome(accounts.account_state(self.ctx.engine, account.id), cancelled=True)
            return self._failed(run, exc)
        log.info("%s: synced %d pages, %d new, %d known", account.name, run.pages, run.stored, run.duplicates)
        return self._finish(run, AccountState.OK, "")

    def _fill_gap(
        self,
        run: _Run,
        connector: Connector,
        gap: OpenGap,
        cancel: threading.Event,
        on_progress: ProgressCallback | None,
    ) -> None:
        """Back-fill one gap; trouble that concerns the whole account (sign-in, limits, network) propagates."""
        run.stream = gap.stream
        pages: Iterator[Page] = iter(())
        stored = 0
        try:
            pages = iter(connector.backfill(gap.detail))
            while not cancel.is_set():
                page = next(pages, None)
                if page is None:
                    self.writer.call(gaps.resolve_gap, self.ctx.engine, gap.id, now=self.ctx.clock.now())
                    log.info("%s: gap %d back-filled (%d pages)", run.account.name, gap.id, stored)
                    return
                # A remainder the connector could not reach yet keeps the old gap's bounds where it has none.
                rest = tuple(replace(g, start=g.start or gap.start, end=g.end or gap.end) for g in page.gaps)
                stored += 1
                progress = self._store(run, replace(page, cursor=None, gaps=rest), stored)
                if on_progress is not None:
                    on_progress(progress)
        except BackfillUnsupported as exc:
            self.writer.call(gaps.note_fill_failure, self.ctx.engine, gap.id, exc.user_message(), fillable=False)
        except (AuthError, RateLimited, NetworkError):
            raise
        except PlatformError as exc:
            # The platform refused this span for good (bad token, room left, gone) or for now.
            for_good = exc.status in (400, 403, 404)
            log.warning("%s: gap %d not back-filled: %s", run.account.name, gap.id, exc)
            note = REDACTOR.scrub(exc.user_message())
            self.writer.call(gaps.note_fill_failure, self.ctx.engine, gap.id, note, fillable=not for_good)
        finally:
            _close_generator(pages)

    def _store(self, run: _Run, page: Page, stream_pages: int) -> SyncProgress:
        result = self.writer.call(store_page, self.ctx.engine, run.account.id, page, now=self.ctx.clock.now())
        run.pages += 1
        run.stored += result.stored
        run.duplicates += result.duplicates
        run.rejected += len(page.rejected)
        run.conversation_ids |= result.conversation_ids
        return SyncProgress(
            account_id=run.account.id,
            account_name=run.account.name,
            stream=page.stream,
            pages=stream_pages,
            stored=run.stored,
            duplicates=run.duplicates,
            rejected=run.rejected,
            page_stored=result.stored,
            conversation_ids=tuple(sorted(result.conversation_ids)),
        )

    def _failed(self, run: _Run, exc: Exception) -> SyncOutcome:
        """The account state an error leaves behind: for this account alone."""
        if isinstance(exc, StoreError):
            # The database itself refused (locked, full, read-only): writing the failure there too
            # would only fail again, so it is reported and logged, and the next run tries afresh.
            log.warning("%s: sync stopped, the store refused a write: %s", run.account.name, exc)
            return run.outcome(AccountState.ERROR, error=REDACTOR.scrub(exc.user_message()))
        if isinstance(exc, AuthError):
            return self._fail(run, AccountState.NEEDS_SIGN_IN, exc)
        if isinstance(exc, RateLimited):
            return self._fail(run, AccountState.RATE_LIMITED, exc, retry_at=retry_at_from_epoch(exc.retry_at))
        if isinstance(exc, NetworkError):
            return self._fail(run, AccountState.OFFLINE, exc)
        if isinstance(exc, KnownError):
            return self._fail(run, AccountState.ERROR, exc)
        # A bug: logged with its traceback, shown as this account's error.
        log.error("%s: unexpected error while syncing %s", run.account.name, run.stream or "-", exc_info=exc)
        message = f"Unexpected error while syncing ({type(exc).__name__}: {exc}). Details are in the log file."
        return self._finish(run, AccountState.ERROR, message)

    def _fail(self, run: _Run, state: AccountState, exc: KnownError, **extra: Any) -> SyncOutcome:
        log.warning("%s: sync stopped (%s): %s", run.account.name, state.value, exc)
        return self._finish(run, state, exc.user_message(), **extra)

    def _finish(self, run: _Run, state: AccountState, message: str, *, retry_at: datetime | None = None) -> SyncOutcome:
        message = REDACTOR.scrub(message)
        synced_at = self.ctx.clock.now() if state is AccountState.OK else None
        self.writer.call(
            accounts.set_account_state,
            self.ctx.engine,
            run.account.id,
            state,
            message,
            synced_at=synced_at,
            rate_limited_until=retry_at,
            rate_limit=_budget(run.connector),
        )
        return run.outcome(state, error=message, retry_at=retry_at)

    def _keep_rotated_secret(self, account: AccountRef, connector: Connector) -> None:
        keep_rotated_secret(self.ctx, account, connector)


def keep_rotated_secret(ctx: AppContext, account: AccountRef, connector: Connector) -> None:
    """Store a credential the connector renewed while working (a refreshed session, a rotated refresh token)."""
    try:
        rotated = connector.new_secret()
        if rotated:
            ctx.secrets.set(account.id, rotated)
    except KnownError as exc:
        # The old credential may now be invalid: say so loudly, the next sync will ask for sign-in.
        log.error("%s: could not keep the refreshed credential: %s", account.name, exc)


def _budget(connector: Connector | None) -> RateLimit | None:
    if connector is None:
        return None
    try:
        return connector.rate_limit()
    except Exception:
        log.warning("reading the rate limit of %r failed", connector, exc_info=True)
        return None


def _close_quietly(connector: Connector) -> None:
    try:
        connector.close()
    except Exception:
        log.warning("closing %r failed", connector, exc_info=True)


def _close_generator(pages: Iterator[Page]) -> None:
    close = getattr(pages, "close", None)
    if close is not None:
        try:
            close()
        except Exception:
            log.warning("closing a page iterator failed", exc_info=True)
