"""Aligned price panels for the alpha stage."""

from __future__ import annotations

import datetime as dt

import polars as pl


def _clean(bars: pl.LazyFrame, start: dt.datetime | None, end: dt.datetime | None) -> pl.LazyFrame:
    lf = bars
    names = lf.collect_schema().names()
    if "outlier_flag" in names:
        lf = lf.filter(pl.col("outlier_flag").fill_null(0) != 1)
    if start is not None:
        lf = lf.filter(pl.col("datetime") >= start)
    if end is not None:
        lf = lf.filter(pl.col("datetime") <= end)
    return lf


def aligned_pair_panel(
    bars: pl.LazyFrame,
    symbol_a: str,
    symbol_b: str,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    price: str = "close",
) -> pl.DataFrame:
    """``datetime, price_a, price_b``: bars of both legs at the same open time (inner join).

    Bars with ``outlier_flag = 1`` are excluded (so such a timestamp drops out for both legs);
    ``start``/``end`` bound the bar **open** time inclusively (tz-aware UTC datetimes). Sorted by
    ``datetime``. ``price`` selects the column (``close`` by default).
    """
    lf = _clean(bars.lazy(), start, end)
    a = lf.filter(pl.col("symbol") == symbol_a).select("datetime", pl.col(price).alias("price_a"))
    b = lf.filter(pl.col("symbol") == symbol_b).select("datetime", pl.col(price).alias("price_b"))
    return a.join(b, on="datetime", how="inner").sort("datetime").collect()


def wide_panel(
    bars: pl.LazyFrame,
    symbols: list[str] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    price: str = "close",
) -> pl.DataFrame:
    """``datetime`` plus one ``price`` column per symbol (outlier bars null), sorted by time."""
    lf = _clean(bars.lazy(), start, end)
    if symbols is not None:
        lf = lf.filter(pl.col("symbol").is_in(symbols))
    long = lf.select("datetime", "symbol", price).collect()
    wide = long.pivot(on="symbol", index="datetime", values=price, sort_columns=True)
    return wide.sort("datetime")
