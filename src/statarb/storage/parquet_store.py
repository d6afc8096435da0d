"""The Parquet tier in one import: its read path (:mod:`.parquet_read`: :func:`scan_store`,
:func:`partition_files`) and its write path (:mod:`.parquet_write`: :func:`write_partitions`).

Layouts and schemas are in :mod:`.parquet_schemas`, the Kedro dataset in :mod:`.parquet_dataset`,
the atomic file replacement in :mod:`.partition_writer` (docs/storage-columnar.md).
"""

from statarb.storage.parquet_read import (
    DATA_FILE,
    ParquetStoreError,
    TimeBound,
    check_file_version,
    file_info,
    partition_files,
    scan_store,
)
from statarb.storage.parquet_write import write_partitions

__all__ = [
    "DATA_FILE",
    "ParquetStoreError",
    "TimeBound",
    "check_file_version",
    "file_info",
    "partition_files",
    "scan_store",
    "write_partitions",
]
