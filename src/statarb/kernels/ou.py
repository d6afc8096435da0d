"""Numba kernels: conditional maximum likelihood of an Ornstein-Uhlenbeck process via AR(1) OLS.

The OU SDE ``dX = theta (mu - X) dt + sigma dW`` (Uhlenbeck & Ornstein 1930) sampled every ``dt``
is exactly the AR(1) ``X_{t+1} = a + b X_t + eta_t``, ``eta_t ~ N(0, v)`` with (Vasicek 1977 exact
discretisation) ``b = exp(-theta dt)``, ``a = mu (1 - b)``, ``v = sigma^2 (1 - b^2) / (2 theta)``.
Conditional on ``X_0`` the Gaussian likelihood is maximised by the OLS of ``X_{t+1}`` on
``[1, X_t]`` with ``v = SSR / n`` (``n`` = number of transitions), so

    theta = -ln(b) / dt,  mu = a / (1 - b),  sigma = sqrt(v * 2 theta / (1 - b^2)).

Only transitions with both ends finite are used. If ``b`` is not in ``(0, 1)`` the window is not
mean-reverting and ``theta, mu, sigma`` are NaN. Sums are centred (two passes plus a residual pass)
for accuracy; ``alpha/ou_ref.py`` is the statsmodels reference.

The OLS ``b`` is biased towards 0 in short samples (so ``theta`` is biased upwards; about +58 % at
``theta = 0.002`` over 3,900 bars). Two corrections of ``b`` are offered (estimator codes):

* ``EST_KENDALL``: ``b + (1 + 3 b) / n`` (Kendall 1954, Marriott & Pope 1954: the first-order bias
  of the AR(1) coefficient with an estimated mean);
* ``EST_JACKKNIFE``: ``m/(m-1) b - sum_i b_i / (m^2 - m)`` over ``m`` consecutive blocks
  (Quenouille 1956; the jackknife Phillips & Yu 2005 apply to the OU drift).

``mu`` is kept from the OLS fit; ``sigma`` is recomputed from the residual variance and the
corrected ``b``. ``alpha/ou_bias_ref.py`` is the plain NumPy twin; ``benchmarks/bench_ou_bias.py``
measures the Monte-Carlo bias of each estimator.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

EST_MLE = 0
EST_KENDALL = 1
EST_JACKKNIFE = 2
ESTIMATORS = {"mle": EST_MLE, "kendall": EST_KENDALL, "jackknife": EST_JACKKNIFE}


class OUParamsNb(NamedTuple):
    """Parameter record of the OU kernels (one record instead of positional scalars)."""

    window: int  # bars per fit
    min_obs: int  # fewest usable transitions
    dt: float  # time step
    estimator: int  # EST_MLE | EST_KENDALL | EST_JACKKNIFE
    blocks: int  # jackknife blocks m (>= 2)


@njit(cache=True)
def ar1_ols(x, start, stop):
    """OLS of ``x[i+1]`` on ``[1, x[i]]`` for ``start <= i < i+1 < stop`` (finite pairs only).

    Returns ``(a, b, ssr, n)``; NaNs and ``n`` < 3 when fewer than 3 usable transitions or
    zero variance of the regressor.
    """
    n = 0
    sx = 0.0
    sy = 0.0
    for i in range(start, stop - 1):
        u = x[i]
        w = x[i + 1]
        if np.isfinite(u) and np.isfinite(w):
            n += 1
            sx += u
            sy += w
    if n < 3:
        return np.nan, np.nan, np.nan, n
    mx = sx / n
    my = sy / n
    sxx = 0.0
    sxy = 0.0
    for i in range(start, stop - 1):
        u = x[i]
        w = x[i + 1]
        if np.isfinite(u) and np.isfinite(w):
            du = u - mx
            sxx += du * du
            sxy += du * (w - my)
    if sxx <= 0.0:
        return np.nan, np.nan, np.nan, n
    b = sxy / sxx
    a = my - b * mx
    ssr = 0.0
    for i in range(start, stop - 1):
        u = x[i]
        w = x[i + 1]
        if np.isfinite(u) and np.isfinite(w):
            r = w - a - b * u
            ssr += r * r
    return a, b, ssr, n


@njit(cache=True)
def ou_from_ar1(a, b, ssr, n, dt):
    """Map AR(1) estimates to ``(theta, mu, sigma)`` (NaN unless ``0 < b < 1``)."""
    if not (b > 0.0 and b < 1.0) or n < 3:
        return np.nan, np.nan, np.nan
    theta = -np.log(b) / dt
    mu = a / (1.0 - b)
    v = ssr / n
    sigma = np.sqrt(v * 2.0 * theta / (1.0 - b * b))
    return theta, mu, sigma


@njit(cache=True)
def corrected_b(x, start, stop, b, n, estimator, blocks):
    """Bias-corrected AR(1) coefficient of ``x[start:stop]`` (see module docstring)."""
    if estimator == EST_KENDALL:
        return b + (1.0 + 3.0 * b) / n
    if estimator == EST_JACKKNIFE:
        length = (stop - start) // blocks
        if length < 4:
            return np.nan
        acc = 0.0
        for i in range(blocks):
            lo = start + i * length
            hi = stop if i == blocks - 1 else lo + length
            _, bi, _, ni = ar1_ols(x, lo, hi)
            if ni < 3 or not np.isfinite(bi):
                return np.nan
            acc += bi
        m = float(blocks)
        return m / (m - 1.0) * b - acc / (m * m - m)
    return b


@njit(cache=True)
def ou_fit_range(x, start, stop, p):
    """OU fit of ``x[start:stop]`` with estimator ``p.estimator``: ``(theta, mu, sigma, b, n)``."""
    a, b, ssr, n = ar1_ols(x, start, stop)
    if n < 3 or not np.isfinite(b):
        return np.nan, np.nan, np.nan, np.nan, n
    mu_ols = a / (1.0 - b) if b != 1.0 else np.nan
    bc = corrected_b(x, start, stop, b, n, p.estimator, p.blocks)
    if not (bc > 0.0 and bc < 1.0):
        return np.nan, np.nan, np.nan, bc, n
    theta, _, sigma = ou_from_ar1(mu_ols * (1.0 - bc), bc, ssr, n, p.dt)
    return theta, mu_ols, sigma, bc, n


@njit(cache=True)
def ou_fit_windows_kernel(x, stops, p):
    """Fit the OU process on ``x[max(0, stop - p.window):stop]`` for each ``stop`` in ``stops``.

    Returns a ``(len(stops), 5)`` array of ``theta, mu, sigma, b, n_transitions``; rows with fewer
    than ``p.min_obs`` usable transitions are NaN (``n`` still reported).
    """
    m = stops.shape[0]
    out = np.full((m, 5), np.nan)
    for j in range(m):
        stop = stops[j]
        start = stop - p.window
        if start < 0:
            start = 0
        theta, mu, sigma, b, n = ou_fit_range(x, start, stop, p)
        out[j, 4] = n
        if n < p.min_obs:
            continue
        out[j, 0] = theta
        out[j, 1] = mu
        out[j, 2] = sigma
        out[j, 3] = b
    return out
