"""Logging to a rotating file in the profile, with every known secret redacted before it is written."""

from __future__ import annotations

import logging
import logging.handlers
import re
import threading
from pathlib import Path

_BEARER = re.compile(r"(?i)(bearer\s+|access_token[\"'=:\s]+|password[\"'=:\s]+)([A-Za-z0-9._~+/=-]{6,})")


class Redactor(logging.Filter):
    """Replaces secrets seen by this process, and anything shaped like a bearer token, with ***."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def remember(self, secret: str) -> None:
        if secret and len(secret) >= 6:
            with self._lock:
                self._secrets.add(secret)

    def scrub(self, text: str) -> str:
        with self._lock:
            known = sorted(self._secrets, key=len, reverse=True)
        for secret in known:
            text = text.replace(secret, "***")
        return _BEARER.sub(r"\1***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.scrub(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


REDACTOR = Redactor()


def configure_logging(log_file: Path | None, *, verbose: bool = False) -> None:
    root = logging.getLogger("app")
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"))
        handler.addFilter(REDACTOR)
        root.addHandler(handler)
