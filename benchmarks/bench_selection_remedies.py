"""Measurement: two candidate remedies for the funnel's remaining false pairs, on a finished run.

For every window that passed funnel stages 1-3 (test, multiple testing, spread quality) in a
project's ``selection_log``, compute on that window's closes (the screening's own window: the
trailing ``window_bars`` rows where both legs have a usable bar, known by ``test_ts``):

1. **Ng & Perron (2001) MAIC lag** for the ADF regression on the Engle-Granger residual (no
   deterministic terms, lags 0..ceil(12 (T/100)^0.25) on a common sample, the chosen lag re-fitted
   on its full sample), against statsmodels' AIC choice (``adfuller(..., autolag="AIC")``);
   p-values from MacKinnon (1994), N = 2, as ``statsmodels.tsa.stattools.coint``.
2. **Hedge-ratio constancy across the window's halves**: DOLS (Stock & Watson 1993) with
   ``--leads`` leads and lags of the differenced regressor on each half, long-run variance of
   the residual AR(1)-prewhitened (Andrews & Monahan 1992), ``z = (b1 - b2) / sqrt(v1 + v2)``,
   N(0, 1) under a constant cointegrating vector.

3. **Engle-Granger in the other direction** (leg B on leg A; statsmodels' ``coint`` is not
   symmetric), with :func:`statarb.alpha.engle_granger.engle_granger` (equal to ``coint``).

It prints the share of windows each would reject, for the true pairs' windows (before any break)
and for the others, overall and per pair. Results: docs/cointegration.md "Measured". Run on a
project after ``statarb generate`` and ``kedro run`` (or a seed kept by ``statarb recovery``):

    .venv/bin/python benchmarks/bench_selection_remedies.py --project . [--leads 5]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import polars as pl
from statsmodels.tsa.adfvalues import mackinnonp
from statsmodels.tsa.stattools import adfuller

from statarb.alpha import recovery as rc
from statarb.alpha.config import AlphaConfig
from statarb.alpha.engle_granger import engle_granger
from statarb.alpha.screening import _window_rows, to_wide
from statarb.storage.database import get_engine
from statarb.storage.resolver import load_project, scan_entry
from statarb.storage.sql_io import read_table


def adf_t(de: np.ndarray, e: np.ndarray, k: int, start: int) -> tuple[float, float, float]:
    """ADF regression ``de_t`` on ``[e_{t-1}, de_{t-1..t-k}]`` over rows ``start..``: t-ratio of
    the level, its coefficient and ``SSR / rows``."""
    rows = np.arange(start, len(de))
    x = np.column_stack([e[rows]] + [de[rows - j] for j in range(1, k + 1)])
    coef, *_ = np.linalg.lstsq(x, de[rows], rcond=None)
    r = de[rows] - x @ coef
    s2 = r @ r / (len(rows) - x.shape[1])
    return coef[0] / np.sqrt(s2 * np.linalg.inv(x.T @ x)[0, 0]), coef[0], r @ r / len(rows)


def maic_lag(e: np.ndarray, kmax: int) -> int:
    """Ng & Perron (2001, eq. 9) MAIC with OLS-demeaned data (Perron & Qu 2007): ``ln s2_k +
    2 (tau_k + k) / n``, ``tau_k = b0^2 sum e_{t-1}^2 / s2_k`` on the common sample."""
    de = np.diff(e)
    s_e2 = e[kmax:-1] @ e[kmax:-1]
    n = len(de) - kmax
    crit = []
    for k in range(kmax + 1):
        _, b0, s2 = adf_t(de, e, k, kmax)
        crit.append(np.log(s2) + 2 * (b0**2 * s_e2 / s2 + k) / n)
    return int(np.argmin(crit))


def dols(y: np.ndarray, x: np.ndarray, p: int) -> tuple[float, float]:
    """DOLS slope of ``y`` on ``[1, x, dx_{t-p..t+p}]`` and its variance with an AR(1)-prewhitened
    long-run variance of the residual."""
    dx = np.diff(x)
    rows = np.arange(p + 1, len(y) - p)
    z = np.column_stack(
        [np.ones(len(rows)), x[rows]] + [dx[rows - 1 + j] for j in range(-p, p + 1)]
    )
    coef, *_ = np.linalg.lstsq(z, y[rows], rcond=None)
    u = y[rows] - z @ coef
    rho = (u[1:] @ u[:-1]) / (u[:-1] @ u[:-1])
    eps = u[1:] - rho * u[:-1]
    lrv = (eps @ eps / len(eps)) / (1 - rho) ** 2
    return coef[1], lrv * np.linalg.inv(z.T @ z)[1, 1]


def window_row(y: np.ndarray, x: np.ndarray, leads: int) -> dict[str, float]:
    """Both statistics of one window (``y`` = leg A, ``x`` = leg B)."""
    design = np.column_stack([x, np.ones_like(x)])
    e = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    kmax = int(np.ceil(12 * (len(e) / 100) ** 0.25))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        st_aic, _, k_aic = adfuller(e, maxlag=kmax, regression="n", autolag="AIC")[:3]
    k_maic = maic_lag(e, kmax)
    st_maic = adf_t(np.diff(e), e, k_maic, k_maic)[0]
    h = len(y) // 2
    (b1, v1), (b2, v2) = dols(y[:h], x[:h], leads), dols(y[h:], x[h:], leads)
    return {"k_aic": k_aic, "p_aic": mackinnonp(st_aic, "c", 2), "k_maic": k_maic,
            "p_maic": mackinnonp(st_maic, "c", 2), "z_beta": (b1 - b2) / np.sqrt(v1 + v2),
            "p_eg_reverse": engle_granger(x, y).pvalue}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--project", default=".")
    ap.add_argument("--leads", type=int, default=5)
    args = ap.parse_args()
    proj = load_project(args.project, None)
    cfg = AlphaConfig.from_params(proj.params["alpha"], "alpha")
    truth, _ = rc.load_ground_truth(
        proj.entry_path("ground_truth_pairs"), proj.entry_path("ground_truth_beta_paths")
    )
    log = read_table(get_engine(proj.db_url(), read_only=True), "selection_log")
    passed = pl.col("pass_test") & pl.col("pass_half_life") & pl.col("pass_hurst")
    cand = log.filter(passed & pl.col("pass_crossings")).join(truth, on="pair_id", how="left")
    syms = sorted({s for p in cand["pair_id"].unique() for s in p.split("_")})
    cols = ["symbol", "datetime", "close", "outlier_flag"]
    bars = scan_entry(proj.store("bars_adjusted"), columns=cols).filter(
        pl.col("symbol").is_in(syms)
    )
    times, mat = to_wide(bars.collect(), syms)  # the screening's panel (outlier bars dropped)
    known_at = times + cfg.bar_minutes * 60_000_000
    col = {s: i for i, s in enumerate(syms)}
    valid = np.isfinite(mat)
    rows = []
    for r in cand.iter_rows(named=True):
        a, b = (col[s] for s in r["pair_id"].split("_"))
        end = int(np.searchsorted(known_at, r["test_ts"].timestamp() * 1e6, side="right"))
        w = _window_rows(valid[:, a], valid[:, b], end, cfg.screening.window_bars)  # as screening
        true = bool(r["cointegrated"]) and (r["break_ts"] is None or r["test_ts"] < r["break_ts"])
        rows.append({"pair_id": r["pair_id"], "true": true, "tradable": r["tradable"],
                     **window_row(mat[w, a], mat[w, b], args.leads)})  # fmt: skip
    df = pl.DataFrame(rows)
    shares = [
        pl.len().alias("windows"),
        pl.col("tradable").sum().alias("tradable"),
        (pl.col("p_aic") < 0.01).mean().alias("aic_p<1%"),
        (pl.col("p_maic") < 0.01).mean().alias("maic_p<1%"),
        pl.col("k_aic").median().alias("k_aic"),
        pl.col("k_maic").median().alias("k_maic"),
        pl.col("p_aic").median().alias("med_p_aic"),
        pl.col("p_maic").median().alias("med_p_maic"),
        (pl.col("z_beta").abs() > 1.96).mean().alias("|z_beta|>1.96"),
        (pl.col("p_eg_reverse") < 0.001).mean().alias("eg_reverse_p<0.1%"),
        pl.col("p_eg_reverse").filter(pl.col("tradable")).max().alias("eg_reverse_max_p_tradable"),
    ]
    pl.Config.set_tbl_rows(100)
    pl.Config.set_tbl_cols(20)
    pl.Config.set_tbl_width_chars(250)
    print(df.group_by("true").agg(shares).sort("true"))
    print(df.group_by("true", "pair_id").agg(shares).sort("true", "pair_id"))


if __name__ == "__main__":
    main()
