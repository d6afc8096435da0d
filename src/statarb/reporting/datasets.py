"""Kedro dataset of the reporting pipeline's optional research frames.

``OptionalParquetDataset`` holds one research frame of :mod:`statarb.reporting.research_frames`
(written by the sweep / trial-statistics code, read by ``build_reports``). Loading a file that
does not exist yet gives ``None`` -- the tearsheet omits that section -- instead of failing the
run. Saves replace the file atomically (temporary file, fsync, ``os.replace``).

Catalog entry (``conf/base/catalog_reporting.yml``)::

    report_sweep_grid:
      type: statarb.reporting.datasets.OptionalParquetDataset
      filepath: data/07_model_output/research/sweep_grid.parquet
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from kedro.io import AbstractDataset, DatasetError

from statarb.storage.partition_writer import PartitionWriter


def _write_all(files: dict[Path, Any]) -> None:
    writer = PartitionWriter(fsync=True)
    try:
        for path, write in files.items():
            writer.stage(path, write)
        writer.commit()
    except BaseException:
        writer.abort()
        raise


class OptionalParquetDataset(AbstractDataset[pl.DataFrame, pl.DataFrame | None]):
    """A Parquet file that may not exist: ``load`` returns ``None`` then."""

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._path = Path(filepath)
        self.metadata = metadata

    def load(self) -> pl.DataFrame | None:
        if not self._path.is_file():
            return None
        try:
            return pl.read_parquet(self._path)
        except Exception as exc:
            raise DatasetError(f"{self._path}: not a readable Parquet file ({exc})") from exc

    def save(self, data: pl.DataFrame) -> None:
        _write_all({self._path: lambda p: data.write_parquet(p)})

    def _exists(self) -> bool:
        return self._path.is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._path)}
