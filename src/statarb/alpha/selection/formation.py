"""Formation -> trading mode: select and freeze the hedge ratio on a formation window, trade the
next period, roll (Gatev, Goetzmann & Rouwenhorst 2006; Vidyamurthy 2004, ch. 8).

Formation times are every ``every``-th schedule time. At a formation time ``F_k`` the funnel runs on
the trailing window (as in walk-forward mode, persistence counted in formation periods); its
decision and the window's relation ``y - beta_k x - alpha_k`` then hold, unchanged, for every bar
known in ``(F_k, F_{k+1}]``: no re-selection and no re-estimation inside a trading period.

The trading spread is ``spread = y - beta_k x - alpha_k`` with ``alpha_k`` the formation-window
mean of ``y - beta_k x`` (the OLS intercept) and ``z_score = spread / s_k``, ``s_k`` the standard
deviation of the formation-window spread (so ``z`` uses formation data only). OU parameters are
fitted on the formation-window spread at ``F_k``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from statarb.alpha.screening import _exact_us, _window_rows, to_wide
from statarb.conventions import UTC_US
from statarb.kernels.ou import OUParamsNb, ou_fit_range
from statarb.storage.parquet_schemas import SPREAD_SERIES


def formation_times(schedule: Sequence[datetime], every: int) -> list[datetime]:
    """Every ``every``-th schedule time, starting with the first."""
    if every < 1:
        raise ValueError(f"alpha.selection.formation.every must be >= 1, got {every}")
    return list(schedule)[::every]


def frozen_spreads(
    prices: pl.DataFrame,
    relations: pl.DataFrame,
    pairs: Sequence[tuple[str, str, str]],
    window_bars: int,
    ou: OUParamsNb,
    bar_interval: timedelta = timedelta(minutes=1),
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(spread_series, ou_fits)`` of formation mode for ``pairs``.

    ``relations`` has ``pair_id, test_ts, beta`` at the formation times (rows with a null
    relation are skipped). ``ou_fits`` has ``pair_id, window_start, window_end, theta, mu, sigma``.
    """
    symbols = sorted({s for _, a, b in pairs for s in (a, b)})
    col = {s: i for i, s in enumerate(symbols)}
    times, mat = to_wide(prices, symbols)
    known = times + int(bar_interval / timedelta(microseconds=1))
    valid = np.isfinite(mat)
    spreads, fits = [], []
    for pair_id, a, b in pairs:
        rel = relations.filter(
            (pl.col("pair_id") == pair_id)
            & pl.col("beta").is_not_null()
            & pl.col("beta").is_not_nan()
        ).sort("test_ts")
        va, vb = valid[:, col[a]], valid[:, col[b]]
        ends = [_exact_us(t) for t in rel["test_ts"].to_list()]
        for k, (t_k, beta) in enumerate(rel.select("test_ts", "beta").iter_rows()):
            end = int(np.searchsorted(known, ends[k], side="right"))
            rows = _window_rows(va, vb, end, window_bars)
            raw = mat[rows, col[a]] - beta * mat[rows, col[b]]
            alpha = float(raw.mean())
            e = raw - alpha
            s = float(e.std())
            theta, mu, sigma, _, _ = ou_fit_range(np.ascontiguousarray(e), 0, e.size, ou)
            fits.append((pair_id, int(times[rows[0]]), t_k, theta, mu, sigma))
            stop = (
                int(np.searchsorted(known, ends[k + 1], side="right"))
                if k + 1 < len(ends)
                else len(times)
            )
            idx = end + np.flatnonzero(va[end:stop] & vb[end:stop])
            if idx.size == 0:
                continue
            sp = mat[idx, col[a]] - beta * mat[idx, col[b]] - alpha
            spreads.append(
                pl.DataFrame(
                    {
                        "pair_id": [pair_id] * idx.size,
                        "datetime": pl.Series(times[idx]).cast(UTC_US),
                        "spread": sp,
                        "beta": np.full(idx.size, beta),
                        "z_score": sp / s if s > 0 else np.full(idx.size, np.nan),
                        "kalman_state": pl.Series([None] * idx.size, dtype=pl.String),
                    },
                    schema=SPREAD_SERIES,
                )
            )
    spread_df = pl.concat(spreads) if spreads else pl.DataFrame(schema=SPREAD_SERIES)
    fit_df = pl.DataFrame(
        fits,
        schema={"pair_id": pl.String, "window_start": pl.Int64, "window_end": UTC_US,
                "theta": pl.Float64, "mu": pl.Float64, "sigma": pl.Float64},
        orient="row",
    ).with_columns(pl.col("window_start").cast(UTC_US))  # fmt: skip
    return spread_df, fit_df
