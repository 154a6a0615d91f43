"""Credentials in the real OS keyring: one entry per account per profile, nothing anywhere else."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import keyring

from app import APP_ID
from app.context import open_context
from app.domain.models import Platform
from app.logs import REDACTOR
from app.paths import ProfilePaths
from app.store import accounts


def test_two_profiles_keep_separate_tokens_for_their_account_1(tmp_path: Path, secret_service: dict[str, str]) -> None:
    work = open_context(ProfilePaths(tmp_path / "work"))
    demo = open_context(ProfilePaths(tmp_path / "demo"))
    try:
        for ctx, token in ((work, "work-token-123456"), (demo, "demo-token-654321")):
            account = accounts.add_account(
                ctx.engine,
                platform=Platform.MASTODON,
                name="brand",
                base_url="https://m.example",
                now=datetime.now(UTC),
            )
            assert account.id == 1
            ctx.secrets.set(account.id, token)
        assert (work.secrets.get(1), demo.secrets.get(1)) == ("work-token-123456", "demo-token-654321")
        assert keyring.get_password(APP_ID, work.secrets.entry_name(1)) == "work-token-123456"
        demo.secrets.delete(1)
        assert (work.secrets.get(1), demo.secrets.get(1)) == ("work-token-123456", None)
    finally:
        work.close()
        demo.close()


def test_known_secrets_are_redacted_from_log_lines() -> None:
    REDACTOR.remember("s3cr3t-token-value")
    assert REDACTOR.scrub("calling with s3cr3t-token-value now") == "calling with *** now"
    assert REDACTOR.scrub("Authorization: Bearer abcdefghijkl") == "Authorization: Bearer ***"
