"""Connections and migrations of the relational tier (SQLite by default, PostgreSQL on request).

* :func:`resolve_db_url` - ``credentials["con"]``, else env ``STATARB_DB_URL``, else
  ``sqlite:///data/statarb.db`` (relative to the working directory, i.e. the Kedro project root).
* :func:`get_engine` - one cached :class:`sqlalchemy.Engine` per URL. SQLite: ``PRAGMA
  foreign_keys=ON`` on every connection, real ``BEGIN`` so reads and DDL join the transaction
  (SQLAlchemy's documented recipe for the ``sqlite3`` driver's legacy transaction mode), a 30 s busy
  timeout, and the parent folder of the file is created. PostgreSQL: session ``TimeZone=UTC``.
* :func:`write_transaction` - a transaction holding the write lock from its start (SQLite
  ``BEGIN IMMEDIATE``): concurrent writers wait for each other instead of failing.
* :func:`upgrade` - ``alembic upgrade head`` with the migrations shipped inside the package.
* :func:`ensure_schema` - upgrade once per process when the database is not at head.
* Read-only access (spec §9.5): ``get_engine(url, read_only=True)`` opens SQLite files with
  ``mode=ro`` (the SQLite URI parameter; the file is never created) and PostgreSQL sessions with
  ``default_transaction_read_only=on`` (every transaction is ``READ ONLY``; PostgreSQL manual,
  "SET TRANSACTION"). :func:`check_schema` is the read-only tools' replacement for
  :func:`ensure_schema`: it never migrates and says what to run instead.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from statarb.storage.errors import StorageError
from statarb.storage.secrets import register_url

DEFAULT_DB_URL = "sqlite:///data/statarb.db"
ENV_VAR = "STATARB_DB_URL"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_PG_LOCK_KEY = 0x5354_4152  # "STAR": serialises concurrent upgrades of one PostgreSQL database

_engines: dict[tuple[str, bool], sa.Engine] = {}
_at_head: set[str] = set()
_lock = threading.RLock()


def resolve_db_url(credentials: Mapping[str, Any] | None = None) -> str:
    """Return the database URL: ``credentials["con"]``, then ``$STATARB_DB_URL``, then the default."""
    if credentials and credentials.get("con"):
        url = str(credentials["con"])
    else:
        url = os.environ.get(ENV_VAR, "").strip() or DEFAULT_DB_URL
    register_url(url)  # its password is masked in every log record and printed message
    return url


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    return sa.make_url(url).render_as_string(hide_password=True)


class SchemaNotReady(StorageError):
    """A read-only tool found no database, an empty one or one below head (nothing was changed)."""


def _sqlite_file(url: str) -> Path | None:
    """The database file of a file-based SQLite URL (``None`` for memory / other back-ends)."""
    parsed = sa.make_url(url)
    db = parsed.database
    if (
        parsed.get_backend_name() != "sqlite"
        or not db
        or db == ":memory:"
        or db.startswith("file:")
    ):
        return None
    return Path(db).expanduser()


def _read_only_url(url: str) -> sa.URL:
    """SQLite: ``file:<abs path>?mode=ro`` as a URI (never creates the file); others unchanged."""
    parsed = sa.make_url(url)
    path = _sqlite_file(url)
    if path is None:
        return parsed
    return parsed.set(
        database=f"file:{path.resolve().as_posix()}", query={"mode": "ro", "uri": "true"}
    )


def _on_sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # let SQLAlchemy emit BEGIN itself (see _on_sqlite_begin)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _on_sqlite_begin(conn: sa.Connection) -> None:
    mode = conn.get_execution_options().get("sqlite_begin")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")


@contextlib.contextmanager
def write_transaction(url: str) -> Iterator[sa.Connection]:
    """A transaction that takes the write lock at its start.

    SQLite: ``BEGIN IMMEDIATE``, so a second writer waits for the busy timeout (30 s) at its
    first statement. A deferred ``BEGIN`` that reads first (e.g. the next free run id) and
    writes later can deadlock with another writer, and SQLite then fails one of them at once
    with ``database is locked`` without waiting (SQLite documentation, ``sqlite3_busy_handler``:
    the busy handler is not invoked where it could deadlock). PostgreSQL: a plain transaction
    (callers serialise with an advisory lock where they need to)."""
    with get_engine(url).connect() as conn:
        if conn.dialect.name == "sqlite":
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            yield conn


def get_engine(url: str, read_only: bool = False) -> sa.Engine:
    """Return the cached engine for ``url`` (created on first use; see module docstring).

    ``read_only=True``: SQLite ``mode=ro`` (a missing file raises :class:`SchemaNotReady`
    instead of being created), PostgreSQL ``default_transaction_read_only=on``.
    """
    with _lock:
        eng = _engines.get((url, read_only))
        if eng is not None:
            return eng
        parsed = sa.make_url(url)
        kwargs: dict[str, Any] = {}
        if parsed.get_backend_name() == "sqlite":
            path = _sqlite_file(url)
            if path is not None and read_only and not path.is_file():
                raise SchemaNotReady(
                    f"no SQLite database at {path}: run the pipelines (`kedro run`) or "
                    "`statarb db upgrade` first (read-only tools never create it)"
                )
            if path is not None and not read_only:
                path.parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30}
            if read_only:
                parsed = _read_only_url(url)
        elif parsed.get_backend_name() == "postgresql":
            opts = "-c timezone=UTC" + (" -c default_transaction_read_only=on" if read_only else "")
            kwargs["connect_args"] = {"options": opts}
        eng = sa.create_engine(parsed, **kwargs)
        if parsed.get_backend_name() == "sqlite":
            sa.event.listen(eng, "connect", _on_sqlite_connect)
            sa.event.listen(eng, "begin", _on_sqlite_begin)
        _engines[(url, read_only)] = eng
        return eng


def dispose_engines() -> None:
    """Close every pooled connection and forget the cached engines (tests, forked workers)."""
    with _lock:
        for eng in _engines.values():
            eng.dispose()
        _engines.clear()
        _at_head.clear()


def _forget_engines_in_child() -> None:
    """After ``fork`` (e.g. Kedro's ParallelRunner) never reuse the parent's pooled connections."""
    for eng in _engines.values():
        eng.dispose(close=False)
    _engines.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_engines_in_child)


def alembic_config(url: str | None = None) -> Config:
    """An Alembic :class:`Config` pointing at the packaged migrations (no ``alembic.ini`` needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """The head revision of the packaged migrations."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships a revision
        raise RuntimeError(f"no Alembic revision found under {MIGRATIONS_DIR}")
    return head


def current_revision(url: str, read_only: bool = False) -> str | None:
    """The Alembic revision the database at ``url`` is at (``None`` when never migrated)."""
    with get_engine(url, read_only=read_only).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def check_schema(url: str) -> None:
    """Raise :class:`SchemaNotReady` unless the database at ``url`` is at head; never migrates.

    Used by every read-only tool (``statarb sql|runs|recovery``, research sessions): on a missing,
    empty or outdated database it names the command to run instead of changing anything.
    """
    if url in _at_head:
        return
    head = head_revision()
    current = current_revision(url, read_only=True)
    if current is None:
        raise SchemaNotReady(
            f"{redact_url(url)} holds no statarb schema (empty database): run "
            "`statarb db upgrade` (or the pipelines, `kedro run`) first; read-only tools never "
            "create tables"
        )
    if current != head:
        raise SchemaNotReady(
            f"{redact_url(url)} is at schema revision {current!r}, this code reads {head!r}: run "
            "`statarb db upgrade` first (read-only tools never migrate)"
        )
    with _lock:
        _at_head.add(url)


def upgrade(url: str, revision: str = "head") -> None:
    """Run ``alembic upgrade <revision>`` on ``url`` in one transaction."""
    eng = get_engine(url)
    cfg = alembic_config(url)
    with eng.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    with _lock:
        if revision == "head":
            _at_head.add(url)


def ensure_schema(url: str) -> None:
    """Bring the database at ``url`` to head unless this process already did or saw it there.

    A concurrent upgrade by another process (both saw an empty database) is tolerated: on failure
    the revision is read again and the error re-raised only if the database is still not at head.
    """
    if url in _at_head:
        return
    head = head_revision()
    current = current_revision(url)
    if current is not None and current != head:
        known = {r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
        if current not in known:
            raise StorageError(
                f"{redact_url(url)} is at Alembic revision {current!r}, unknown to this version of "
                f"statarb (head {head!r}); upgrade the package or point STATARB_DB_URL elsewhere"
            )
    if current != head:
        try:
            upgrade(url)
        except Exception:
            if current_revision(url) != head:
                raise
    with _lock:
        _at_head.add(url)
