"""A browser sign-in run on a terminal: the loopback redirect and a pasted answer race, the first one wins.

Shared by `mastodon_oauth.obtain_token` and `oauth2.sign_in_on_terminal`, whose flows differ only in what
they print and what a finished sign-in gives (an access token, a token bundle).
"""

from __future__ import annotations

import queue
import sys
import threading
import webbrowser
from collections.abc import Callable
from typing import IO, Any, Protocol, TypeVar

from app.errors import KnownError

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class BrowserFlow(Protocol[T_co]):
    """What `race_on_terminal` needs of a sign-in: begin it, wait for the browser, redeem a paste, end it."""

    def begin(self) -> str: ...

    def wait(self, timeout: float) -> T_co: ...

    def redeem(self, pasted: str) -> T_co: ...

    def cancel(self) -> None: ...

    def close(self) -> None: ...


def race_on_terminal(
    flow: BrowserFlow[T],
    *,
    what: str,
    announce: Callable[[str, IO[str]], None],
    listening: Callable[[], bool] = lambda: True,
    open_browser: Callable[[str], Any] | None = None,
    stdin: IO[str] | None = None,
    out: IO[str] | None = None,
    timeout: float,
) -> T:
    """Begin `flow`, `announce` its address on `out` (and try a browser), then take the loopback redirect
    (when `listening()`) or a line pasted on `stdin`, whichever comes first; the flow is ended either way."""
    stdin, out = stdin or sys.stdin, out or sys.stderr
    outcomes: queue.SimpleQueue[tuple[T | None, BaseException | None]] = queue.SimpleQueue()

    def settle(call: Callable[[], T]) -> None:
        try:
            outcomes.put((call(), None))
        except BaseException as exc:  # handed to the waiting thread, which raises it
            outcomes.put((None, exc))

    def from_paste() -> None:
        line = stdin.readline()
        if line.strip():  # end of input: only the browser can finish the sign-in
            settle(lambda: flow.redeem(line))

    try:
        url = flow.begin()
        announce(url, out)
        if listening():
            threading.Thread(target=settle, args=(lambda: flow.wait(timeout),), name="oauth-wait", daemon=True).start()
        threading.Thread(target=from_paste, name="oauth-paste", daemon=True).start()
        try:
            (open_browser or webbrowser.open)(url)
        except Exception:
            pass  # no browser here: the printed address is enough
        result, error = outcomes.get()
    finally:
        flow.cancel()
        flow.close()
    if error is not None:
        if isinstance(error, KnownError):
            raise error
        raise RuntimeError(f"the {what} sign-in failed unexpectedly") from error
    assert result is not None
    return result
