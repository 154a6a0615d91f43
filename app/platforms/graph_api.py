"""Meta's Graph API: the Page token on every call, its error codes and usage headers mapped to Parley's errors.

The Graph API signals throttling with error codes (4, 17, 32, 613, and the 80001-80014 business use
case codes), often on HTTP 400 or 403 rather than 429; how long to wait is in the X-Business-Use-Case-Usage
header (`estimated_time_to_regain_access`, minutes). An expired or revoked token is code 190 whatever the
HTTP status; 10 and 200-299 are missing permissions.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

import requests

from app.domain.models import RateLimit
from app.errors import AuthError, NotFound, PlatformError, RateLimited
from app.platforms.http import DEFAULT_TIMEOUT, json_body, raise_for_status, request

log = logging.getLogger("app.platforms.graph")

DEFAULT_GRAPH_URL = "https://graph.facebook.com/v21.0"
THROTTLE_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})
TOKEN_CODES = frozenset({102, 190})
OUTSIDE_WINDOW_SUBCODES = frozenset({2018278, 2018065, 2534022})
DEFAULT_THROTTLE_WAIT = 300.0  # seconds, when the headers do not say (Meta's windows are an hour long)


class OutsideMessagingWindow(PlatformError):
    """Meta refused a message because the person's last message is too old (the 24-hour rule)."""


class GraphClient:
    """Requests against one Graph API base URL with one Page access token (sent as a Bearer header)."""

    def __init__(self, base_url: str, token: str, session: requests.Session, *, timeout: Any = DEFAULT_TIMEOUT):
        self.base = base_url.rstrip("/")
        self._token = token
        self.session = session
        self.timeout = timeout
        self.rate = RateLimit()

    def __repr__(self) -> str:
        return f"<GraphClient {self.base} token=***>"

    def get(self, path: str, *, what: str, params: dict[str, str] | None = None) -> Any:
        return self.call("GET", path, what=what, params=params)

    def post(self, path: str, *, what: str, body: dict[str, Any]) -> Any:
        return self.call("POST", path, what=what, json=body)

    def call(self, method: str, path: str, *, what: str, **kwargs: Any) -> Any:
        response = request(
            self.session,
            method,
            self.base + path,
            timeout=self.timeout,
            headers={"Authorization": f"Bearer {self._token}", "Accept": "application/json"},
            **kwargs,
        )
        usage = usage_of(response.headers)
        if usage is not None:
            self.rate = usage
        if response.status_code >= 400:
            raise_graph_error(response, what=what)
        return json_body(response, what=what)


def raise_graph_error(response: requests.Response, *, what: str) -> None:
    """Raise the error a Graph error body means; falls back to the HTTP status when the body is not Graph's."""
    error = _error_of(response)
    if error is None:
        raise_for_status(response, what=what)
        return
    code, subcode = _int(error.get("code")), _int(error.get("error_subcode"))
    message = str(error.get("message") or "no message")[:200]
    status = response.status_code
    # Permission errors are OAuthExceptions too, so only a code-less one is read as a token problem.
    if code in TOKEN_CODES or (error.get("type") == "OAuthException" and code is None):
        raise AuthError(
            f"{what}: Meta refused the Page access token ({message}).",
            status=status,
            hint="The token expired or was revoked: add a new Page access token from the Accounts dialog.",
        )
    if code in THROTTLE_CODES:
        raise RateLimited(
            f"{what}: Meta is throttling this Page's calls (code {code}).",
            retry_at=time.time() + (regain_seconds(response.headers) or DEFAULT_THROTTLE_WAIT),
            status=status,
        )
    if code == 10 and subcode in OUTSIDE_WINDOW_SUBCODES:
        raise OutsideMessagingWindow(
            f"{what}: Meta allows replies only within 24 hours of the person's last message ({message}).",
            status=status,
            hint="Reply publicly or privately to one of their comments, or wait until they write again.",
        )
    if code == 10 or (code is not None and 200 <= code <= 299):
        raise AuthError(
            f"{what}: the Page token lacks a permission this needs (code {code}: {message}).",
            status=status,
            hint="Grant the app pages_messaging, pages_read_engagement, pages_manage_engagement (and for "
            "Instagram instagram_manage_messages, instagram_manage_comments), then add a new token.",
        )
    if (code == 100 and subcode == 33) or status == 404:
        raise NotFound(f"{what}: Meta says it does not exist ({message}).", status=status)
    if status >= 500 or code in (1, 2):
        raise PlatformError(
            f"{what}: Meta had an error (code {code}, HTTP {status}).",
            status=status,
            hint="Parley will try again later.",
        )
    raise PlatformError(f"{what}: Meta refused the request (code {code}: {message}).", status=status)


def usage_of(headers: Any) -> RateLimit | None:
    """The budget the usage headers report, as a percentage left of the most used counter."""
    used = 0.0
    seen = False
    for entry in _usage_entries(headers):
        seen = True
        for key in ("call_count", "total_time", "total_cputime"):
            value = entry.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                used = max(used, float(value))
    if not seen:
        return None
    regain = regain_seconds(headers)
    reset = datetime.fromtimestamp(time.time() + regain, UTC) if regain else None
    return RateLimit(limit=100, remaining=max(0, 100 - int(used)), reset_at=reset)


def regain_seconds(headers: Any) -> float | None:
    """`estimated_time_to_regain_access` (minutes) from the business use case header, in seconds."""
    minutes = [
        float(entry["estimated_time_to_regain_access"])
        for entry in _usage_entries(headers)
        if isinstance(entry.get("estimated_time_to_regain_access"), int | float)
    ]
    longest = max(minutes, default=0.0)
    return longest * 60 if longest > 0 else None


def _usage_entries(headers: Any) -> list[dict[str, Any]]:
    """X-App-Usage is one object; X-Business-Use-Case-Usage maps business ids to lists of objects."""
    entries: list[dict[str, Any]] = []
    for name in ("X-App-Usage", "X-Page-Usage", "X-Business-Use-Case-Usage"):
        raw = headers.get(name)
        if not raw:
            continue
        try:
            value = json.loads(raw)
        except ValueError:
            log.warning("unreadable %s header ignored", name)
            continue
        if not isinstance(value, dict):
            continue
        if name != "X-Business-Use-Case-Usage":
            entries.append(value)
            continue
        for items in value.values():
            if isinstance(items, list):
                entries.extend(item for item in items if isinstance(item, dict))
    return entries


def _error_of(response: requests.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except (ValueError, RecursionError):
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
