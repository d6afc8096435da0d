"""On-disk format of one HDF5 unit file of the columnar store (spec §7.3; h5py).

One file per entity (symbol or pair), holding one group named as in the spec::

    <root>/source=<src>/<SYMBOL>.h5   group /bars/<SYMBOL>       (bars, ticks: /ticks/<SYMBOL>)
    <root>/<PAIR_ID>.h5               group /spreads/<PAIR_ID>   (ou_output: /ou/<PAIR_ID>)

Inside the group, one 1-D dataset per layout column except the entity column (the group name):
``datetime`` as int64 microseconds since the Unix epoch (UTC, attribute ``unit = "us"``),
``open``, ``high``, ... as float64, ``outlier_flag`` int8, ``missing_filled`` bool, ``batch_id``
int64, strings as variable-length UTF-8. A column with nulls has a boolean mask
``__valid__/<column>``; a column that is null throughout is listed in the group attribute
``all_null`` and not stored. Rows are ordered by (UTC day, batch, time), so every (day, batch)
*slice* is a contiguous row range, listed in the small ``__index__`` group (``day`` days since
the epoch, ``batch`` (-1 = null), ``start``/``stop`` rows, ``t0``/``t1`` first/last time in µs).

Chunking: every dataset is chunked along rows with the chunk length = the longest slice (a trading
day of one symbol; capped at :data:`MAX_CHUNK_ROWS`), so reading one day touches at most two chunks
per column, and a range read touches only the chunks of its days (HDF5 reads only the chunks a
selection intersects; HDF Group, "Chunking in HDF5"). Compression: deflate level
:data:`COMPRESSION_LEVEL` after the byte-shuffle filter, both built into every HDF5 library, so
any HDF5 reader (h5dump, PyTables, MATLAB, ...) opens the files. Measured on the default data
(``benchmarks/bench_hdf5.py``): level 1 reads 20 % faster than level 4 for a 0.3 % larger file;
h5py's LZF filter would be faster still but needs a plugin outside h5py.
File attributes ``statarb.schema_version``, ``statarb.layout``, ``statarb.batch_ids`` mirror the
Parquet key-value metadata.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import polars as pl

from statarb.storage.errors import StorageError
from statarb.storage.parquet_schemas import (
    BATCH_COLUMN,
    META_BATCHES,
    META_LAYOUT,
    META_SCHEMA_VERSION,
    READABLE_SCHEMA_VERSIONS,
    SCHEMA_VERSION,
    Layout,
)
from statarb.storage.store_batches import batch_ids, encode_batch_ids

GROUPS = {"bars": "bars", "ticks": "ticks", "spread_series": "spreads", "ou_output": "ou"}
SUFFIX = ".h5"
INDEX, VALID = "__index__", "__valid__"
MAX_CHUNK_ROWS = 1 << 16
COMPRESSION, COMPRESSION_LEVEL = "gzip", 1
US_PER_DAY = 86_400_000_000
_STR = h5py.string_dtype("utf-8")


class HDF5StoreError(StorageError, ValueError):
    """A store-level problem of the HDF5 tier (foreign or unreadable file, bad argument)."""


def group_path(lay: Layout, entity: str) -> str:
    """``/bars/AAPL``, ``/spreads/AAPL_MSFT`` (spec §7.3)."""
    return f"/{GROUPS[lay.name]}/{entity}"


def _file_order(df: pl.DataFrame, lay: Layout) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """Rows sorted by (day, batch, time) and the (day, batch) key of every row."""
    t = pl.col(lay.time_column).dt.epoch("us")
    b = pl.col(BATCH_COLUMN).fill_null(-1) if lay.versioned else pl.lit(-1, pl.Int64)
    keyed = df.with_columns(
        (t // US_PER_DAY).cast(pl.Int32).alias("__day"), b.cast(pl.Int64).alias("__batch")
    ).sort(["__day", "__batch", lay.time_column], maintain_order=True)
    return (
        keyed.drop("__day", "__batch"),
        keyed["__day"].to_numpy(),
        keyed["__batch"].to_numpy(),
    )


def _encode(s: pl.Series) -> np.ndarray:
    if isinstance(s.dtype, pl.Datetime):
        return s.dt.epoch("us").fill_null(0).to_numpy()
    if s.dtype == pl.String:
        return np.asarray(s.fill_null("").to_list(), dtype=object)
    if s.dtype == pl.Boolean:
        return s.fill_null(False).to_numpy()
    return s.fill_null(0).to_numpy()


def write_unit(path: Path, df: pl.DataFrame, lay: Layout, entity: str) -> None:
    """Write the unit content ``df`` (layout columns, one entity) to a new file ``path``."""
    df, day, batch = _file_order(df, lay)
    n = df.height
    change = np.flatnonzero((np.diff(day) != 0) | (np.diff(batch) != 0)) + 1
    starts = np.concatenate([[0], change]).astype(np.int64)
    stops = np.concatenate([change, [n]]).astype(np.int64)
    chunk = int(min(MAX_CHUNK_ROWS, max(1, int((stops - starts).max()))))
    opts = {"chunks": (chunk,), "compression": COMPRESSION, "compression_opts": COMPRESSION_LEVEL}
    times = df[lay.time_column].dt.epoch("us").to_numpy()
    with h5py.File(path, "w") as f:
        f.attrs[META_SCHEMA_VERSION] = str(SCHEMA_VERSION)
        f.attrs[META_LAYOUT] = lay.name
        f.attrs[META_BATCHES] = encode_batch_ids(batch_ids(df) if lay.versioned else [None])
        g = f.create_group(group_path(lay, entity))
        all_null = []
        for col in lay.schema.names():
            if col == lay.id_column:
                continue
            s = df[col]
            if s.null_count() == n:
                all_null.append(col)
                continue
            data = _encode(s)
            kw = {"dtype": _STR} if s.dtype == pl.String else {}
            ds = g.create_dataset(col, data=data, shuffle=s.dtype != pl.String, **opts, **kw)
            if isinstance(s.dtype, pl.Datetime):
                ds.attrs["unit"], ds.attrs["tz"] = "us", "UTC"
            if s.null_count():
                g.create_dataset(f"{VALID}/{col}", data=s.is_not_null().to_numpy(), **opts)
        g.attrs["all_null"] = json.dumps(all_null)
        idx = g.create_group(INDEX)
        idx["day"], idx["batch"] = day[starts], batch[starts]
        idx["start"], idx["stop"] = starts, stops
        idx["t0"], idx["t1"] = times[starts], times[stops - 1]


def check_unit(f: h5py.File, path: Path, lay: Layout) -> list[int | None]:
    """Check a unit's ``statarb.*`` attributes; return its batch ids."""
    if META_SCHEMA_VERSION not in f.attrs:
        raise HDF5StoreError(f"{path}: no {META_SCHEMA_VERSION} attribute; not a statarb file")
    if f.attrs.get(META_LAYOUT) != lay.name:
        raise HDF5StoreError(
            f"{path}: written for layout {f.attrs.get(META_LAYOUT)!r}, read as {lay.name!r}"
        )
    version = int(f.attrs[META_SCHEMA_VERSION])
    if version not in READABLE_SCHEMA_VERSIONS:
        raise HDF5StoreError(
            f"{path}: schema version {version} not readable; this code reads versions "
            f"{sorted(READABLE_SCHEMA_VERSIONS)} (current {SCHEMA_VERSION})"
        )
    return list(json.loads(f.attrs.get(META_BATCHES, "[null]")))


def read_index(g: h5py.Group) -> pl.DataFrame:
    """The unit's slice index: ``day`` (Date), ``batch`` (null = unversioned), rows, times."""
    idx = g[INDEX]
    out = pl.DataFrame({k: idx[k][()] for k in ("day", "batch", "start", "stop", "t0", "t1")})
    return out.with_columns(
        pl.col("day").cast(pl.Date),
        pl.when(pl.col("batch") >= 0).then(pl.col("batch")).alias("batch"),
    )


def read_rows(
    g: h5py.Group, lay: Layout, entity: str, runs: list[tuple[int, int]], columns: list[str]
) -> pl.DataFrame:
    """Rows ``[lo, hi)`` of every run, for ``columns`` of the layout (id column included)."""
    all_null = set(json.loads(g.attrs.get("all_null", "[]")))
    n = sum(hi - lo for lo, hi in runs)
    out: dict[str, pl.Series] = {}
    for col in columns:
        dtype = lay.schema[col]
        if col == lay.id_column:
            out[col] = pl.Series(col, [entity] * n, dtype=pl.String)
            continue
        if col in all_null or col not in g:
            out[col] = pl.Series(col, [None] * n, dtype=dtype)
            continue
        ds = g[col].asstr() if dtype == pl.String else g[col]
        parts = [ds[lo:hi] for lo, hi in runs]
        arr = np.concatenate(parts) if parts else np.empty(0)
        if isinstance(dtype, pl.Datetime):
            s = (
                pl.Series(col, arr, dtype=pl.Int64)
                .cast(pl.Datetime("us"))
                .dt.replace_time_zone("UTC")
            )
        elif dtype == pl.String:
            s = pl.Series(col, arr.tolist() if arr.size else [], dtype=pl.String)
        else:
            s = pl.Series(col, arr).cast(dtype)
        vkey = f"{VALID}/{col}"
        if vkey in g:
            valid = np.concatenate([g[vkey][lo:hi] for lo, hi in runs]) if runs else np.empty(0)
            s = pl.select(pl.when(pl.Series(valid, dtype=pl.Boolean)).then(s)).to_series()
            s = s.alias(col)
        out[col] = s
    return pl.DataFrame(out, schema={c: lay.schema[c] for c in columns})
