"""Calls to a Matrix homeserver's client-server API and the mapping of its errors (errcode, retry_after_ms)."""

from __future__ import annotations

import time
import urllib.parse
from typing import Any

import requests

from app.errors import AuthError, NotFound, PlatformError, RateLimited
from app.platforms.http import json_body, make_session, parse_reset, raise_for_status, request
from app.platforms.http_abort import abort_session

PREFIX = "/_matrix/client/v3"
DEFAULT_RETRY_SECONDS = 30.0


def quote(value: str) -> str:
    """A path segment: room ids, event ids and transaction ids may hold `!`, `$`, `:` and `/`."""
    return urllib.parse.quote(value, safe="")


def check(response: requests.Response, *, what: str, signing_in: bool = False) -> None:
    """Map a Matrix error to the errors the sync engine and the UI act on.

    403 is a sign-in problem only when signing in or for a deactivated account; elsewhere it means
    "not allowed in this room", which signing in again would not fix.
    """
    status = response.status_code
    if status < 400:
        return
    errcode, error, retry_ms = _matrix_error(response)
    label = f"{errcode}: {error}" if errcode and error else errcode or error or f"HTTP {status}"
    if status == 429 or errcode == "M_LIMIT_EXCEEDED":
        if retry_ms is not None:
            retry_at = time.time() + retry_ms / 1000
        else:
            retry_at = parse_reset(response.headers.get("Retry-After")) or time.time() + DEFAULT_RETRY_SECONDS
        raise RateLimited(f"{what}: the homeserver asks Parley to slow down.", retry_at=retry_at)
    if status == 401 or errcode in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"):
        raise AuthError(
            f"{what}: the homeserver no longer accepts this session ({label}).",
            status=status,
            hint="Sign in to this Matrix account again from the Accounts dialog.",
        )
    if status == 403 and signing_in:
        reason = "wrong user name or password" if errcode == "M_FORBIDDEN" else label
        raise AuthError(f"{what}: {reason}.", status=status, hint="Check the user name and password.")
    if status == 403 and errcode == "M_USER_DEACTIVATED":
        raise AuthError(f"{what}: this Matrix account was deactivated.", status=status)
    if status == 403:
        raise PlatformError(
            f"{what}: the homeserver refused ({label}).",
            status=status,
            hint="The account may not be a member of that room, or may lack the permission.",
        )
    if status == 404:
        raise NotFound(f"{what}: not found ({label}).", status=status)
    if status < 500:
        raise PlatformError(f"{what}: the homeserver refused the request (HTTP {status}, {label}).", status=status)
    raise_for_status(response, what=what)


def _matrix_error(response: requests.Response) -> tuple[str, str, float | None]:
    try:
        body = response.json()
    except (ValueError, RecursionError):
        return "", "", None
    if not isinstance(body, dict):
        return "", "", None
    retry = body.get("retry_after_ms")
    retry_ms = float(retry) if isinstance(retry, int | float) and not isinstance(retry, bool) and retry >= 0 else None
    errcode = body.get("errcode")
    error = body.get("error")
    return (
        errcode[:60] if isinstance(errcode, str) else "",
        error[:200] if isinstance(error, str) else "",
        retry_ms,
    )


def as_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PlatformError(f"{what}: the homeserver sent an unexpected answer.")
    return value


class MatrixApi:
    """One homeserver, one access token (None before signing in), one HTTP session."""

    def __init__(self, base_url: str, token: str | None) -> None:
        self.base_url = base_url.strip().rstrip("/")
        self._session = make_session()
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"

    def __repr__(self) -> str:
        return f"<MatrixApi {self.base_url} token=***>"

    def call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: dict[str, str] | None = None,
        body: Any = None,
        signing_in: bool = False,
    ) -> dict[str, Any]:
        response = request(self._session, method, f"{self.base_url}{PREFIX}{path}", params=params, json=body)
        check(response, what=what, signing_in=signing_in)
        return as_object(json_body(response, what=what), what)

    def abort(self) -> None:
        abort_session(self._session)

    def close(self) -> None:
        self._session.close()
