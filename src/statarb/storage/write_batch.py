"""Write batches: several dataset saves that are published together or not at all.

Kedro saves a node's outputs one after the other; a failure half-way (a full disk, a dropped
database connection, a constraint the database still refuses) would leave the first outputs
written. A write batch turns those saves into two phases, using Kedro's own load / save /
``confirm`` sequence (``Node(..., confirms=...)``; Kedro calls ``confirm()`` on those datasets after
all outputs of the node are saved):

1. **open** -- loading a :class:`WriteBatchDataset` (an input of the publishing node) opens the
   batch of its name (a stale open batch of that name is aborted first);
2. **stage** -- while it is open, every save of a dataset configured with
   ``save_args: {batch: <name>}`` is staged instead of written: Parquet partitions and files are
   written to temporary files beside their targets (:class:`~.partition_writer.PartitionWriter`),
   relational frames are kept for the commit;
3. **publish** -- ``confirm()`` of the :class:`WriteBatchDataset` commits: one transaction per
   database opens and receives every staged frame in staging order
   (:func:`~.sql_io.write_frame`); the staged files are made durable and moved into place, each
   replaced file kept as a hard link; the transactions commit; the links are deleted. Any failure
   before the last commit rolls the transactions back and puts every old file back, so the store,
   the database and the files are exactly as before.

A failed save aborts the batch (:meth:`WriteBatch.staging`): its temporary files are removed and
nothing is published. A run failing elsewhere while the batch is open leaves it to
:func:`abort` -- the project's ``AbortWriteBatchesHook`` calls it when a Kedro run fails, and the
next opening of the batch does anyway. Saves of those datasets while no batch is open write at once.

Limits: with several databases their commits are sequential (the first may stand if a later one
fails); a process killed between moving the files and the database commit leaves the new files
with the old rows (the temporary and ``.bak-`` files never match a reader's ``data.parquet``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa
from kedro.framework.hooks import hook_impl
from kedro.io import AbstractDataset, DatasetError

from statarb.storage.database import get_engine
from statarb.storage.partition_writer import PartitionWriter
from statarb.storage.sql_io import write_frame

__all__ = [
    "AbortWriteBatchesHook",
    "WriteBatch",
    "WriteBatchDataset",
    "abort",
    "begin",
    "current",
]

log = logging.getLogger(__name__)


class WriteBatch:
    """Staged saves of one batch (see the module docstring); use :func:`begin`."""

    def __init__(self, name: str, fsync: bool = True) -> None:
        self.name = name
        self.writer = PartitionWriter(fsync)
        self._sql: list[tuple[str, str, pl.DataFrame, dict[str, Any]]] = []
        self._on_close: list[Callable[[], None]] = []

    def on_close(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` once the batch is published or aborted (e.g. to remove the
        staging files its saves read from)."""
        self._on_close.append(callback)

    def _close(self) -> None:
        callbacks, self._on_close = self._on_close, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # cleanup must not hide the batch's own outcome
                log.exception("write batch %r: a close callback failed", self.name)

    @contextlib.contextmanager
    def staging(self) -> Iterator[WriteBatch]:
        """Context of one dataset's staging: a failure aborts the whole batch (its temporary
        files are removed at once, whoever runs the pipeline) and propagates."""
        try:
            yield self
        except BaseException:
            self.abort()
            raise

    def stage_sql(self, url: str, table: str, frame: Any, **write_args: Any) -> None:
        """Keep ``frame`` for ``write_frame(conn, table, frame, **write_args)`` at commit."""
        self._sql.append((url, table, frame, write_args))

    def stage_file(self, path: Path, write: Callable[[Path], None]) -> None:
        """Write a file's new content to a temporary file now (``write(tmp)``), move it at commit."""
        self.writer.stage(Path(path), write)

    def commit(self) -> None:
        """Publish every staged save (module docstring, step 3), or nothing."""
        conns: dict[str, tuple[sa.Connection, sa.Transaction]] = {}
        moved = False
        try:
            for url, table, frame, args in self._sql:
                if url not in conns:
                    conn = get_engine(url).connect()
                    if conn.dialect.name == "sqlite":  # write lock at BEGIN: others wait
                        conn = conn.execution_options(sqlite_begin="IMMEDIATE")
                    conns[url] = (conn, conn.begin())
                write_frame(conns[url][0], table, frame, **args)
            moved = True
            self.writer.commit(backup=True)
            for _conn, tx in conns.values():
                tx.commit()
        except BaseException:
            for _conn, tx in conns.values():
                if tx.is_active:
                    tx.rollback()
            if moved:
                self.writer.restore()
            self.writer.abort()
            raise
        finally:
            for conn, _tx in conns.values():
                conn.close()
            _OPEN.pop(self.name, None)
            self._close()
        self.writer.drop_backups()
        log.info(
            "write batch %r published: %d table write(s), %d file(s)",
            self.name,
            len(self._sql),
            self.writer.staged,
        )

    def abort(self) -> None:
        """Drop every staged save (temporary files removed, nothing published)."""
        self.writer.abort()
        self._sql = []
        _OPEN.pop(self.name, None)
        self._close()


_OPEN: dict[str, WriteBatch] = {}


def begin(name: str, fsync: bool = True) -> WriteBatch:
    """Open the batch ``name`` (aborting a stale open one of that name) and return it."""
    if name in _OPEN:
        log.warning("write batch %r was left open by a failed run: aborting it", name)
        _OPEN[name].abort()
    batch = WriteBatch(name, fsync)
    _OPEN[name] = batch
    return batch


def current(name: str | None) -> WriteBatch | None:
    """The open batch ``name``, or None (also for ``name=None``)."""
    return _OPEN.get(name) if name is not None else None


def abort(name: str | None = None) -> None:
    """Abort the open batch ``name``, or every open batch."""
    for key in [name] if name is not None else list(_OPEN):
        if key in _OPEN:
            _OPEN[key].abort()


class WriteBatchDataset(AbstractDataset[None, str]):
    """Catalog handle of a write batch: ``load()`` opens it, ``confirm()`` publishes it.

    Catalog entry::

        ingestion_batch:
          type: statarb.storage.write_batch.WriteBatchDataset
          name: ingestion

    and a node ``Node(publish, ["ingestion_batch", ...], [...], confirms="ingestion_batch")``
    whose outputs are datasets with ``save_args: {write_batch: ingestion}``.
    """

    def __init__(self, name: str, fsync: bool = True, metadata: dict[str, Any] | None = None):
        self._name = name
        self._fsync = fsync
        self.metadata = metadata

    def load(self) -> str:
        """Open the batch; returns its name."""
        begin(self._name, self._fsync)
        return self._name

    def save(self, data: None) -> None:
        raise DatasetError(
            f"WriteBatchDataset({self._name!r}) is opened by loading it and published by "
            "confirming it (Node(..., confirms=...)); it cannot be saved"
        )

    def confirm(self) -> None:
        """Publish the open batch (called by Kedro after the confirming node's saves)."""
        batch = current(self._name)
        if batch is None:
            raise DatasetError(f"write batch {self._name!r} is not open: nothing to publish")
        batch.commit()

    def _describe(self) -> dict[str, Any]:
        return {"name": self._name, "fsync": self._fsync}


class AbortWriteBatchesHook:
    """Kedro hook: a failed run aborts every open write batch (removes its temporary files)."""

    @hook_impl
    def on_pipeline_error(self, error: Exception, run_params: Any, pipeline: Any, catalog: Any):
        abort()
