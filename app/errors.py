"""The errors Parley expects from the world, each carrying a message a user can act on."""

from __future__ import annotations


class KnownError(Exception):
    """Expected trouble: shown to the user as a message, never as a traceback."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint or self.hint

    def user_message(self) -> str:
        text = str(self)
        return f"{text}\n{self.hint}" if self.hint else text


class StoreError(KnownError):
    """The local database cannot be opened, read or written."""


class DatabaseDamaged(StoreError):
    """The database file is damaged; the newest automatic backup can be restored in its place."""


class ProfileError(KnownError):
    """The profile folder cannot be created or written."""


class SecretStoreUnavailable(KnownError):
    """No usable OS keyring: missing backend, locked, or refused access."""


class PlatformError(KnownError):
    """A platform answered with an error, sent something unreadable, or could not be reached."""

    def __init__(self, message: str, *, status: int | None = None, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.status = status


class NetworkError(PlatformError):
    """The platform could not be reached (refused, reset, timed out)."""


class AuthError(PlatformError):
    """The platform refused the credentials: the account needs signing in again."""


class NotFound(PlatformError):
    """The platform says the thing asked for does not exist."""


class RateLimited(PlatformError):
    """The platform asked us to slow down; `retry_at` is when it allows the next call (UTC epoch s)."""

    def __init__(self, message: str, *, retry_at: float, status: int | None = 429) -> None:
        super().__init__(message, status=status)
        self.retry_at = retry_at
