"""Kedro dataset over the hive-partitioned Parquet store (:mod:`.parquet_store`).

Catalog entries and options: :mod:`.columnar_dataset` (shared with the HDF5 tier). Load returns
the lazy :func:`~.parquet_store.scan_store` frame; save calls
:func:`~.parquet_store.write_partitions`.
"""

from __future__ import annotations

from statarb.storage.columnar_dataset import LOAD_KEYS, SAVE_KEYS, ColumnarDataset
from statarb.storage.parquet_read import partition_files, scan_store
from statarb.storage.parquet_write import write_partitions

__all__ = ["LOAD_KEYS", "SAVE_KEYS", "PartitionedParquetDataset"]


class PartitionedParquetDataset(ColumnarDataset):
    """A columnar entity (bars, ticks, spread_series, ou_output) stored as partitioned Parquet.

    Args:
        path: Store root (Kedro makes relative paths absolute against the project root).
        layout: Layout name: ``bars``, ``ticks``, ``spread_series`` or ``ou_output``.
        source: Default ``source=`` partition for saves of bars/ticks and source filter for loads.
        load_args: Keyword arguments of ``scan_store`` (symbols, pair_ids, start, end, columns,
            source, batch).
        save_args: ``mode``: ``merge`` (default), ``replace`` or ``append``; ``write_batch``:
            name of the write batch a save joins while it is open.
        metadata: Free-form metadata, ignored by Kedro (kept for kedro-viz and plugins).
    """

    tier = "parquet"
    supports_write_batch = True
    _scan = staticmethod(scan_store)
    _write = staticmethod(write_partitions)

    def _exists(self) -> bool:
        return bool(partition_files(self._path, self._layout, source=self._source))
