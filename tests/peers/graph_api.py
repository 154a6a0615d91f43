"""A Graph API emulator on 127.0.0.1: one Facebook Page with its Instagram account, written from Meta's reference.

It serves what Parley reads and writes: the Page and Instagram user nodes, /{page}/conversations
(platform=messenger|instagram, nested messages, cursor paging), /{conversation}/messages,
/{page}/published_posts, /{post}/comments (filter=stream gives every level with `parent`),
/{comment}/comments, /{ig-user}/media, /{media}/comments (nested replies), /{ig-comment}/replies, and
the Send API (/{page}/messages with the 24-hour rule and private replies). Errors use Graph's body
shape {"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}.

Tests seed it through methods (a person writes, comments, replies), count what was created through
`posted`, and script faults: any status, body and headers for the next N matching requests, or a POST
that is stored but answered only after the client gave up.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.peers.json_server import LoopbackServer, QuietHandler

VERSION = "v21.0"


def graph_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def graph_error(message: str, code: int, *, subcode: int | None = None, kind: str = "OAuthException") -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEfGh"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


@dataclass
class Fault:
    method: str
    pattern: str
    status: int
    body: Any
    headers: dict[str, str]
    times: int


@dataclass
class Person:
    id: str
    name: str
    username: str = ""

    def as_from(self) -> dict[str, str]:
        return {"id": self.id, "username": self.username} if self.username else {"id": self.id, "name": self.name}


@dataclass
class Conversation:
    id: str
    platform: str
    person: Person
    messages: list[dict[str, Any]] = field(default_factory=list)  # oldest first


class GraphApi(LoopbackServer):
    """The emulator; `url` is the Graph base (with the version) a connector's account points at."""

    def __init__(self, *, page_id: str = "1000001", token: str = "page-token-1", ig_id: str = "1784000001") -> None:
        self.page = Person(page_id, "Acme Outdoor")
        self.ig = Person(ig_id, "Acme", username="acme.outdoor")
        self.token = token
        self.now = lambda: datetime.now(UTC)
        self.conversations: dict[str, Conversation] = {}
        self.posts: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.ig_comments: dict[str, dict[str, Any]] = {}
        self.posted: list[tuple[str, dict[str, Any]]] = []
        self.requests: list[tuple[str, str]] = []
        self.faults: list[Fault] = []
        self.hold_posts = 0  # POSTs to store but answer only once `release` is set (the client times out first)
        self.release = threading.Event()
        self._ids = itertools.count(5000)
        self._lock = threading.RLock()
        self.root = self._listen(self._handler(), "graph-api")
        self.url = f"{self.root}/{VERSION}"

    def stop(self) -> None:
        self.release.set()
        super().stop()

    # -- seeding --------------------------------------------------------------------------------------

    def new_id(self) -> str:
        return str(next(self._ids))

    def person(self, name: str, *, instagram: bool = False) -> Person:
        pid = self.new_id() + ("7" if instagram else "3")
        return Person(pid, name, username=name.lower().replace(" ", "_") if instagram else "")

    def message_from(
        self, person: Person, text: str, *, platform: str = "messenger", at: datetime | None = None
    ) -> dict[str, Any]:
        """The person writes to the Page (or its Instagram account); the conversation is made on first contact."""
        with self._lock:
            conversation = next(
                (c for c in self.conversations.values() if c.person.id == person.id and c.platform == platform), None
            )
            if conversation is None:
                conversation = Conversation("t_" + self.new_id(), platform, person)
                self.conversations[conversation.id] = conversation
            business = self.ig if platform == "instagram" else self.page
            return self._add_message(conversation, person, business, text, at)

    def _add_message(
        self, conversation: Conversation, sender: Person, to: Person, text: str, at: datetime | None
    ) -> dict[str, Any]:
        message = {
            "id": "m_" + self.new_id(),
            "from": sender.as_from(),
            "to": {"data": [to.as_from()]},
            "message": text,
            "created_time": graph_time(at or self.now()),
        }
        conversation.messages.append(message)
        return message

    def post(self, text: str, *, at: datetime | None = None) -> dict[str, Any]:
        with self._lock:
            post_id = f"{self.page.id}_{self.new_id()}"
            moment = graph_time(at or self.now())
            self.posts[post_id] = {"id": post_id, "message": text, "created_time": moment, "updated_time": moment}
            return self.posts[post_id]

    def comment(self, post_id: str, author: Person, text: str, *, parent: str | None = None,
                at: datetime | None = None) -> dict[str, Any]:  # fmt: skip
        """A comment on a post, or (parent) a reply; Facebook keeps threads two levels deep."""
        with self._lock:
            top = parent
            while top is not None and self.comments[top].get("parent"):
                top = self.comments[top]["parent"]["id"]
            comment_id = f"{post_id.split('_')[-1]}_{self.new_id()}"
            moment = graph_time(at or self.now())
            comment: dict[str, Any] = {"id": comment_id, "from": author.as_from(), "message": text,
                                       "created_time": moment, "_post": post_id}  # fmt: skip
            if top is not None:
                comment["parent"] = {"id": top}
            self.comments[comment_id] = comment
            self.posts[post_id]["updated_time"] = max(self.posts[post_id]["updated_time"], moment)
            return comment

    def media_item(self, caption: str, *, at: datetime | None = None) -> dict[str, Any]:
        with self._lock:
            media_id = "179" + self.new_id()
            self.media[media_id] = {"id": media_id, "caption": caption, "timestamp": graph_time(at or self.now())}
            return self.media[media_id]

    def ig_comment(self, media_id: str, author: Person, text: str, *, parent: str | None = None,
                   at: datetime | None = None) -> dict[str, Any]:  # fmt: skip
        with self._lock:
            comment_id = "178" + self.new_id()
            comment: dict[str, Any] = {
                "id": comment_id,
                "text": text,
                "timestamp": graph_time(at or self.now()),
                "username": author.username,
                "from": author.as_from(),
                "_media": media_id,
            }
            if parent is not None:
                comment["parent_id"] = parent
            self.ig_comments[comment_id] = comment
            return comment

    def fail(self, pattern: str, *, status: int = 400, body: Any = None, headers: dict[str, str] | None = None,
             times: int = 1, method: str = "GET") -> None:  # fmt: skip
        """The next `times` requests whose path matches `pattern` get this answer instead."""
        with self._lock:
            self.faults.append(Fault(method, pattern, status, body, headers or {}, times))

    def posted_to(self, path: str) -> list[dict[str, Any]]:
        return [body for where, body in self.posted if where == path]

    # -- answering --------------------------------------------------------------------------------------

    def answer(
        self, method: str, path: str, query: dict[str, str], body: dict[str, Any], auth: str
    ) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            self.requests.append((method, path))
            for fault in self.faults:
                if fault.times > 0 and fault.method == method and re.search(fault.pattern, path):
                    fault.times -= 1
                    return fault.status, fault.body, fault.headers
            token = auth.removeprefix("Bearer ").strip() if auth else query.get("access_token", "")
            if token != self.token:
                return 400, graph_error("Invalid OAuth access token - Cannot parse access token", 190), {}
            parts = path.strip("/").split("/")
            if not parts or parts[0] != VERSION:
                return 400, graph_error("Unknown path components", 2500), {}
            parts = parts[1:]
            try:
                return (200, *self._route(method, parts, query, body))
            except LookupError:
                return 400, graph_error("Unsupported get request. Object does not exist", 100, subcode=33,
                                        kind="GraphMethodException"), {}  # fmt: skip
            except _GraphError as exc:
                return exc.status, exc.body, {}

    def _route(
        self, method: str, parts: list[str], query: dict[str, str], body: dict[str, Any]
    ) -> tuple[Any, dict[str, str]]:
        node, edge = parts[0], (parts[1] if len(parts) > 1 else "")
        if method == "POST":
            return self._create(node, edge, body), {}
        if not edge:
            return self._node(node), {}
        if node == self.page.id and edge == "conversations":
            return self._conversation_list(query), {}
        if node in self.conversations and edge == "messages":
            return _paged(list(reversed(self.conversations[node].messages)), query), {}
        if node == self.page.id and edge == "published_posts":
            posts = sorted(self.posts.values(), key=lambda p: p["updated_time"], reverse=True)
            return _paged([_public(p) for p in posts], query), {}
        if node in self.posts and edge == "comments":
            found = [c for c in self.comments.values() if c["_post"] == node]
            if query.get("filter") != "stream":
                found = [c for c in found if "parent" not in c]
            found.sort(key=lambda c: c["created_time"], reverse=query.get("order") == "reverse_chronological")
            return _paged([_public(c) for c in found], query), {}
        if node in self.comments and edge == "comments":
            found = [c for c in self.comments.values() if c.get("parent", {}).get("id") == node]
            return _paged([_public(c) for c in found], query), {}
        if node == self.ig.id and edge == "media":
            media = sorted(self.media.values(), key=lambda m: m["timestamp"], reverse=True)
            return _paged([{**m, "comments_count": self._ig_count(m["id"])} for m in media], query), {}
        if node in self.media and edge == "comments":
            tops = [c for c in self.ig_comments.values() if c["_media"] == node and "parent_id" not in c]
            return _paged([{**_public(c), "replies": {"data": self._ig_replies(c["id"])}} for c in tops], query), {}
        if node in self.ig_comments and edge == "replies":
            return _paged(self._ig_replies(node), query), {}
        raise LookupError(node)

    def _node(self, node: str) -> Any:
        if node == self.page.id:
            return {"id": self.page.id, "name": self.page.name, "instagram_business_account": {"id": self.ig.id}}
        if node == self.ig.id:
            return {"id": self.ig.id, "username": self.ig.username, "name": self.ig.name}
        if node in self.conversations:
            conversation = self.conversations[node]
            business = self.ig if conversation.platform == "instagram" else self.page
            return {
                "id": node,
                "participants": {"data": [conversation.person.as_from(), business.as_from()]},
                "messages": _paged(list(reversed(conversation.messages)), {}),
            }
        raise LookupError(node)

    def _conversation_list(self, query: dict[str, str]) -> Any:
        platform = query.get("platform", "messenger")
        chosen = [c for c in self.conversations.values() if c.platform == platform and c.messages]
        chosen.sort(key=lambda c: c.messages[-1]["created_time"], reverse=True)
        business = {"instagram": self.ig}.get(platform, self.page)
        items = [
            {
                "id": c.id,
                "updated_time": c.messages[-1]["created_time"],
                "participants": {"data": [c.person.as_from(), business.as_from()]},
                "messages": _paged(list(reversed(c.messages)), {}),
            }
            for c in chosen
        ]
        return _paged(items, query)

    def _ig_replies(self, comment_id: str) -> list[dict[str, Any]]:
        return [_public(c) for c in self.ig_comments.values() if c.get("parent_id") == comment_id]

    def _ig_count(self, media_id: str) -> int:
        return sum(1 for c in self.ig_comments.values() if c["_media"] == media_id)

    def _create(self, node: str, edge: str, body: dict[str, Any]) -> Any:
        if node == self.page.id and edge == "messages":
            return self._send(body)
        text = body.get("message")
        if not isinstance(text, str) or not text:
            raise _GraphError(400, graph_error("(#100) The parameter message is required", 100))
        if node in self.comments and edge == "comments":
            created = self.comment(self.comments[node]["_post"], self.page, text, parent=node)
            self.posted.append((f"/{node}/comments", body))
            return {"id": created["id"]}
        if node in self.ig_comments and edge == "replies":
            created = self.ig_comment(self.ig_comments[node]["_media"], self.ig, text, parent=node)
            self.posted.append((f"/{node}/replies", body))
            return {"id": created["id"]}
        raise LookupError(node)

    def _send(self, body: dict[str, Any]) -> Any:
        recipient, message = body.get("recipient") or {}, body.get("message") or {}
        text = message.get("text") if isinstance(message, dict) else None
        if not isinstance(text, str) or not text:
            raise _GraphError(400, graph_error("(#100) The parameter message is required", 100))
        if "comment_id" in recipient:
            comment = self.comments.get(recipient["comment_id"]) or self.ig_comments.get(recipient["comment_id"])
            if comment is None:
                raise LookupError(recipient["comment_id"])
            if any(b.get("recipient") == recipient for _, b in self.posted):
                raise _GraphError(400, graph_error("(#10900) Activity already replied to", 10900))
            author = comment["from"]
            person = Person(author["id"], author.get("name", ""), author.get("username", ""))
            platform = "instagram" if recipient["comment_id"] in self.ig_comments else "messenger"
            conversation = Conversation("t_" + self.new_id(), platform, person)
            self.conversations[conversation.id] = conversation
        else:
            conversation = next((c for c in self.conversations.values() if c.person.id == recipient.get("id")), None)
            if conversation is None:
                raise _GraphError(400, graph_error("(#100) No matching user found", 100, subcode=2018001))
            self._check_window(conversation, body)
        business = self.ig if conversation.platform == "instagram" else self.page
        sent = self._add_message(conversation, business, conversation.person, text, None)
        self.posted.append((f"/{self.page.id}/messages", body))
        return {"recipient_id": conversation.person.id, "message_id": sent["id"]}

    def _check_window(self, conversation: Conversation, body: dict[str, Any]) -> None:
        inbound = [m for m in conversation.messages if m["from"]["id"] == conversation.person.id]
        last = datetime.fromisoformat(inbound[-1]["created_time"]) if inbound else None
        allowed = timedelta(days=7) if body.get("tag") == "HUMAN_AGENT" else timedelta(hours=24)
        if body.get("messaging_type") not in ("RESPONSE", "MESSAGE_TAG", "UPDATE"):
            raise _GraphError(400, graph_error("(#100) Param messaging_type is invalid", 100))
        if last is None or self.now() - last > allowed:
            raise _GraphError(400, graph_error(
                "(#10) This message is sent outside of allowed window.", 10, subcode=2018278
            ))  # fmt: skip

    # -- HTTP -------------------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parsed = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
                body = _body(raw, self.headers.get("Content-Type", ""))
                status, payload, headers = api.answer(
                    method, parsed.path, query, body, self.headers.get("Authorization", "")
                )
                if method == "POST" and status == 200 and api.hold_posts > 0:
                    api.hold_posts -= 1
                    api.release.wait(timeout=10)  # stored already: the client gives up before this answer
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=UTF-8")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    return  # the client left (a timed-out send)

        return Handler


class _GraphError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status, self.body = status, body


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if not key.startswith("_")}


def _paged(items: list[Any], query: dict[str, str]) -> dict[str, Any]:
    """Graph's cursor paging: `after` is opaque, `next` is left out on the last page."""
    limit = int(query.get("limit") or 25)
    start = int(base64.b64decode(query["after"]).decode()) if query.get("after") else 0
    chunk = items[start : start + limit]
    result: dict[str, Any] = {"data": chunk}
    if chunk:
        after = base64.b64encode(str(start + len(chunk)).encode()).decode()
        result["paging"] = {"cursors": {"before": base64.b64encode(str(start).encode()).decode(), "after": after}}
        if start + len(chunk) < len(items):
            result["paging"]["next"] = f"https://graph.facebook.com/{VERSION}/next?after={after}"
    return result


def _body(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if "json" in content_type:
        value = json.loads(raw)
        return value if isinstance(value, dict) else {}
    return {k: v[0] for k, v in parse_qs(raw.decode()).items()}
