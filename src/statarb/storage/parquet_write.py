"""Write path of the hive-partitioned Parquet store: atomic, idempotent partition writes (spec §5).

On-disk layout (one file per partition)::

    <root>/source=<src>/date=<YYYY-MM-DD>/data.parquet     bars, ticks (date = UTC date)
    <root>/pair_id=<id>/data.parquet                        spread_series, ou_output

Writes (:func:`write_partitions`) validate the frame once (:mod:`.frame_checks`: row rules on the
frame as given, the duplicate-key rule on the sorted rows), order it by (partition, layout sort
order) -- no sort at all when it already is, one stable sort on the partition columns when it is
sorted by key -- and write each partition's contiguous slice. Each partition file is replaced
atomically (:class:`.partition_writer.PartitionWriter`): every new content is first written to
``data.parquet.tmp-<uuid>`` in its partition folder; then all of them are made durable (one
``syncfs`` of the file system on Linux, else an fsync per file), moved onto ``data.parquet`` in
partition order with ``os.replace`` (atomic on POSIX and Windows within one file system), and
the folder entries made durable (``syncfs`` again, else an fsync per folder). ``fsync=False``
skips the flushes (still atomic, not durable across a power loss). A failure while writing the
temporary files changes nothing; a failure while moving them leaves the first partitions new and
the others old; either way every partition is entirely old or entirely new, temporary files are
removed and, should a hard kill leave one behind, it never matches the reader's
``data.parquet`` name. ``mode="merge"`` (default) unions the new rows with the partition's
existing rows (read back only when the partition file exists), new rows winning on the key, so
re-running a write never duplicates a key and writing symbols in several batches loses nothing;
``mode="replace"`` makes the partition hold exactly the new rows (partitions the write does not
touch are left alone). Concurrent writers to the same partition are not coordinated: one writer
per dataset at a time.

Reads (:func:`scan_store`, :func:`partition_files`) live in :mod:`statarb.storage.parquet_read`;
:mod:`statarb.storage.parquet_store` re-exports both sides.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import polars as pl

from statarb.storage.frame_checks import (
    ROW_NR,
    FrameValidationError,
    Violation,
    duplicate_violation,
    strictly_increasing,
    validate_frame,
)
from statarb.storage.leftovers import sweep
from statarb.storage.parquet_read import (
    DATA_FILE,
    ParquetStoreError,
    check_file_version,
    reject_source_for_pairs,
)
from statarb.storage.parquet_schemas import (
    META_BATCHES,
    META_LAYOUT,
    META_SCHEMA_VERSION,
    SCHEMA_VERSION,
    Layout,
    get_layout,
)
from statarb.storage.partition_writer import PartitionWriter
from statarb.storage.store_batches import batch_ids, check_mode, combine, encode_batch_ids

__all__ = ["write_partitions"]

SOURCE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")


# ---- writing ---------------------------------------------------------------------------------


def _read_partition(path: Path, lay: Layout) -> pl.DataFrame:
    """Existing content of one partition file, under the current schema."""
    check_file_version(path, lay)
    return pl.scan_parquet(
        path, hive_partitioning=False, schema=lay.schema, missing_columns="insert"
    ).collect()


COMPRESSION = "zstd"
COMPRESSION_LEVEL = 1
"""Parquet codec of written files: zstd level 1 compresses about as well as the default level 3
on price data with about 25% less encode time; lz4 is faster but its files are twice as large."""


def _write_tmp(tmp: Path, df: pl.DataFrame, lay: Layout) -> None:
    """Write ``df`` to ``tmp`` with the statarb metadata (made durable by the writer's commit)."""
    meta = {META_SCHEMA_VERSION: str(SCHEMA_VERSION), META_LAYOUT: lay.name}
    if lay.versioned:
        meta[META_BATCHES] = encode_batch_ids(batch_ids(df))
    with open(tmp, "wb") as fh:
        df.write_parquet(
            fh,
            compression=COMPRESSION,
            compression_level=COMPRESSION_LEVEL,
            metadata=meta,
            statistics=True,
        )


def _source_values(df: pl.DataFrame, lay: Layout, source: str | None) -> list[str]:
    """Check the ``source`` argument and/or column; return the distinct source values, sorted."""
    if "source" in df.columns:
        col = df.get_column("source")
        if col.dtype != pl.String or col.null_count():
            raise ParquetStoreError(f"[{lay.name}] 'source' column must be non-null String")
        runs = col.filter(col.ne_missing(col.shift(1)))  # run starts: cheap on sorted input
        values = runs.unique().sort().to_list()
        bad = [v for v in values if v != source] if source is not None else []
        if bad:
            raise ParquetStoreError(
                f"[{lay.name}] source={source!r} given but the frame's 'source' column "
                f"also holds {bad[:5]}"
            )
    elif source is None:
        raise ParquetStoreError(
            f"[{lay.name}] is partitioned by source: pass source=... or a 'source' column"
        )
    else:
        values = [source]
    bad = [s for s in values if not SOURCE_PATTERN.match(s)]
    if bad:
        raise ParquetStoreError(
            f"[{lay.name}] source value(s) {bad[:5]} must match {SOURCE_PATTERN.pattern}"
        )
    return values


def _check_date_column(df: pl.DataFrame, lay: Layout) -> None:
    """A frame loaded from the store carries ``date``: it must be the UTC date of the time."""
    if df.schema["date"] != pl.Date or lay.time_column not in df.columns:
        raise ParquetStoreError(f"[{lay.name}] 'date' column must be Date")
    n_bad = df.select((pl.col("date") != pl.col(lay.time_column).dt.date()).sum()).item()
    if n_bad:
        raise ParquetStoreError(
            f"[{lay.name}] {n_bad} row(s) whose 'date' differs from the UTC date of "
            f"{lay.time_column!r}"
        )


def _order(
    data: pl.DataFrame, lay: Layout, part_cols: list[str], src_cols: list[str]
) -> pl.DataFrame:
    """``data`` sorted by (partition columns, layout sort order); raise on a duplicate key.

    Cheap paths: a frame already strictly increasing on that order needs nothing (and has no
    duplicate key, since the date is a function of the time); a frame strictly increasing on
    the layout's key within its source needs only a stable sort on the partition columns.
    """
    order = list(dict.fromkeys([*part_cols, *lay.sort_by]))
    if data.select(strictly_increasing(order).all()).item():
        return data
    if data.select(strictly_increasing([*src_cols, *lay.sort_by]).all()).item():
        return data.sort(part_cols, maintain_order=True)
    data = data.sort(order, maintain_order=True)
    key = [*src_cols, *lay.key]
    same = pl.all_horizontal(pl.col(c) == pl.col(c).shift(1) for c in key).fill_null(False)
    if data.select(same.any()).item():
        raise FrameValidationError(lay.name, [_duplicate(data, lay, src_cols)])
    return data


def _duplicate(sorted_data: pl.DataFrame, lay: Layout, src_cols: list[str]) -> Violation:
    """The duplicate-key violation, with row numbers of the written frame (``ROW_NR``)."""
    frame = sorted_data.sort(ROW_NR)
    if src_cols:  # the key is unique per source: report the first source with duplicates
        for _, part in sorted(frame.partition_by(src_cols, as_dict=True).items()):
            v = duplicate_violation(part, lay)
            if v is not None:
                return v
    v = duplicate_violation(frame, lay)
    assert v is not None
    return v


def write_partitions(
    df: pl.DataFrame | pl.LazyFrame,
    root: str | Path,
    layout: str | Layout,
    source: str | None = None,
    mode: Literal["merge", "replace", "append"] = "merge",
    *,
    batch: int | None = None,
    fsync: bool = True,
    writer: PartitionWriter | None = None,
) -> list[Path]:
    """Validate ``df``, sort it by key and write one file per partition atomically.

    ``source`` names the ``source=`` partition of bars/ticks (or the frame carries a ``source``
    column). ``mode="merge"`` unions with each partition's existing rows, new rows winning on the
    key; ``mode="replace"`` replaces each touched partition's content; ``mode="append"`` stores the
    rows as batch ``batch`` of versioned layouts, keeping every earlier version
    (:mod:`.store_batches` has the exact rules). ``fsync=False`` skips the
    disk flushes (replacement stays atomic, but is not durable across a power loss).
    Returns the written partition files in write order. See the module docstring for the
    atomicity guarantees.

    Every rule of :mod:`.frame_checks` is checked once: the row rules on the frame as given, the
    duplicate-key rule on the sorted rows (errors still give row numbers of ``df``).

    ``writer``: stage the partition files into this (caller-owned) writer instead of committing
    them (a :class:`~statarb.storage.write_batch.WriteBatch` publishes them with its other saves).
    """
    lay = get_layout(layout)
    if mode not in ("merge", "replace", "append"):
        raise ParquetStoreError(f"mode must be 'merge', 'replace' or 'append', got {mode!r}")
    check_mode(lay, mode, batch)
    reject_source_for_pairs(lay, source)
    sweep(root)  # temporary files a killed write of this dataset left behind
    if isinstance(df, pl.LazyFrame):
        df = df.collect()
    sources: list[str] = []
    if "source" in lay.partition_by:
        sources = _source_values(df, lay, source)
    if "date" in lay.partition_by and "date" in df.columns:
        _check_date_column(df, lay)
    src = df.get_column("source") if len(sources) > 1 else None
    data = validate_frame(
        df.drop([c for c in lay.hive_only if c in df.columns]), lay, check_duplicates=False
    )
    if data.height == 0:
        return []
    schema_cols = data.columns
    src_cols = ["source"] if src is not None else []
    extra = [src] if src is not None else []
    data = data.with_columns(*extra)
    if "date" in lay.partition_by:
        data = data.with_columns(pl.col(lay.time_column).dt.date().alias("date"))
    part_cols = [c for c in lay.partition_by if c in data.columns]
    data = _order(data.with_row_index(ROW_NR), lay, part_cols, src_cols)
    prefix = [f"source={sources[0]}"] if sources and src is None else []
    written: list[Path] = []
    own = writer is None
    writer = writer if writer is not None else PartitionWriter(fsync)
    try:
        for values, part in _slices(data, part_cols):
            folder = Path(root).joinpath(
                *prefix, *(f"{c}={_fmt(v)}" for c, v in zip(part_cols, values, strict=True))
            )
            path = folder / DATA_FILE
            old = _read_partition(path, lay) if path.is_file() and _reads_old(mode, lay) else None
            new = combine(old, part.select(schema_cols), lay, mode, batch)
            if new is None:  # an append that changes nothing in this partition
                continue
            writer.stage(path, lambda tmp, new=new: _write_tmp(tmp, new, lay))
            written.append(path)
        if own:
            writer.commit()
    except BaseException:
        if own:
            writer.abort()
        raise
    return written


def _slices(data: pl.DataFrame, part_cols: list[str]) -> Iterator[tuple[tuple, pl.DataFrame]]:
    """(partition values, rows) of a frame sorted by ``part_cols``: contiguous zero-copy slices."""
    change = pl.any_horizontal(pl.col(c) != pl.col(c).shift(1) for c in part_cols)
    starts = data.select(pl.arg_where(change.fill_null(True))).to_series().to_list()
    for lo, hi in zip(starts, [*starts[1:], data.height], strict=True):
        part = data.slice(lo, hi - lo)
        yield part.select(part_cols).row(0), part


def _reads_old(mode: str, lay: Layout) -> bool:
    """Whether a write must read the partition's stored rows (a replace of an unversioned
    layout does not: the partition simply becomes the new rows)."""
    return mode != "replace" or lay.versioned


def _fmt(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)
