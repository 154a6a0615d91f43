"""A tiny HTTP server on 127.0.0.1 that answers each path with whatever a test scripts: JSON, raw bytes, errors.

Tests use it to put hostile payloads on the wire exactly as a misbehaving platform would, so connectors
read them through their real HTTP path (JSON decoding included). It counts the requests it served.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlparse


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, value: Any, status: int = 200, **headers: str) -> Reply:
        return cls(status, json.dumps(value).encode("utf-8"), headers)


Route = Callable[[dict[str, list[str]]], Reply]


class QuietHandler(BaseHTTPRequestHandler):
    """A keep-alive handler that answers without delay and logs nothing (the emulators' own handlers build on it)."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, delayed ACKs add 40 ms per request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args: Any) -> None:
        return


class LoopbackServer:
    """An emulator's HTTP server on a free port of 127.0.0.1, served from a thread of its own once started."""

    def _listen(self, handler: type[BaseHTTPRequestHandler], name: str) -> str:
        """Binds the port (the server is reachable only after `start`) and returns the server's address."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=name, daemon=True)
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class JsonServer(LoopbackServer):
    """Routes are keyed by path; a route is a Reply, or a function of the query that returns one."""

    def __init__(self) -> None:
        self.routes: dict[str, Reply | Route] = {}
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self.url = self._listen(self._handler(), "json-server")

    def answer(self, path: str, query: dict[str, list[str]]) -> Reply:
        route = self.routes.get(path)
        if route is None:
            return Reply.json({"error": "Record not found"}, status=404)
        return route if isinstance(route, Reply) else route(query)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                parsed = urlparse(self.path)
                with server._lock:
                    server.requests.append(self.path)
                reply = server.answer(parsed.path, parse_qs(parsed.query))
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(reply.body)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(reply.body)

            do_PUT = do_POST = do_GET  # noqa: N815

        return Handler
