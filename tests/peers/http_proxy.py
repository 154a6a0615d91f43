"""An HTTP proxy on 127.0.0.1 that forwards to a real server and can withhold a chosen answer from the client.

Withholding reproduces the worst moment for a crash while sending: the platform has accepted a request
and answered it, but the client never learns the answer. The proxy forwards the request, receives and
keeps the answer, signals `withheld`, and leaves the client waiting.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length", "host"}


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    status: int
    body: bytes


class WithholdingProxy:
    """Forwards everything to `upstream`; while `withhold` is (method, path), that request's answer is kept."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.withhold: tuple[str, str] | None = None
        self.withheld: list[Exchange] = []
        self.withheld_event = threading.Event()
        self.forwarded: list[Exchange] = []
        self._released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="withholding-proxy", daemon=True)

    def start(self) -> WithholdingProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()  # lets the handler that is holding an answer end
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                answer = requests.request(
                    self.command, proxy.upstream + self.path, headers=headers, data=body, timeout=30
                )
                exchange = Exchange(self.command, self.path.split("?")[0], answer.status_code, answer.content)
                if proxy.withhold == (exchange.method, exchange.path):
                    proxy.withheld.append(exchange)
                    proxy.withheld_event.set()
                    proxy._released.wait()
                    self.close_connection = True
                    return
                proxy.forwarded.append(exchange)
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in _HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_DELETE = _forward  # noqa: N815

        return Handler
