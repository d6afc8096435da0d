"""The two tick -> bar implementations agree: Numba one-pass kernel vs Polars group_by_dynamic."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from statarb.preprocess import aggregate
from statarb.preprocess.aggregate import fixed_every_us, ticks_to_bars

T0 = dt.datetime(2026, 5, 26, 13, 30, tzinfo=dt.UTC)


def _ticks(rng, n=4000, span_us=3 * 3600 * 1_000_000, tz="UTC") -> pl.DataFrame:
    offs = np.sort(rng.integers(0, span_us, n))
    offs[10:20] = offs[10]  # ties: equal timestamps keep delivery order for open/close
    return pl.DataFrame(
        {
            "symbol": rng.choice(["AAA", "BBB", "CCC", "DDD"], n),
            "datetime": pl.Series(offs).cast(pl.Duration("us")) + T0,
            "price": rng.normal(100, 1, n),
            "size": rng.integers(1, 500, n).astype(float),
            "venue": "X",
        }
    ).with_columns(
        pl.col("datetime").dt.convert_time_zone(tz)
        if tz
        else pl.col("datetime").dt.replace_time_zone(None)
    )


def _pandas_reference(ticks: pl.DataFrame, seconds: float) -> pl.DataFrame:
    """pandas: stable sort by time, groupby (symbol, floor(t)) first/max/min/last/sum."""
    pdf = ticks.to_pandas().sort_values("datetime", kind="stable")
    key = pdf["datetime"].dt.floor(pd_offset(seconds))
    g = pdf.groupby(["symbol", key], sort=True)
    out = g.agg(
        open=("price", "first"),
        high=("price", "max"),
        low=("price", "min"),
        close=("price", "last"),
        volume=("size", "sum"),
    ).reset_index()
    return pl.from_pandas(out).with_columns(
        pl.col("datetime").dt.cast_time_unit("us"), adj_factor=pl.lit(1.0)
    )


def pd_offset(seconds: float) -> str:
    return f"{int(seconds * 1_000_000)}us"


@pytest.mark.parametrize(
    ("every", "seconds"),
    [("1m", 60), ("90s", 90), ("1h30m", 5400), ("500ms", 0.5), ("1d", 86400), ("7m", 420)],
)
@pytest.mark.parametrize("order", ["time", "symbol_time", "shuffled"])
def test_kernel_equals_group_by_dynamic_and_pandas(every, seconds, order):
    rng = np.random.default_rng(int(seconds * 10))
    ticks = _ticks(rng, span_us=3 * 86_400_000_000 if every == "1d" else 3 * 3600 * 1_000_000)
    if order == "symbol_time":
        ticks = ticks.sort("symbol", "datetime", maintain_order=True)
    elif order == "shuffled":
        ticks = ticks.with_row_index("i").sort("datetime", "i").drop("i")  # stable time order
        perm = rng.permutation(ticks.height)
        ticks = ticks[perm]
    assert aggregate._fast_path_ok(ticks.select("symbol", "datetime", "price", "size"), every)
    got = ticks_to_bars(ticks, every=every)
    dynamic = aggregate._dynamic_bars(ticks.select("symbol", "datetime", "price", "size"), every)
    if order != "shuffled":  # shuffling reorders ties: first/last differ by design
        assert_frame_equal(got, dynamic)
        assert_frame_equal(got.select(dynamic.columns), _pandas_reference(ticks, seconds))
    else:
        assert_frame_equal(got.drop("open", "close"), dynamic.drop("open", "close"))


def test_naive_times_and_lazy_input():
    ticks = _ticks(np.random.default_rng(1), tz=None)
    got = ticks_to_bars(ticks.lazy())
    assert got.schema["datetime"] == pl.Datetime("us")
    assert_frame_equal(got, aggregate._dynamic_bars(ticks.drop("venue"), "1m"))


@pytest.mark.parametrize(
    ("case", "every"),
    [("calendar_week", "1w"), ("month", "1mo"), ("nan", "1m"), ("null", "1m"), ("zone", "1m")],
)
def test_other_inputs_take_the_group_by_dynamic_path(case, every, monkeypatch):
    ticks = _ticks(np.random.default_rng(2), span_us=40 * 86_400_000_000)
    if case == "nan":
        ticks = ticks.with_columns(
            pl.when(pl.int_range(pl.len()) == 5)
            .then(float("nan"))
            .otherwise(pl.col("price"))
            .alias("price")
        )
    elif case == "null":
        ticks = ticks.with_columns(
            pl.when(pl.int_range(pl.len()) == 5).then(None).otherwise(pl.col("size")).alias("size")
        )
    elif case == "zone":
        ticks = ticks.with_columns(pl.col("datetime").dt.convert_time_zone("America/New_York"))
    calls = []
    monkeypatch.setattr(aggregate, "_kernel_bars", lambda *a: calls.append(a))
    out = ticks_to_bars(ticks, every=every)
    assert calls == [] and out.height > 0


def test_fixed_every_parsing():
    assert fixed_every_us("1m") == 60_000_000
    assert fixed_every_us("1h30m") == 5_400_000_000
    assert fixed_every_us("1d") == 86_400_000_000
    assert fixed_every_us("2000ns") == 2
    assert fixed_every_us("1500ns") is None  # not a whole microsecond
    for calendar in ("1w", "1mo", "1q", "1y", "1d1mo", "m", "", "0s"):
        assert fixed_every_us(calendar) is None
