"""Kedro dataset for one relational table of storage spec §4.

Catalog entry (``conf/base/catalog.yml``)::

    pair_universe:
      type: statarb.storage.sql_dataset.SQLTableDataset
      table: pair_universe
      credentials: db          # {con: <SQLAlchemy URL>} from conf/*/credentials.yml
      load_args: {where: "symbol_a = :s", params: {s: AAPL}, columns: [pair_id, symbol_a]}
      # or load_args: {lazy: true} -> a pl.LazyFrame; equality filters run in SQL (sql_scan)
      save_args:
        mode: upsert                   # or insert
        keep_if_unchanged: [created_at]  # optional: stored stamp kept for an unchanged row
        write_batch: ingestion         # optional: staged into that open write batch
        replace_by: pair_id            # optional: a save holds its pairs whole (run_scope)

The first use of a URL in a process brings the database to the Alembic head
(:func:`~statarb.storage.database.ensure_schema`), so a fresh machine needs no set-up. Tables are
never dropped or recreated. In a read-only session (:mod:`statarb.storage.access`: a notebook or
``kedro ipython``, or an entry a pipeline does not produce) loads go through a read-only
connection, never migrate (an empty or outdated database raises, naming what to run) and
``save`` is refused. ``load`` returns a Polars DataFrame with the spec dtypes; ``save`` writes
a Polars (or pandas) frame in a single transaction through
func:`~statarb.storage.sql_io.write_frame` (``keep_if_unchanged`` is passed on). With ``write_batch``, a
save while that :mod:`~statarb.storage.write_batch` is open is staged and written with the batch's
other saves in one transaction when the batch is published; with no batch open it writes at once.
A :class:`~statarb.storage.run_scope.Scoped` frame first deletes the stored rows outside its
scope, and ``replace_by`` the stored rows of the written entities that the save does not rewrite,
both in the write's transaction (:mod:`statarb.storage.run_scope`).
"""

from __future__ import annotations

import logging
from typing import Any

import polars as pl
import sqlalchemy as sa
from kedro.io import AbstractDataset, DatasetError

from statarb.storage import write_batch
from statarb.storage.access import AccessControlled
from statarb.storage.database import (
    check_schema,
    ensure_schema,
    get_engine,
    redact_url,
    resolve_db_url,
    write_transaction,
)
from statarb.storage.run_scope import Scoped, describe, prune_table, replace_entities
from statarb.storage.schema import EXTENSION_TABLES, NATURAL_KEYS, SPEC_TABLES
from statarb.storage.sql_io import read_table, write_frame
from statarb.storage.sql_scan import scan_table

log = logging.getLogger(__name__)
_LOAD_KEYS = {"where", "params", "columns", "lazy"}
_SAVE_KEYS = {"mode", "keep_if_unchanged", "write_batch", "replace_by"}


class SQLTableDataset(AccessControlled, AbstractDataset[pl.DataFrame, pl.DataFrame]):
    """Load/upsert one spec §4 table as a Polars DataFrame (see module docstring)."""

    def __init__(
        self,
        table: str,
        credentials: dict[str, Any] | None = None,
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        known = SPEC_TABLES + EXTENSION_TABLES
        if table not in known:
            raise DatasetError(
                f"SQLTableDataset: unknown table {table!r}; known tables: {', '.join(known)}"
            )
        self._table = table
        self._url = resolve_db_url(credentials)
        self._load_args = dict(load_args or {})
        self._save_args = {"mode": "upsert", **(save_args or {})}
        bad = (set(self._load_args) - _LOAD_KEYS, set(self._save_args) - _SAVE_KEYS)
        if bad[0] or bad[1]:
            raise DatasetError(
                f"SQLTableDataset({table}): unsupported load_args {sorted(bad[0])} / "
                f"save_args {sorted(bad[1])}; allowed: load_args {sorted(_LOAD_KEYS)}, "
                f"save_args {sorted(_SAVE_KEYS)}"
            )
        if self._save_args["mode"] not in ("upsert", "insert"):
            raise DatasetError(
                f"SQLTableDataset({table}): save_args.mode must be 'upsert' or 'insert', "
                f"got {self._save_args['mode']!r}"
            )
        by = self._save_args.get("replace_by")
        if by is not None and (by not in NATURAL_KEYS[table] or self._save_args.get("write_batch")):
            raise DatasetError(
                f"SQLTableDataset({table}): save_args.replace_by must name a key column of "
                f"{NATURAL_KEYS[table]} and cannot be combined with write_batch, got {by!r}"
            )
        if self._load_args.get("lazy") and set(self._load_args) - {"lazy"}:
            raise DatasetError(
                f"SQLTableDataset({table}): load_args.lazy cannot be combined with "
                f"{sorted(set(self._load_args) - {'lazy'})}: filter the LazyFrame instead"
            )
        self.metadata = metadata

    def _engine(self) -> sa.Engine:
        if self.read_only:
            check_schema(self._url)
            return get_engine(self._url, read_only=True)
        ensure_schema(self._url)
        return get_engine(self._url)

    def load(self) -> pl.DataFrame | pl.LazyFrame:
        """Read the table (optionally filtered by ``load_args``) as a Polars DataFrame; with
        ``lazy: true`` a LazyFrame whose ``col == "value"`` filters run in the database
        (:func:`statarb.storage.sql_scan.scan_table`), so one run's rows are read, not all."""
        if self._load_args.get("lazy"):
            return scan_table(self._engine, self._table)
        return read_table(self._engine(), self._table, **self._load_args)

    def save(self, data: pl.DataFrame | Scoped) -> None:
        """Upsert (or insert) ``data`` into the table in one transaction (or stage it into the
        open write batch named by ``save_args.write_batch``); a :class:`Scoped` frame and
        ``replace_by`` first delete the stale rows (module docstring)."""
        self._guard_save()
        scope = data.scope if isinstance(data, Scoped) else None
        data = data.data if isinstance(data, Scoped) else data
        args = {
            "mode": self._save_args["mode"],
            "keep_if_unchanged": tuple(self._save_args.get("keep_if_unchanged", ())),
        }
        batch = write_batch.current(self._save_args.get("write_batch"))
        if batch is not None and scope is not None:
            raise DatasetError(f"{self._table}: a scoped save cannot join a write batch")
        if batch is not None:
            with batch.staging():
                ensure_schema(self._url)
                batch.stage_sql(self._url, self._table, data, **args)
            return
        self._engine()  # access rules, schema at head
        with write_transaction(self._url) as conn:  # SQLite: a concurrent writer waits
            if scope is not None:
                n = prune_table(conn, self._table, scope)
                if n:
                    log.info("%s: removed %d rows outside this run (%s)", self._table, n,
                             describe(scope))  # fmt: skip
            by = self._save_args.get("replace_by")
            if by is not None:
                frame = data if isinstance(data, pl.DataFrame) else pl.from_pandas(data)
                replace_entities(conn, self._table, frame, by)
            write_frame(conn, self._table, data, **args)

    def _exists(self) -> bool:
        """True when the table holds at least one row."""
        eng = self._engine()
        with eng.connect() as conn:
            t = sa.table(self._table)
            return (
                conn.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first() is not None
            )

    def _describe(self) -> dict[str, Any]:
        return {
            "table": self._table,
            "url": redact_url(self._url),
            "load_args": self._load_args,
            "save_args": self._save_args,
        }
