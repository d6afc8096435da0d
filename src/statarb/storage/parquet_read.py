"""Read path of the hive-partitioned Parquet store: pruned lazy reads (spec §5, §7.1).

:func:`scan_store` resolves the needed partition files from directory names alone
(:func:`partition_files`), checks each file's schema version (:func:`check_file_version`), and
hands only those files to ``pl.scan_parquet(..., hive_partitioning=True)``; symbol/pair and time
filters are applied lazily (predicate pushdown) and ``columns`` is a lazy ``select`` (projection
pushdown). Writing lives in :mod:`statarb.storage.parquet_write`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

import polars as pl

from statarb.storage.errors import StorageError
from statarb.storage.parquet_schemas import (
    META_BATCHES,
    META_LAYOUT,
    META_SCHEMA_VERSION,
    READABLE_SCHEMA_VERSIONS,
    SCHEMA_VERSION,
    Layout,
    get_layout,
)
from statarb.storage.store_batches import decode_batch_ids, needs_file, resolve

DATA_FILE = "data.parquet"
TimeBound = dt.datetime | dt.date | str


class ParquetStoreError(StorageError, ValueError):
    """A store-level problem: bad partition value, unreadable or foreign file, bad argument."""


# ---- reading ---------------------------------------------------------------------------------


def _as_list(x: str | Iterable[str] | None) -> list[str] | None:
    if x is None:
        return None
    return [x] if isinstance(x, str) else list(x)


def _bound(value: TimeBound | None, name: str) -> tuple[dt.datetime, bool] | None:
    """Normalise a start/end bound to (aware UTC datetime, is_date).

    A ``date`` (or ``YYYY-MM-DD`` string) means the whole UTC day; a datetime must be tz-aware.
    """
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = (
                dt.date.fromisoformat(value)
                if len(value) == 10
                else dt.datetime.fromisoformat(value)
            )
        except ValueError as exc:
            raise ParquetStoreError(f"{name}={value!r} is not an ISO date/datetime") from exc
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ParquetStoreError(
                f"{name}={value!r} is a naive datetime; stored times are UTC, pass a tz-aware "
                "datetime (e.g. datetime(..., tzinfo=timezone.utc)) or a date"
            )
        return value.astimezone(dt.UTC), False
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC), True
    raise ParquetStoreError(f"{name} must be a datetime, date or ISO string, got {value!r}")


def _children(folder: Path, column: str, wanted: list[str] | None) -> list[tuple[str, Path]]:
    """Sub-folders ``<column>=<value>`` of ``folder`` (optionally only the ``wanted`` values)."""
    if not folder.is_dir():
        return []
    prefix = f"{column}="
    out = []
    for child in sorted(folder.iterdir()):
        if child.is_dir() and child.name.startswith(prefix):
            value = child.name[len(prefix) :]
            if wanted is None or value in wanted:
                out.append((value, child))
    return out


def reject_source_for_pairs(lay: Layout, source: object) -> None:
    if source is not None and "source" not in lay.partition_by:
        raise ParquetStoreError(f"[{lay.name}] has no source partition; got source={source!r}")


def partition_files(
    root: str | Path,
    layout: str | Layout,
    pair_ids: str | Iterable[str] | None = None,
    start: TimeBound | None = None,
    end: TimeBound | None = None,
    source: str | Iterable[str] | None = None,
) -> list[Path]:
    """The partition files a read needs, resolved from directory names only (no file is opened).

    ``source`` and the UTC calendar dates ``[start.date(), end.date()]`` select the
    ``source=``/``date=`` folders of bars and ticks; ``pair_ids`` selects the ``pair_id=``
    folders of spread_series and ou_output. Returns existing ``data.parquet`` paths, sorted.
    """
    lay = get_layout(layout)
    reject_source_for_pairs(lay, source)
    root = Path(root)
    lo, hi = _bound(start, "start"), _bound(end, "end")
    if lo and hi and lo[0] > hi[0]:
        raise ParquetStoreError(f"start {lo[0]} is after end {hi[0]}")
    folders: list[Path] = [root]
    for column in lay.partition_by:
        nxt: list[Path] = []
        for folder in folders:
            if column == "source":
                nxt += [p for _, p in _children(folder, column, _as_list(source))]
            elif column == "pair_id":
                nxt += [p for _, p in _children(folder, column, _as_list(pair_ids))]
            elif column == "date":
                for value, p in _children(folder, column, None):
                    try:
                        day = dt.date.fromisoformat(value)
                    except ValueError:
                        raise ParquetStoreError(
                            f"malformed partition folder {p}: date must be YYYY-MM-DD"
                        ) from None
                    if (lo is None or day >= lo[0].date()) and (hi is None or day <= hi[0].date()):
                        nxt.append(p)
            else:  # pragma: no cover - layouts only use the three columns above
                raise ParquetStoreError(f"unsupported partition column {column!r}")
        folders = nxt
    return [f / DATA_FILE for f in folders if (f / DATA_FILE).is_file()]


def check_file_version(path: str | Path, layout: str | Layout) -> int:
    """Check a stored file's ``statarb.*`` metadata; return its schema version.

    Raises :class:`ParquetStoreError` when the file carries no version (not written by this
    store), belongs to another layout, or has a version outside ``READABLE_SCHEMA_VERSIONS``.
    """
    return file_info(path, layout)[0]


def file_info(path: str | Path, layout: str | Layout) -> tuple[int, list[int | None] | None]:
    """(schema version, batch ids) of a stored file, checked as :func:`check_file_version`.

    Batch ids are ``None`` for files written before versioned reprocessing (all unversioned).
    """
    lay = get_layout(layout)
    meta = pl.read_parquet_metadata(path)
    if META_SCHEMA_VERSION not in meta:
        raise ParquetStoreError(f"{path}: no {META_SCHEMA_VERSION} metadata; not a statarb file")
    if meta.get(META_LAYOUT) != lay.name:
        raise ParquetStoreError(
            f"{path}: written for layout {meta.get(META_LAYOUT)!r}, read as {lay.name!r}"
        )
    try:
        version = int(meta[META_SCHEMA_VERSION])
    except ValueError:
        raise ParquetStoreError(
            f"{path}: {META_SCHEMA_VERSION}={meta[META_SCHEMA_VERSION]!r} is not an integer"
        ) from None
    if version not in READABLE_SCHEMA_VERSIONS:
        raise ParquetStoreError(
            f"{path}: schema version {version} not readable; this code reads versions "
            f"{sorted(READABLE_SCHEMA_VERSIONS)} (current {SCHEMA_VERSION})"
        )
    return version, decode_batch_ids(meta.get(META_BATCHES))


def check_scan_args(
    lay: Layout,
    columns: Sequence[str] | None,
    symbols: object,
    pair_ids: object,
    batch: int | None,
    error: type[Exception],
) -> None:
    """The argument rules every tier's scan shares (raise ``error`` naming the layout)."""
    if columns is not None:
        unknown = [c for c in columns if c not in lay.read_schema]
        if unknown:
            raise error(
                f"[{lay.name}] unknown column(s) {unknown}; available {lay.read_schema.names()}"
            )
    if symbols is not None and lay.id_column != "symbol":
        raise error(f"[{lay.name}] has no symbol column; filter with pair_ids")
    if pair_ids is not None and lay.id_column != "pair_id":
        raise error(f"[{lay.name}] has no pair_id column; filter with symbols")
    if batch is not None and not lay.versioned:
        raise error(f"[{lay.name}] is not versioned; batch={batch!r} cannot apply")


def _empty(lay: Layout) -> pl.LazyFrame:
    return pl.LazyFrame(schema=lay.read_schema)


def _scan(files: list[Path], lay: Layout) -> pl.LazyFrame:
    return pl.scan_parquet(
        [str(f) for f in files],
        hive_partitioning=True,
        hive_schema=lay.hive_schema,
        schema=lay.schema,
        missing_columns="insert",  # N-1 files may lack optional columns added since
        extra_columns="raise",
    )


def scan_store(
    root: str | Path,
    layout: str | Layout,
    symbols: str | Iterable[str] | None = None,
    pair_ids: str | Iterable[str] | None = None,
    start: TimeBound | None = None,
    end: TimeBound | None = None,
    columns: Sequence[str] | None = None,
    source: str | Iterable[str] | None = None,
    batch: int | None = None,
) -> pl.LazyFrame:
    """Lazy frame over the partitions a query needs (spec §7.1: pruning + pushdown).

    Rows are filtered to ``symbols`` / ``pair_ids`` and to ``start <= time <= end`` on the
    layout's time column (a ``date`` bound covers its whole UTC day), then ``columns`` are
    selected. Loaded frames carry the layout schema plus the hive columns (``source`` String and
    ``date`` Date for bars/ticks). Nothing matching gives an empty LazyFrame with that schema.
    Versioned layouts give each (symbol, day) slice at its latest batch, or at the highest batch
    ``<= batch`` when pinned (:mod:`.store_batches`); files holding one version are read as they
    are, only files holding several versions pay for the resolution.
    """
    lay = get_layout(layout)
    check_scan_args(lay, columns, symbols, pair_ids, batch, ParquetStoreError)
    files = partition_files(root, lay, pair_ids=pair_ids, start=start, end=end, source=source)
    kept: list[Path] = []
    several = False
    for f in files:
        wanted, multi = needs_file(file_info(f, lay)[1], batch)
        if wanted:
            kept.append(f)
            several |= multi
    if not kept:
        lf = _empty(lay)
    else:  # one scan keeps the file order; the resolution only when a file holds versions
        lf = _scan(kept, lay)
        if several:
            lf = resolve(lf, lay, batch)
    ids = _as_list(symbols) if symbols is not None else _as_list(pair_ids)
    if ids is not None:
        lf = lf.filter(pl.col(lay.id_column).is_in(ids))
    lo, hi = _bound(start, "start"), _bound(end, "end")
    t = pl.col(lay.time_column)
    if lo is not None:
        lf = lf.filter(t >= lo[0])
    if hi is not None:
        lf = lf.filter(t < hi[0] + dt.timedelta(days=1) if hi[1] else t <= hi[0])
    if columns is not None:
        lf = lf.select(list(columns))
    return lf
