"""Numba kernel: spread-quality statistics of screening windows (the funnel's second stage).

For each pair ``j`` the window spread is ``e_t = y_jt - beta_j x_jt - alpha_j`` (the test's
cointegrating relation). Three statistics (Sarmento & Horta 2020, sec. 3.2):

* half-life ``ln 2 / theta`` of the AR(1)/OU fit of ``e`` (estimator from the OU parameter record,
  see :mod:`statarb.kernels.ou`); ``inf`` when ``e`` is not mean-reverting (``b >= 1``), NaN when
  ``b <= 0`` or undefined;
* Hurst exponent by the variance of lagged differences: ``Var(e_{t+tau} - e_t) ~ tau^{2H}``, ``H``
  = half the OLS slope of ``log Var`` on ``log tau`` over the lags given (overlapping differences,
  as arbitragelab's ``get_hurst_exponent``); a random walk has ``H = 0.5``, a mean-reverting spread
  ``H < 0.5`` once the lags reach past its half-life;
* the number of mean crossings: sign changes of ``e_t - mean(e)``.

``alpha/selection/spread_quality_ref.py`` is the plain NumPy twin.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from statarb.kernels.ou import OUParamsNb, ou_fit_range


@njit(cache=True)
def hurst_variance(e: np.ndarray, lags: np.ndarray) -> float:
    """Hurst exponent of ``e`` from the variance of overlapping ``tau``-differences."""
    n = e.shape[0]
    k = 0
    sx = 0.0
    sy = 0.0
    sxx = 0.0
    sxy = 0.0
    for li in range(lags.shape[0]):
        tau = lags[li]
        m = n - tau
        if m < 2:
            continue
        s1 = 0.0
        s2 = 0.0
        for t in range(m):  # one pass: tau-differences are small, E[d^2] - E[d]^2 is exact enough
            d = e[t + tau] - e[t]
            s1 += d
            s2 += d * d
        mean = s1 / m
        var = s2 / m - mean * mean
        if not var > 0.0:
            continue
        lx = math.log(tau)
        ly = math.log(var)
        k += 1
        sx += lx
        sy += ly
        sxx += lx * lx
        sxy += lx * ly
    if k < 2:
        return np.nan
    den = k * sxx - sx * sx
    if den <= 0.0:
        return np.nan
    return 0.5 * (k * sxy - sx * sy) / den


@njit(cache=True)
def mean_crossings(e: np.ndarray) -> int:
    """Sign changes of ``e - mean(e)`` (zeros take the previous sign)."""
    n = e.shape[0]
    if n < 2:
        return 0
    mean = 0.0
    for t in range(n):
        mean += e[t]
    mean /= n
    count = 0
    prev = 0
    for t in range(n):
        d = e[t] - mean
        s = 1 if d > 0.0 else (-1 if d < 0.0 else prev)
        if prev != 0 and s != prev:
            count += 1
        if s != 0:
            prev = s
    return count


@njit(cache=True, parallel=True)
def spread_quality_kernel(
    y: np.ndarray,
    x: np.ndarray,
    beta: np.ndarray,
    alpha: np.ndarray,
    lags: np.ndarray,
    p: OUParamsNb,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(half_life, hurst, crossings)`` for every row pair ``(y[j], x[j])`` (shape
    ``(n_pairs, n_obs)``); NaN / -1 where ``beta_j`` is not finite."""
    npairs, n = y.shape
    hl = np.full(npairs, np.nan)
    hu = np.full(npairs, np.nan)
    cr = np.full(npairs, -1, dtype=np.int64)
    for j in prange(npairs):
        if not (np.isfinite(beta[j]) and np.isfinite(alpha[j])):
            continue
        e = np.empty(n)
        for t in range(n):
            e[t] = y[j, t] - beta[j] * x[j, t] - alpha[j]
        theta, _, _, b, _ = ou_fit_range(e, 0, n, p)
        if np.isfinite(theta) and theta > 0.0:
            hl[j] = math.log(2.0) / theta
        elif np.isfinite(b) and b >= 1.0:
            hl[j] = np.inf
        hu[j] = hurst_variance(e, lags)
        cr[j] = mean_crossings(e)
    return hl, hu, cr
