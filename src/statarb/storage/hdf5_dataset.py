"""Kedro dataset over the HDF5 tier (:mod:`.hdf5_store`), a drop-in ``type:`` swap for
:class:`~.parquet_dataset.PartitionedParquetDataset`::

    bars_adjusted:
      type: statarb.storage.hdf5_dataset.HDF5StoreDataset
      path: data/bars_adjusted
      layout: bars
      credentials: db          # optional: keep bar_partition_index (relational) in sync

Options as in :mod:`.columnar_dataset`. With ``credentials`` and layout ``bars``, every save
rewrites the ``bar_partition_index`` rows of the symbols it touched (:mod:`.hdf5_index`).
"""

from __future__ import annotations

from typing import Any

from statarb.storage.columnar_dataset import ColumnarDataset
from statarb.storage.database import redact_url, resolve_db_url
from statarb.storage.hdf5_format import SUFFIX
from statarb.storage.hdf5_index import sync_index
from statarb.storage.hdf5_store import scan_hdf5, unit_files, write_hdf5


class HDF5StoreDataset(ColumnarDataset):
    """A columnar entity stored in the HDF5 tier (one file per symbol or pair)."""

    tier = "hdf5"
    _scan = staticmethod(scan_hdf5)
    _write = staticmethod(write_hdf5)

    def __init__(
        self,
        path: str,
        layout: str,
        source: str | None = None,
        credentials: dict[str, Any] | None = None,
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(path, layout, source, load_args, save_args, metadata)
        self._url = resolve_db_url(credentials) if credentials else None

    def _after_save(self, data: Any, batch: int | None) -> None:
        if self._url is not None and self._layout.name == "bars" and self._written:
            sync_index(self._url, self._path, self._written)

    def _exists(self) -> bool:
        return bool(unit_files(self._path, self._layout, source=self._source))

    def _prune(self, scope: Any) -> int:
        """Remove the unit files of pairs outside ``scope["pair_id"]`` (pair layouts only: a unit
        file is one pair's whole series)."""
        col = self._layout.id_column
        if col not in scope or "source" in self._layout.partition_by:
            return 0
        keep = {str(v) for v in scope[col]}
        gone = [
            f for f in unit_files(self._path, self._layout) if f.name[: -len(SUFFIX)] not in keep
        ]
        for f in gone:
            f.unlink()
        return len(gone)

    def _describe(self) -> dict[str, Any]:
        out = super()._describe()
        out["index_url"] = redact_url(self._url) if self._url else None
        return out
