"""PostgreSQL roles of the relational store (spec §9.5: "restrict write access to ingestion and
backtest services; read-only for research and reporting").

:func:`create_roles` creates (or updates) three LOGIN roles named ``<prefix>_writer``,
``<prefix>_reader`` and ``<prefix>_reporting`` and grants, on every table of the ``public``
schema and on the tables later migrations create (``ALTER DEFAULT PRIVILEGES``):

* writer (ingestion, alpha, backtest pipelines): ``SELECT, INSERT, UPDATE, DELETE`` on the data
  tables, the sequences of their ``SERIAL`` ids, ``SELECT`` only on ``alembic_version`` and
  ``schema_version``; no DDL: migrations stay with the owner (``statarb db upgrade``);
* reader (research, ``statarb sql``, notebooks): ``SELECT``, and ``default_transaction_read_only``
  on for the role;
* reporting (reporting pipeline): ``SELECT``, plus ``INSERT, UPDATE`` on ``backtest_metrics``
  alone (the pipeline upserts its metrics row).

The pipelines use whichever role their credentials name (``conf/<env>/credentials.yml``); a
refused write is reported as :class:`~statarb.storage.access.ReadOnlyStoreError` naming the table
and the role. Passwords, when wanted, come from ``$STATARB_<KIND>_PASSWORD`` and are never
printed. SQLite has no roles: give research a read-only copy or file permissions, and its
connections are opened ``mode=ro`` anyway.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

import sqlalchemy as sa

from statarb.storage.database import get_engine, redact_url
from statarb.storage.errors import StorageError

KINDS = ("writer", "reader", "reporting")
_PREFIX = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")
_VERSION_TABLES = ("alembic_version", "schema_version")


def role_names(prefix: str = "statarb") -> dict[str, str]:
    """kind -> role name."""
    if not _PREFIX.match(prefix):
        raise StorageError(f"role prefix {prefix!r} must match {_PREFIX.pattern}")
    return {k: f"{prefix}_{k}" for k in KINDS}


def _pg(url: str) -> sa.Engine:
    eng = get_engine(url)
    if eng.dialect.name != "postgresql":
        raise StorageError(
            f"{redact_url(url)}: roles exist only on PostgreSQL; SQLite tools open the file "
            "read-only (mode=ro) and its access is the file's permissions"
        )
    return eng


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def create_roles(
    url: str, prefix: str = "statarb", passwords: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Create or update the three roles and their grants in one transaction; return kind ->
    role. ``passwords`` (kind -> password) defaults to ``$STATARB_<KIND>_PASSWORD``."""
    names = role_names(prefix)
    if passwords is None:
        passwords = {
            k: os.environ[f"STATARB_{k.upper()}_PASSWORD"]
            for k in KINDS
            if os.environ.get(f"STATARB_{k.upper()}_PASSWORD")
        }
    eng = _pg(url)
    q = eng.dialect.identifier_preparer.quote
    with eng.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('statarb roles'))"))
        db = q(conn.execute(sa.text("SELECT current_database()")).scalar_one())
        tables = [
            t
            for t in conn.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).scalars()
        ]
        data = [q(t) for t in tables if t not in _VERSION_TABLES]
        versions = [q(t) for t in tables if t in _VERSION_TABLES]
        for kind, role in names.items():
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
            ).first()
            pw = f" PASSWORD {_literal(passwords[kind])}" if kind in passwords else ""
            verb = "ALTER" if exists else "CREATE"
            conn.exec_driver_sql(f"{verb} ROLE {q(role)} LOGIN{pw}")
            conn.exec_driver_sql(f"GRANT CONNECT ON DATABASE {db} TO {q(role)}")
            conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {q(role)}")
            if tables:
                conn.exec_driver_sql(
                    f"GRANT SELECT ON {', '.join(q(t) for t in tables)} TO {q(role)}"
                )
            conn.exec_driver_sql(
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {q(role)}"
            )
        w, r, rep = (q(names[k]) for k in KINDS)
        if data:
            conn.exec_driver_sql(f"GRANT INSERT, UPDATE, DELETE ON {', '.join(data)} TO {w}")
        if versions:
            conn.exec_driver_sql(f"REVOKE INSERT, UPDATE, DELETE ON {', '.join(versions)} FROM {w}")
        conn.exec_driver_sql(
            f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {w}"
        )
        conn.exec_driver_sql(
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT INSERT, UPDATE, DELETE ON TABLES TO {w}"
        )
        conn.exec_driver_sql(
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES "
            f"TO {w}"
        )
        if "backtest_metrics" in tables:
            conn.exec_driver_sql(f"GRANT INSERT, UPDATE ON backtest_metrics TO {rep}")
        conn.exec_driver_sql(f"ALTER ROLE {r} SET default_transaction_read_only = on")
    return names


def drop_roles(url: str, prefix: str = "statarb") -> None:
    """Revoke everything the roles hold in this database and drop them (cluster-wide)."""
    eng = _pg(url)
    q = eng.dialect.identifier_preparer.quote
    with eng.begin() as conn:
        for role in role_names(prefix).values():
            if conn.execute(
                sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
            ).first():
                conn.exec_driver_sql(f"DROP OWNED BY {q(role)}")
                conn.exec_driver_sql(f"DROP ROLE {q(role)}")
