"""PCA and equal-weight market attribution of a strategy's bar returns (OLS, statsmodels).

Ex-post decomposition over the run window (it feeds no trading decision): the universe's adjusted
closes (``bars_adjusted``, outliers excluded) are sampled on the strategy's equity grid, turned into
simple returns, and

* the equal-weight market proxy is the cross-sectional mean of those returns;
* the principal components are the eigenvectors of the sample covariance of the (demeaned) return
  matrix (Jolliffe, *Principal Component Analysis*, 2002, ch. 1); factor ``k`` has return
  ``R_t @ w_k``; each eigenvector's sign is chosen so its loadings sum to a positive number (PC1 then
  reads as "the market").

The strategy's returns are regressed on a constant plus the factor(s) by OLS. ``alpha`` is annualised
like empyrical: ``(1 + alpha_bar) ** periods - 1``.
"""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import polars as pl
import statsmodels.api as sm

from statarb.preprocess.panel import usable_bars


def universe_closes_on_grid(
    bars_adjusted: pl.DataFrame | pl.LazyFrame,
    grid: pl.Series,
    bar_interval: timedelta,
    grid_is_bar_open: bool = True,
    symbols: list[str] | None = None,
    symbols_per_chunk: int = 50,
) -> pl.DataFrame:
    """Wide frame ``ts`` + one close column per symbol (sorted), sampled on ``grid``.

    For each grid time ``T`` the close of the latest bar with ``datetime <= T`` is used when the grid
    is stamped with bar open times (the mark of bar ``T`` is its close), otherwise the latest bar with
    ``datetime + bar_interval <= T`` (known by ``T``). Bars with ``outlier_flag = 1`` are skipped.
    Symbols are read ``symbols_per_chunk`` at a time (a lazy scan filtered on them), so memory
    holds the sampled grid plus one chunk's bars, not every bar of the universe.
    """
    lf = bars_adjusted.lazy() if isinstance(bars_adjusted, pl.DataFrame) else bars_adjusted
    if symbols is not None:
        lf = lf.filter(pl.col("symbol").is_in(symbols))
    lf = usable_bars(lf)
    lo, hi = grid.min(), grid.max()
    shift = timedelta(0) if grid_is_bar_open else bar_interval
    lf = lf.select("symbol", "datetime", "close").filter(
        pl.col("datetime") <= hi, pl.col("datetime") >= lo - timedelta(days=7)
    )
    names = sorted(lf.select(pl.col("symbol").unique()).collect()["symbol"].to_list())
    out = pl.DataFrame({"ts": grid}).sort("ts")
    step = max(1, int(symbols_per_chunk))
    for i in range(0, len(names), step):
        chunk = names[i : i + step]
        bars = lf.filter(pl.col("symbol").is_in(chunk)).with_columns(
            known=pl.col("datetime") + shift
        )
        # one wide frame per chunk (a column per symbol, forward-filled over the union of known
        # times) and one as-of join: the latest bar of each symbol known by T
        wide = (
            bars.collect()
            .pivot(
                on="symbol",
                index="known",
                values="close",
                aggregate_function="last",
                sort_columns=True,
            )  # fmt: skip
            .sort("known")
            .fill_null(strategy="forward")
        )
        part = out.select("ts").join_asof(wide, left_on="ts", right_on="known", strategy="backward")
        out = out.hstack(part.drop("ts", "known"))
    return out


def principal_components(
    returns: np.ndarray, n_components: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Eigen-decomposition of the sample covariance of ``returns`` (T x N).

    Returns ``(loadings N x k, explained_variance_ratio k)``, components in decreasing variance,
    each sign-normalised so that its loadings sum to a positive number.
    """
    x = np.asarray(returns, dtype=float)
    cov = np.cov(x, rowvar=False, ddof=1)
    cov = np.atleast_2d(cov)
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1]
    vals, vecs = vals[order], vecs[:, order]
    k = min(n_components, x.shape[1])
    load = vecs[:, :k].copy()
    signs = np.where(load.sum(axis=0) < 0, -1.0, 1.0)
    load *= signs
    return load, vals[:k] / vals.sum()


def ols_alpha_beta(y: np.ndarray, factors: np.ndarray) -> tuple[float, np.ndarray, float]:
    """OLS of ``y`` on a constant and ``factors``: ``(alpha per bar, betas, R^2)`` (statsmodels)."""
    x = sm.add_constant(np.asarray(factors, dtype=float).reshape(len(y), -1), has_constant="add")
    res = sm.OLS(np.asarray(y, dtype=float), x).fit()
    return float(res.params[0]), np.asarray(res.params[1:], dtype=float), float(res.rsquared)


def annualise_alpha(alpha_bar: float, periods: float) -> float:
    """``(1 + alpha_bar) ** periods - 1`` (empyrical's convention)."""
    return float((1.0 + alpha_bar) ** periods - 1.0)


def attribute(
    strategy: pl.DataFrame,
    closes: pl.DataFrame,
    periods: float,
    n_components: int = 1,
) -> dict[str, object]:
    """Attribution of strategy returns (``ts``, ``ret``) to PCA factors and the EW market.

    ``closes`` is the output of :func:`universe_closes_on_grid` on the equity grid. Returns a dict
    with ``pca`` and ``market`` sub-dicts (alpha per bar, annualised alpha, betas, R^2, n) and the
    top-level ``alpha`` (PCA, annualised) and ``beta`` (EW market). NaNs when fewer than
    ``n_components + 3`` common observations are available.
    """
    syms = [c for c in closes.columns if c != "ts"]
    rets = closes.sort("ts").with_columns(
        [(pl.col(s) / pl.col(s).shift(1) - 1.0).alias(s) for s in syms]
    )
    df = strategy.select("ts", "ret").join(rets, on="ts", how="inner")
    # keep symbols observed on most of the grid, then complete rows only
    keep = [s for s in syms if df[s].null_count() <= 0.1 * df.height]
    df = df.select("ts", "ret", *keep).drop_nulls().drop_nans()
    empty = {"alpha": math.nan, "beta": math.nan, "pca": {}, "market": {}, "symbols": keep}
    if not keep or df.height < n_components + 3:
        return empty
    r = df.select(keep).to_numpy()
    y = df["ret"].to_numpy()
    mkt = r.mean(axis=1)
    a_m, b_m, r2_m = ols_alpha_beta(y, mkt)
    load, evr = principal_components(r, n_components)
    factors = r @ load
    a_p, b_p, r2_p = ols_alpha_beta(y, factors)
    return {
        "alpha": annualise_alpha(a_p, periods),
        "beta": float(b_m[0]),
        "symbols": keep,
        "n_obs": int(df.height),
        "market": {
            "alpha_per_bar": a_m,
            "alpha_annual": annualise_alpha(a_m, periods),
            "beta": float(b_m[0]),
            "r2": r2_m,
        },
        "pca": {
            "n_components": int(load.shape[1]),
            "alpha_per_bar": a_p,
            "alpha_annual": annualise_alpha(a_p, periods),
            "betas": [float(b) for b in b_p],
            "explained_variance_ratio": [float(v) for v in evr],
            "r2": r2_p,
        },
    }
