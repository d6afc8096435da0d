"""HDF5 tier of the columnar store: atomic idempotent writes and chunk-pruned reads (spec §7.3).

Same contract as the Parquet tier (:mod:`.parquet_store`), same layouts, same validation
(:mod:`.frame_checks`), same write modes and batch rules (:mod:`.store_batches`); only the unit
of storage differs: one file per entity (symbol or pair) instead of one per day, laid out as
:mod:`.hdf5_format` describes. Writes stage each changed entity file as ``<name>.tmp-<uuid>`` and
move them into place with :class:`.partition_writer.PartitionWriter` (HDF5 files are never
modified in place, so a killed write leaves every file old or new and readable). Reads
(:func:`scan_hdf5`) choose the files from the entity and source, the rows from each file's slice
index (days in ``[start, end]``, the version wanted per day), and read only those row ranges of
only the needed columns; the result is a Polars LazyFrame (an IO source: projection and
predicates are applied per file as the frame is collected).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Literal

import h5py
import polars as pl
from polars.io.plugins import register_io_source

from statarb.storage.frame_checks import FrameValidationError, duplicate_violation, validate_frame
from statarb.storage.hdf5_format import (
    SUFFIX,
    HDF5StoreError,
    check_unit,
    group_path,
    read_index,
    read_rows,
    write_unit,
)
from statarb.storage.io_source import pushed_down
from statarb.storage.leftovers import sweep
from statarb.storage.parquet_read import (
    TimeBound,
    _as_list,
    _bound,
    check_scan_args,
    reject_source_for_pairs,
)
from statarb.storage.parquet_schemas import Layout, get_layout
from statarb.storage.parquet_write import _check_date_column, _source_values
from statarb.storage.partition_writer import PartitionWriter
from statarb.storage.store_batches import check_mode, combine

__all__ = ["HDF5StoreError", "read_unit", "scan_hdf5", "unit_files", "unit_path", "write_hdf5"]


def unit_path(root: str | Path, lay: Layout, entity: str, source: str | None) -> Path:
    """``<root>/source=<src>/<entity>.h5`` (bars, ticks) or ``<root>/<entity>.h5`` (pairs)."""
    base = Path(root) / f"source={source}" if "source" in lay.partition_by else Path(root)
    return base / f"{entity}{SUFFIX}"


def _write_tmp(tmp: Path, df: pl.DataFrame, lay: Layout, entity: str) -> None:
    """Write one staged unit file (made durable by the writer's commit)."""
    write_unit(tmp, df, lay, entity)


def read_unit(path: Path, lay: Layout, entity: str) -> pl.DataFrame:
    """Every row of a stored unit (all versions), layout columns."""
    with h5py.File(path, "r") as f:
        check_unit(f, path, lay)
        g = f[group_path(lay, entity)]
        idx = read_index(g)
        runs = [(0, int(idx["stop"].max()))] if idx.height else []
        return read_rows(g, lay, entity, runs, list(lay.schema.names()))


def write_hdf5(
    df: pl.DataFrame | pl.LazyFrame,
    root: str | Path,
    layout: str | Layout,
    source: str | None = None,
    mode: Literal["merge", "replace", "append"] = "merge",
    *,
    batch: int | None = None,
    fsync: bool = True,
) -> list[Path]:
    """Validate ``df`` and rewrite, atomically, the file of every entity it touches.

    Arguments and modes as :func:`statarb.storage.parquet_write.write_partitions`; ``replace``
    replaces an entity's stored rows (its current version) by the new ones. Returns the written
    files in write order (an ``append`` that changes nothing in an entity skips its file).
    """
    lay = get_layout(layout)
    if mode not in ("merge", "replace", "append"):
        raise HDF5StoreError(f"mode must be 'merge', 'replace' or 'append', got {mode!r}")
    check_mode(lay, mode, batch)
    reject_source_for_pairs(lay, source)
    sweep(root)  # temporary files a killed write of this dataset left behind
    if isinstance(df, pl.LazyFrame):
        df = df.collect()
    sources = _source_values(df, lay, source) if "source" in lay.partition_by else [None]
    if "date" in lay.partition_by and "date" in df.columns:
        _check_date_column(df, lay)
    src = df.get_column("source") if "source" in df.columns else None
    data = validate_frame(
        df.drop([c for c in lay.hive_only if c in df.columns]), lay, check_duplicates=False
    )
    if data.height == 0:
        return []
    data = data.with_columns(
        (src if src is not None else pl.lit(sources[0], pl.String)).alias("__source")
    )
    units = data.partition_by(["__source", lay.id_column], as_dict=True, maintain_order=True)
    scopes: dict[str | None, set[dt.date] | None] = {}
    if mode == "replace" and lay.versioned:  # replacing days also touches other symbols' files
        for (unit_source, _), part in units.items():
            days = set(part.get_column(lay.time_column).dt.date().unique().to_list())
            scopes[unit_source] = (scopes.get(unit_source) or set()) | days
        for unit_source, days in scopes.items():
            for path in unit_files(root, lay, source=unit_source):
                key = (unit_source, path.name[: -len(SUFFIX)])
                if key not in units and _holds_days(path, lay, key[1], days):
                    units[key] = data.clear().select(data.columns)
    writer = PartitionWriter(fsync)
    written: list[Path] = []
    emptied: list[Path] = []
    try:
        for (unit_source, entity), part in sorted(units.items(), key=lambda kv: kv[0]):
            rows = part.drop("__source")
            bad = duplicate_violation(rows, lay)
            if bad is not None:
                raise FrameValidationError(lay.name, [bad])
            path = unit_path(root, lay, entity, unit_source)
            old = read_unit(path, lay, entity) if path.is_file() else None
            new = combine(old, rows, lay, mode, batch, scopes.get(unit_source))
            if new is None:
                continue
            if new.height == 0:
                emptied.append(path)
                continue
            writer.stage(path, lambda tmp, new=new, e=entity: _write_tmp(tmp, new, lay, e))
            written.append(path)
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    for path in emptied:  # a replace left an entity file without rows
        path.unlink(missing_ok=True)
    return written


def _holds_days(path: Path, lay: Layout, entity: str, days: set[dt.date]) -> bool:
    with h5py.File(path, "r") as f:
        check_unit(f, path, lay)
        idx = read_index(f[group_path(lay, entity)])
    return bool(idx.filter(pl.col("day").is_in(list(days))).height)


def unit_files(
    root: str | Path,
    layout: str | Layout,
    ids: str | Iterable[str] | None = None,
    source: str | Iterable[str] | None = None,
) -> list[Path]:
    """Existing unit files of the entities ``ids`` (all when ``None``) and ``source``, sorted."""
    lay = get_layout(layout)
    reject_source_for_pairs(lay, source)
    root = Path(root)
    if "source" in lay.partition_by:
        wanted = _as_list(source)
        folders = sorted(
            p
            for p in root.glob("source=*")
            if p.is_dir() and (wanted is None or p.name[len("source=") :] in wanted)
        )
    else:
        folders = [root] if root.is_dir() else []
    names = _as_list(ids)
    out = []
    for folder in folders:
        for f in sorted(folder.glob(f"*{SUFFIX}")):
            if names is None or f.name[: -len(SUFFIX)] in names:
                out.append(f)
    return out


def _slices(idx: pl.DataFrame, lo: dt.date | None, hi: dt.date | None, pin: int | None) -> list:
    """Row runs of the wanted days, each day at its highest version ``<= pin``."""
    sel = idx
    if lo is not None:
        sel = sel.filter(pl.col("day") >= lo)
    if hi is not None:
        sel = sel.filter(pl.col("day") <= hi)
    b0 = pl.col("batch").fill_null(0)
    if pin is not None:
        sel = sel.filter(b0 <= pin)
    sel = sel.filter(b0 == b0.max().over("day")).sort("start")
    runs: list[tuple[int, int]] = []
    for start, stop in sel.select("start", "stop").iter_rows():
        if runs and runs[-1][1] == start:
            runs[-1] = (runs[-1][0], stop)
        else:
            runs.append((start, stop))
    return runs


def scan_hdf5(
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
    """Lazy frame over the HDF5 store; arguments and result as
    :func:`statarb.storage.parquet_read.scan_store` (same schema, hive columns included)."""
    lay = get_layout(layout)
    check_scan_args(lay, columns, symbols, pair_ids, batch, HDF5StoreError)
    lo, hi = _bound(start, "start"), _bound(end, "end")
    if lo and hi and lo[0] > hi[0]:
        raise HDF5StoreError(f"start {lo[0]} is after end {hi[0]}")
    ids = _as_list(symbols) if symbols is not None else _as_list(pair_ids)
    files = unit_files(root, lay, ids, source)
    schema = lay.read_schema

    def read(file_cols: list[str]) -> Iterator[pl.DataFrame]:
        for path in files:
            entity = path.name[: -len(SUFFIX)]
            with h5py.File(path, "r") as f:
                check_unit(f, path, lay)
                g = f[group_path(lay, entity)]
                runs = _slices(read_index(g), lo and lo[0].date(), hi and hi[0].date(), batch)
                df = read_rows(g, lay, entity, runs, file_cols)
            df = _bounded(df, lay, lo, hi)
            if "source" in lay.hive_only:
                src = path.parent.name[len("source=") :]
                df = df.with_columns(pl.lit(src, pl.String).alias("source"))
            if "date" in lay.hive_only:
                df = df.with_columns(pl.col(lay.time_column).dt.date().alias("date"))
            yield df

    def frames(with_columns, predicate, n_rows, _batch_size) -> Iterator[pl.DataFrame]:
        wanted = list(with_columns) if with_columns is not None else schema.names()
        file_cols = [c for c in schema.names() if c in lay.schema and (c in wanted or c in
                     (lay.time_column, lay.id_column))]  # fmt: skip
        yield from pushed_down(read(file_cols), predicate, wanted, n_rows)

    lf = register_io_source(frames, schema=schema, explain_name="HDF5 SCAN")
    if columns is not None:
        lf = lf.select(list(columns))
    return lf


def _bounded(df: pl.DataFrame, lay: Layout, lo: tuple | None, hi: tuple | None) -> pl.DataFrame:
    t = pl.col(lay.time_column)
    if lo is not None:
        df = df.filter(t >= lo[0])
    if hi is not None:
        df = df.filter(t < hi[0] + dt.timedelta(days=1) if hi[1] else t <= hi[0])
    return df
