"""An emulator of the X API v2 endpoints Parley uses, written from X's documentation, on 127.0.0.1.

Users, tweets and DM events live in memory; ids are snowflakes (creation time in the upper bits, as on
X). Lists answer newest first with ``meta.next_token`` paging, ``data`` left out when empty, and
``includes.users`` for the expanded authors; every answer carries ``x-rate-limit-*`` headers (reset in
epoch seconds). OAuth 2.0: PKCE code exchange and refresh tokens that rotate (the old one dies).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from tests.peers.api_emulator import Answer, ApiEmulator, Call

SNOWFLAKE_EPOCH_MS = 1288834974657
UNAUTHORIZED = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}


class XApi(ApiEmulator):
    routes = [
        ("GET", r"/2/users/me", "me"),
        ("GET", r"/2/users/(\d+)/mentions", "mentions"),
        ("GET", r"/2/users/(\d+)/tweets", "user_tweets"),
        ("GET", r"/2/tweets/search/recent", "search"),
        ("GET", r"/2/tweets/(\d+)", "tweet_get"),
        ("POST", r"/2/tweets", "post_tweet"),
        ("GET", r"/2/dm_events", "dm_events"),
        ("GET", r"/2/dm_events/(\d+)", "dm_event"),
        ("GET", r"/2/dm_conversations/([\d-]+)/dm_events", "conversation_events"),
        ("POST", r"/2/dm_conversations/with/(\d+)/messages", "dm_with"),
        ("POST", r"/2/dm_conversations/([\d-]+)/messages", "dm_in"),
        ("POST", r"/2/oauth2/token", "token"),
        ("GET", r"/i/oauth2/authorize", "authorize_page"),
        ("POST", r"/2/oauth2/revoke", "revoke"),
    ]

    def __init__(self, *, client_id: str = "parley-test-client") -> None:
        self.client_id = client_id
        self.users: dict[str, dict[str, str]] = {}
        self.tokens: dict[str, str] = {}  # access token -> user id
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> user id
        self.codes: dict[str, tuple[str, str]] = {}  # code -> (user id, PKCE challenge)
        self.tweets: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.remaining = 300
        self.reset_at = int(time.time()) + 900
        self._last_id = 0
        super().__init__()

    # -- state a test sets up --------------------------------------------------------------------

    def add_user(self, username: str, name: str = "") -> dict[str, Any]:
        with self.lock:
            user = {"id": self._next_id(), "username": username, "name": name or username.title()}
            self.users[user["id"]] = user
            token, refresh = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
            self.tokens[token] = self.refresh_tokens[refresh] = user["id"]
            return {**user, "access_token": token, "refresh_token": refresh}

    def tweet(self, user: dict[str, Any], text: str, *, reply_to: str | None = None) -> dict[str, Any]:
        with self.lock:
            return self._store_tweet(user["id"], text, reply_to)

    def dm(self, sender: dict[str, Any], recipient: dict[str, Any], text: str) -> dict[str, Any]:
        with self.lock:
            return self._store_event(sender["id"], _pair(sender["id"], recipient["id"]), text)

    def authorize(self, user: dict[str, Any], challenge: str) -> str:
        """The code X would redirect with after `user` approved (the browser part of the flow)."""
        code = secrets.token_urlsafe(12)
        self.codes[code] = (user["id"], challenge)
        return code

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def posted_tweets(self) -> list[Call]:
        return self.received("POST", r"/2/tweets/?")

    def posted_dms(self) -> list[Call]:
        return [c for c in self.calls if c.method == "POST" and c.path.startswith("/2/dm_conversations/")]

    # -- plumbing ----------------------------------------------------------------------------------

    def _next_id(self) -> str:
        candidate = (int(time.time() * 1000) - SNOWFLAKE_EPOCH_MS) << 22
        self._last_id = max(candidate, self._last_id + 1)
        return str(self._last_id)

    def _store_tweet(self, author: str, text: str, reply_to: str | None) -> dict[str, Any]:
        tweet_id = self._next_id()
        tweet: dict[str, Any] = {
            "id": tweet_id,
            "text": text,
            "author_id": author,
            "created_at": _now_iso(),
            "conversation_id": tweet_id,
            "edit_history_tweet_ids": [tweet_id],
        }
        if reply_to is not None:
            parent = next(t for t in self.tweets if t["id"] == reply_to)
            tweet["conversation_id"] = parent["conversation_id"]
            tweet["in_reply_to_user_id"] = parent["author_id"]
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": reply_to}]
        self.tweets.append(tweet)
        return tweet

    def _store_event(self, sender: str, conversation: str, text: str) -> dict[str, Any]:
        event = {
            "id": self._next_id(),
            "event_type": "MessageCreate",
            "text": text,
            "sender_id": sender,
            "dm_conversation_id": conversation,
            "created_at": _now_iso(),
        }
        self.events.append(event)
        return event

    def extra_headers(self, call: Call) -> dict[str, str]:
        with self.lock:
            self.remaining = max(self.remaining - 1, 0)
            return {
                "x-rate-limit-limit": "300",
                "x-rate-limit-remaining": str(self.remaining),
                "x-rate-limit-reset": str(self.reset_at),
            }

    def _user(self, call: Call) -> str | None:
        header = call.headers.get("Authorization", "")
        return self.tokens.get(header.removeprefix("Bearer ")) if header.startswith("Bearer ") else None

    def _listing(self, call: Call, items: list[dict[str, Any]], user_field: str) -> Answer:
        items = sorted(items, key=lambda i: _key(i["id"]), reverse=True)
        if "since_id" in call.query:
            items = [i for i in items if _key(i["id"]) > _key(call.query["since_id"])]
        start = int(call.query["pagination_token"].removeprefix("pt")) if "pagination_token" in call.query else 0
        size = int(call.query.get("max_results", "100"))
        chunk = items[start : start + size]
        meta: dict[str, Any] = {"result_count": len(chunk)}
        if chunk:
            meta["newest_id"], meta["oldest_id"] = chunk[0]["id"], chunk[-1]["id"]
        if start + size < len(items):
            meta["next_token"] = f"pt{start + size}"
        body: dict[str, Any] = {"meta": meta}
        if chunk:
            body["data"] = chunk
            authors = {i[user_field] for i in chunk if user_field in i}
            body["includes"] = {"users": [self.users[a] for a in sorted(authors) if a in self.users]}
            if "referenced_tweets.id" in call.query.get("expansions", ""):
                wanted = {r["id"] for i in chunk for r in i.get("referenced_tweets") or [] if isinstance(r, dict)}
                body["includes"]["tweets"] = [t for t in self.tweets if t["id"] in wanted]
        return 200, body, {}

    # -- routes ----------------------------------------------------------------------------------------

    def me(self, call: Call) -> Answer:
        user = self._user(call)
        return (200, {"data": self.users[user]}, {}) if user else (401, UNAUTHORIZED, {})

    def mentions(self, call: Call) -> Answer:
        user = self._user(call)
        if not user:
            return 401, UNAUTHORIZED, {}
        handle = "@" + self.users[call.match[1]]["username"].lower()  # type: ignore[index]
        return self._listing(call, [t for t in self.tweets if handle in str(t.get("text")).lower()], "author_id")

    def user_tweets(self, call: Call) -> Answer:
        if not self._user(call):
            return 401, UNAUTHORIZED, {}
        return self._listing(call, [t for t in self.tweets if t["author_id"] == call.match[1]], "author_id")  # type: ignore[index]

    def search(self, call: Call) -> Answer:
        if not self._user(call):
            return 401, UNAUTHORIZED, {}
        conversation = call.query.get("query", "").removeprefix("conversation_id:")
        return self._listing(call, [t for t in self.tweets if t["conversation_id"] == conversation], "author_id")

    def tweet_lookup(self, tweet_id: str) -> dict[str, Any] | None:
        return next((t for t in self.tweets if t["id"] == tweet_id), None)

    def tweet_get(self, call: Call) -> Answer:
        if not self._user(call):
            return 401, UNAUTHORIZED, {}
        found = self.tweet_lookup(call.match[1])  # type: ignore[index]
        if found is None:
            return 404, {"errors": [{"detail": "Could not find tweet", "title": "Not Found Error"}]}, {}
        return 200, {"data": found}, {}

    def post_tweet(self, call: Call) -> Answer:
        user = self._user(call)
        if not user:
            return 401, UNAUTHORIZED, {}
        body = call.json()
        text = body.get("text", "")
        if len(text) > 280:
            return 400, {"title": "Invalid Request", "detail": "text is too long"}, {}
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if any(t["author_id"] == user and t["text"] == text for t in self.tweets):
            detail = "You are not allowed to create a Tweet with duplicate content."
            return 403, {"title": "Forbidden", "detail": detail, "status": 403}, {}
        tweet = self._store_tweet(user, text, reply_to)
        return 201, {"data": {"id": tweet["id"], "text": text, "edit_history_tweet_ids": [tweet["id"]]}}, {}

    def dm_events(self, call: Call) -> Answer:
        user = self._user(call)
        if not user:
            return 401, UNAUTHORIZED, {}
        mine = [e for e in self.events if user in e["dm_conversation_id"].split("-")]
        return self._listing(call, mine, "sender_id")

    def dm_event(self, call: Call) -> Answer:
        if not self._user(call):
            return 401, UNAUTHORIZED, {}
        found = next((e for e in self.events if e["id"] == call.match[1]), None)  # type: ignore[index]
        return (200, {"data": found}, {}) if found else (404, {"title": "Not Found Error"}, {})

    def conversation_events(self, call: Call) -> Answer:
        if not self._user(call):
            return 401, UNAUTHORIZED, {}
        conversation = call.match[1]  # type: ignore[index]
        return self._listing(call, [e for e in self.events if e["dm_conversation_id"] == conversation], "sender_id")

    def dm_with(self, call: Call) -> Answer:
        user = self._user(call)
        if not user:
            return 401, UNAUTHORIZED, {}
        event = self._store_event(user, _pair(user, call.match[1]), call.json().get("text", ""))  # type: ignore[index]
        return 201, {"data": {"dm_conversation_id": event["dm_conversation_id"], "dm_event_id": event["id"]}}, {}

    def dm_in(self, call: Call) -> Answer:
        user = self._user(call)
        if not user:
            return 401, UNAUTHORIZED, {}
        event = self._store_event(user, call.match[1], call.json().get("text", ""))  # type: ignore[index]
        return 201, {"data": {"dm_conversation_id": event["dm_conversation_id"], "dm_event_id": event["id"]}}, {}

    def token(self, call: Call) -> Answer:
        form = call.form
        if form.get("client_id") != self.client_id:
            return 401, {"error": "invalid_client"}, {}
        if form.get("grant_type") == "refresh_token":
            user = self.refresh_tokens.pop(form.get("refresh_token", ""), None)  # rotation: the old one dies
        elif form.get("grant_type") == "authorization_code":
            user, challenge = self.codes.pop(form.get("code", ""), (None, ""))
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != challenge:
                user = None
        else:
            user = None
        if user is None:
            return 400, {"error": "invalid_request", "error_description": "Value passed for the token was invalid."}, {}
        access, refresh = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        self.tokens[access] = self.refresh_tokens[refresh] = user
        body = {"token_type": "bearer", "expires_in": 7200, "access_token": access, "refresh_token": refresh}
        return 200, body, {}

    def authorize_page(self, call: Call) -> Answer:
        """X's consent page, reduced to its outcome: ``login=<username>`` approves as that user and redirects."""
        user = next((u for u in self.users.values() if u["username"] == call.query.get("login")), None)
        if user is None or call.query.get("client_id") != self.client_id:
            return 400, {"error": "invalid_request"}, {}
        code = self.authorize(user, call.query.get("code_challenge", ""))
        target = f"{call.query['redirect_uri']}?{urlencode({'state': call.query.get('state', ''), 'code': code})}"
        return 302, b"", {"Location": target}

    def revoke(self, call: Call) -> Answer:
        if call.form.get("client_id") != self.client_id:
            return 401, {"error": "invalid_client"}, {}
        token = call.form.get("token", "")
        user = self.refresh_tokens.pop(token, None)
        if user is not None:
            self.tokens = {t: u for t, u in self.tokens.items() if u != user}  # its access tokens end with it
        self.tokens.pop(token, None)
        return 200, {"revoked": True}, {}


def _key(item_id: object) -> tuple[int, str]:
    return (len(str(item_id)), str(item_id))


def _pair(a: str, b: str) -> str:
    return "-".join(sorted((a, b), key=int))


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
