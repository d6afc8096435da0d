"""Tick -> bar aggregation (spec §5.2 -> §5.1 layout).

Bars are labelled by their **open** time (spec §9.2): a tick at ``t`` belongs to the bar
``[floor(t, every), floor(t, every) + every)`` (left-closed). OHLC are the first/max/min/last
tick prices in time order, volume the sum of tick sizes; ``adj_factor`` is 1.0 (as traded).
Only intervals that contain ticks produce a bar. Implemented with Polars ``group_by_dynamic``.
"""

from __future__ import annotations

import polars as pl

BAR_COLUMNS = ("symbol", "datetime", "open", "high", "low", "close", "volume", "adj_factor")


def ticks_to_bars(ticks: pl.DataFrame | pl.LazyFrame, every: str = "1m") -> pl.DataFrame:
    """Aggregate ``ticks`` (symbol, datetime, price, size, ...) into bars of length ``every``."""
    df = ticks.select("symbol", "datetime", "price", "size")
    df = df.collect() if isinstance(df, pl.LazyFrame) else df
    # group_by_dynamic needs time order within each symbol only: time-sorted input (vendor files)
    # and symbol-major input (the store) are used as they are; otherwise a stable sort on time
    # (cheaper than on (symbol, time)) keeps the delivery order of equal timestamps
    lf = df.lazy()
    if df["datetime"].is_sorted():
        lf = lf.set_sorted("datetime")
    elif not df.select(
        (pl.col("datetime").diff().over("symbol") >= 0).fill_null(True).all()
    ).item():
        lf = lf.sort("datetime", maintain_order=True)
    out = (
        lf.group_by_dynamic(
            "datetime",
            every=every,
            closed="left",
            label="left",
            group_by="symbol",
            start_by="window",
        )
        .agg(
            pl.col("price").first().alias("open"),
            pl.col("price").max().alias("high"),
            pl.col("price").min().alias("low"),
            pl.col("price").last().alias("close"),
            pl.col("size").sum().alias("volume"),
        )
        .with_columns(pl.lit(1.0).alias("adj_factor"))
        .select(BAR_COLUMNS)
        .sort("symbol", "datetime")
    )
    return out.collect()
