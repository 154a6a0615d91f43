"""Interrupting a session's requests from another thread: the sockets it opened are shut down on abort.

Closing a requests session does not end a read already waiting on the server: the reading thread
stays blocked until the read timeout (30 s, times the retries). Shutting the socket down does end it
at once (the read sees end-of-stream); the guard also refuses every new connection afterwards, so
urllib3's retry of that read fails immediately instead of waiting on the server again.
"""

from __future__ import annotations

import logging
import socket
import threading
import weakref
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager

from app.errors import NetworkError

log = logging.getLogger("app.platforms.http")


class RequestAborted(NetworkError):
    """The request was interrupted on purpose (Parley is quitting)."""


class AbortGuard:
    """The sockets of one session; `abort()` shuts them all down and refuses new ones."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self.aborted = False

    def check(self) -> None:
        if self.aborted:
            raise RequestAborted("The request was interrupted because Parley is quitting.")

    def track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)
            late = self.aborted  # opened while abort() ran: it would otherwise be missed
        if late:
            _shut(sock)
            self.check()

    def abort(self) -> None:
        with self._lock:
            self.aborted = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed or never connected: nothing is waiting on it


class _GuardedConnectionMixin:
    guard: AbortGuard | None = None

    def _new_conn(self) -> socket.socket:
        guard = self.guard
        if guard is not None:
            guard.check()
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        if guard is not None:
            guard.track(sock)
        return sock


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedPoolMixin:
    guard: AbortGuard | None = None

    def _new_conn(self) -> Any:
        conn = super()._new_conn()  # type: ignore[misc]
        conn.guard = self.guard
        return conn


class _GuardedHTTPPool(_GuardedPoolMixin, HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(_GuardedPoolMixin, HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedPoolManager(PoolManager):
    def __init__(self, guard: AbortGuard, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.guard = guard
        self.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}

    def _new_pool(
        self, scheme: str, host: str, port: int, request_context: dict[str, Any] | None = None
    ) -> HTTPConnectionPool:
        pool = super()._new_pool(scheme, host, port, request_context)
        pool.guard = self.guard  # type: ignore[attr-defined]
        return pool


class AbortableAdapter(HTTPAdapter):
    """An HTTPAdapter whose connections `abort()` can interrupt (proxies are not guarded)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.guard = AbortGuard()
        super().__init__(*args, **kwargs)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        self._pool_connections = connections
        self._pool_maxsize = maxsize
        self._pool_block = block
        self.poolmanager = _GuardedPoolManager(
            self.guard, num_pools=connections, maxsize=maxsize, block=block, **pool_kwargs
        )

    def abort(self) -> None:
        self.guard.abort()


def abort_session(session: Any) -> None:
    """Interrupt every request of a session made by `app.platforms.http.make_session`; safe from any thread."""
    for adapter in list(getattr(session, "adapters", {}).values()):
        if isinstance(adapter, AbortableAdapter):
            adapter.abort()
