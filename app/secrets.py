"""The only module that talks to `keyring`: account credentials live in the OS keyring, nowhere else."""

from __future__ import annotations

import logging

import keyring
import keyring.errors
from keyring.backends import fail

from app import APP_ID
from app.errors import SecretStoreUnavailable
from app.logs import REDACTOR

log = logging.getLogger("app.secrets")

_NO_BACKEND_HINT = (
    "Parley keeps account tokens only in the OS keyring and found none. On Linux install and start a "
    "Secret Service provider (for example `gnome-keyring` or KeePassXC with Secret Service enabled) "
    "inside your desktop session; on Windows and macOS the system keyring is used."
)


class SecretStore:
    """Reads and writes one secret per account, under the app id as service name.

    Entries are named "<profile id>/<account id>": account ids restart at 1 in every profile (the demo
    profile, a second workspace), and without the profile's own id they would share one entry.
    """

    def __init__(self, service: str = APP_ID, *, profile_id: str = "") -> None:
        self.service = service
        self.profile_id = profile_id

    def entry_name(self, account_id: int | str) -> str:
        return f"{self.profile_id}/{account_id}" if self.profile_id else str(account_id)

    def check_available(self) -> None:
        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring) or type(backend).__name__ == "NullKeyring":
            raise SecretStoreUnavailable("No OS keyring is available.", hint=_NO_BACKEND_HINT)

    def set(self, account_id: int | str, secret: str) -> None:
        REDACTOR.remember(secret)
        self._call("store the credentials", keyring.set_password, self.service, self.entry_name(account_id), secret)

    def get(self, account_id: int | str) -> str | None:
        value = self._call("read the credentials", keyring.get_password, self.service, self.entry_name(account_id))
        if not isinstance(value, str):
            return None
        REDACTOR.remember(value)
        return value

    def delete(self, account_id: int | str) -> None:
        try:
            self._call("remove the credentials", keyring.delete_password, self.service, self.entry_name(account_id))
        except SecretStoreUnavailable as exc:
            if isinstance(exc.__cause__, keyring.errors.PasswordDeleteError):
                return  # already gone: removing an account must not fail on a missing entry
            raise

    def _call(self, action: str, func, *args):  # type: ignore[no-untyped-def]
        self.check_available()
        try:
            return func(*args)
        except keyring.errors.KeyringLocked as exc:
            raise SecretStoreUnavailable(
                f"The OS keyring is locked, so Parley cannot {action}.",
                hint="Unlock your keyring (log in to the desktop session or unlock it in your keyring app).",
            ) from exc
        except keyring.errors.PasswordDeleteError as exc:
            raise SecretStoreUnavailable(f"Could not {action}: no entry in the keyring.") from exc
        except keyring.errors.KeyringError as exc:
            log.warning("keyring refused to %s: %s", action, type(exc).__name__)
            raise SecretStoreUnavailable(
                f"The OS keyring refused to {action} ({type(exc).__name__}).", hint=_NO_BACKEND_HINT
            ) from exc
