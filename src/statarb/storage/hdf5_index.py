"""``bar_partition_index``: the relational mirror of the HDF5 bar files' slice index (spec §7.3).

Each HDF5 unit file carries its own slice index (:mod:`.hdf5_format`), which readers use, so a
file is self-describing and the store stays readable without the database. The relational table
lists the same slices -- symbol, file, group, UTC day, batch, row range, first/last time -- so SQL
can answer "which file and rows hold AAPL in March, in which versions" (``statarb sql``), and it
is rewritten for every entity file a save changes, in one transaction after the files are in
place (files are the truth: :func:`sync_index` can always rebuild the rows from them).
``store`` is the store root relative to the project root (absolute outside a project).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import h5py
import polars as pl
import sqlalchemy as sa

from statarb.conventions import UTC_US
from statarb.storage.database import ensure_schema, get_engine
from statarb.storage.hdf5_format import SUFFIX, check_unit, group_path, read_index
from statarb.storage.parquet_schemas import Layout, get_layout
from statarb.storage.resolver import find_project_root
from statarb.storage.schema_versioning import bar_partition_index
from statarb.storage.sql_io import write_frame


def store_name(root: str | Path) -> str:
    """The store root relative to its project root (POSIX), or absolute outside a project."""
    root = Path(root).resolve()
    project = find_project_root(root)
    if project is None or project == root:
        return root.as_posix()
    return root.relative_to(project).as_posix()


def index_frame(root: str | Path, layout: str | Layout, files: Iterable[Path]) -> pl.DataFrame:
    """The ``bar_partition_index`` rows of the unit ``files`` (without ``id``)."""
    lay = get_layout(layout)
    root = Path(root)
    frames = []
    for path in files:
        entity = path.name[: -len(SUFFIX)]
        source = path.parent.name[len("source=") :]
        with h5py.File(path, "r") as f:
            check_unit(f, path, lay)
            idx = read_index(f[group_path(lay, entity)])
        frames.append(
            idx.select(
                pl.lit(entity).alias("symbol_id"),
                pl.lit(store_name(root)).alias("store"),
                pl.lit(source).alias("source"),
                pl.lit(path.relative_to(root).as_posix()).alias("path"),
                pl.lit(group_path(lay, entity)).alias("h5_group"),
                pl.col("day").alias("date"),
                pl.col("start").cast(pl.Int64).alias("row_start"),
                pl.col("stop").cast(pl.Int64).alias("row_stop"),
                pl.col("t0").cast(pl.Datetime("us")).dt.replace_time_zone("UTC").alias("start_ts"),
                pl.col("t1").cast(pl.Datetime("us")).dt.replace_time_zone("UTC").alias("end_ts"),
                pl.col("batch").cast(pl.Int64).alias("batch_id"),
            )
        )
    if not frames:
        return pl.DataFrame(schema=_SCHEMA)
    return pl.concat(frames)


_SCHEMA = {
    "symbol_id": pl.String,
    "store": pl.String,
    "source": pl.String,
    "path": pl.String,
    "h5_group": pl.String,
    "date": pl.Date,
    "row_start": pl.Int64,
    "row_stop": pl.Int64,
    "start_ts": UTC_US,
    "end_ts": UTC_US,
    "batch_id": pl.Int64,
}


def sync_index(url: str, root: str | Path, files: Iterable[Path], layout: str = "bars") -> int:
    """Replace the index rows of the (source, symbol) of each file by the file's slices and drop
    the rows of files that no longer exist; one transaction. Returns the rows written."""
    files = list(files)
    rows = index_frame(root, layout, files)
    store = store_name(root)
    units = rows.select("source", "symbol_id").unique().rows()
    t = bar_partition_index
    ensure_schema(url)
    with get_engine(url).begin() as conn:
        for source, symbol in units:
            conn.execute(
                sa.delete(t).where(
                    t.c.store == store, t.c.source == source, t.c.symbol_id == symbol
                )
            )
        if rows.height:
            write_frame(conn, "bar_partition_index", rows, mode="insert")
    return rows.height
