"""Accounts and their sync state; secrets are never stored here (see app.secrets)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from app.domain.models import AccountRef, AccountState, Platform, RateLimit
from app.errors import StoreError
from app.store.schema import accounts, sync_cursors, sync_gaps


def add_account(
    engine: Engine,
    *,
    platform: Platform,
    name: str,
    base_url: str,
    now: datetime,
    handle: str = "",
    display_name: str = "",
    platform_user_id: str = "",
    options: dict[str, Any] | None = None,
) -> AccountRef:
    with engine.begin() as connection:
        if connection.execute(select(accounts.c.id).where(accounts.c.name == name)).first():
            raise StoreError(f"An account named {name!r} already exists.", hint="Choose another name.")
        inserted = connection.execute(
            insert(accounts).values(
                platform=platform.value,
                name=name,
                base_url=base_url,
                handle=handle,
                display_name=display_name,
                platform_user_id=platform_user_id,
                options=options or {},
                created_at=now,
            )
        ).inserted_primary_key
    assert inserted is not None
    return get_account(engine, int(inserted[0]))


def _ref(row: Any) -> AccountRef:
    return AccountRef(
        id=row.id,
        platform=Platform(row.platform),
        name=row.name,
        base_url=row.base_url,
        handle=row.handle,
        platform_user_id=row.platform_user_id,
        options=dict(row.options or {}),
    )


def get_account(engine: Engine, account_id: int) -> AccountRef:
    with engine.connect() as connection:
        row = connection.execute(select(accounts).where(accounts.c.id == account_id)).first()
    if row is None:
        raise StoreError(f"No account with id {account_id}.")
    return _ref(row)


def find_account(engine: Engine, name: str) -> AccountRef:
    with engine.connect() as connection:
        row = connection.execute(select(accounts).where(accounts.c.name == name)).first()
    if row is None:
        raise StoreError(f"No account named {name!r}.", hint="`parley accounts list` shows the accounts.")
    return _ref(row)


def list_accounts(engine: Engine) -> list[AccountRef]:
    with engine.connect() as connection:
        return [_ref(row) for row in connection.execute(select(accounts).order_by(accounts.c.name))]


def account_status_rows(engine: Engine) -> list[dict[str, Any]]:
    """Every account with its sync state, for the Accounts dialog and `parley accounts list`."""
    with engine.connect() as connection:
        rows = connection.execute(select(accounts).order_by(accounts.c.name)).all()
        gaps = connection.execute(
            select(sync_gaps).where(sync_gaps.c.resolved_at.is_(None)).order_by(sync_gaps.c.detected_at)
        ).all()
    open_gaps: dict[int, list[dict[str, Any]]] = {}
    for gap in gaps:
        open_gaps.setdefault(gap.account_id, []).append(dict(gap._mapping))
    return [dict(row._mapping) | {"open_gaps": open_gaps.get(row.id, [])} for row in rows]


def update_identity(engine: Engine, account_id: int, *, handle: str, display_name: str, platform_user_id: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(accounts)
            .where(accounts.c.id == account_id)
            .values(handle=handle, display_name=display_name, platform_user_id=platform_user_id)
        )


def set_option(engine: Engine, account_id: int, key: str, value: str | None) -> None:
    """Set (or, with None or "", remove) one of an account's plain options, e.g. its `department`."""
    with engine.begin() as connection:
        row = connection.execute(select(accounts.c.options).where(accounts.c.id == account_id)).first()
        if row is None:
            raise StoreError(f"No account with id {account_id}.")
        options = dict(row.options or {})
        if value:
            options[key] = value
        else:
            options.pop(key, None)
        connection.execute(update(accounts).where(accounts.c.id == account_id).values(options=options))


def set_account_state(
    engine: Engine,
    account_id: int,
    state: AccountState,
    detail: str = "",
    *,
    synced_at: datetime | None = None,
    rate_limited_until: datetime | None = None,
    rate_limit: RateLimit | None = None,
) -> None:
    """Record how an account's last run (or sign-in) left it; `rate_limit`, when given, is its latest budget."""
    values: dict[str, Any] = {"state": state.value, "state_detail": detail, "rate_limited_until": rate_limited_until}
    if synced_at is not None:
        values["last_synced_at"] = synced_at
    if rate_limit is not None and (rate_limit.limit is not None or rate_limit.remaining is not None):
        values |= {
            "rate_limit_limit": rate_limit.limit,
            "rate_limit_remaining": rate_limit.remaining,
            "rate_limit_reset_at": rate_limit.reset_at,
        }
    with engine.begin() as connection:
        connection.execute(update(accounts).where(accounts.c.id == account_id).values(**values))


def set_retry_at(engine: Engine, account_id: int, retry_at: datetime | None) -> None:
    """When the scheduler will try a failing account again (None: no retry planned)."""
    with engine.begin() as connection:
        connection.execute(update(accounts).where(accounts.c.id == account_id).values(retry_at=retry_at))


def set_token_expiry(engine: Engine, account_id: int, expires_at: datetime | None) -> None:
    """When the platform said the stored sign-in stops working (None: it did not say, or never)."""
    with engine.begin() as connection:
        connection.execute(update(accounts).where(accounts.c.id == account_id).values(token_expires_at=expires_at))


def account_state(engine: Engine, account_id: int) -> AccountState:
    with engine.connect() as connection:
        value = connection.execute(select(accounts.c.state).where(accounts.c.id == account_id)).scalar_one()
    return AccountState(value)


def remove_account(engine: Engine, account_id: int) -> None:
    """Delete the account and, by cascade, everything cached for it."""
    with engine.begin() as connection:
        connection.execute(delete(accounts).where(accounts.c.id == account_id))


def get_cursor(engine: Engine, account_id: int, stream: str) -> str | None:
    with engine.connect() as connection:
        return connection.execute(
            select(sync_cursors.c.cursor).where(
                sync_cursors.c.account_id == account_id, sync_cursors.c.stream == stream
            )
        ).scalar_one_or_none()


def update_connection(engine: Engine, account_id: int, *, base_url: str, sync_interval_s: int | None = None) -> None:
    """Point an account at a new address (the demo server's port changes between runs) or interval."""
    values: dict[str, Any] = {"base_url": base_url}
    if sync_interval_s is not None:
        values["sync_interval_s"] = sync_interval_s
    with engine.begin() as connection:
        connection.execute(update(accounts).where(accounts.c.id == account_id).values(**values))
