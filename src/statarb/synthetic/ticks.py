"""Tick prints around the 1-minute bar path (last trading days, a few symbols).

Per bar, the number of prints is ``max(2, Poisson(rate * 60))`` at uniform times inside the minute.
The first print trades at the bar open and the last at the bar close; interior prints follow a
Brownian bridge between them, clipped to ``[low, high]``. Aggregating the ticks of a minute
therefore gives exactly the bar's open and close, and a high/low inside the bar's range.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from statarb.synthetic.calendar import BarClock

_US_PER_MIN = 60_000_000


def simulate_ticks(
    rng: np.random.Generator,
    clock: BarClock,
    bars: np.ndarray,
    sym_cols: list[int],
    symbols: list[str],
    ohlc: dict[str, np.ndarray],
    bar_vol: np.ndarray,
    rate_per_sec: float,
    venues: tuple[str, ...],
    bar0: int = 0,
) -> pl.DataFrame:
    """Ticks for bar indices ``bars`` and symbol columns ``sym_cols`` (raw, clean prices).

    ``ohlc`` arrays hold the bars from ``bar0`` on (row ``b - bar0`` is bar ``b``).

    Returns columns ``sym, ts, px, qty, side, venue`` plus ``_day`` and ``_local_us``, sorted by
    local time then symbol.
    """
    if len(bars) == 0 or len(sym_cols) == 0:
        return pl.DataFrame(
            schema={
                "sym": pl.String,
                "ts": pl.String,
                "px": pl.Float64,
                "qty": pl.Float64,
                "side": pl.String,
                "venue": pl.String,
                "_day": pl.Int64,
                "_local_us": pl.Int64,
            }
        )
    bb, jj = np.meshgrid(bars, np.asarray(sym_cols), indexing="ij")
    bb, jj = bb.ravel(), jj.ravel()
    counts = np.maximum(rng.poisson(rate_per_sec * 60.0, size=bb.size), 2)
    grp = np.repeat(np.arange(bb.size), counts)
    u = rng.integers(0, _US_PER_MIN, size=grp.size)
    key = np.lexsort((u, grp))
    grp, u = grp[key], u[key]
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    first = np.zeros(grp.size, dtype=bool)
    first[starts] = True
    last = np.zeros(grp.size, dtype=bool)
    last[np.cumsum(counts) - 1] = True
    b, j = bb[grp], jj[grp]
    r = b - bar0
    o, c = ohlc["open"][r, j], ohlc["close"][r, j]
    hi, lo = ohlc["high"][r, j], ohlc["low"][r, j]
    frac = u / _US_PER_MIN
    noise = rng.standard_normal(grp.size) * 0.5 * bar_vol[j] * o * np.sqrt(frac * (1 - frac))
    px = np.clip(o + (c - o) * frac + noise, lo, hi)
    px = np.where(first, o, np.where(last, c, px))
    local_us = clock.local_us[b] + u
    qty = (100.0 * rng.geometric(0.45, size=grp.size)).astype(np.float64)
    odd = rng.uniform(size=grp.size) < 0.15
    qty = np.where(odd, rng.integers(1, 100, size=grp.size).astype(np.float64), qty)
    side = np.where(rng.uniform(size=grp.size) < 0.5, "B", "S")
    venue = np.asarray(venues)[rng.integers(0, len(venues), size=grp.size)]
    df = pl.DataFrame(
        {
            "sym": pl.Series(symbols).gather(j),
            "_local_us": local_us,
            "px": px,
            "qty": qty,
            "side": side,
            "venue": venue,
            "_day": clock.day_index[b],
        }
    ).sort(["_local_us", "sym"], maintain_order=True)
    ts = pl.col("_local_us").cast(pl.Datetime("us")).dt.strftime("%Y-%m-%d %H:%M:%S%.6f")
    return df.with_columns(ts.alias("ts")).select(
        "sym", "ts", "px", "qty", "side", "venue", "_day", "_local_us"
    )
