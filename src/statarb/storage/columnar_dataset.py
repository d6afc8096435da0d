"""Kedro datasets over the columnar store, one class per tier on a shared base.

Catalog entry (``conf/base/catalog.yml``); switching an entry between the Parquet and the HDF5
tier is a change of ``type`` only (the HDF5 tier also takes ``credentials`` for its relational
index)::

    bars:
      type: statarb.storage.parquet_dataset.PartitionedParquetDataset   # or ...hdf5_dataset.HDF5StoreDataset
      path: data/bars
      layout: bars
      source: SYNTH            # optional: default source on save, source filter on load
      load_args:               # optional, all keys optional
        symbols: [AAA, BBB]
        start: "2024-01-02"    # date = whole UTC day; datetimes must carry a tz offset
        end: "2024-01-31"
        columns: [symbol, datetime, close]
        batch: 3               # versioned layouts: the data as of batch 3 (default: latest)
      save_args:
        mode: merge            # merge | replace | append (append needs a run in batch mode)
        write_batch: ingestion # optional: staged into that open write batch (Parquet tier)

Load returns a lazy frame (call ``.collect()``); save takes a Polars DataFrame or LazyFrame, or a
:class:`~statarb.storage.frame_chunks.PartitionChunks` (disjoint partition groups, written one
after the other so only one group is in memory). The
dataset obeys :mod:`statarb.storage.access` (read-only in research sessions) and the run's batch
settings (``storage.batches``: a run in ``append`` mode saves versioned layouts as a new batch).
With ``save_args.write_batch``, a save while that :mod:`~statarb.storage.write_batch` is open
stages its partition files, which are moved into place when the batch is published (all or
nothing with the batch's other saves); with no batch open it writes at once. (``load_args.batch``
pins a data version; ``save_args.write_batch`` names a write batch.) A
:class:`~statarb.storage.run_scope.Scoped` frame first removes the entity partitions outside its
scope (Parquet tier; :mod:`statarb.storage.run_scope`).
"""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath
from typing import Any

import polars as pl
from kedro.io import AbstractDataset, DatasetError

from statarb.storage import write_batch
from statarb.storage.access import AccessControlled
from statarb.storage.frame_chunks import PartitionChunks
from statarb.storage.leftovers import sweep_once
from statarb.storage.parquet_schemas import get_layout
from statarb.storage.run_scope import Scoped, describe, prune_partitions

log = logging.getLogger(__name__)

LOAD_KEYS = frozenset({"symbols", "pair_ids", "start", "end", "columns", "source", "batch"})
SAVE_KEYS = frozenset({"mode", "write_batch"})
SAVE_MODES = ("merge", "replace", "append")


class ColumnarDataset(AccessControlled, AbstractDataset[pl.DataFrame | pl.LazyFrame, pl.LazyFrame]):
    """Shared behaviour of the tiers; subclasses set ``_write``, ``_scan`` and ``_exists``."""

    tier = "?"
    supports_write_batch = False

    def __init__(
        self,
        path: str,
        layout: str,
        source: str | None = None,
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._path = Path(path)
        self._layout = get_layout(layout)
        self._source = source
        self._load_args = dict(load_args or {})
        self._save_args = dict(save_args or {})
        self._batches: Any = None
        self.metadata = metadata
        name = type(self).__name__
        for args, allowed, what in (
            (self._load_args, LOAD_KEYS, "load_args"),
            (self._save_args, SAVE_KEYS, "save_args"),
        ):
            unknown = sorted(set(args) - allowed)
            if unknown:
                raise DatasetError(
                    f"{name}({path!r}): unknown {what} {unknown}; allowed {sorted(allowed)}"
                )
        if self._save_args.get("mode", "merge") not in SAVE_MODES:
            raise DatasetError(f"{name}({path!r}): save_args.mode must be one of {SAVE_MODES}")

    # ---- batches (storage.batches, spec §9.3) ----------------------------------------------
    def pin_batch(self, batch: int | None) -> None:
        """Loads see the data as of ``batch`` (``None``: latest)."""
        if batch is not None and not self._layout.versioned:
            raise DatasetError(f"{self._path}: layout {self._layout.name!r} is not versioned")
        self._load_args["batch"] = batch

    def use_batches(self, batches: Any) -> None:
        """Save versioned layouts as the run's batch (a :class:`.batch_log.RunBatches`)."""
        self._batches = batches if self._layout.versioned else None

    # ---- Kedro -----------------------------------------------------------------------------
    def load(self) -> pl.LazyFrame:
        """Lazy frame over the needed partitions (filters from ``load_args``)."""
        args = {"source": self._source, **self._load_args}
        return self._scan(self._path, self._layout, **args)

    def save(self, data: pl.DataFrame | pl.LazyFrame | PartitionChunks | Scoped) -> None:
        """Write ``data`` unit by unit (atomic per unit); chunks one after the other; a
        :class:`Scoped` frame after removing the partitions outside its scope."""
        self._guard_save()
        if isinstance(data, Scoped):
            if write_batch.current(self._save_args.get("write_batch")) is not None:
                raise DatasetError(f"{self._path}: a scoped save cannot join a write batch")
            n = self._prune(data.scope)
            if n:
                log.info("%s: removed %d partitions outside this run (%s)",
                         self._entry or self._path, n, describe(data.scope))  # fmt: skip
            data = data.data
        if isinstance(data, PartitionChunks):
            self._save_chunks(data)
            return
        if not isinstance(data, pl.DataFrame | pl.LazyFrame):
            raise DatasetError(
                f"{type(self).__name__}({self._path}) saves Polars DataFrame/LazyFrame, "
                f"got {type(data).__name__}"
            )
        mode, batch = self._save_args.get("mode", "merge"), None
        if self._batches is not None:
            mode, batch = "append", self._batches.batch_id(self._entry or str(self._path))
        elif mode == "append":
            raise DatasetError(
                f"{self._entry or self._path}: save_args.mode append needs a batch: run with "
                "--params storage.batches.mode=append"
            )
        staged = write_batch.current(self._save_args.get("write_batch"))
        if staged is None:
            self._written = self._write(
                data, self._path, self._layout, source=self._source, mode=mode, batch=batch
            )
        elif not self.supports_write_batch:
            raise DatasetError(
                f"{type(self).__name__}({self._path}): save_args.write_batch is supported on the "
                "Parquet tier only"
            )
        else:
            with staged.staging():
                self._written = self._write(
                    data, self._path, self._layout, source=self._source, mode=mode, batch=batch,
                    writer=staged.writer,
                )  # fmt: skip
        self._after_save(data, batch)

    def _prune(self, scope: Any) -> int:
        """Remove the stored entities outside ``scope``; the number removed."""
        return prune_partitions(self._path, self._layout.name, scope)

    def _save_chunks(self, chunks: PartitionChunks) -> None:
        """Save every chunk; a unit written by two chunks is refused (the second would replace
        the first's staged file in a write batch instead of merging with it; without a batch
        each write merges with what the previous one wrote)."""
        batched = write_batch.current(self._save_args.get("write_batch")) is not None
        seen: set[Path] = set()
        written: list[Path] = []
        with sweep_once():  # one scan of the tree for leftovers, not one per chunk
            for frame in chunks:
                self.save(frame)
                files = [Path(p) for p in (self._written or [])]
                again = seen.intersection(files)
                if again and batched:
                    raise DatasetError(
                        f"{self._entry or self._path}: {chunks.label}: unit(s) "
                        f"{sorted(map(str, again))[:3]} written by two chunks"
                    )
                seen.update(files)
                written += files
        self._written = written

    def _after_save(self, data: Any, batch: int | None) -> None:
        """Tier-specific bookkeeping after a save (the HDF5 tier syncs its index)."""

    def _describe(self) -> dict[str, Any]:
        return {
            "path": str(PurePosixPath(self._path.as_posix())),
            "layout": self._layout.name,
            "tier": self.tier,
            "source": self._source,
            "load_args": self._load_args,
            "save_args": self._save_args,
        }
