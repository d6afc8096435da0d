"""Ticks aggregate to the 1-minute bars they were drawn around; arrivals are Poisson."""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

from .conftest import bar_index, clean_rows


def _tick_bars(root) -> pl.DataFrame:
    t = pl.read_parquet(sorted((root / "ticks").glob("*.parquet")))
    local = pl.col("ts").str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us")
    t = t.with_columns(
        local.dt.replace_time_zone("America/New_York").dt.convert_time_zone("UTC").alias("dt")
    )
    return (
        t.with_columns(
            pl.col("dt").dt.truncate("1m").alias("datetime"), pl.col("sym").alias("symbol")
        )
        .group_by("symbol", "datetime", maintain_order=True)
        .agg(
            pl.col("px").first().alias("t_open"),
            pl.col("px").max().alias("t_high"),
            pl.col("px").min().alias("t_low"),
            pl.col("px").last().alias("t_close"),
            pl.len().alias("n"),
        )
    )


def test_ticks_aggregate_to_bars(small_dir, small_data, small_cfg):
    tb = _tick_bars(small_dir)
    bars = clean_rows(small_dir).select("symbol", "datetime", "Open", "High", "Low", "Close")
    j = tb.join(bars, on=["symbol", "datetime"], how="inner")
    assert j.height > 0.9 * tb.height  # most tick minutes have a clean bar in the file
    assert (j["t_open"] == j["Open"]).all() and (j["t_close"] == j["Close"]).all()
    assert (j["t_high"] <= j["High"]).all() and (j["t_low"] >= j["Low"]).all()
    # every (symbol, minute) of the tick days is covered, including minutes missing from bars
    n_days = len(small_data.market.clock.days)
    expect = small_cfg.tick_symbols * min(small_cfg.tick_days, n_days) * small_cfg.bars_per_day
    assert tb.height == expect
    # the raw clean path is the reference for every tick minute
    t, col = bar_index(small_data, tb)
    np.testing.assert_array_equal(tb["t_open"].to_numpy(), small_data.raw_clean["open"][t, col])


def test_tick_counts_are_poisson(small_dir, small_cfg):
    n = _tick_bars(small_dir)["n"].to_numpy()
    lam = small_cfg.tick_rate_per_sec * 60
    assert n.min() >= 2
    # counts are max(2, Poisson(lam)): compare the mean with the truncated expectation
    k = np.arange(0, 400)
    pmf = stats.poisson.pmf(k, lam)
    expected = (np.maximum(k, 2) * pmf).sum()
    assert abs(n.mean() - expected) < 4 * np.sqrt(lam / n.size)
