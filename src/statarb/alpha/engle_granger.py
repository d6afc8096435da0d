"""Augmented Engle-Granger two-step cointegration test, equal to statsmodels' ``coint``.

Step 1 (Engle & Granger 1987): OLS of ``y`` on ``[x, deterministic terms]`` (statsmodels' column
order: ``x`` first, then constant/trend, ``add_trend(prepend=False)``), giving ``beta`` and
``alpha``. Step 2: ADF regression without deterministic terms on the residual (see
:mod:`statarb.alpha.adf_lagsearch`). The p-value is MacKinnon's (1994) response surface for ``N=2``
variables and the critical values are MacKinnon's (2010) finite-sample surface evaluated at
``nobs - 1`` (statsmodels' convention, matching Stata's ``egranger``).

If the first-stage R-squared is at least ``1 - 100 sqrt(eps)`` the two series are treated as
collinear: statistic ``-inf``, p-value 0 (statsmodels' rule), ``usedlag = -1``.

References: Engle, R. F. & Granger, C. W. J. (1987), Econometrica 55(2), 251-276;
MacKinnon, J. G. (1994), J. Bus. Econ. Stat. 12(2), 167-176; MacKinnon, J. G. (2010), Queen's
Economics Department Working Paper 1227.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm
from statsmodels.tsa import adfvalues
from statsmodels.tsa.adfvalues import mackinnoncrit

from statarb.alpha.adf_lagsearch import check_sample, ic_code, resolve_maxlag
from statarb.kernels.coint import (
    _R2_COLLINEAR,
    TREND_C,
    TREND_N,
    adf_n_kernel,
    eg_batch_kernel,
)

_TRENDS = ("c", "n", "ct", "ctt")
_BATCH_TRENDS = {"c": TREND_C, "n": TREND_N}


@dataclass(frozen=True, slots=True)
class EGResult:
    """Engle-Granger result; ``crit_values`` are the 1 %, 5 %, 10 % critical values."""

    stat: float
    pvalue: float
    crit_values: np.ndarray
    usedlag: int
    beta: float
    alpha: float
    nobs: int
    adf_nobs: int = 0
    icbest: float = float("nan")


def mackinnon_pvalue(
    stat: np.ndarray | float, regression: str = "c", n_vars: int = 2
) -> np.ndarray:
    """MacKinnon (1994) asymptotic p-value of a (A)DF / Engle-Granger tau statistic, vectorised.

    Same surface and branch points as ``statsmodels.tsa.adfvalues.mackinnonp`` (whose coefficient
    tables are used): ``Phi(poly(tau))`` with the small-p polynomial for ``tau <= tau*`` and the
    large-p one above; 1 above ``tau_max`` and 0 below ``tau_min``.
    """
    tau = np.asarray(stat, dtype=np.float64)
    i = n_vars - 1
    maxstat = adfvalues._tau_maxs[regression][i]
    minstat = adfvalues._tau_mins[regression][i]
    starstat = adfvalues._tau_stars[regression][i]
    with np.errstate(invalid="ignore"):
        small = np.polynomial.polynomial.polyval(
            tau, np.asarray(adfvalues._tau_smallps[regression][i])
        )
        large = np.polynomial.polynomial.polyval(
            tau, np.asarray(adfvalues._tau_largeps[regression][i])
        )
        p = norm.cdf(np.where(tau <= starstat, small, large))
        p = np.where(tau > maxstat, 1.0, np.where(tau < minstat, 0.0, p))
    return np.where(np.isnan(tau), np.nan, p)


def _check_series(name: str, a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        bad = np.argwhere(~np.isfinite(a))[0]
        raise ValueError(f"{name} has a NaN/inf value at index {tuple(int(b) for b in bad)}")
    return a


def _crit(trend: str, nobs: int) -> np.ndarray:
    if trend == "n":
        return np.full(3, np.nan)
    return np.asarray(mackinnoncrit(N=2, regression=trend, nobs=nobs - 1), dtype=np.float64)


def engle_granger(
    y: np.ndarray,
    x: np.ndarray,
    *,
    maxlag: int | None = None,
    autolag: str | None = "aic",
    trend: str = "c",
) -> EGResult:
    """Engle-Granger test of no cointegration between ``y`` (dependent) and ``x``.

    Equals ``statsmodels.tsa.stattools.coint(y, x, trend, method="aeg", maxlag, autolag)`` and
    additionally returns the first-stage ``beta``/``alpha``, the chosen lag and the sample sizes.
    """
    if trend not in _TRENDS:
        raise ValueError(f"trend must be one of {_TRENDS}, got {trend!r}")
    y = _check_series("y", y)
    x = _check_series("x", x)
    if y.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"y and x must be 1-d of equal length, got {y.shape} and {x.shape}")
    n = y.shape[0]
    code = ic_code(autolag)
    if trend in _BATCH_TRENDS:
        stat, used, adf_n, beta, alpha, icb = eg_batch_kernel(
            y[None, :],
            x[None, :],
            check_sample(n, resolve_maxlag(n, maxlag)),
            code,
            _BATCH_TRENDS[trend],
        )
        stat_f, used_i, adf_i, icb_f = float(stat[0]), int(used[0]), int(adf_n[0]), float(icb[0])
        beta_f, alpha_f = float(beta[0]), float(alpha[0])
    else:
        t = np.arange(1, n + 1, dtype=np.float64)
        cols = [x, np.ones(n), t] + ([t * t] if trend == "ctt" else [])
        xx = np.column_stack(cols)
        params, *_ = np.linalg.lstsq(xx, y, rcond=None)
        resid = y - xx @ params
        r2 = 1.0 - float(resid @ resid) / float(((y - y.mean()) ** 2).sum())
        beta_f, alpha_f = float(params[0]), float(params[1])
        if r2 < _R2_COLLINEAR:
            s, used_i, adf_i, icb_f = adf_n_kernel(
                resid, check_sample(n, resolve_maxlag(n, maxlag)), code
            )
            stat_f = float(s)
        else:
            stat_f, used_i, adf_i, icb_f = -np.inf, -1, n, float("nan")
    return EGResult(
        stat=stat_f,
        pvalue=float(mackinnon_pvalue(stat_f, trend, 2)),
        crit_values=_crit(trend, n),
        usedlag=int(used_i),
        beta=beta_f,
        alpha=alpha_f,
        nobs=n,
        adf_nobs=int(adf_i),
        icbest=float(icb_f),
    )


def engle_granger_batch(
    panel_y: np.ndarray,
    panel_x: np.ndarray,
    *,
    maxlag: int | None = None,
    autolag: str | None = "aic",
    trend: str = "c",
) -> dict[str, np.ndarray]:
    """Engle-Granger for every column ``j`` of ``panel_y``/``panel_x`` (shape ``(n_obs, n_pairs)``).

    Runs the numba kernel in parallel over pairs. Returns arrays keyed ``stat``, ``pvalue``,
    ``usedlag``, ``beta``, ``alpha``, ``adf_nobs``, ``icbest`` (length ``n_pairs``), ``nobs``
    (int) and ``crit_values`` (1 %, 5 %, 10 %; the same for every pair of equal length).
    Only ``trend`` "c" and "n" are batched.
    """
    y = _check_series("panel_y", panel_y)
    x = _check_series("panel_x", panel_x)
    if y.ndim != 2 or x.shape != y.shape:
        raise ValueError(f"panels must be 2-d of equal shape, got {y.shape} and {x.shape}")
    # the kernel wants one contiguous row per pair
    return engle_granger_rows(y.T, x.T, maxlag=maxlag, autolag=autolag, trend=trend)


def engle_granger_rows(
    y: np.ndarray,
    x: np.ndarray,
    *,
    maxlag: int | None = None,
    autolag: str | None = "aic",
    trend: str = "c",
) -> dict[str, np.ndarray]:
    """:func:`engle_granger_batch` on pairs stored as rows: ``y``/``x`` of shape
    ``(n_pairs, n_obs)`` (the kernel's layout; C-contiguous input is used without a copy)."""
    if trend not in _BATCH_TRENDS:
        raise ValueError(f"batch trend must be 'c' or 'n', got {trend!r}")
    y = np.ascontiguousarray(y, dtype=np.float64)
    x = np.ascontiguousarray(x, dtype=np.float64)
    if y.ndim != 2 or x.shape != y.shape:
        raise ValueError(f"pair rows must be 2-d of equal shape, got {y.shape} and {x.shape}")
    n = y.shape[1]
    stat, used, adf_n, beta, alpha, icb = eg_batch_kernel(
        y, x, check_sample(n, resolve_maxlag(n, maxlag)), ic_code(autolag), _BATCH_TRENDS[trend]
    )
    return {
        "stat": stat,
        "pvalue": mackinnon_pvalue(stat, trend, 2),
        "usedlag": used,
        "beta": beta,
        "alpha": alpha,
        "adf_nobs": adf_n,
        "icbest": icb,
        "nobs": np.int64(n),
        "crit_values": _crit(trend, n),
    }
