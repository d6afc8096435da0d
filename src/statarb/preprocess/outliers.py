"""Hampel outlier filter on close prices, per symbol (spec §5.1 ``outlier_flag``).

The Hampel identifier (Hampel 1974; Pearson 2002, "Outliers in process modeling and
identification") flags ``v_i`` when ``|v_i - m_i| > k * S_i`` with ``m_i`` the median of a window
of values and ``S_i = 1.4826 * median(|v_j - m_i|)`` (MAD scaled to sigma under normality). The
scale is floored at ``floor_rel`` (relative units) so flat stretches (MAD = 0) do not flag a
one-tick move. Two bases are offered; both are **trailing** by default: the flag of a bar uses
only that bar and earlier bars (no look-ahead).

``method="return"`` (default): values are log-returns ``r_i = log(close_i / ref)`` where ``ref``
is the last *accepted* (unflagged) close; the window holds the last ``window`` accepted returns.
A spike is flagged on its own bar and the bar after it (back to the old level) is not, because it
is compared with the last accepted close. If a flagged bar is followed by a bar that is normal
relative to it (a genuine level shift, not a spike), that bar is accepted as the new level; the
first bar of the shift stays flagged (a trailing filter cannot tell it from a spike). With
``per_session=True`` the overnight return is neither tested nor added to the window (the first bar
of a session becomes the reference); the window itself carries over sessions.

``method="level"``: the textbook filter on close levels, window = the bar and the
``window - 1`` before it (``centered=True``: ``window // 2`` either side, which looks ahead and is
meant for offline cleaning only); windows never cross symbols and, with ``per_session=True``,
never cross sessions. On random-walk prices levels drift inside the window, so this basis needs a
larger ``k`` and has lower recall (see docs/ingestion.md for measured recall / false-positive rate).

Bars whose window holds fewer than ``min_periods`` values get flag 0.

The return kernel keeps its window sorted beside the arrival-order ring, so the median and the
MAD cost no copy and no selection per bar; its twins (plain Python, and the former ``np.median``
kernel) are in :mod:`statarb.preprocess.outliers_ref`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import polars as pl
from numba import njit

MAD_SCALE = 1.4826


@njit(cache=True)
def _hampel_level_kernel(x, seg_start, seg_end, window, k, min_periods, floor_rel, centered):
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


@njit(cache=True)
def _sorted_insert(s, m, v):
    """Insert ``v`` into the sorted ``s[:m]`` (``s`` has room for ``m + 1``)."""
    j = np.searchsorted(s[:m], v)
    for t in range(m, j, -1):
        s[t] = s[t - 1]
    s[j] = v


@njit(cache=True)
def _sorted_replace(s, m, old, new):
    """Replace one value equal to ``old`` by ``new`` in the sorted ``s[:m]``, shifting only the
    values between the two positions (one pass instead of a removal and an insertion)."""
    j = np.searchsorted(s[:m], old)  # s[j] == old
    if new >= old:
        while j + 1 < m and s[j + 1] < new:
            s[j] = s[j + 1]
            j += 1
    else:
        while j > 0 and s[j - 1] > new:
            s[j] = s[j - 1]
            j -= 1
    s[j] = new


@njit(cache=True)
def _median_mad(s, m):
    """Median and median absolute deviation of the sorted ``s[:m]``, with the same floats as
    ``statistics.median`` (mean of the two middle values when ``m`` is even): the deviations
    ``med - s[i]`` left of the median and ``s[j] - med`` right of it are two increasing runs, merged
    up to the middle instead of sorting them."""
    h = m // 2
    med = s[h] if m % 2 else (s[h - 1] + s[h]) / 2
    j = np.searchsorted(s[:m], med)
    i = j - 1
    prev = 0.0
    cur = 0.0
    for _ in range(h + 1):
        if i >= 0 and (j >= m or med - s[i] <= s[j] - med):
            d = med - s[i]
            i -= 1
        else:
            d = s[j] - med
            j += 1
        prev = cur
        cur = d
    return med, (cur if m % 2 else (prev + cur) / 2)


@njit(cache=True)
def _hampel_return_kernel(x, new_symbol, new_session, window, k, min_periods, floor_rel):
    n = x.size
    out = np.zeros(n, np.int8)
    buf = np.empty(window)  # ring buffer of accepted log-returns (arrival order)
    srt = np.empty(window + 1)  # the same values, sorted (one slot spare for the insert)
    cnt = 0
    pos = 0
    ref = 0.0
    prev_flag = False
    for i in range(n):
        if new_symbol[i]:
            cnt = 0
            pos = 0
        if new_symbol[i] or new_session[i]:
            ref = x[i]
            prev_flag = False
            continue
        r = np.log(x[i] / ref)
        flag = False
        if cnt >= min_periods:
            med, mad = _median_mad(srt, cnt)
            scale = MAD_SCALE * mad
            if scale < floor_rel:
                scale = floor_rel
            if abs(r - med) > k * scale:
                flag = True
                step = np.log(x[i] / x[i - 1])
                if prev_flag and abs(step - med) <= k * scale:
                    flag = False  # level shift confirmed: accept this bar as the new level
                    r = step
        if flag:
            out[i] = 1
            prev_flag = True
        else:
            if cnt == window:
                _sorted_replace(srt, cnt, buf[pos], r)
            else:
                _sorted_insert(srt, cnt, r)
                cnt += 1
            buf[pos] = r
            pos = (pos + 1) % window
            ref = x[i]
            prev_flag = False
    return out


def _run_starts(ids: np.ndarray) -> np.ndarray:
    change = np.empty(ids.size, dtype=np.bool_)
    if ids.size:
        change[0] = True
        change[1:] = ids[1:] != ids[:-1]
    return change


def hampel_flags(
    values: np.ndarray,
    symbols: np.ndarray,
    sessions: np.ndarray | None = None,
    *,
    method: Literal["return", "level"] = "return",
    window: int = 31,
    k: float = 6.0,
    min_periods: int | None = None,
    floor_rel: float = 1e-5,
    centered: bool = False,
) -> np.ndarray:
    """Int8 Hampel flags of ``values`` (prices > 0), ordered by symbol then time.

    ``symbols`` / ``sessions`` are integer ids, constant over contiguous runs (the rows of one
    symbol, one session); ``sessions=None`` means no session breaks. See the module docstring.
    """
    if window < 3:
        raise ValueError(f"hampel window must be >= 3, got {window}")
    if method not in ("return", "level"):
        raise ValueError(f"hampel method must be 'return' or 'level', got {method!r}")
    if centered and method == "return":
        raise ValueError("centered=True is only defined for method='level'")
    x = np.ascontiguousarray(values, dtype=np.float64)
    n = x.size
    if n == 0:
        return np.zeros(0, np.int8)
    mp = window if min_periods is None else int(min_periods)
    new_symbol = _run_starts(np.asarray(symbols))
    new_session = new_symbol.copy() if sessions is None else _run_starts(np.asarray(sessions))
    if method == "return":
        if not np.all(x > 0):
            raise ValueError("hampel method='return' needs strictly positive prices")
        return _hampel_return_kernel(
            x, new_symbol, new_session, int(window), float(k), mp, float(floor_rel)
        )
    seg = new_session | new_symbol
    starts = np.flatnonzero(seg)
    ends = np.append(starts[1:], n)
    lengths = ends - starts
    seg_start = np.repeat(starts, lengths).astype(np.int64)
    seg_end = np.repeat(ends, lengths).astype(np.int64)
    return _hampel_level_kernel(
        x, seg_start, seg_end, int(window), float(k), mp, float(floor_rel), centered
    )


def flag_outliers(
    bars: pl.DataFrame,
    *,
    method: Literal["return", "level"] = "return",
    window: int = 31,
    k: float = 6.0,
    min_periods: int | None = 10,
    floor_rel: float = 1e-5,
    centered: bool = False,
    per_session: bool = True,
    tz: str = "America/New_York",
    column: str = "close",
) -> pl.DataFrame:
    """Return ``bars`` sorted by (symbol, datetime) with ``outlier_flag`` (Int8, 1 = outlier)."""
    df = bars.sort("symbol", "datetime")
    if df.height == 0:
        return df.with_columns(pl.lit(0, pl.Int8).alias("outlier_flag"))
    ids = df.select(
        pl.col("symbol").rank("dense").alias("sym"),
        pl.struct(pl.col("symbol"), pl.col("datetime").dt.convert_time_zone(tz).dt.date())
        .rank("dense")
        .alias("sess"),
    )
    flags = hampel_flags(
        df[column].to_numpy(),
        ids["sym"].to_numpy(),
        ids["sess"].to_numpy() if per_session else None,
        method=method,
        window=window,
        k=k,
        min_periods=min_periods,
        floor_rel=floor_rel,
        centered=centered,
    )
    return df.with_columns(pl.Series("outlier_flag", flags, dtype=pl.Int8))
