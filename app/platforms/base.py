"""The connector interface every platform implements; the sync engine knows only this."""

from __future__ import annotations

import abc
from collections.abc import Iterator

from app.domain.models import AccountRef, FetchedMessage, Identity, Page, RateLimit, ReplyTarget, SentMessage
from app.errors import PlatformError


class BackfillUnsupported(PlatformError):
    """This platform cannot fetch a missed span again; the gap stays recorded, marked as not fillable."""


class Connector(abc.ABC):
    """A signed-in session with one account on one platform.

    Connectors raise only `app.errors.PlatformError` subclasses for trouble from the platform
    (`AuthError`, `RateLimited`, `NotFound`, `NetworkError`), and reject unreadable payload
    items one by one into `Page.rejected` instead of failing the page.
    """

    #: The longest reply the platform accepts, in characters.
    max_reply_length: int = 500
    #: The longest direct message, where the platform allows longer (or shorter) DMs than public replies.
    max_dm_length: int | None = None

    @classmethod
    def reply_length_limit(cls, direct: bool) -> int:
        """The limit the composer counts against: the DM limit for a direct conversation, if it differs."""
        if direct and cls.max_dm_length is not None:
            return cls.max_dm_length
        return cls.max_reply_length

    def __init__(self, account: AccountRef, secret: str) -> None:
        self.account = account
        self._secret = secret

    def __repr__(self) -> str:
        return f"<{type(self).__name__} account={self.account.name!r} secret=***>"

    @abc.abstractmethod
    def verify(self) -> Identity:
        """Check the credentials and return who they belong to."""

    @abc.abstractmethod
    def streams(self) -> tuple[str, ...]:
        """Names of the independent feeds this connector syncs, each with its own cursor."""

    @abc.abstractmethod
    def fetch(self, stream: str, cursor: str | None) -> Iterator[Page]:
        """Yield pages of items newer than `cursor`, oldest page first.

        Each page carries the cursor to store once its messages are stored; the engine stores
        page and cursor in one transaction before asking for the next page.
        """

    @abc.abstractmethod
    def thread_context(self, platform_message_id: str) -> list[FetchedMessage]:
        """The messages around one message (ancestors and replies), for a thread view."""

    @abc.abstractmethod
    def send_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> SentMessage:
        """Post a reply. Sending twice with the same key must post once."""

    def rate_limit(self) -> RateLimit:
        """The platform's last reported budget for this account."""
        return RateLimit()

    def new_secret(self) -> str | None:
        """A refreshed credential to store in the keyring, when the platform rotated it."""
        return None

    def backfill(self, gap_detail: str) -> Iterator[Page]:
        """Fetch the messages of a recorded gap again, from what the connector put in `Gap.detail`.

        Yields pages without a cursor (the stream's cursor is already past the gap). A page may carry
        a smaller Gap for what is still missing when the connector's own bound is reached; the engine
        then resolves the old gap. Raises BackfillUnsupported when the platform cannot do it.
        """
        raise BackfillUnsupported("Missed messages cannot be fetched again on this platform.")

    def sign_out(self) -> bool:
        """End this session on the platform (when an account is removed); False: nothing to end there."""
        return False

    def abort(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Interrupt requests in flight from another thread and refuse new ones (quitting).

        Unlike `close`, this must end a read that is blocked waiting for the server, promptly.
        """

    def close(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Release network resources."""
