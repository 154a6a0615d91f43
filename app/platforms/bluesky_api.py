"""XRPC calls to a Bluesky PDS (and its chat service): the session tokens, their refresh, errors and rate limits.

The keyring holds the session as JSON (`BlueskySession.dumps`): the access and refresh JWTs with the
account's DID and handle. The app password is sent once, to `com.atproto.server.createSession`, and
never kept. An access token that expires (400 `ExpiredToken`) is refreshed once with the refresh token;
the rotated pair is then offered back to the keyring through `Connector.new_secret`. When the refresh
token is refused too, the account needs signing in again (`AuthError`).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from app.domain.models import RateLimit
from app.errors import AuthError, NotFound, PlatformError, RateLimited
from app.platforms.http import DEFAULT_TIMEOUT, json_body, make_session, parse_reset, raise_for_status, request
from app.platforms.http_abort import abort_session

#: Where a PDS forwards chat.bsky.* calls (the `atproto-proxy` service reference).
CHAT_PROXY = "did:web:api.bsky.chat#bsky_chat"
DEFAULT_RETRY_SECONDS = 60.0
_TOKEN_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})
_NOT_FOUND_ERRORS = frozenset({"RecordNotFound", "NotFound", "ConvoNotFound"})


@dataclass(frozen=True)
class BlueskySession:
    """The tokens of one signed-in session (what the keyring stores)."""

    access_jwt: str = field(repr=False)
    refresh_jwt: str = field(repr=False)
    did: str
    handle: str

    def dumps(self) -> str:
        return json.dumps(
            {"accessJwt": self.access_jwt, "refreshJwt": self.refresh_jwt, "did": self.did, "handle": self.handle},
            sort_keys=True,
        )

    @classmethod
    def loads(cls, secret: str) -> BlueskySession:
        """Read the keyring's JSON; a damaged one is a sign-in problem, never a crash."""
        try:
            data = json.loads(secret)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise AuthError(
                "The stored Bluesky sign-in is unreadable.", hint="Sign in to this account again with an app password."
            )
        return cls.from_answer(data, what="The stored Bluesky sign-in")

    @classmethod
    def from_answer(cls, data: dict[str, Any], *, what: str, did: str = "", handle: str = "") -> BlueskySession:
        access, refresh = data.get("accessJwt"), data.get("refreshJwt")
        if not (isinstance(access, str) and access and isinstance(refresh, str) and refresh):
            raise AuthError(f"{what}: no session tokens.", hint="Sign in to this account again with an app password.")
        got_did, got_handle = data.get("did"), data.get("handle")
        return cls(
            access_jwt=access,
            refresh_jwt=refresh,
            did=got_did if isinstance(got_did, str) and got_did else did,
            handle=got_handle if isinstance(got_handle, str) and got_handle else handle,
        )


def xrpc_error(response: requests.Response) -> tuple[str, str]:
    """The (error, message) pair of an XRPC error body, each cut to a readable length."""
    try:
        body = response.json()
    except (ValueError, RecursionError):
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    error, message = body.get("error"), body.get("message")
    return (error[:60] if isinstance(error, str) else "", message[:200] if isinstance(message, str) else "")


class XrpcApi:
    """One PDS, one session (None before signing in), one HTTP session; safe to abort from another thread.

    `chat_url`, when set, receives chat.bsky.* calls directly instead of through the PDS's proxy (a
    self-hosted or test chat service); the `atproto-proxy` header is sent either way.
    """

    def __init__(
        self,
        base_url: str,
        session: BlueskySession | None,
        *,
        chat_url: str = "",
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        http: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.strip().rstrip("/")
        self.chat_url = chat_url.strip().rstrip("/")
        self.session = session
        self.rotated = False  # the tokens changed since this object was made: the keyring needs the new pair
        self.rate = RateLimit()
        self._timeout = timeout
        self._http = http or make_session()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<XrpcApi {self.base_url} session=***>"

    def call(
        self,
        method: str,
        nsid: str,
        *,
        what: str,
        params: dict[str, Any] | None = None,
        body: Any = None,
        timeout: float | tuple[float, float] | None = None,
    ) -> dict[str, Any]:
        """Call one XRPC method with the access token; an expired token is refreshed once and the call repeated."""
        if self.session is None:
            raise AuthError(f"{what}: not signed in to Bluesky.")
        response = self._send(method, nsid, params, body, self.session.access_jwt, timeout)
        if self._token_refused(response):
            self.refresh(used=self.session)
            response = self._send(method, nsid, params, body, self.session.access_jwt, timeout)
        return self._answer(response, what=what)

    def call_anonymous(
        self, method: str, nsid: str, *, what: str, body: Any = None, bearer: str = ""
    ) -> dict[str, Any]:
        response = self._send(method, nsid, None, body, bearer, None)
        if response.status_code in (400, 401) and bearer:
            error, message = xrpc_error(response)
            if error in _TOKEN_ERRORS or response.status_code == 401:
                raise AuthError(
                    f"{what}: Bluesky no longer accepts this session ({error or message or 'refused'}).",
                    status=response.status_code,
                    hint="Sign in to this account again with an app password.",
                )
        return self._answer(response, what=what)

    def refresh(self, *, used: BlueskySession | None = None) -> None:
        """Swap the refresh token for a new pair; another thread that already did so is not repeated."""
        with self._lock:
            current = self.session
            if current is None:
                raise AuthError("Refreshing the Bluesky session: not signed in.")
            if used is not None and current.access_jwt != used.access_jwt:
                return  # refreshed meanwhile
            answer = self.call_anonymous(
                "POST",
                "com.atproto.server.refreshSession",
                what="Refreshing the Bluesky session",
                bearer=current.refresh_jwt,
            )
            self.session = BlueskySession.from_answer(
                answer, what="Refreshing the Bluesky session", did=current.did, handle=current.handle
            )
            self.rotated = True

    def _token_refused(self, response: requests.Response) -> bool:
        if response.status_code not in (400, 401):
            return False
        error, message = xrpc_error(response)
        if _scope_refused(error, message):
            return False  # a new token has the same scope: refreshing cannot help
        return error in _TOKEN_ERRORS or (response.status_code == 401 and error in ("", "AuthenticationRequired"))

    def _send(
        self,
        method: str,
        nsid: str,
        params: dict[str, Any] | None,
        body: Any,
        bearer: str,
        timeout: float | tuple[float, float] | None,
    ) -> requests.Response:
        chat = nsid.startswith("chat.bsky.")
        base = self.chat_url if chat and self.chat_url else self.base_url
        headers = {"atproto-proxy": CHAT_PROXY} if chat else {}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        response = request(
            self._http,
            method,
            f"{base}/xrpc/{nsid}",
            params=params,
            json=body if method == "POST" else None,
            headers=headers,
            timeout=timeout or self._timeout,
        )
        self._note_rate(response)
        return response

    def _note_rate(self, response: requests.Response) -> None:
        limit, remaining = (
            _int(response.headers.get("ratelimit-limit")),
            _int(response.headers.get("ratelimit-remaining")),
        )
        reset = parse_reset(response.headers.get("ratelimit-reset"))
        if limit is None and remaining is None and reset is None:
            return
        self.rate = RateLimit(
            limit=limit, remaining=remaining, reset_at=datetime.fromtimestamp(reset, UTC) if reset else None
        )

    def _answer(self, response: requests.Response, *, what: str) -> dict[str, Any]:
        status = response.status_code
        if status >= 400:
            error, message = xrpc_error(response)
            label = f"{error}: {message}" if error and message else error or message or f"HTTP {status}"
            if status == 429:
                retry_at = (
                    parse_reset(response.headers.get("ratelimit-reset"))
                    or parse_reset(response.headers.get("Retry-After"))
                    or time.time() + DEFAULT_RETRY_SECONDS
                )
                raise RateLimited(f"{what}: Bluesky asks Parley to slow down.", retry_at=retry_at)
            if _scope_refused(error, message):
                raise PlatformError(
                    f"{what}: this app password may not do that ({label}).",
                    status=status,
                    hint="For direct messages, create an app password that allows them and sign in with it.",
                )
            if status == 401 or error in _TOKEN_ERRORS or error == "AccountTakedown":
                raise AuthError(
                    f"{what}: Bluesky refused the sign-in ({label}).",
                    status=status,
                    hint="Sign in to this account again with an app password.",
                )
            if status == 404 or error in _NOT_FOUND_ERRORS:
                raise NotFound(f"{what}: not found ({label}).", status=status)
            if status < 500 and status != 403:
                raise PlatformError(f"{what}: Bluesky refused the request ({label}).", status=status)
            raise_for_status(response, what=what)
        if not response.content.strip():
            return {}  # a procedure without output (deleteSession) answers with an empty body
        body = json_body(response, what=what)
        if not isinstance(body, dict):
            raise PlatformError(f"{what}: Bluesky sent an unexpected answer.")
        return body

    def abort(self) -> None:
        abort_session(self._http)

    def close(self) -> None:
        self._http.close()


def _scope_refused(error: str, message: str) -> bool:
    """A token that may not call this method: an app password without direct-message access is refused
    with `InvalidToken: Bad token method` (older PDS versions: `Bad token scope`)."""
    text = message.lower()
    return error == "InvalidToken" and ("bad token scope" in text or "bad token method" in text)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
