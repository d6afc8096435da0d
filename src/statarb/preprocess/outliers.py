"""Hampel outlier filter on close prices, per symbol (spec §5.1 ``outlier_flag``).

For bar ``i`` with window ``W_i`` of ``window`` bars, ``m_i = median(W_i)`` and
``S_i = 1.4826 * median(|x_j - m_i|, j in W_i)`` (MAD scaled to sigma under normality;
Hampel 1974, Pearson 2002 "Outliers in process modeling and identification"). The bar is an
outlier when ``|x_i - m_i| > k * max(S_i, floor_rel * |m_i|)``; ``floor_rel`` stops flat
stretches (MAD = 0) from flagging a one-tick move.

By default the window is **trailing** (the bar and the ``window - 1`` bars before it), so a flag
uses no future data (no look-ahead); ``centered=True`` gives the classic symmetric filter for
offline cleaning. Windows never cross symbols and, with ``per_session=True``, never cross
sessions (overnight gaps are not outliers). Bars with fewer than ``min_periods`` points in their
window get flag 0.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from numba import njit

MAD_SCALE = 1.4826


@njit(cache=True)
def _hampel_kernel(x, seg_start, seg_end, window, k, min_periods, floor_rel, centered):  # noqa: PLR0913
    n = x.size
    out = np.zeros(n, np.int8)
    buf = np.empty(window)
    half = window // 2
    for i in range(n):
        if centered:
            lo = max(seg_start[i], i - half)
            hi = min(seg_end[i], i + half + 1)
        else:
            lo = max(seg_start[i], i - window + 1)
            hi = i + 1
        m = hi - lo
        if m < min_periods:
            continue
        for j in range(m):
            buf[j] = x[lo + j]
        med = np.median(buf[:m])
        for j in range(m):
            buf[j] = abs(x[lo + j] - med)
        scale = MAD_SCALE * np.median(buf[:m])
        floor = floor_rel * abs(med)
        if scale < floor:
            scale = floor
        if abs(x[i] - med) > k * scale:
            out[i] = 1
    return out


def hampel_flags(
    values: np.ndarray,
    groups: np.ndarray,
    window: int = 21,
    k: float = 5.0,
    min_periods: int | None = None,
    floor_rel: float = 1e-4,
    centered: bool = False,
) -> np.ndarray:
    """Int8 Hampel flags for ``values`` split into contiguous runs of equal ``groups`` ids."""
    if window < 3:
        raise ValueError(f"hampel window must be >= 3, got {window}")
    x = np.ascontiguousarray(values, dtype=np.float64)
    n = x.size
    if n == 0:
        return np.zeros(0, np.int8)
    g = np.asarray(groups)
    change = np.empty(n, dtype=bool)
    change[0] = True
    change[1:] = g[1:] != g[:-1]
    starts = np.flatnonzero(change)
    ends = np.append(starts[1:], n)
    lengths = ends - starts
    seg_start = np.repeat(starts, lengths).astype(np.int64)
    seg_end = np.repeat(ends, lengths).astype(np.int64)
    mp = window if min_periods is None else int(min_periods)
    return _hampel_kernel(
        x, seg_start, seg_end, int(window), float(k), mp, float(floor_rel), centered
    )


def flag_outliers(
    bars: pl.DataFrame,
    window: int = 21,
    k: float = 5.0,
    min_periods: int | None = None,
    floor_rel: float = 1e-4,
    centered: bool = False,
    per_session: bool = True,
    tz: str = "America/New_York",
    column: str = "close",
) -> pl.DataFrame:
    """Add ``outlier_flag`` (Int8, 1 = Hampel outlier on ``column``) per symbol (and session)."""
    df = bars.sort("symbol", "datetime")
    if df.height == 0:
        return df.with_columns(pl.lit(0, pl.Int8).alias("outlier_flag"))
    keys = [pl.col("symbol")]
    if per_session:
        keys.append(pl.col("datetime").dt.convert_time_zone(tz).dt.date())
    gid = df.select(pl.struct(keys).rank("dense").alias("g"))["g"].to_numpy()
    # rank of (symbol, date) is monotone in the (symbol, datetime) sort, so runs are contiguous
    flags = hampel_flags(df[column].to_numpy(), gid, window, k, min_periods, floor_rel, centered)
    return df.with_columns(pl.Series("outlier_flag", flags, dtype=pl.Int8))
