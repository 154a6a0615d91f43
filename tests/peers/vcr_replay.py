"""A 127.0.0.1 HTTP server that answers requests with interactions recorded in VCR cassettes.

Matching follows VCR's playback: method, path and query, each recorded answer played once, in order.
Two leniencies, both because our clients ask a little differently from the library that recorded:
a trailing slash on the path is ignored, and the request may carry query parameters the recording
lacks (paging parameters such as ``limit``); among candidates the one matching the most recorded
parameters wins. A request nothing matches gets HTTP 501 naming the request, so a test fails clearly.
"""

from __future__ import annotations

import base64
import gzip
import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

# Hop-by-hop or length headers: the replay computes its own.
_SKIPPED_HEADERS = {"content-length", "transfer-encoding", "connection", "content-encoding", "keep-alive"}


@dataclass(frozen=True)
class Interaction:
    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    request_body: str | None = None

    def json(self) -> Any:
        return json.loads(self.body)

    def at(self, method: str, path: str, query: dict[str, list[str]] | None = None) -> Interaction:
        """This recorded answer served for another request (the test must say why that is faithful)."""
        return replace(self, method=method, path=path, query=query or {})


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: str

    @property
    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body, keep_blank_values=True)


def load_cassette(path: Path) -> list[Interaction]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    interactions = []
    for item in data["interactions"]:
        recorded_request, response = item["request"], item["response"]
        body = response["body"].get("string", "")
        if isinstance(body, bytes) and body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)  # tweepy's cassettes keep gzip bodies; the replay serves them plain
        body = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        interactions.append(_interaction(recorded_request, response, body, recorded_request.get("body")))
    return interactions


def load_betamax(path: Path) -> list[Interaction]:
    """A Betamax cassette (JSON; PRAW records with it): the same interactions as `load_cassette` gives."""
    data = json.loads(path.read_text(encoding="utf-8"))
    interactions = []
    for item in data["interactions"]:
        recorded_request, response = item["request"], item["response"]
        body_record = response.get("body", {})
        if "base64_string" in body_record:
            body = base64.b64decode(body_record["base64_string"])
            body = gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body
        else:
            body = str(body_record.get("string", "")).encode("utf-8")
        interactions.append(_interaction(recorded_request, response, body, _request_body(recorded_request.get("body"))))
    return interactions


def _interaction(recorded_request: Any, response: Any, body: bytes, request_body: str | None) -> Interaction:
    """One recorded exchange, the body already decoded by the cassette format's own rules."""
    url = urlsplit(recorded_request["uri"])
    headers = tuple(
        (name, str(value))
        for name, values in response.get("headers", {}).items()
        if name.lower() not in _SKIPPED_HEADERS
        for value in (values if isinstance(values, list) else [values])
    )
    return Interaction(
        method=recorded_request["method"].upper(),
        path=url.path,
        query=parse_qs(url.query, keep_blank_values=True),
        status=int(response["status"]["code"]),
        headers=headers,
        body=body,
        request_body=request_body,
    )


def _request_body(recorded: Any) -> str | None:
    # Betamax keeps {"string": ...}; PRAW's cassettes keep the bare string.
    return recorded.get("string") if isinstance(recorded, dict) else recorded


def json_answer(method: str, path: str, query: dict[str, list[str]], payload: Any) -> Interaction:
    """A hand-written answer (e.g. the empty list a server gives past its newest item); tests say so."""
    return Interaction(
        method=method,
        path=path,
        query=query,
        status=200,
        headers=(("content-type", "application/json; charset=utf-8"),),
        body=json.dumps(payload).encode(),
    )


@dataclass
class _Script:
    interactions: list[Interaction]
    played: set[int] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, method: str, path: str, query: dict[str, list[str]]) -> Interaction | None:
        with self.lock:
            best: tuple[int, int] | None = None
            for index, candidate in enumerate(self.interactions):
                if index in self.played or candidate.method != method:
                    continue
                if candidate.path.rstrip("/") != path.rstrip("/"):
                    continue
                if any(query.get(name) != values for name, values in candidate.query.items()):
                    continue
                if best is None or len(candidate.query) > best[0]:
                    best = (len(candidate.query), index)
            if best is None:
                return None
            self.played.add(best[1])
            return self.interactions[best[1]]


class ReplayServer:
    """Serves `interactions` on 127.0.0.1 until closed; `received` lists what clients asked."""

    def __init__(self, interactions: list[Interaction]) -> None:
        self._script = _Script(list(interactions))
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.script = self._script  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="vcr-replay", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def received(self) -> list[Received]:
        return list(self._script.received)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ReplayServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


class _Handler(http.server.BaseHTTPRequestHandler):
    def _serve(self) -> None:
        script: _Script = self.server.script  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        script.received.append(Received(self.command, parts.path, query, dict(self.headers.items()), body))
        found = script.answer(self.command, parts.path, query)
        if found is None:
            found = Interaction(
                method=self.command,
                path=parts.path,
                query=query,
                status=501,
                headers=(("content-type", "application/json"),),
                body=json.dumps({"error": f"no recorded answer for {self.command} {self.path}"}).encode(),
            )
        payload, status, headers = found.body, found.status, found.headers
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815 - http.server's naming

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        pass


def recorded(platform: str) -> Path:
    """The folder of `platform`'s recorded cassettes: beside the checkout, in shared/fixtures/recorded."""
    return Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "recorded" / platform


def skip_unless_present(cassettes: Path, what: str) -> None:
    if not cassettes.is_dir():
        pytest.skip(f"recorded {what} payloads not found at {cassettes} (they live beside the checkout)")


def pick(interactions: list[Interaction], method: str, path: str, nth: int = 0) -> Interaction:
    return [i for i in interactions if i.method == method and i.path.rstrip("/") == path][nth]


@pytest.fixture(name="replay")
def replay_servers() -> Iterator[list[ReplayServer]]:
    """The replay servers a test started with `serve`, closed after it."""
    servers: list[ReplayServer] = []
    yield servers
    for server in servers:
        server.close()


def serve(replay: list[ReplayServer], *interactions: Interaction) -> ReplayServer:
    server = ReplayServer(list(interactions))
    replay.append(server)
    return server
