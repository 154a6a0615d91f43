"""StoreWriter: every store write of the sync machinery runs on one thread, in submission order."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from app.errors import StoreError

log = logging.getLogger("app.sync.writer")

T = TypeVar("T")

_Item = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class StoreWriter:
    """A single writer thread fed by a queue.

    SQLite allows one writer at a time; funnelling every write through one thread means sync jobs
    for many accounts never wait on each other's locks (or hit `database is locked`), and writes
    land in the order they were submitted. The thread is a daemon so a write stuck at exit cannot
    hold the process open; SQLite rolls back an unfinished transaction on the next open.
    """

    def __init__(self, name: str = "store-writer") -> None:
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise StoreError("The store writer has shut down; nothing more is written.")
            self._queue.put((future, fn, args, kwargs))
        return future

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Submit and wait for the result (re-raising what the write raised)."""
        return self.submit(fn, *args, **kwargs).result()

    @property
    def thread_name(self) -> str:
        return self._thread.name

    def shutdown(self, *, timeout: float | None = None, cancel_pending: bool = False) -> bool:
        """Stop taking writes, finish (or cancel) the queued ones; True when the thread ended in time."""
        with self._lock:
            if not self._closed:
                self._closed = True
                if cancel_pending:
                    self._cancel_queued()
                self._queue.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _cancel_queued(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                item[0].cancel()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            future, fn, args, kwargs = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # handed to the submitter, who decides what it means
                future.set_exception(exc)
            else:
                future.set_result(result)

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()
