"""Versioned reprocessing of the columnar store (spec §9.3, "append with version or batch_id").

Rows of the versioned layouts (bars, ticks) carry an optional ``batch_id``. A **version** is the
content of one *slice* -- one entity (symbol) on one UTC day -- under one ``batch_id``; a null
``batch_id`` is the unversioned state (older than any batch, read as batch 0). A unit of storage
(a Parquet partition file, an HDF5 symbol file) may hold several versions of a slice.

How a write combines with what is stored (:func:`combine`), per unit:

* ``append`` (batch ``b``): for each slice in the new rows, version ``b`` = the slice's current
  version merged with the new rows (new rows win on the key). Slices whose content does not change
  are not stored again; nothing older is touched. This is how a re-ingest keeps history.
* ``merge`` (default): the new rows are merged, on the key, into the *current* version of their
  slice (an unversioned store behaves exactly as before batches existed). Rows that carry a
  ``batch_id`` (a frame loaded from the store) go to that version, so a loaded frame written back
  changes nothing.
* ``replace``: in every partition the write touches (a source and UTC day; a pair), the current
  version of each slice is replaced by the new rows (a slice the new rows lack loses its current
  version); older versions stay. An unversioned partition simply holds the new rows.

How a read picks rows (:func:`resolve`): for each slice the highest version ``<= pin`` (default:
the latest). :func:`batch_read` gives the highest ``batch_id`` among the rows a consumer read;
pinning that batch later returns exactly the same rows (every slice's version ``v`` was the
highest ``<= P`` at read time, so no version lies in ``(v, max]``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Sequence
from typing import Literal

import polars as pl

from statarb.storage.errors import StorageError
from statarb.storage.parquet_schemas import BATCH_COLUMN, Layout

Mode = Literal["merge", "replace", "append"]
MODES: tuple[str, ...] = ("merge", "replace", "append")
_DAY = "__slice_day"
_CUR = "__current"


class BatchError(StorageError, ValueError):
    """A write mode or batch pin that the layout or the stored data cannot honour."""


def check_mode(lay: Layout, mode: str, batch: int | None) -> None:
    """Refuse unknown modes, ``append`` without a batch id or on an unversioned layout."""
    if mode not in MODES:
        raise BatchError(f"[{lay.name}] mode must be one of {MODES}, got {mode!r}")
    if mode == "append":
        if not lay.versioned:
            raise BatchError(
                f"[{lay.name}] has no batch_id column: versioned appends exist for bars and ticks"
            )
        if not isinstance(batch, int) or batch < 1:
            raise BatchError(f"[{lay.name}] mode='append' needs a batch id >= 1, got {batch!r}")


def slice_exprs(lay: Layout) -> list[pl.Expr]:
    """Expressions naming a row's slice: UTC day of the time column (date-partitioned layouts)
    and the entity column."""
    out = [pl.col(lay.id_column)]
    if "date" in lay.partition_by:
        out.insert(0, pl.col(lay.time_column).dt.date().alias(_DAY))
    return out


def _slice_cols(lay: Layout) -> list[str]:
    return [_DAY, lay.id_column] if "date" in lay.partition_by else [lay.id_column]


def _order(df: pl.DataFrame, lay: Layout) -> pl.DataFrame:
    by = [*lay.sort_by, BATCH_COLUMN] if lay.versioned else list(lay.sort_by)
    return df.sort(by, nulls_last=False, maintain_order=True)


def _merge_on(old: pl.DataFrame, new: pl.DataFrame, key: Sequence[str]) -> pl.DataFrame:
    """Union of ``old`` and ``new``, new rows winning on ``key`` (null equals null)."""
    both = pl.concat([old, new.select(old.columns)], how="vertical")
    return both.unique(subset=list(key), keep="last", maintain_order=True)


def combine(
    existing: pl.DataFrame | None,
    new: pl.DataFrame,
    lay: Layout,
    mode: Mode,
    batch: int | None = None,
    scope: Collection[dt.date] | None = None,
) -> pl.DataFrame | None:
    """The unit's new content (layout columns, file order), or ``None`` when it is unchanged.

    ``existing`` is the unit's stored content (``None`` when the unit does not exist); ``new``
    holds the written rows of that unit, already validated (``append`` overwrites their
    ``batch_id`` with ``batch``). ``scope`` (``replace`` only) lists the UTC days of the
    partitions the write replaces when the unit spans several days (HDF5 entity files); ``None``
    means the whole unit. See the module docstring.
    """
    check_mode(lay, mode, batch)
    cols = list(lay.schema.names())
    if not lay.versioned:
        if existing is None or mode == "replace":
            return _order(new, lay)
        return _order(_merge_on(existing, new, lay.key), lay)
    b = pl.col(BATCH_COLUMN)
    vkey = [*lay.key, BATCH_COLUMN]
    if mode == "append":
        new = new.with_columns(pl.lit(batch, pl.Int64).alias(BATCH_COLUMN))
    if existing is None or existing.height == 0:
        return _order(new, lay)
    sl = _slice_cols(lay)
    ex = existing.with_columns(*slice_exprs(lay))
    nw = new.with_columns(*slice_exprs(lay))
    if mode == "replace":  # every slice of the replaced partitions loses its current version
        in_scope = ex if scope is None else ex.filter(pl.col(_DAY).is_in(list(scope)))
        current = in_scope.group_by(sl).agg(b.max().alias(_CUR), pl.lit(True).alias("__in"))
        marked = ex.join(current, on=sl, how="left", nulls_equal=True)
        keep = marked.filter(~(pl.col("__in").fill_null(False) & b.eq_missing(pl.col(_CUR))))
        fresh = nw.join(current, on=sl, how="left", nulls_equal=True)
        fresh = fresh.with_columns(b.fill_null(pl.col(_CUR)))
        return _order(_merge_on(keep.select(cols), fresh.select(cols), vkey), lay)
    current = ex.group_by(sl).agg(b.max().alias(_CUR))
    if mode == "merge":  # rows without a batch_id go to their slice's current version
        nw = nw.join(current, on=sl, how="left", nulls_equal=True)
        nw = nw.with_columns(b.fill_null(pl.col(_CUR))).select(cols)
        return _order(_merge_on(existing, nw, vkey), lay)
    # append: version `batch` of every touched slice = its current version + the new rows
    touched = nw.select(sl).unique()
    cur_rows = (
        ex.join(current, on=sl, how="inner", nulls_equal=True)
        .filter(b.eq_missing(pl.col(_CUR)))
        .join(touched, on=sl, how="semi", nulls_equal=True)
        .drop(_CUR)
    )
    stamped = pl.lit(batch, pl.Int64).alias(BATCH_COLUMN)
    candidate = _merge_on(
        cur_rows.with_columns(stamped), nw.with_columns(stamped).select(cur_rows.columns), lay.key
    )
    changed = _changed_slices(cur_rows, candidate, lay)
    if changed.height == 0:  # every touched slice already holds exactly this content
        return None
    marked = ex.join(
        changed.with_columns(pl.lit(True).alias(_CUR)), on=sl, how="left", nulls_equal=True
    )
    keep = marked.filter(~(pl.col(_CUR).fill_null(False) & b.eq_missing(batch)))  # same-run rewrite
    add = candidate.join(changed, on=sl, how="semi", nulls_equal=True)
    return _order(pl.concat([keep.select(cols), add.select(cols)], how="vertical"), lay)


def _changed_slices(cur: pl.DataFrame, cand: pl.DataFrame, lay: Layout) -> pl.DataFrame:
    """Slices (slice columns) whose candidate rows differ from their current rows."""
    sl = _slice_cols(lay)
    values = [c for c in lay.schema.names() if c != BATCH_COLUMN and c not in sl]
    a = cur.select([*sl, *values])
    c = cand.select([*sl, *values])
    n_cur = a.group_by(sl).len("n_cur")
    n_new = c.group_by(sl).len("n_new")
    counts = n_new.join(n_cur, on=sl, how="left", nulls_equal=True)
    differ = counts.filter(pl.col("n_cur").is_null() | (pl.col("n_cur") != pl.col("n_new")))
    missing = c.join(a, on=[*sl, *values], how="anti", nulls_equal=True).select(sl).unique()
    return pl.concat([differ.select(sl), missing], how="vertical").unique()


def resolve(lf: pl.LazyFrame, lay: Layout, pin: int | None = None) -> pl.LazyFrame:
    """Rows of the highest version ``<= pin`` (default: latest) of every slice."""
    if not lay.versioned:
        return lf
    b0 = pl.col(BATCH_COLUMN).fill_null(0)
    if pin is not None:
        lf = lf.filter(b0 <= pin)
    return lf.filter(b0 == b0.max().over(slice_exprs(lay)))


def batch_ids(df: pl.DataFrame) -> list[int | None]:
    """Distinct ``batch_id`` values of ``df`` (``None`` first), for the file metadata."""
    if BATCH_COLUMN not in df.columns:
        return [None]
    vals = df.get_column(BATCH_COLUMN).unique().to_list()
    return sorted(vals, key=lambda v: -1 if v is None else v)


def encode_batch_ids(ids: Sequence[int | None]) -> str:
    return json.dumps(list(ids))


def decode_batch_ids(text: str | None) -> list[int | None] | None:
    """Batch ids of a file's metadata (``None`` when the file predates them: unversioned)."""
    if text is None:
        return None
    return list(json.loads(text))


def needs_file(ids: list[int | None] | None, pin: int | None) -> tuple[bool, bool]:
    """(file can hold rows for ``pin``, its rows need :func:`resolve`) from its batch ids."""
    if ids is None or ids == [None]:
        return True, False
    if len(ids) == 1:
        only = ids[0] or 0
        return (pin is None or only <= pin), False
    if pin is not None and min(v or 0 for v in ids) > pin:
        return False, False
    return True, True


def batch_read(frame: pl.DataFrame | pl.LazyFrame) -> int | None:
    """Highest ``batch_id`` among the rows of ``frame`` (``None``: unversioned rows only).

    Record it with a result (the backtest stores it in ``config_json``); reading again with
    ``batch=<it>`` returns the same rows (module docstring)."""
    lf = frame.lazy()
    if BATCH_COLUMN not in lf.collect_schema().names():
        return None
    value = lf.select(pl.col(BATCH_COLUMN).max()).collect().item()
    return None if value is None else int(value)
