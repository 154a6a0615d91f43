"""An emulator of the Reddit OAuth API endpoints Parley uses, written from Reddit's API documentation, on 127.0.0.1.

Posts (t3), comments (t1) and private messages (t4) live in memory with base-36 ids and fullnames; the inbox
of a user is computed as Reddit does (replies to their comments and posts, username mentions, messages to
them), newest first in ``Listing`` pages with ``after``. Modmail conversations follow the new-modmail shape
(``conversations`` + ``messages`` + ``conversationIds``). Every answer carries ``x-ratelimit-used/remaining/
reset`` (reset in seconds). OAuth: ``/api/v1/access_token`` with HTTP Basic client authentication.
"""

from __future__ import annotations

import base64
import secrets
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from tests.peers.api_emulator import Answer, ApiEmulator, Call

UNAUTHORIZED = {"message": "Unauthorized", "error": 401}


class RedditApi(ApiEmulator):
    routes = [
        ("POST", r"/api/v1/access_token", "access_token"),
        ("GET", r"/api/v1/me", "me"),
        ("POST", r"/api/v1/revoke_token", "revoke_token"),
        ("GET", r"/api/v1/authorize", "authorize_page"),
        ("GET", r"/message/inbox", "inbox"),
        ("GET", r"/message/sent", "sent"),
        ("GET", r"/user/([\w-]+)/comments", "user_comments"),
        ("GET", r"/api/info", "info"),
        ("POST", r"/api/comment", "post_comment"),
        ("GET", r"/api/mod/conversations", "modmail_list"),
        ("GET", r"/api/mod/conversations/(\w+)", "modmail_get"),
        ("POST", r"/api/mod/conversations/(\w+)", "modmail_reply"),
    ]

    def __init__(self, *, client_id: str = "parley-installed-app", client_secret: str = "") -> None:
        self.client_id = client_id
        self.client_secret = client_secret  # "": an installed app (Basic auth with an empty password)
        self.users: dict[str, dict[str, str]] = {}
        self.tokens: dict[str, str] = {}  # access token -> user name
        self.refresh_tokens: dict[str, str] = {}
        self.things: list[dict[str, Any]] = []  # {"kind": ..., "data": {...}}
        self.conversations: dict[str, dict[str, Any]] = {}
        self.modmail_messages: dict[str, dict[str, Any]] = {}
        self.moderators: set[str] = set()
        self.codes: dict[str, str] = {}
        self.used = 0
        self._counter = 36**5
        super().__init__()

    # -- state a test sets up --------------------------------------------------------------------

    def add_user(self, name: str) -> dict[str, Any]:
        with self.lock:
            user = {"id": self._next_id(), "name": name}
            self.users[name] = user
            token, refresh = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
            self.tokens[token], self.refresh_tokens[refresh] = name, name
            return {**user, "access_token": token, "refresh_token": refresh}

    def post(self, author: dict[str, Any], title: str) -> dict[str, Any]:
        with self.lock:
            return self._store("t3", author["name"], {"title": title, "selftext": "", "parent_id": None})

    def comment(self, author: dict[str, Any], parent: str, body: str) -> dict[str, Any]:
        with self.lock:
            return self._store_comment(author["name"], parent, body)

    def message(
        self, author: dict[str, Any], to: dict[str, Any], subject: str, body: str, *, reply_to: str | None = None
    ) -> dict[str, Any]:
        with self.lock:
            return self._store_message(author["name"], to["name"], subject, body, reply_to)

    def modmail(self, user: dict[str, Any], subreddit: str, subject: str, body: str) -> str:
        with self.lock:
            conversation_id = self._next_id()
            self.conversations[conversation_id] = {
                "id": conversation_id,
                "subject": subject,
                "owner": {"displayName": subreddit, "type": "subreddit", "id": "t5_" + self._next_id()},
                "objIds": [],
                "isInternal": False,
                "lastUpdated": "",
                "authors": [],
            }
            self._modmail_message(conversation_id, user["name"], body)
            return conversation_id

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def comments_posted(self) -> list[Call]:
        return self.received("POST", r"/api/comment/?")

    def thing(self, name: str) -> dict[str, Any] | None:
        return next((t["data"] for t in self.things if t["data"].get("name") == name), None)

    # -- plumbing ----------------------------------------------------------------------------------

    def _next_id(self) -> str:
        self._counter += 1
        number, digits = self._counter, ""
        while number:
            number, rest = divmod(number, 36)
            digits = "0123456789abcdefghijklmnopqrstuvwxyz"[rest] + digits
        return digits

    def _now(self) -> float:
        # Strictly increasing times keep "newest first" well defined when a test adds items quickly.
        latest = max((_position(t)[0] for t in self.things), default=0.0)
        return max(float(int(time.time())), latest + 1)

    def _store(self, kind: str, author: str, fields: dict[str, Any]) -> dict[str, Any]:
        item_id = self._next_id()
        created = self._now()
        data = {
            "id": item_id,
            "name": f"{kind}_{item_id}",
            "author": author,
            "author_fullname": "t2_" + self.users[author]["id"] if author in self.users else None,
            "created": created,
            "created_utc": created,
            **fields,
        }
        self.things.append({"kind": kind, "data": data})
        return data

    def _store_comment(self, author: str, parent: str, body: str) -> dict[str, Any]:
        parent_data = self.thing(parent)
        link = parent if parent.startswith("t3_") else (parent_data or {}).get("link_id")
        return self._store(
            "t1",
            author,
            {
                "body": body,
                "body_html": f'<div class="md"><p>{body}</p></div>',
                "parent_id": parent,
                "link_id": link,
                "subreddit": "parleytest",
                "replies": "",
            },
        )

    def _store_message(self, author: str, to: str, subject: str, body: str, reply_to: str | None) -> dict[str, Any]:
        first = None
        if reply_to is not None:
            parent = self.thing(reply_to) or {}
            first = parent.get("first_message_name") or reply_to
        return self._store(
            "t4",
            author,
            {
                "body": body,
                "body_html": f'<div class="md"><p>{body}</p></div>',
                "subject": subject,
                "dest": to,
                "parent_id": reply_to,
                "first_message_name": first,
                "replies": "",
            },
        )

    def _modmail_message(self, conversation_id: str, author: str, body: str) -> dict[str, Any]:
        message_id = self._next_id()
        now = datetime.now(UTC)
        latest = max((m["date"] for m in self.modmail_messages.values()), default="")
        stamp = now.isoformat()
        if stamp <= latest:  # strictly increasing, as above
            stamp = datetime.fromtimestamp(datetime.fromisoformat(latest).timestamp() + 0.001, UTC).isoformat()
        message = {
            "id": message_id,
            "body": f'<div class="md"><p>{body}</p></div>',
            "bodyMarkdown": body,
            "author": {"name": author, "isMod": author in self.moderators, "isAdmin": False, "isOp": False},
            "isInternal": False,
            "date": stamp,
        }
        self.modmail_messages[message_id] = message
        conversation = self.conversations[conversation_id]
        conversation["objIds"].append({"id": message_id, "key": "messages"})
        conversation["lastUpdated"] = stamp
        return message

    def extra_headers(self, call: Call) -> dict[str, str]:
        with self.lock:
            self.used += 1
            return {
                "x-ratelimit-used": str(self.used),
                "x-ratelimit-remaining": f"{max(600 - self.used, 0)}.0",
                "x-ratelimit-reset": "300",
            }

    def _user(self, call: Call) -> str | None:
        scheme, _, token = call.headers.get("Authorization", "").partition(" ")
        return self.tokens.get(token) if scheme.lower() == "bearer" else None

    def _listing(self, call: Call, items: list[dict[str, Any]]) -> Answer:
        items = sorted(items, key=_position, reverse=True)
        start = 0
        if "after" in call.query:
            names = [t["data"].get("name") for t in items]
            start = names.index(call.query["after"]) + 1 if call.query["after"] in names else len(items)
        size = int(call.query.get("limit", "25"))
        chunk = items[start : start + size]
        after = chunk[-1]["data"].get("name") if chunk and start + size < len(items) else None
        body = {"kind": "Listing", "data": {"after": after, "dist": len(chunk), "children": chunk, "before": None}}
        return 200, body, {}

    def inbox_of(self, name: str) -> list[dict[str, Any]]:
        found = []
        for thing in self.things:
            data = thing["data"]
            if data.get("author") == name:
                continue
            if thing["kind"] == "t4" and data.get("dest") == name:
                found.append(thing)
            elif thing["kind"] == "t1":
                parent = self.thing(str(data.get("parent_id"))) or {}
                if parent.get("author") == name:
                    kind = "comment_reply" if str(data["parent_id"]).startswith("t1_") else "post_reply"
                    found.append({"kind": "t1", "data": {**data, "type": kind}})
                elif f"u/{name}".lower() in str(data.get("body")).lower():
                    found.append({"kind": "t1", "data": {**data, "type": "username_mention"}})
        return found

    # -- routes ----------------------------------------------------------------------------------------

    def access_token(self, call: Call) -> Answer:
        scheme, _, encoded = call.headers.get("Authorization", "").partition(" ")
        client, _, secret = base64.b64decode(encoded).decode().partition(":") if scheme == "Basic" else ("", "", "")
        if client != self.client_id or secret != self.client_secret:
            return 401, {"message": "Unauthorized", "error": 401}, {}
        form = call.form
        user = None
        if form.get("grant_type") == "refresh_token":
            user = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
        elif form.get("grant_type") == "authorization_code":
            user = self.codes.pop(form.get("code", ""), None)
        if user is None:
            return 200, {"error": "invalid_grant"}, {}  # Reddit answers a bad grant with 200 and an error field
        access, refresh = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        self.tokens[access] = self.refresh_tokens[refresh] = user
        body = {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": 86400,
            "refresh_token": refresh,
            "scope": "identity read privatemessages submit history modmail",
        }
        return 200, body, {}

    def authorize_page(self, call: Call) -> Answer:
        """Reddit's consent page, reduced to its outcome: ``login=<name>`` approves as that user and redirects."""
        name = call.query.get("login", "")
        if name not in self.users or call.query.get("client_id") != self.client_id:
            return 400, {"error": "invalid_request"}, {}
        if call.query.get("duration") != "permanent":
            return 400, {"error": "a refresh token needs duration=permanent"}, {}
        code = secrets.token_urlsafe(12)
        self.codes[code] = name
        target = f"{call.query['redirect_uri']}?{urlencode({'state': call.query.get('state', ''), 'code': code})}"
        return 302, b"", {"Location": target}

    def revoke_token(self, call: Call) -> Answer:
        token = call.form.get("token", "")
        user = self.refresh_tokens.pop(token, None) or self.tokens.pop(token, None)
        if user is not None and call.form.get("token_type_hint") == "refresh_token":
            self.tokens = {t: u for t, u in self.tokens.items() if u != user}  # its access tokens end with it
        return 204, b"", {}

    def me(self, call: Call) -> Answer:
        user = self._user(call)
        return (200, dict(self.users[user]), {}) if user else (401, UNAUTHORIZED, {})

    def inbox(self, call: Call) -> Answer:
        user = self._user(call)
        return self._listing(call, self.inbox_of(user)) if user else (401, UNAUTHORIZED, {})

    def sent(self, call: Call) -> Answer:
        user = self._user(call)
        if not user:
            return 401, UNAUTHORIZED, {}
        return self._listing(call, [t for t in self.things if t["kind"] == "t4" and t["data"]["author"] == user])

    def user_comments(self, call: Call) -> Answer:
        if not self._user(call):
            return 401, UNAUTHORIZED, {}
        name = call.match[1]  # type: ignore[index]
        return self._listing(call, [t for t in self.things if t["kind"] == "t1" and t["data"]["author"] == name])

    def info(self, call: Call) -> Answer:
        if not self._user(call):
            return 401, UNAUTHORIZED, {}
        wanted = set(call.query.get("id", "").split(","))
        return self._listing(call, [t for t in self.things if t["data"].get("name") in wanted])

    def post_comment(self, call: Call) -> Answer:
        user = self._user(call)
        if not user:
            return 401, UNAUTHORIZED, {}
        form = call.form
        parent = self.thing(form.get("thing_id", ""))
        if parent is None:
            return 200, {"json": {"errors": [["DELETED_COMMENT", "that comment has been deleted", "parent"]]}}, {}
        if len(form.get("text", "")) > 10000:
            return 200, {"json": {"errors": [["TOO_LONG", "this is too long (max: 10000)", "text"]]}}, {}
        if form["thing_id"].startswith("t4_"):
            other = parent["author"] if parent["author"] != user else parent["dest"]
            data = self._store_message(user, other, "re: " + str(parent.get("subject")), form["text"], form["thing_id"])
            kind = "t4"
        else:
            data = self._store_comment(user, form["thing_id"], form["text"])
            kind = "t1"
        return 200, {"json": {"errors": [], "data": {"things": [{"kind": kind, "data": data}]}}}, {}

    def _modmail_body(self, ids: list[str]) -> dict[str, Any]:
        messages = {}
        for conversation_id in ids:
            for ref in self.conversations[conversation_id]["objIds"]:
                messages[ref["id"]] = self.modmail_messages[ref["id"]]
        return {"conversations": {i: self.conversations[i] for i in ids}, "messages": messages, "conversationIds": ids}

    def modmail_list(self, call: Call) -> Answer:
        user = self._user(call)
        if not user:
            return 401, UNAUTHORIZED, {}
        if user not in self.moderators:
            return 403, {"message": "Forbidden", "error": 403}, {}
        ordered = sorted(self.conversations, key=lambda i: self.conversations[i]["lastUpdated"], reverse=True)
        if "after" in call.query and call.query["after"] in ordered:
            ordered = ordered[ordered.index(call.query["after"]) + 1 :]
        return 200, self._modmail_body(ordered[: int(call.query.get("limit", "25"))]), {}

    def modmail_get(self, call: Call) -> Answer:
        user = self._user(call)
        if not user or user not in self.moderators:
            return (401, UNAUTHORIZED, {}) if not user else (403, {"message": "Forbidden"}, {})
        conversation_id = call.match[1]  # type: ignore[index]
        if conversation_id not in self.conversations:
            return 404, {"message": "Not Found", "error": 404}, {}
        body = self._modmail_body([conversation_id])
        return (
            200,
            {"conversation": self.conversations[conversation_id], "messages": body["messages"], "modActions": {}},
            {},
        )

    def modmail_reply(self, call: Call) -> Answer:
        user = self._user(call)
        if not user or user not in self.moderators:
            return (401, UNAUTHORIZED, {}) if not user else (403, {"message": "Forbidden"}, {})
        conversation_id = call.match[1]  # type: ignore[index]
        if conversation_id not in self.conversations:
            return 404, {"message": "Not Found", "error": 404}, {}
        self._modmail_message(conversation_id, user, call.form.get("body", ""))
        return self.modmail_get(call)


def _position(thing: dict[str, Any]) -> tuple[float, str]:
    """Newest-first order; a test may have broken created_utc or name on purpose."""
    created, name = thing["data"].get("created_utc"), thing["data"].get("name")
    return (float(created) if isinstance(created, int | float) else 0.0, str(name or ""))
