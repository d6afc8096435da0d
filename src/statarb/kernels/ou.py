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
"""

from __future__ import annotations

import numpy as np
from numba import njit


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
def ou_fit_windows_kernel(x, stops, window, min_obs, dt):
    """Fit the OU process on ``x[max(0, stop - window):stop]`` for each ``stop`` in ``stops``.

    Returns a ``(len(stops), 5)`` array of ``theta, mu, sigma, b, n_transitions``; rows with fewer
    than ``min_obs`` usable transitions are NaN (``n`` still reported).
    """
    m = stops.shape[0]
    out = np.full((m, 5), np.nan)
    for j in range(m):
        stop = stops[j]
        start = stop - window
        if start < 0:
            start = 0
        a, b, ssr, n = ar1_ols(x, start, stop)
        out[j, 4] = n
        if n < min_obs:
            continue
        theta, mu, sigma = ou_from_ar1(a, b, ssr, n, dt)
        out[j, 0] = theta
        out[j, 1] = mu
        out[j, 2] = sigma
        out[j, 3] = b
    return out
