"""A stand-in for the person's web browser at mastodon-mock's sign-in page (no real browser runs in tests).

mastodon-mock's /oauth/authorize is an account picker: the stand-in opens it, picks the account, and
follows the redirect back to Parley's loopback receiver, or reads the code an out-of-band page shows.
"""

from __future__ import annotations

import html.parser
import re
import threading
from urllib.parse import parse_qs, urlsplit

import requests

OOB = "urn:ietf:wg:oauth:2.0:oob"


class _HiddenInputs(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("type") == "hidden" and found.get("name"):
            self.fields[str(found["name"])] = found.get("value") or ""


def approve_sign_in(url: str, username: str) -> requests.Response:
    """Open the sign-in page, pick the account, approve, follow the redirect (to the loopback receiver)."""
    browser = requests.Session()
    page = browser.get(url, timeout=10)
    page.raise_for_status()
    form = _HiddenInputs()
    form.feed(page.text)
    if f'value="{username}"' not in page.text:
        raise AssertionError(f"the sign-in page does not offer {username}")
    return browser.post(url.split("?")[0], data={**form.fields, "username": username}, timeout=10)


def shown_code(page: requests.Response) -> str:
    """The code an out-of-band sign-in page shows for the person to copy."""
    match = re.search(r"Authorization code: (\S+?)<", page.text)
    if not match:
        raise AssertionError(f"no code on the page: {page.text[:300]}")
    return match.group(1)


class StandInBrowser:
    """Replaces "open the system browser" (QDesktopServices.openUrl) in UI tests.

    Every URL is recorded. With `approve_as`, it approves the sign-in as that user on a thread of its own,
    so the GUI thread that called it never waits. `on_this_computer=False` is a browser on another device:
    a redirect to this computer's loopback address cannot reach Parley, so only out-of-band pages (which
    show a code) get approved; their codes land in `codes`.
    """

    def __init__(self, approve_as: str | None = None, *, on_this_computer: bool = True) -> None:
        self.approve_as = approve_as
        self.on_this_computer = on_this_computer
        self.opened: list[str] = []
        self.codes: list[str] = []
        self.errors: list[BaseException] = []

    def open(self, url: str) -> bool:
        self.opened.append(url)
        redirect = parse_qs(urlsplit(url).query).get("redirect_uri", [""])[0]
        if self.approve_as is not None and (self.on_this_computer or redirect == OOB):
            threading.Thread(target=self._approve, args=(url, redirect == OOB), daemon=True).start()
        return True

    def _approve(self, url: str, out_of_band: bool) -> None:
        assert self.approve_as is not None
        try:
            page = approve_sign_in(url, self.approve_as)
            if out_of_band:
                self.codes.append(shown_code(page))
        except BaseException as exc:  # reported to the test, which asserts there were none
            self.errors.append(exc)
