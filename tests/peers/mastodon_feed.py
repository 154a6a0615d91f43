"""A Mastodon-API server for volume tests: N synthetic mention notifications, paged as Mastodon documents.

mastodon-mock creates statuses one HTTP call at a time (about 15 ms each), so tens of thousands of
messages would take minutes to seed; this server generates them on the fly instead. It implements the
documented paging of GET /api/v1/notifications (max_id, since_id, min_id, limit, Link header) and the
calls a connector makes around it, and counts the requests it served.

Network faults can be scripted per path (`FeedServer.faults`): a connection reset before the answer
(`reset`) or half-way through its body (`cut`), a slow answer (`delay`), an error status (`status`), or
pagination that loops back to a page already served (`replay`).
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

BRAND_ID = "1"
EPOCH = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def _status(number: int) -> dict[str, Any]:
    author = 1000 + number % 997
    thread_root = number - number % 5  # every fifth message starts a thread; four replies follow it
    created = (EPOCH + timedelta(seconds=30 * number)).isoformat().replace("+00:00", "Z")
    return {
        "id": str(100000 + number),
        "created_at": created,
        "in_reply_to_id": None if number == thread_root else str(100000 + number - 1),
        "in_reply_to_account_id": None,
        "visibility": "public",
        "content": f"<p>@brand customer message {number} about order NW-{number:05d}</p>",
        "url": f"https://feed.example/@c{author}/{100000 + number}",
        "account": {
            "id": str(author),
            "username": f"c{author}",
            "acct": f"c{author}@feed.example",
            "display_name": f"Customer {author}",
        },
        "mentions": [{"id": BRAND_ID, "username": "brand", "acct": "brand"}],
        "media_attachments": [],
    }


def _notification(number: int) -> dict[str, Any]:
    status = _status(number)
    return {
        "id": str(number + 1),
        "type": "mention",
        "created_at": status["created_at"],
        "account": status["account"],
        "status": status,
    }


@dataclass
class Fault:
    """What the feed does instead of answering `path`: after letting `skip` requests through, for `times`
    requests (None: every one after that)."""

    kind: str  # "reset", "cut", "delay", "status" or "replay"
    path: str = "/api/v1/notifications"
    skip: int = 0
    times: int | None = 1
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    replay_min_id: str = "0"  # "replay": every page is the one above this min_id, whatever was asked
    seen: int = 0
    hits: int = 0

    def take(self, path: str) -> bool:
        if path != self.path:
            return False
        self.seen += 1
        if self.seen <= self.skip or (self.times is not None and self.hits >= self.times):
            return False
        self.hits += 1
        return True


class FeedServer:
    """Serves `total` mention notifications with ids 1..total; `total` may grow while running."""

    def __init__(self, total: int, token: str = "feed-token") -> None:
        self.total = total
        self.token = token
        self.requests: list[str] = []
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        handler = self._handler()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="feed-server", daemon=True)

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_fault(self, kind: str, **options: Any) -> Fault:
        fault = Fault(kind, **options)
        with self._lock:
            self.faults.append(fault)
        return fault

    def _fault_for(self, path: str) -> Fault | None:
        with self._lock:
            return next((fault for fault in self.faults if fault.take(path)), None)

    def page(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        limit = max(1, min(int(query.get("limit", ["40"])[0]), 80))
        max_id = int(query["max_id"][0]) if "max_id" in query else self.total + 1
        since_id = int(query.get("since_id", ["0"])[0])
        if "min_id" in query:  # the items just above min_id, still returned newest first
            low = int(query["min_id"][0])
            ids = range(min(low + limit, max_id - 1), low, -1)
        else:
            ids = range(max_id - 1, max(since_id, max_id - 1 - limit), -1)
        return [_notification(i - 1) for i in ids if 1 <= i <= self.total and i > since_id]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet: tests read feed.requests instead
                return

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                parsed = urlparse(self.path)
                with feed._lock:
                    feed.requests.append(self.path)
                query = parse_qs(parsed.query)
                fault = feed._fault_for(parsed.path)
                if fault is not None:
                    if fault.kind == "reset":
                        return self._reset()
                    if fault.kind == "delay":
                        time.sleep(fault.delay_s)
                    elif fault.kind == "status":
                        return self._send(fault.status, {"error": f"HTTP {fault.status}"}, fault.headers)
                    elif fault.kind == "replay":
                        query["min_id"] = [fault.replay_min_id]
                self._cut = fault is not None and fault.kind == "cut"
                if self.headers.get("Authorization") != f"Bearer {feed.token}":
                    return self._send(401, {"error": "The access token is invalid"})
                if parsed.path == "/api/v1/accounts/verify_credentials":
                    return self._send(
                        200, {"id": BRAND_ID, "username": "brand", "acct": "brand", "display_name": "Brand"}
                    )
                if parsed.path == "/api/v1/notifications":
                    items = feed.page(query)
                    headers = {}
                    if items:
                        base = f"{feed.url}/api/v1/notifications?limit=40&types[]=mention"
                        headers["Link"] = (
                            f'<{base}&max_id={items[-1]["id"]}>; rel="next", '
                            f'<{base}&min_id={items[0]["id"]}>; rel="prev"'
                        )
                    return self._send(200, items, headers)
                if parsed.path in ("/api/v1/conversations",):
                    return self._send(200, [])
                if parsed.path == "/api/v1/instance":
                    return self._send(200, {"uri": "feed.example", "title": "feed", "version": "4.3.0"})
                return self._send(404, {"error": "Record not found"})

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-RateLimit-Limit", "300")
                self.send_header("X-RateLimit-Remaining", "299")
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                try:
                    self.end_headers()
                    if getattr(self, "_cut", False):
                        self.wfile.write(data[: len(data) // 2])
                        self.wfile.flush()
                        return self._reset()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up first (a "delay" past its timeout)

            def _reset(self) -> None:
                """Drop the connection with a TCP reset, as a crashing proxy or a flaky network does."""
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()

        return Handler


def serve_in_subprocess() -> None:
    """`python -m tests.peers.mastodon_feed N`: run a feed in its own process and print its URL."""
    import sys

    server = FeedServer(int(sys.argv[1])).start()
    print(server.url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    serve_in_subprocess()
