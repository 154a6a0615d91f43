"""`parley sync`: the sync engine on plain threads, with progress lines on stderr and an exit code."""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from typing import IO

from app.context import AppContext
from app.domain.models import AccountState
from app.errors import KnownError
from app.logs import REDACTOR
from app.platforms.registry import make_connector
from app.store import accounts
from app.sync.engine import ConnectorFactory, SyncEngine
from app.sync.events import SyncOutcome, SyncProgress
from app.sync.scheduler import Scheduler, schedule_entries
from app.sync.writer import StoreWriter

log = logging.getLogger("app.sync.cli")

MAX_JOBS = 4
STOP_DEADLINE_S = 2.0

_STATE_WORDS = {
    AccountState.OK: "synced",
    AccountState.NEEDS_SIGN_IN: "needs sign-in",
    AccountState.RATE_LIMITED: "rate-limited",
    AccountState.OFFLINE: "offline",
    AccountState.ERROR: "error",
}


class _Console:
    """Lines on stderr from several threads, one whole line at a time."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self._lock = threading.Lock()

    def line(self, text: str) -> None:
        with self._lock:
            print(text, file=self.stream, flush=True)

    def progress(self, progress: SyncProgress) -> None:
        self.line(f"{progress.account_name}: {progress.stream} page {progress.pages}, {progress.stored} new")

    def outcome(self, outcome: SyncOutcome) -> None:
        if outcome.cancelled:
            self.line(f"{outcome.account_name}: stopped, {outcome.stored} new kept")
        elif outcome.failed:
            self.line(f"{outcome.account_name}: {_STATE_WORDS[outcome.state]}: {outcome.error}")
        else:
            self.line(f"{outcome.account_name}: synced, {outcome.stored} new, {outcome.duplicates} already known")


class _Jobs:
    """Sync jobs on daemon threads, so a request stuck at Ctrl+C cannot hold the process open."""

    def __init__(self, engine: SyncEngine, cancel: threading.Event, console: _Console) -> None:
        self.engine = engine
        self.cancel = cancel
        self.console = console
        self.done: queue.SimpleQueue[SyncOutcome] = queue.SimpleQueue()
        self.running: dict[int, threading.Thread] = {}

    def start(self, account_id: int, name: str) -> None:
        thread = threading.Thread(target=self._run, args=(account_id, name), name=f"sync-{name}", daemon=True)
        self.running[account_id] = thread
        thread.start()

    def _run(self, account_id: int, name: str) -> None:
        try:
            outcome = self.engine.sync_account(account_id, self.cancel, self.console.progress)
        except Exception as exc:  # logged with its traceback and reported, never lost in a thread
            log.error("sync of %s failed", name, exc_info=True)
            message = REDACTOR.scrub(f"Sync failed ({type(exc).__name__}: {exc}). Details are in the log file.")
            outcome = SyncOutcome(account_id=account_id, account_name=name, state=AccountState.ERROR, error=message)
        self.done.put(outcome)

    def collect(self, timeout: float) -> list[SyncOutcome]:
        """Wait up to `timeout` seconds for the first finished job, then take every finished one."""
        finished: list[SyncOutcome] = []
        try:
            finished.append(self.done.get(timeout=max(0.0, timeout)))
            while True:
                finished.append(self.done.get_nowait())
        except queue.Empty:
            pass
        for outcome in finished:
            self.running.pop(outcome.account_id, None)
        return finished

    def stop(self, deadline_s: float) -> None:
        self.cancel.set()
        self.engine.close_active_connectors()
        end = time.monotonic() + deadline_s
        for thread in list(self.running.values()):
            thread.join(max(0.0, end - time.monotonic()))


def run_sync(
    ctx: AppContext,
    account_name: str | None = None,
    once: bool = False,
    *,
    connector_factory: ConnectorFactory = make_connector,
    stop: threading.Event | None = None,
    stream: IO[str] | None = None,
) -> int:
    """Sync the accounts (all, or one by name): once, or on their intervals until Ctrl+C or `stop`.

    Returns 1 when an account's last run failed, else 0.
    """
    if ctx.offline:
        raise KnownError(
            "Working offline (--offline): `parley sync` needs the network.", hint="Run it without --offline."
        )
    targets = [accounts.find_account(ctx.engine, account_name)] if account_name else accounts.list_accounts(ctx.engine)
    if not targets:
        raise KnownError(
            "There are no accounts to sync.", hint="Add one with `parley accounts add mastodon --instance URL`."
        )
    names = {account.id: account.name for account in targets}
    console = _Console(stream or sys.stderr)
    writer = StoreWriter()
    engine = SyncEngine(ctx, connector_factory=connector_factory, writer=writer)
    jobs = _Jobs(engine, threading.Event(), console)
    scheduler = Scheduler(ctx.clock)
    rows = [row for row in accounts.account_status_rows(ctx.engine) if row["id"] in names]
    scheduler.set_accounts(schedule_entries(rows))
    scheduler.request_now()  # every account gets a first run now, even one that needs signing in
    latest: dict[int, SyncOutcome] = {}
    stop = stop or threading.Event()
    try:
        if once:
            _skip_rate_limited(ctx, scheduler, names, console, latest)
        while not stop.is_set():
            for account_id in scheduler.due():
                if len(jobs.running) >= MAX_JOBS:
                    break
                if once and account_id in latest:
                    continue
                scheduler.started(account_id)
                jobs.start(account_id, names[account_id])
            if once and not jobs.running:
                break
            for outcome in jobs.collect(_seconds_until(ctx, scheduler)):
                scheduler.finished(outcome)
                latest[outcome.account_id] = outcome
                console.outcome(outcome)
    except KeyboardInterrupt:
        console.line("Stopping...")
    finally:
        jobs.stop(STOP_DEADLINE_S)
        for outcome in jobs.collect(0):
            latest[outcome.account_id] = outcome
            console.outcome(outcome)
        writer.shutdown(timeout=STOP_DEADLINE_S, cancel_pending=True)
    failed = sorted(o.account_name for o in latest.values() if o.failed)
    console.line(
        f"Synced {len(latest)} of {len(names)} accounts, {sum(o.stored for o in latest.values())} new messages"
        + (f"; failed: {', '.join(failed)}." if failed else ".")
    )
    return 1 if failed else 0


def _skip_rate_limited(
    ctx: AppContext, scheduler: Scheduler, names: dict[int, str], console: _Console, latest: dict[int, SyncOutcome]
) -> None:
    """In a single pass, an account the platform asked us to leave alone is reported, not contacted."""
    now = ctx.clock.now()
    for account_id, name in names.items():
        planned = scheduler.next_run(account_id)
        if planned is not None and planned > now:
            outcome = SyncOutcome(
                account_id=account_id,
                account_name=name,
                state=AccountState.RATE_LIMITED,
                error=f"The platform asked Parley to wait until {planned:%H:%M:%S} UTC; not contacted.",
                retry_at=planned,
            )
            latest[account_id] = outcome
            console.outcome(outcome)


def _seconds_until(ctx: AppContext, scheduler: Scheduler) -> float:
    """How long to wait for a job to finish before looking at the schedule again (at most a second)."""
    wakeup = scheduler.next_wakeup()
    if wakeup is None:
        return 1.0
    return min(1.0, max(0.05, (wakeup - ctx.clock.now()).total_seconds()))
