"""Kedro dataset over the hive-partitioned Parquet store (:mod:`.parquet_store`).

Catalog entry (``conf/base/catalog.yml``)::

    bars:
      type: statarb.storage.parquet_dataset.PartitionedParquetDataset
      path: data/bars
      layout: bars
      source: SYNTH            # optional: default source on save, source filter on load
      load_args:               # optional, all keys optional
        symbols: [AAA, BBB]
        start: "2024-01-02"    # date = whole UTC day; datetimes must carry a tz offset
        end: "2024-01-31"
        columns: [symbol, datetime, close]
      save_args:
        mode: merge            # or replace
        batch: ingestion       # optional: staged into that open write batch

Load returns the lazy :func:`~.parquet_store.scan_store` frame (call ``.collect()``); save takes a
Polars DataFrame or LazyFrame and calls :func:`~.parquet_store.write_partitions`. With ``batch``,
a save while that :mod:`~statarb.storage.write_batch` is open stages its partition files, which
are moved into place when the batch is published; with no batch open it writes at once.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import polars as pl
from kedro.io import AbstractDataset, DatasetError

from statarb.storage import write_batch
from statarb.storage.parquet_schemas import get_layout
from statarb.storage.parquet_store import partition_files, scan_store, write_partitions

LOAD_KEYS = frozenset({"symbols", "pair_ids", "start", "end", "columns", "source"})
SAVE_KEYS = frozenset({"mode", "batch"})


class PartitionedParquetDataset(AbstractDataset[pl.DataFrame | pl.LazyFrame, pl.LazyFrame]):
    """A columnar entity (bars, ticks, spread_series, ou_output) stored as partitioned Parquet.

    Args:
        path: Store root (relative paths are taken as Kedro passes them, i.e. relative to the
            project root the session runs in).
        layout: Layout name: ``bars``, ``ticks``, ``spread_series`` or ``ou_output``.
        source: Default ``source=`` partition for saves of bars/ticks and source filter for loads.
        load_args: Keyword arguments of ``scan_store`` (symbols, pair_ids, start, end, columns,
            source).
        save_args: ``mode``: ``merge`` (default) or ``replace``; ``batch``: name of the write
            batch a save joins while it is open.
        metadata: Free-form metadata, ignored by Kedro (kept for kedro-viz and plugins).
    """

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
        self.metadata = metadata
        for args, allowed, what in (
            (self._load_args, LOAD_KEYS, "load_args"),
            (self._save_args, SAVE_KEYS, "save_args"),
        ):
            unknown = sorted(set(args) - allowed)
            if unknown:
                raise DatasetError(
                    f"PartitionedParquetDataset({path!r}): unknown {what} {unknown}; "
                    f"allowed {sorted(allowed)}"
                )

    def load(self) -> pl.LazyFrame:
        """Lazy frame over the needed partitions (filters from ``load_args``)."""
        args = {"source": self._source, **self._load_args}
        return scan_store(self._path, self._layout, **args)

    def save(self, data: pl.DataFrame | pl.LazyFrame) -> None:
        """Write ``data`` partition by partition (atomic per partition)."""
        if not isinstance(data, pl.DataFrame | pl.LazyFrame):
            raise DatasetError(
                f"PartitionedParquetDataset({self._path}) saves Polars DataFrame/LazyFrame, "
                f"got {type(data).__name__}"
            )
        batch = write_batch.current(self._save_args.get("batch"))
        args = {"source": self._source, "mode": self._save_args.get("mode", "merge")}
        if batch is None:
            write_partitions(data, self._path, self._layout, **args)
            return
        with batch.staging():
            write_partitions(data, self._path, self._layout, **args, writer=batch.writer)

    def _exists(self) -> bool:
        return bool(partition_files(self._path, self._layout, source=self._source))

    def _describe(self) -> dict[str, Any]:
        return {
            "path": str(PurePosixPath(self._path.as_posix())),
            "layout": self._layout.name,
            "source": self._source,
            "load_args": self._load_args,
            "save_args": self._save_args,
        }
