"""The HTTP session every connector uses: timeouts on every call, bounded retries for reads, clear errors."""

from __future__ import annotations

import email.utils
import logging
import re
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from app import version
from app.errors import AuthError, NetworkError, NotFound, PlatformError, RateLimited
from app.platforms.http_abort import AbortableAdapter

log = logging.getLogger("app.platforms.http")

DEFAULT_TIMEOUT = (5.0, 30.0)  # connect, read
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
RETRY_AFTER_MAX = 10.0  # seconds a read retry may wait on a 503's Retry-After


class _ReadRetry(Retry):
    """Retry reads on 5xx only.

    urllib3 on its own also retries a 413/429 that carries Retry-After, whatever `status_forcelist`
    says, sleeping as long as the server asks (five minutes for a Mastodon rate limit): the worker
    would hang and the connector's rate limiter would never hear of the limit.
    """

    RETRY_AFTER_STATUS_CODES = frozenset({503})

    def parse_retry_after(self, retry_after: str) -> float:
        return min(super().parse_retry_after(retry_after), RETRY_AFTER_MAX)


def make_session(*, retries: int = 3, backoff: float = 0.5) -> requests.Session:
    """A session whose GETs retry on 5xx and dropped connections; 429 is left to the caller's rate limiter.

    `app.platforms.http_abort.abort_session` interrupts its requests in flight (used when quitting).
    """
    retry = _ReadRetry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=backoff,
        backoff_max=10,
        status_forcelist=(500, 502, 503, 504),
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = AbortableAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = f"Parley/{version()} (desktop community-manager client)"
    return session


def request(
    session: requests.Session, method: str, url: str, *, timeout: Any = DEFAULT_TIMEOUT, **kwargs: Any
) -> requests.Response:
    """Send a request; transport failures become NetworkError naming only the host (a query may hold a token).

    urllib3 retries a read only until the headers arrive; a connection that breaks off in the body of
    the answer is retried here, with the session's own retry budget and backoff, for reads alone.
    """
    policy = _retry_policy(session, url)
    broken = 0
    while True:
        try:
            return _send(session, method, url, timeout=timeout, **kwargs)
        except _BrokenBody:
            if method.upper() not in ("GET", "HEAD") or policy is None or broken >= (policy.read or 0):
                raise NetworkError(
                    f"The connection to {_where(url)} broke off before the answer was complete."
                ) from None
            broken += 1
            delay = min(policy.backoff_max, policy.backoff_factor * 2 ** (broken - 1))
            log.info("answer from %s broke off; reading it again in %.2f s", _where(url), delay)
            time.sleep(delay)


class _BrokenBody(Exception):
    """The status and headers arrived, the body did not."""


def _retry_policy(session: requests.Session, url: str) -> Retry | None:
    retries = getattr(session.get_adapter(url), "max_retries", None)
    return retries if isinstance(retries, Retry) else None


def _send(session: requests.Session, method: str, url: str, *, timeout: Any, **kwargs: Any) -> requests.Response:
    try:
        return session.request(method, url, timeout=timeout, **kwargs)
    except requests.exceptions.ChunkedEncodingError:
        raise _BrokenBody() from None
    except requests.exceptions.RetryError:
        raise NetworkError(f"{_where(url)} kept failing after several retries.") from None
    except requests.exceptions.Timeout:
        raise NetworkError(f"{_where(url)} did not answer in time.") from None
    except requests.exceptions.ConnectionError as exc:
        if _timed_out(exc):
            raise NetworkError(f"{_where(url)} did not answer in time.") from None
        raise NetworkError(f"Cannot reach {_where(url)}.") from None
    except requests.exceptions.RequestException as exc:
        raise NetworkError(f"Request to {_where(url)} failed: {type(exc).__name__}") from None


def _timed_out(exc: requests.exceptions.ConnectionError) -> bool:
    """Whether retried reads ran out on timeouts (requests reports that as a connection error)."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, ReadTimeoutError)


def _where(url: str) -> str:
    return urlsplit(url).netloc or url


def parse_reset(value: str | None, *, now: float | None = None) -> float | None:
    """A rate-limit reset header as UTC epoch seconds: ISO 8601, epoch seconds, or seconds from now."""
    if not value:
        return None
    now = time.time() if now is None else now
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        return number if number > 1_000_000_000 else now + number
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).timestamp()
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError):
        return None


def raise_for_status(response: requests.Response, *, what: str) -> None:
    """Map an error status to the error type the sync engine and the UI know how to handle."""
    status = response.status_code
    if status < 400:
        return
    detail = _error_detail(response)
    if status == 401:
        raise AuthError(
            f"{what}: the platform refused the sign-in ({detail}).",
            status=status,
            hint="Sign in to this account again from the Accounts dialog.",
        )
    if status == 403:
        raise AuthError(
            f"{what}: access denied ({detail}).",
            status=status,
            hint="The account lacks a permission this needs; sign in again and grant it.",
        )
    if status == 404:
        raise NotFound(f"{what}: not found ({detail}).", status=status)
    if status == 429:
        retry_at = (
            parse_reset(response.headers.get("Retry-After"))
            or parse_reset(response.headers.get("X-RateLimit-Reset"))
            or time.time() + 60
        )
        raise RateLimited(f"{what}: rate-limited by the platform.", retry_at=retry_at)
    if status >= 500:
        raise PlatformError(
            f"{what}: the platform had an error (HTTP {status}).", status=status, hint="Parley will try again later."
        )
    raise PlatformError(f"{what}: the platform refused the request (HTTP {status}: {detail}).", status=status)


def json_body(response: requests.Response, *, what: str) -> Any:
    """The decoded body; text in it is always valid Unicode, whatever escapes the platform sent."""
    try:
        body = response.json()
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the decoder can follow
        raise PlatformError(
            f"{what}: the platform sent a response that is not valid JSON.", status=response.status_code
        ) from None
    # JSON can escape a UTF-16 surrogate on its own ("\ud800"); such a string is not text that SQLite,
    # Qt or the HTML sanitiser accept, so one hostile field would fail the whole page.
    if _SURROGATE_ESCAPE.search(response.content):
        body = without_lone_surrogates(body)
    return body


def without_lone_surrogates(value: Any) -> Any:
    """`value` (decoded JSON) with every lone surrogate in its strings and keys replaced by U+FFFD."""
    holder = [value]
    pending: list[tuple[Any, Any]] = [(holder, 0)]
    while pending:  # a loop, not recursion: the value may be nested as deep as the decoder allowed
        container, key = pending.pop()
        item = container[key]
        if isinstance(item, str):
            container[key] = _valid_text(item)
        elif isinstance(item, list):
            pending.extend((item, index) for index in range(len(item)))
        elif isinstance(item, dict):
            cleaned = {_valid_text(name): child for name, child in item.items()}
            container[key] = cleaned
            pending.extend((cleaned, name) for name in cleaned)
    return holder[0]


def _valid_text(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _error_detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except (ValueError, RecursionError):
        return response.reason or f"HTTP {response.status_code}"
    if isinstance(body, dict):
        for key in ("error_description", "error", "message", "errcode", "detail"):
            if isinstance(body.get(key), str):
                return str(body[key])[:200]
    return response.reason or f"HTTP {response.status_code}"
