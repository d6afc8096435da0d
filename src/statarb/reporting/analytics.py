"""Tearsheet analytics of one run: rolling Sharpe/volatility, drawdown episodes, trade
distributions and per-pair diagnostics (pure functions: frames in, frames out).

Conventions follow :mod:`statarb.reporting.metrics` (simple bar returns of the equity curve,
annualisation ``P`` periods per year) and the drawdown table of pyfolio
(``pyfolio.timeseries.gen_drawdown_table``: peak = last mark at the running maximum before the
trough, recovery = first later mark back at that maximum).
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from statarb.reporting.metrics import drawdown_series


def rolling_sharpe_vol(
    equity: pl.DataFrame, window: int, periods: float, risk_free: float = 0.0
) -> pl.DataFrame:
    """``ts, rolling_sharpe, rolling_vol`` over the last ``window`` bar returns at each mark.

    ``rolling_sharpe = mean(r - rf) / std(r - rf, ddof=1) * sqrt(P)`` and
    ``rolling_vol = std(r, ddof=1) * sqrt(P)`` over returns ``t-window+1 .. t`` (only past
    returns: no look-ahead); null until ``window`` returns exist and where the window's standard
    deviation is zero. The same estimators as ``sharpe_annual`` / ``annual_volatility``
    (empyrical's ``roll_sharpe_ratio`` / ``roll_annual_volatility`` conventions).
    """
    if window < 2:
        raise ValueError(f"reporting.tearsheet.rolling_window must be >= 2 bars, got {window}")
    eq = equity.sort("ts").select("ts", "equity")
    r = (pl.col("equity") / pl.col("equity").shift(1) - 1.0).alias("r")
    d = eq.with_columns(r).slice(1).with_columns(x=pl.col("r") - risk_free)
    sd = pl.col("x").rolling_std(window, ddof=1)
    sq = math.sqrt(periods)
    return d.select(
        "ts",
        rolling_sharpe=pl.when(sd > 0).then(pl.col("x").rolling_mean(window) / sd * sq),
        rolling_vol=pl.col("r").rolling_std(window, ddof=1) * sq,
    )


DRAWDOWN_SCHEMA = {
    "rank": pl.Int64,
    "peak_ts": pl.Datetime("us", "UTC"),
    "trough_ts": pl.Datetime("us", "UTC"),
    "recovery_ts": pl.Datetime("us", "UTC"),
    "depth": pl.Float64,
    "length_bars": pl.Int64,
    "bars_to_trough": pl.Int64,
    "recovered": pl.Boolean,
}


def drawdown_table(equity: pl.DataFrame, top: int = 5) -> pl.DataFrame:
    """The ``top`` deepest drawdown episodes, deepest first.

    An episode runs from a peak (the last mark at the running maximum ``max_{s<=t} E_s``) through
    the marks below it to the recovery (the first mark with ``E_t >=`` that peak). Columns:
    ``rank``; ``peak_ts`` (start), ``trough_ts`` (lowest mark), ``recovery_ts`` (null if still
    under water at the end); ``depth`` = ``E_trough / E_peak - 1`` (negative decimal, the
    episode's minimum of :func:`~statarb.reporting.metrics.drawdown_series`; rank 1 equals
    ``max_drawdown``); ``length_bars`` = marks from peak to recovery (to the last mark if not
    recovered); ``bars_to_trough``; ``recovered``. Episodes do not overlap, so this is pyfolio's
    iterative "largest drawdown, remove it, repeat" table.
    """
    eq = equity.sort("ts")
    e = eq["equity"].to_numpy().astype(float)
    ts = eq["ts"].cast(pl.Datetime("us", "UTC"))
    if e.size < 2:
        return pl.DataFrame(schema=DRAWDOWN_SCHEMA)
    dd = drawdown_series(e)
    under = dd < 0
    # episode boundaries: runs of consecutive under-water marks
    starts = np.flatnonzero(under & ~np.r_[False, under[:-1]])
    ends = np.flatnonzero(under & ~np.r_[under[1:], False])  # last under-water mark
    rows = []
    for s, t in zip(starts.tolist(), ends.tolist(), strict=True):
        trough = s + int(np.argmin(dd[s : t + 1]))
        peak = s - 1  # the mark before the first under-water one is at the running max
        recovered = t + 1 < e.size
        end = t + 1 if recovered else e.size - 1
        rows.append(
            {
                "peak_ts": ts[peak],
                "trough_ts": ts[trough],
                "recovery_ts": ts[t + 1] if recovered else None,
                "depth": float(dd[trough]),
                "length_bars": int(end - peak),
                "bars_to_trough": int(trough - peak),
                "recovered": recovered,
            }
        )
    rows.sort(key=lambda r: (r["depth"], r["peak_ts"]))
    out = [{"rank": i + 1, **r} for i, r in enumerate(rows[:top])]
    return pl.DataFrame(out, schema=DRAWDOWN_SCHEMA)


def trade_distribution(trips: pl.DataFrame | None) -> pl.DataFrame:
    """Closed round trips as ``book, entry_ts, exit_ts, pnl, ret, holding_minutes``.

    ``ret = pnl / entry_notional`` (net PnL over the gross notional put on by the trip's opening
    fills, :func:`statarb.reporting.trades.round_trips`); ``holding_minutes`` = exit fill time
    minus entry fill time.
    """
    cols = ["book", "entry_ts", "exit_ts", "pnl", "ret", "holding_minutes"]
    if trips is None or trips.height == 0:
        return pl.DataFrame(
            schema={
                "book": pl.String,
                "entry_ts": pl.Datetime("us", "UTC"),
                "exit_ts": pl.Datetime("us", "UTC"),
                "pnl": pl.Float64,
                "ret": pl.Float64,
                "holding_minutes": pl.Float64,
            }
        )
    closed = trips.filter(pl.col("closed"))
    return closed.with_columns(
        ret=pl.when(pl.col("entry_notional") > 0).then(pl.col("pnl") / pl.col("entry_notional")),
        holding_minutes=(pl.col("exit_ts") - pl.col("entry_ts")).dt.total_seconds() / 60.0,
    ).select(cols)


def half_life_path(ou: pl.DataFrame | None) -> pl.DataFrame:
    """``window_end, half_life_bars`` of a pair's OU fits: ``ln 2 / theta`` (``theta`` per bar,
    :mod:`statarb.alpha.ou_fit`); null where ``theta <= 0`` (no mean reversion)."""
    if ou is None or ou.height == 0 or "theta" not in ou.columns:
        return pl.DataFrame(
            schema={"window_end": pl.Datetime("us", "UTC"), "half_life_bars": pl.Float64}
        )
    return ou.sort("window_end").select(
        "window_end",
        half_life_bars=pl.when(pl.col("theta") > 0).then(math.log(2.0) / pl.col("theta")),
    )
