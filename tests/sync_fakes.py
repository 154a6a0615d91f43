"""A FAKE connector standing in for a platform, for the sync engine's scheduling and storing logic only.

Real platforms are exercised by the connector tests against real servers; this fake replays a
script of pages and errors so tests can decide exactly what a "platform" does and when.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from app import APP_ID
from app.context import AppContext
from app.domain.models import AccountRef, FetchedMessage, Identity, Page, ReplyTarget, SentMessage
from app.errors import AuthError
from app.platforms.base import Connector
from app.secrets import SecretStore
from tests.factories import message


def isolate_keyring(ctx: AppContext) -> SecretStore:
    """Give this test its own service name in the real keyring, so account ids of other tests never collide."""
    ctx.secrets = SecretStore(service=f"{APP_ID}.test-{uuid.uuid4().hex[:12]}")
    return ctx.secrets


@dataclass
class Block:
    """A script step: the fake's fetch blocks here until `release` is set (or, if `until_closed`, it is closed)."""

    release: threading.Event = field(default_factory=threading.Event)
    entered: threading.Event = field(default_factory=threading.Event)
    until_closed: bool = True


def pages_of(stream: str, *groups: list[str]) -> list[Page]:
    """Pages whose cursors are the last message id of each page, like a since_id cursor."""
    return [
        Page(
            stream=stream, messages=tuple(message(pid, key=f"t-{pid}") for pid in pids), cursor=pids[-1], has_more=True
        )
        for pids in groups
    ]


class FakePlatform:
    """The fake's behaviour for every account, keyed by account name; also the engine's connector_factory."""

    def __init__(self) -> None:
        self.scripts: dict[str, dict[str, list[Page | Exception | Block]]] = {}
        self.identities: dict[str, Identity] = {}  # token -> who it belongs to
        self.rotations: dict[str, str] = {}  # account name -> new secret to hand out after a page
        self.served: list[tuple[str, str, str | None]] = []  # (account, stream, page cursor) as yielded
        self.fetch_calls: list[tuple[str, str, str | None, str]] = []  # (account, stream, cursor, secret)
        self.closed: list[str] = []
        self.resume_from_cursor = True

    def script(self, account: str, stream: str, *steps: Page | Exception | Block) -> None:
        self.scripts.setdefault(account, {})[stream] = list(steps)

    def __call__(self, account: AccountRef, secret: str) -> FakeConnector:
        return FakeConnector(account, secret, self)

    def connector_class(self) -> type[FakeConnector]:
        """A class bound to this platform, for services that take a connector class (add account)."""
        platform = self

        class BoundFake(FakeConnector):
            def __init__(self, account: AccountRef, secret: str) -> None:
                super().__init__(account, secret, platform)

            @classmethod
            def sign_in(cls, base_url: str, user: str, password: str, *, device_id: str) -> tuple[str, Identity]:
                platform.fetch_calls.append((user, "sign_in", device_id, password))
                token = f"token-for-{user}-{device_id}"
                identity = platform.identities.get(password)
                if identity is None:
                    raise AuthError("Wrong user name or password.")
                platform.identities[token] = identity
                return token, identity

        return BoundFake


class FakeConnector(Connector):
    """A FAKE standing in for a platform, for scheduling logic only."""

    def __init__(self, account: AccountRef, secret: str, platform: FakePlatform) -> None:
        super().__init__(account, secret)
        self.platform = platform
        self._closed = threading.Event()
        self._rotated = False

    def verify(self) -> Identity:
        identity = self.platform.identities.get(self._secret)
        if identity is None:
            raise AuthError("The platform refused the sign-in (invalid token).")
        return identity

    def streams(self) -> tuple[str, ...]:
        return tuple(self.platform.scripts.get(self.account.name, {}))

    def fetch(self, stream: str, cursor: str | None) -> Iterator[Page]:
        self.platform.fetch_calls.append((self.account.name, stream, cursor, self._secret))
        steps = self.platform.scripts[self.account.name][stream]
        if self.platform.resume_from_cursor and cursor is not None:
            cursors = [step.cursor for step in steps if isinstance(step, Page)]
            if cursor in cursors:
                position = next(i for i, s in enumerate(steps) if isinstance(s, Page) and s.cursor == cursor)
                steps = steps[position + 1 :]
        for step in steps:
            if isinstance(step, Exception):
                raise step
            if isinstance(step, Block):
                step.entered.set()
                while not step.release.wait(0.02):
                    if step.until_closed and self._closed.is_set():
                        raise ConnectionAbortedError("the session was closed")
                continue
            self.platform.served.append((self.account.name, stream, step.cursor))
            yield step

    def new_secret(self) -> str | None:
        rotated = self.platform.rotations.get(self.account.name)
        if rotated and not self._rotated:
            self._rotated = True
            return rotated
        return None

    def thread_context(self, platform_message_id: str) -> list[FetchedMessage]:
        return []

    def send_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> SentMessage:
        raise NotImplementedError("the fake does not send")

    def close(self) -> None:
        self._closed.set()
        self.platform.closed.append(self.account.name)
