"""Alembic environment: runs on the connection Parley hands over, or on the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from app.store.schema import metadata

config = context.config


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    # The FTS5 shadow tables are made by raw SQL in the migrations, not by the models.
    return not (type_ == "table" and name.startswith("messages_fts"))


connection = config.attributes.get("connection")

if connection is not None:
    context.configure(
        connection=connection, target_metadata=metadata, render_as_batch=True, include_object=include_object
    )
    context.run_migrations()
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.begin() as fresh:
        context.configure(
            connection=fresh, target_metadata=metadata, render_as_batch=True, include_object=include_object
        )
        context.run_migrations()
