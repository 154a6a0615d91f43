"""Facts about the profile itself, kept in its database: its id, and small settings that travel with it."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, insert, select

from app.store.schema import profile_settings


def profile_id(engine: Engine) -> str:
    with engine.begin() as connection:
        value = connection.execute(
            select(profile_settings.c.value).where(profile_settings.c.key == "profile_id")
        ).scalar_one_or_none()
        if value is None:
            value = uuid.uuid4().hex
            connection.execute(insert(profile_settings).values(key="profile_id", value=value))
    return str(value)
