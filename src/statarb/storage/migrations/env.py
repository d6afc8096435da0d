"""Alembic environment of the relational tier, configured programmatically.

:func:`statarb.storage.database.upgrade` passes an open connection in
``config.attributes["connection"]``; otherwise the URL comes from ``sqlalchemy.url`` or
:func:`statarb.storage.database.resolve_db_url`. Offline mode renders SQL for the URL's dialect.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from statarb.storage.schema import metadata

config = context.config
target_metadata = metadata


def _url() -> str:
    from statarb.storage.database import resolve_db_url

    return config.get_main_option("sqlalchemy.url") or resolve_db_url()


def _configure(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE support on SQLite
    )


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    from statarb.storage.database import get_engine

    with get_engine(_url()).connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
        conn.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
