"""Kedro datasets of the ingestion side outputs: quarantine Parquet files and the JSON report.

Both replace their file atomically (temporary file, fsync, ``os.replace``: never half a file) and
take part in a :mod:`statarb.storage.write_batch` when ``write_batch`` names an open one, so the
quarantine and the report are published with the store and the database or not at all.

Catalog entries (``conf/base/catalog_ingestion.yml``)::

    quarantine_bars:
      type: statarb.ingest.output_datasets.QuarantineDataset
      filepath: data/02_intermediate/quarantine/bars.parquet
      write_batch: ingestion

    ingestion_report:
      type: statarb.ingest.output_datasets.ReportDataset
      filepath: data/08_reporting/ingestion_report.json
      write_batch: ingestion
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

import polars as pl
from kedro.io import AbstractDataset, DatasetError

from statarb.storage import write_batch
from statarb.storage.partition_writer import PartitionWriter

T = TypeVar("T")


class _AtomicFileDataset(AbstractDataset[T, T], Generic[T]):
    """One local file, replaced atomically, optionally through a write batch."""

    def __init__(
        self, filepath: str, write_batch: str | None = None, metadata: dict[str, Any] | None = None
    ) -> None:
        self._path = Path(filepath)
        self._batch = write_batch
        self.metadata = metadata

    def _writer(self, data: T) -> Callable[[Path], None]:  # pragma: no cover - abstract
        raise NotImplementedError

    def save(self, data: T) -> None:
        batch = write_batch.current(self._batch)
        if batch is not None:
            with batch.staging():
                batch.stage_file(self._path, self._writer(data))
            return
        write = self._writer(data)
        writer = PartitionWriter(fsync=True)
        try:
            writer.stage(self._path, write)
            writer.commit()
        except BaseException:
            writer.abort()
            raise

    def _exists(self) -> bool:
        return self._path.is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._path), "write_batch": self._batch}


class QuarantineDataset(_AtomicFileDataset[pl.DataFrame]):
    """Quarantined rows (``rule``, ``source_file``, ``source_row``, raw values) as one Parquet file."""

    def _writer(self, data: pl.DataFrame | pl.LazyFrame) -> Callable[[Path], None]:
        """A frame is written at once; a lazy frame (the staged quarantine of a streamed run) is
        streamed into the file (Polars' streaming sink: same bytes as ``write_parquet`` of the
        collected rows on the default data, checked in the tests)."""
        if isinstance(data, pl.LazyFrame):
            return lambda tmp: data.sink_parquet(tmp)
        if not isinstance(data, pl.DataFrame):
            raise DatasetError(f"QuarantineDataset saves a Polars DataFrame, got {type(data)}")
        return lambda tmp: data.write_parquet(tmp)

    def load(self) -> pl.DataFrame:
        return pl.read_parquet(self._path)


class ReportDataset(_AtomicFileDataset[dict]):
    """The ingestion report: a JSON object written with sorted keys and 2-space indent."""

    def _writer(self, data: dict) -> Callable[[Path], None]:
        text = json.dumps(data, indent=2, sort_keys=True)
        return lambda tmp: tmp.write_text(text, encoding="utf-8")

    def load(self) -> dict:
        return json.loads(self._path.read_text(encoding="utf-8"))
