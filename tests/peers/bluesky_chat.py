"""An emulator of Bluesky's chat service (chat.bsky.convo.*) on 127.0.0.1, written from the lexicons.

Bluesky's chat service is not open source, so it cannot run here; this speaks its documented XRPC
methods (listConvos, getConvo, getConvoForMembers, getLog, getMessages, sendMessage) with the same
shapes: convoView, messageView, logCreateMessage/logBeginConvo entries ordered by `rev`, cursors, and
XRPC error bodies. It insists on the `atproto-proxy` header a PDS needs to route chat calls.

Callers are told apart by their bearer JWT: the `iss` of a PDS's service-auth token (a call the PDS
proxied), else the `sub` of a session token (a direct call). Signatures are not checked.
`hold_next_send()` stores the next message and then keeps its answer back until released: a send
whose answer is lost after the service stored it.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.peers.json_server import LoopbackServer

SERVICE_DID = "did:web:api.bsky.chat"
PROXY = f"{SERVICE_DID}#bsky_chat"
NS = "chat.bsky.convo.defs"
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def make_jwt(did: str) -> str:
    """An unsigned token naming `did`, for tests that talk to the emulator without a PDS."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({'sub': did, 'scope': 'com.atproto.appPassPrivileged'})}.sig"


def _claims(authorization: str) -> dict[str, Any]:
    token = authorization.removeprefix("Bearer ").strip()
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _caller(claims: dict[str, Any]) -> str:
    """A PDS's service-auth token names the user in `iss`; a session token in `sub`."""
    who = claims.get("iss") if claims.get("aud") == SERVICE_DID else claims.get("sub")
    return who.split("#")[0] if isinstance(who, str) else ""


@dataclass
class Convo:
    id: str
    members: list[str]
    rev: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)


class ChatEmulator(LoopbackServer):
    def __init__(self) -> None:
        self.profiles: dict[str, dict[str, Any]] = {}
        self.allow_incoming: dict[str, str] = {}
        self.convos: dict[str, Convo] = {}
        self.log: list[tuple[str, list[str], dict[str, Any]]] = []  # (rev, who sees it, entry)
        self.requests: list[tuple[str, str]] = []  # (method, nsid)
        self.sends = 0
        self._counter = 0
        self._lock = threading.Lock()
        self._hold = False
        self._log_failures = 0
        self.held = threading.Event()
        self.release = threading.Event()
        self.url = self._listen(self._handler(), "bsky-chat")

    def stop(self) -> None:
        self.release.set()
        super().stop()

    # -- what tests set up -------------------------------------------------------------------------

    def add_user(self, did: str, handle: str, display_name: str = "", *, allow_incoming: str = "all") -> None:
        self.profiles[did] = {"did": did, "handle": handle, "displayName": display_name}
        self.allow_incoming[did] = allow_incoming

    def open_convo(self, *members: str) -> str:
        with self._lock:
            return self._open(list(members)).id

    def say(self, convo_id: str, sender: str, text: str, *, sent_at: str = "") -> dict[str, Any]:
        """A member writes a message (as another client would)."""
        with self._lock:
            return self._create(self.convos[convo_id], sender, text, sent_at=sent_at)

    def hold_next_send(self) -> None:
        self._hold = True
        self.held.clear()
        self.release.clear()

    def fail_next_log_reads(self, count: int) -> None:
        """The next `count` getLog calls answer 503 (the service is briefly down)."""
        self._log_failures = count

    def messages_in(self, convo_id: str) -> list[dict[str, Any]]:
        return list(self.convos[convo_id].messages)

    # -- the service -----------------------------------------------------------------------------

    def _next_rev(self) -> str:
        """Revisions are TIDs (13 base32-sortable characters) that grow, so they sort as text."""
        self._counter += 1
        value, chars = (1 << 52) + self._counter, []
        for _ in range(13):
            chars.append(TID_ALPHABET[value & 31])
            value >>= 5
        return "".join(reversed(chars))

    def _open(self, members: list[str]) -> Convo:
        for convo in self.convos.values():
            if sorted(convo.members) == sorted(members):
                return convo
        convo = Convo(id=f"convo{len(self.convos) + 1}", members=members)
        self.convos[convo.id] = convo
        rev = self._next_rev()
        convo.rev = rev
        self.log.append((rev, members, {"$type": f"{NS}#logBeginConvo", "rev": rev, "convoId": convo.id}))
        return convo

    def _create(self, convo: Convo, sender: str, text: str, *, sent_at: str = "") -> dict[str, Any]:
        rev = self._next_rev()
        stamp = sent_at or datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        message = {
            "$type": f"{NS}#messageView",
            "id": f"msg{rev}",
            "rev": rev,
            "text": text,
            "sender": {"did": sender},
            "sentAt": stamp,
        }
        convo.messages.append(message)
        convo.rev = rev
        entry = {"$type": f"{NS}#logCreateMessage", "rev": rev, "convoId": convo.id, "message": message}
        self.log.append((rev, list(convo.members), entry))
        return message

    def _view(self, convo: Convo, me: str) -> dict[str, Any]:
        return {
            "id": convo.id,
            "rev": convo.rev,
            "members": [self.profiles.get(m, {"did": m, "handle": "handle.invalid"}) for m in convo.members],
            "lastMessage": convo.messages[-1] if convo.messages else None,
            "muted": False,
            "unreadCount": sum(1 for m in convo.messages if m["sender"]["did"] != me),
        }

    def handle(self, method: str, nsid: str, query: dict[str, list[str]], body: Any, me: str) -> tuple[int, Any]:
        one = {k: v[0] for k, v in query.items()}
        with self._lock:
            if nsid == "chat.bsky.convo.listConvos" and method == "GET":
                mine = [c for c in self.convos.values() if me in c.members]
                return 200, {"convos": [self._view(c, me) for c in mine]}
            if nsid in ("chat.bsky.convo.getConvo", "chat.bsky.convo.getMessages") and method == "GET":
                convo = self.convos.get(one.get("convoId", ""))
                if convo is None or me not in convo.members:
                    return 400, {"error": "InvalidRequest", "message": "Convo not found"}
                if nsid.endswith("getConvo"):
                    return 200, {"convo": self._view(convo, me)}
                limit = int(one.get("limit", "50"))
                return 200, {"messages": list(reversed(convo.messages))[:limit]}
            if nsid == "chat.bsky.convo.getConvoForMembers" and method == "GET":
                members = sorted(set(query.get("members", [])) | {me})
                refused = [m for m in members if m != me and self.allow_incoming.get(m, "all") == "none"]
                if refused:
                    return 400, {"error": "InvalidRequest", "message": "recipient has disabled incoming messages"}
                return 200, {"convo": self._view(self._open(members), me)}
            if nsid == "chat.bsky.convo.getLog" and method == "GET":
                cursor = one.get("cursor")
                if cursor is None:  # no cursor: the log from now on (clients start from the zero TID)
                    latest = max((rev for rev, who, _ in self.log if me in who), default=None)
                    return 200, {"cursor": latest, "logs": []}
                entries = [(rev, e) for rev, who, e in self.log if me in who and rev > cursor][:50]
                return 200, {"cursor": entries[-1][0] if entries else cursor, "logs": [e for _, e in entries]}
            if nsid == "chat.bsky.convo.sendMessage" and method == "POST":
                convo = self.convos.get(str(body.get("convoId", ""))) if isinstance(body, dict) else None
                text = body.get("message", {}).get("text") if isinstance(body, dict) else None
                if convo is None or me not in convo.members:
                    return 400, {"error": "InvalidRequest", "message": "Convo not found"}
                if not isinstance(text, str) or not text:
                    return 400, {"error": "InvalidRequest", "message": "Input/message/text must be a string"}
                others = [m for m in convo.members if m != me]
                if any(self.allow_incoming.get(m, "all") == "none" for m in others):
                    return 400, {"error": "InvalidRequest", "message": "recipient has disabled incoming messages"}
                self.sends += 1
                return 200, self._create(convo, me, text)
        return 501, {"error": "MethodNotImplemented", "message": f"{nsid} is not emulated"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                pass

            def _serve(self, method: str) -> None:
                parts = urlparse(self.path)
                nsid = parts.path.removeprefix("/xrpc/")
                emulator.requests.append((method, nsid))
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                claims = _claims(self.headers.get("Authorization", ""))
                me = _caller(claims)
                # Through a PDS, the PDS resolved the atproto-proxy header itself and sends its service-auth
                # token (aud = the chat service); a direct call must still name the service.
                proxied = claims.get("aud") == SERVICE_DID
                if nsid.endswith("getLog") and emulator._log_failures > 0:
                    emulator._log_failures -= 1
                    status, answer = 503, {"error": "InternalServerError", "message": "Service Unavailable"}
                elif not proxied and self.headers.get("atproto-proxy") != PROXY:
                    status, answer = 400, {"error": "InvalidRequest", "message": "missing or wrong atproto-proxy"}
                elif not me:
                    status, answer = 401, {"error": "AuthMissing", "message": "Authentication Required"}
                else:
                    try:
                        body = json.loads(raw) if raw else None
                    except ValueError:
                        body = None
                    status, answer = emulator.handle(method, nsid, parse_qs(parts.query), body, me)
                    if status == 200 and nsid.endswith("sendMessage") and emulator._hold:
                        emulator._hold = False
                        emulator.held.set()
                        emulator.release.wait(30)  # stored; the answer comes too late for the client
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("ratelimit-limit", "3000")
                    self.send_header("ratelimit-remaining", "2999")
                    if status == 503:
                        self.send_header("Retry-After", "0")
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self._serve("POST")

        return Handler
