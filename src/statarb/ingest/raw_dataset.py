"""Kedro dataset giving the raw bytes of one vendor file (parsing happens in the nodes).

Used as the per-partition dataset of ``kedro_datasets.partitions.PartitionedDataset`` over
``data/01_raw/bars`` and ``data/01_raw/ticks``: each partition id is the file name, so
validation reports and errors can name the file and the 1-based data row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

import fsspec
from kedro.io import AbstractDataset, DatasetError
from kedro.io.core import get_filepath_str, get_protocol_and_path
from kedro_datasets.partitions import PartitionedDataset

log = logging.getLogger(__name__)


class RawBytesDataset(AbstractDataset[bytes, bytes]):
    """Load (and, for test fixtures, save) a file's raw bytes through fsspec."""

    def __init__(
        self,
        filepath: str,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        protocol, path = get_protocol_and_path(filepath)
        self._protocol = protocol
        self._filepath = PurePosixPath(path)
        self._fs = fsspec.filesystem(protocol, **(fs_args or {}))
        self.metadata = metadata

    def load(self) -> bytes:
        path = get_filepath_str(self._filepath, self._protocol)
        try:
            with self._fs.open(path, "rb") as fh:
                return fh.read()
        except FileNotFoundError as exc:
            raise DatasetError(f"raw file not found: {path}") from exc

    def save(self, data: bytes) -> None:
        path = get_filepath_str(self._filepath, self._protocol)
        parent = str(PurePosixPath(path).parent)
        self._fs.makedirs(parent, exist_ok=True)
        with self._fs.open(path, "wb") as fh:
            fh.write(data)

    def _exists(self) -> bool:
        return self._fs.exists(get_filepath_str(self._filepath, self._protocol))

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "protocol": self._protocol}


class OptionalPartitionedDataset(PartitionedDataset):
    """``PartitionedDataset`` whose load gives ``{}`` for a missing or empty folder.

    kedro-datasets refuses an empty folder (``No partitions found``); for inputs a vendor may not
    deliver at all (ticks, for a bars-only vendor) "no files" is a valid state, and the nodes
    downstream produce empty, typed outputs. The absence is logged, not silent.
    """

    def load(self) -> dict[str, Callable[[], Any]]:
        if not self._filesystem.exists(self._normalized_path) or not self._list_partitions():
            log.info("no raw files under %s: nothing to ingest there", self._path)
            return {}
        return super().load()
