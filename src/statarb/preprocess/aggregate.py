"""Tick -> bar aggregation (spec §5.2 -> §5.1 layout).

Bars are labelled by their **open** time (spec §9.2): a tick at ``t`` belongs to the bar
``[floor(t, every), floor(t, every) + every)`` (left-closed). OHLC are the first/max/min/last
tick prices in time order (ticks with equal times in delivery order), volume the sum of tick
sizes; ``adj_factor`` is 1.0 (as traded). Only intervals that contain ticks produce a bar.

Two implementations with the same result:

* fixed-length ``every`` (``ns``/``us``/``ms``/``s``/``m``/``h``/``d`` units) on UTC times, Float64
  prices and sizes without nulls or NaN: the bar of a tick is the integer floor division of its
  epoch microseconds by the bar length (what Polars ``group_by_dynamic`` with
  ``start_by="window"`` does for a fixed duration: windows aligned on the epoch), and one pass
  of a Numba kernel (:func:`_bar_kernel`) keeps one open bar per symbol. It needs each symbol's
  ticks in time order, as both vendor files (time order) and the store (symbol, time) deliver
  them; other input is stably sorted by time first;
* anything else (calendar units such as ``1w``/``1mo``, other time zones, nulls or NaN):
  Polars ``group_by_dynamic``.
"""

from __future__ import annotations

import re

import numpy as np
import polars as pl
from numba import njit

BAR_COLUMNS = ("symbol", "datetime", "open", "high", "low", "close", "volume", "adj_factor")
UNIT_US = {"ns": None, "us": 1, "ms": 1_000, "s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000}
UNIT_US["d"] = 24 * UNIT_US["h"]  # type: ignore[operator]
_PART = re.compile(r"(\d+)(ns|us|ms|s|m|h|d)")


def fixed_every_us(every: str) -> int | None:
    """Length of ``every`` in microseconds if it is a whole number of microseconds of fixed units
    (e.g. ``1m``, ``90s``, ``1h30m``, ``1d`` = 24 h in UTC); ``None`` for calendar units."""
    pos, total = 0, 0
    for m in _PART.finditer(every):
        if m.start() != pos:
            return None
        n, unit = int(m.group(1)), m.group(2)
        if unit == "ns":
            if n % 1000:
                return None
            total += n // 1000
        else:
            total += n * UNIT_US[unit]  # type: ignore[operator]
        pos = m.end()
    return total if pos == len(every) and total > 0 else None


@njit(cache=True)
def _bar_kernel(code, ts, price, size, n_codes, every):  # pragma: no cover - compiled
    """One pass over ticks ordered in time per symbol: OHLCV per (symbol code, ts // every).

    Returns (n_bars, code, bucket, open, high, low, close, volume); n_bars = -1 when a symbol's
    ticks are not in time order (the caller sorts and calls again).
    """
    n = code.shape[0]
    last = np.full(n_codes, np.iinfo(np.int64).min)
    n_bars = 0
    for i in range(n):  # pass 1: count bars, check the order
        k = code[i]
        b = ts[i] // every
        if b != last[k]:
            if b < last[k]:
                return -1, code[:0], ts[:0], price[:0], price[:0], price[:0], price[:0], price[:0]
            last[k] = b
            n_bars += 1
    out_code = np.empty(n_bars, code.dtype)
    out_b = np.empty(n_bars, np.int64)
    o = np.empty(n_bars)
    h = np.empty(n_bars)
    lo = np.empty(n_bars)
    c = np.empty(n_bars)
    v = np.empty(n_bars)
    cur = np.full(n_codes, -1)
    j = 0
    for i in range(n):  # pass 2: aggregate into the open bar of the symbol
        k = code[i]
        b = ts[i] // every
        p = price[i]
        m = cur[k]
        if m >= 0 and out_b[m] == b:
            if p > h[m]:
                h[m] = p
            if p < lo[m]:
                lo[m] = p
            c[m] = p
            v[m] += size[i]
        else:
            out_code[j] = k
            out_b[j] = b
            o[j] = p
            h[j] = p
            lo[j] = p
            c[j] = p
            v[j] = size[i]
            cur[k] = j
            j += 1
    return n_bars, out_code, out_b, o, h, lo, c, v


def _fast_path_ok(df: pl.DataFrame, every: str) -> bool:
    dt_type = df.schema["datetime"]
    if fixed_every_us(every) is None or not isinstance(dt_type, pl.Datetime):
        return False
    if dt_type.time_zone not in (None, "UTC") or dt_type.time_unit != "us":
        return False
    if df.schema["price"] != pl.Float64 or df.schema["size"] != pl.Float64:
        return False
    if any(df[c].null_count() for c in df.columns):
        return False
    return not df.select(pl.col("price").is_nan().any() | pl.col("size").is_nan().any()).item()


def _kernel_bars(df: pl.DataFrame, every: str) -> pl.DataFrame:
    """:func:`_bar_kernel` path (see the module docstring); same output as ``_dynamic_bars``."""
    every_us = fixed_every_us(every)
    dtype = df.schema["datetime"]
    symbols = df["symbol"].unique().sort()
    code = df["symbol"].cast(pl.Enum(symbols)).to_physical().to_numpy()
    args = (df["datetime"].cast(pl.Int64).to_numpy(), df["price"].to_numpy(), df["size"].to_numpy())
    res = _bar_kernel(code, *args, len(symbols), every_us)
    if res[0] < 0:  # not in time order per symbol: stable sort by time, keep delivery order
        df = df.sort("datetime", maintain_order=True)
        code = df["symbol"].cast(pl.Enum(symbols)).to_physical().to_numpy()
        args = (
            df["datetime"].cast(pl.Int64).to_numpy(),
            df["price"].to_numpy(),
            df["size"].to_numpy(),
        )
        res = _bar_kernel(code, *args, len(symbols), every_us)
    _, out_code, bucket, o, h, lo, c, v = res
    return pl.DataFrame(
        {
            "symbol": symbols.gather(out_code),
            "datetime": pl.Series(bucket * every_us).cast(dtype),
            "open": o,
            "high": h,
            "low": lo,
            "close": c,
            "volume": v,
            "adj_factor": np.ones(len(o)),
        }
    ).sort("symbol", "datetime")


def _dynamic_bars(df: pl.DataFrame, every: str) -> pl.DataFrame:
    """Polars ``group_by_dynamic`` path (any ``every``, nulls and NaN as Polars treats them)."""
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


def ticks_to_bars(ticks: pl.DataFrame | pl.LazyFrame, every: str = "1m") -> pl.DataFrame:
    """Aggregate ``ticks`` (symbol, datetime, price, size, ...) into bars of length ``every``.

    Returns ``BAR_COLUMNS`` sorted by (symbol, datetime); see the module docstring for the
    bar convention and the two equivalent implementations.
    """
    df = ticks.select("symbol", "datetime", "price", "size")
    df = df.collect() if isinstance(df, pl.LazyFrame) else df
    if df.height and _fast_path_ok(df, every):
        return _kernel_bars(df, every)
    return _dynamic_bars(df, every)
