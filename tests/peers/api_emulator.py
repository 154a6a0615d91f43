"""Plumbing shared by the platform API emulators (x_api.py, reddit_api.py): routing, faults, a request log.

An emulator subclass lists routes as (method, path regex, handler); a handler gets a `Call` and returns
(status, JSON body or bytes, extra headers). Tests inject faults per method and path prefix (a status with
headers and body, a body that is not JSON, or a pause after the handler ran: "the server stored the post
but the answer came too late"), and read `calls` to count what the server received.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Answer = tuple[int, Any, dict[str, str]]


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    match: re.Match[str] | None = None

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    @property
    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode("utf-8"), keep_blank_values=True).items()}


@dataclass
class Fault:
    method: str
    prefix: str
    times: int
    status: int = 500
    body: Any = field(default_factory=lambda: {"error": "injected"})
    headers: dict[str, str] = field(default_factory=dict)
    delay_after: float = 0.0  # run the real handler, then pause before answering (a timeout after the store)


class ApiEmulator:
    """A threaded HTTP server on 127.0.0.1; subclasses fill `routes` and the state they serve."""

    routes: list[tuple[str, str, str]] = []  # (method, path regex, handler method name)

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.lock = threading.RLock()
        self._compiled = [(m, re.compile(p + r"/?$"), h) for m, p, h in self.routes]
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name=type(self).__name__, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def fail(self, method: str, prefix: str, *, times: int = 1, **kwargs: Any) -> None:
        with self.lock:
            self.faults.append(Fault(method, prefix, times, **kwargs))

    def received(self, method: str, pattern: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and re.fullmatch(pattern, c.path)]

    def extra_headers(self, call: Call) -> dict[str, str]:
        return {}

    def dispatch(self, call: Call) -> Answer:
        for method, pattern, name in self._compiled:
            found = pattern.match(call.path)
            if method == call.method and found:
                handler: Callable[[Call], Answer] = getattr(self, name)
                return handler(Call(call.method, call.path, call.query, call.headers, call.body, found))
        return 404, {"error": f"no route for {call.method} {call.path}"}, {}

    def _fault_for(self, call: Call) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.method == call.method and call.path.startswith(fault.prefix):
                    fault.times -= 1
                    return fault
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                call = Call(self.command, parts.path, query, dict(self.headers.items()), body)
                with emulator.lock:
                    emulator.calls.append(call)
                fault = emulator._fault_for(call)
                if fault is not None and not fault.delay_after:
                    status, payload, headers = fault.status, fault.body, dict(fault.headers)
                else:
                    with emulator.lock:
                        status, payload, headers = emulator.dispatch(call)
                    if fault is not None:
                        time.sleep(fault.delay_after)
                headers = {**emulator.extra_headers(call), **headers}
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout test): the server kept what it stored

            do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815 - http.server's naming

        return Handler
