"""Dump and restore of the relational database for ``statarb backup|restore`` (spec §9.4).

* SQLite: the online backup API (``sqlite3.Connection.backup``; SQLite manual, "Online Backup
  API"): a consistent copy page by page while other connections keep reading, from a read-only
  connection (``mode=ro``).
* PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore`` (PostgreSQL manual, "SQL Dump"),
  run with the URL's password in ``PGPASSWORD`` (never on the command line, never printed).

A dump records the Alembic revision and the row count of every table, which a restore checks.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from statarb.storage.database import current_revision, dispose_engines, get_engine, redact_url
from statarb.storage.errors import StorageError
from statarb.storage.secrets import mask


class BackupError(StorageError):
    """A backup or restore step failed; the message names the step and the object."""


def _sqlite_path(url: str) -> Path | None:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError(f"{url}: an in-memory SQLite database cannot be backed up")
    return Path(parsed.database)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """(libpq URL without password, environment with ``PGPASSWORD``) for pg_dump/pg_restore."""
    parsed = sa.make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} not found on PATH (PostgreSQL client tools are needed)")
    return path


def table_counts(url: str) -> dict[str, int]:
    """Row count of every table (read-only connection)."""
    eng = get_engine(url, read_only=True)
    with eng.connect() as conn:
        names = sorted(sa.inspect(conn).get_table_names())
        return {
            t: int(conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one()) for t in names
        }


def dump(url: str, folder: Path) -> dict[str, Any]:
    """Dump the database at ``url`` into ``folder``; return the manifest entry."""
    entry: dict[str, Any] = {
        "url": redact_url(url),
        "revision": current_revision(url, read_only=True),
        "tables": table_counts(url),
    }
    src = _sqlite_path(url)
    if src is not None:
        target = folder / "db.sqlite"
        with sqlite3.connect(f"file:{src.resolve().as_posix()}?mode=ro", uri=True) as source:
            dest = sqlite3.connect(target)
            try:
                source.backup(dest)
            finally:
                dest.close()
        entry.update(backend="sqlite", file=target.name)
        return entry
    target = folder / "db.pgdump"
    conn, env = _libpq(url)
    cmd = [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "-f", str(target)]
    res = subprocess.run([*cmd, conn], env=env, capture_output=True, text=True)
    if res.returncode != 0:
        raise BackupError(f"pg_dump of {redact_url(url)} failed: {mask(res.stderr.strip())}")
    entry.update(backend="postgresql", file=target.name)
    return entry


def _is_empty(url: str) -> bool:
    src = _sqlite_path(url)
    if src is not None and not src.exists():
        return True
    with get_engine(url).connect() as conn:
        return not sa.inspect(conn).get_table_names()


def restore(entry: dict[str, Any], folder: Path, url: str, force: bool = False) -> None:
    """Restore the dump described by ``entry`` (in ``folder``) into the database at ``url``,
    which must be empty unless ``force``; check the revision and every table's row count."""
    target = _sqlite_path(url)
    backend = "sqlite" if target is not None else "postgresql"
    if entry["backend"] != backend:
        raise BackupError(
            f"the backup holds a {entry['backend']} database but {redact_url(url)} is {backend}: "
            "restore into the same kind of database"
        )
    if not force and not _is_empty(url):
        raise BackupError(
            f"{redact_url(url)} is not empty: restore into an empty database or --force"
        )
    dump_file = folder / entry["file"]
    dispose_engines()
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".restore-tmp")
        with sqlite3.connect(f"file:{dump_file.resolve().as_posix()}?mode=ro", uri=True) as source:
            dest = sqlite3.connect(tmp)
            try:
                source.backup(dest)
            finally:
                dest.close()
        os.replace(tmp, target)
    else:
        conn, env = _libpq(url)
        cmd = [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"]
        if force:
            cmd += ["--clean", "--if-exists"]
        res = subprocess.run([*cmd, "--dbname", conn, str(dump_file)], env=env, capture_output=True,
                             text=True)  # fmt: skip
        if res.returncode != 0:
            raise BackupError(
                f"pg_restore into {redact_url(url)} failed: {mask(res.stderr.strip())}"
            )
    dispose_engines()
    got_rev = current_revision(url, read_only=True)
    if got_rev != entry["revision"]:
        raise BackupError(f"restored revision {got_rev!r} != backed-up {entry['revision']!r}")
    counts = table_counts(url)
    if counts != entry["tables"]:
        diff = {t: (entry["tables"].get(t), counts.get(t)) for t in set(counts) | set(entry["tables"])
                if entry["tables"].get(t) != counts.get(t)}  # fmt: skip
        raise BackupError(f"restored row counts differ from the backup (backup, restored): {diff}")
