"""Shared fixtures: relational back-ends (SQLite and the PostgreSQL server of this project's machines).

Every test that takes ``db_url`` runs twice, once per back-end. Each gets a fresh, empty database:
a SQLite file in ``tmp_path`` or a throw-away PostgreSQL database that is dropped afterwards.
Without a reachable PostgreSQL the PostgreSQL variants are skipped with the reason shown, except
under ``CI=true``, where an unreachable server is a failure.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

PG_ADMIN_URL = os.environ.get(
    "STATARB_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_pg_state: dict[str, str | None] = {}


def _pg_unavailable_reason() -> str | None:
    """Return why PostgreSQL cannot be used, or ``None`` when it answers (cached per process)."""
    if "reason" not in _pg_state:
        try:
            eng = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
            with eng.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            eng.dispose()
            _pg_state["reason"] = None
        except Exception as exc:  # any driver/connection error means "not available"
            _pg_state["reason"] = (
                f"PostgreSQL at {PG_ADMIN_URL} unreachable: {exc.__class__.__name__}: {exc}"
            )
    return _pg_state["reason"]


@contextlib.contextmanager
def throwaway_pg_database() -> Iterator[str]:
    """Create a fresh PostgreSQL database, yield its URL, drop it afterwards.

    Skips (or fails under ``CI=true``) when the server is unreachable.
    """
    reason = _pg_unavailable_reason()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    name = f"statarb_t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        from statarb.storage import database as _db  # dispose cached engines before dropping

        _db.dispose_engines()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """URL of a fresh, empty database on each back-end."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'statarb.db'}"
        return
    with throwaway_pg_database() as url:
        yield url


@pytest.fixture(autouse=True)
def _no_open_write_batch() -> Iterator[None]:
    """Write batches are process-wide (statarb.storage.write_batch): none leaks between tests."""
    yield
    from statarb.storage import write_batch

    write_batch.abort()
