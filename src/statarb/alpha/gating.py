"""Trading gate from walk-forward cointegration tests (no look-ahead).

A decision on bar ``datetime`` is taken at its close, ``datetime + bar_interval`` (dev contract);
it may use every test stamped ``test_ts <= datetime + bar_interval``. ``gate`` attaches to each
``(pair_id, datetime)`` row the ``is_cointegrated`` flag of the latest such test of the same pair
(as-of backward join), as a Boolean column ``tradable``; rows with no test yet, or whose latest
test has a null flag, are not tradable.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from statarb.alpha.screening import _to_utc_us


def gate(
    frame: pl.DataFrame, coint: pl.DataFrame, bar_interval: timedelta = timedelta(minutes=1)
) -> pl.DataFrame:
    """Return ``frame`` (same rows, same order) with a Boolean ``tradable`` column."""
    for name, df, cols in (
        ("frame", frame, ("pair_id", "datetime")),
        ("coint", coint, ("pair_id", "test_ts", "is_cointegrated")),
    ):
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise ValueError(f"{name} is missing columns {missing}")
    if "tradable" in frame.columns:
        raise ValueError("frame already has a 'tradable' column")
    dup = coint.select("pair_id", "test_ts").is_duplicated()
    if dup.any():
        row = coint.filter(dup).row(0, named=True)
        raise ValueError(
            f"cointegration results not unique on (pair_id, test_ts): {row['pair_id']} at {row['test_ts']}"
        )
    right = coint.select(
        pl.col("pair_id").cast(pl.String),
        _to_utc_us(pl.col("test_ts"), coint.schema["test_ts"]).alias("_known"),
        pl.col("is_cointegrated").cast(pl.Boolean).alias("tradable"),
    ).sort("_known")
    left = frame.with_row_index("_row").with_columns(
        (_to_utc_us(pl.col("datetime"), frame.schema["datetime"]) + bar_interval).alias("_known"),
        pl.col("pair_id").cast(pl.String).alias("_pair"),
    )
    joined = (
        left.sort("_known")
        .join_asof(
            right.rename({"pair_id": "_pair"}),
            on="_known",
            by="_pair",
            strategy="backward",
            check_sortedness=False,
        )
        .sort("_row")
    )
    return joined.with_columns(pl.col("tradable").fill_null(False)).drop("_row", "_known", "_pair")


def ever_cointegrated(coint: pl.DataFrame | pl.LazyFrame) -> set[str]:
    """Pair ids whose ``is_cointegrated`` is true at some test time. Lazy: on a SQL scan
    (``SQLTableDataset(load_args={lazy: true})``) the Boolean filter runs in the database, so a
    store with millions of pair-tests returns only the passing rows' ids."""
    lf = coint.lazy()
    flag = pl.col("is_cointegrated")
    if lf.collect_schema()["is_cointegrated"] != pl.Boolean:
        flag = flag.cast(pl.Boolean)
    return set(lf.filter(flag).select("pair_id").unique().collect()["pair_id"].to_list())
