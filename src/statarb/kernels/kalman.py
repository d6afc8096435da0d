"""Numba kernel: Kalman filter for a time-varying hedge ratio (state ``[beta, alpha]``).

Model (Chan 2013, *Algorithmic Trading*, ch. 3; Harvey 1989, *Forecasting, Structural Time Series
Models and the Kalman Filter*, ch. 3)::

    state       s_t = [beta_t, alpha_t]' = s_{t-1} + w_t,        w_t ~ N(0, Q)
    observation y_t = beta_t * x_t + alpha_t + eps_t = H_t s_t + eps_t,   H_t = [x_t, 1],
                eps_t ~ N(0, R)

Per bar ``t`` (the state covariance ``P`` is symmetric, kept as ``p00, p01, p11``):

    predict  s_{t|t-1} = s_{t-1|t-1},  P_{t|t-1} = P_{t-1|t-1} + Q
    innov.   e_t = y_t - H_t s_{t|t-1},  S_t = H_t P_{t|t-1} H_t' + R
    update   K_t = P_{t|t-1} H_t' / S_t,  s_{t|t} = s_{t|t-1} + K_t e_t,
             P_{t|t} = P_{t|t-1} - K_t H_t P_{t|t-1}

A bar with a non-finite ``y_t`` or ``x_t`` is predicted only (``s, P`` carried, ``P`` grows by ``Q``)
and its outputs are NaN. The 2x2 algebra is unrolled; ``alpha/kalman_ref.py`` is the plain NumPy
matrix loop this kernel is tested against (and pykalman's ``KalmanFilter.filter``).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def kalman_hedge_into(y, x, q00, q01, q11, r, state0, out):
    """Run the filter over ``y`` (dependent leg A) and ``x`` (leg B), writing into ``out``.

    ``state0`` = ``[beta, alpha, p00, p01, p11]``: the posterior entering the first bar (the first
    bar is predicted from it, so ``P_{0|-1} = P0 + Q``). ``out`` is a caller-owned ``(6, n)``
    float64 array receiving, per bar, the filtered ``beta_{t|t}``, ``alpha_{t|t}``, ``e_t``,
    ``S_t``, ``e_t / sqrt(S_t)`` and ``y_t - beta_{t|t} x_t - alpha_{t|t}`` (NaN on skipped bars).
    Returns the posterior after the last bar in the layout of ``state0``.
    """
    n = y.shape[0]
    b = state0[0]
    a = state0[1]
    p00 = state0[2]
    p01 = state0[3]
    p11 = state0[4]
    for t in range(n):
        # predict (random walk: mean unchanged)
        p00 += q00
        p01 += q01
        p11 += q11
        yt = y[t]
        xt = x[t]
        if not (np.isfinite(yt) and np.isfinite(xt)):
            for k in range(6):
                out[k, t] = np.nan
            continue
        h0 = p00 * xt + p01  # (P H')_0
        h1 = p01 * xt + p11  # (P H')_1
        s = xt * h0 + h1 + r
        e = yt - (b * xt + a)
        k0 = h0 / s
        k1 = h1 / s
        b += k0 * e
        a += k1 * e
        p00 -= k0 * h0
        p01 -= k0 * h1
        p11 -= k1 * h1
        out[0, t] = b
        out[1, t] = a
        out[2, t] = e
        out[3, t] = s
        out[4, t] = e / np.sqrt(s)
        out[5, t] = yt - b * xt - a
    state_out = np.empty(5)
    state_out[0] = b
    state_out[1] = a
    state_out[2] = p00
    state_out[3] = p01
    state_out[4] = p11
    return state_out


@njit(cache=True)
def kalman_hedge_kernel(y, x, q00, q01, q11, r, state0):
    """Allocating form of :func:`kalman_hedge_into`.

    Returns ``(beta, alpha, innovation, innovation_var, z_score, spread, state_out)`` (the six
    rows of ``out`` as 1-D views, then the final posterior).
    """
    out = np.empty((6, y.shape[0]))
    st = kalman_hedge_into(y, x, q00, q01, q11, r, state0, out)
    return out[0], out[1], out[2], out[3], out[4], out[5], st


@njit(cache=True)
def kalman_beta_bare(y, x, q, r):
    """Minimal loop computing only ``beta_{t|t}`` (Q = q*I, zero initial state and covariance).

    Benchmark baseline only (``benchmarks/bench_kalman.py``); no NaN handling.
    """
    n = y.shape[0]
    out = np.empty(n)
    b = 0.0
    a = 0.0
    p00 = 0.0
    p01 = 0.0
    p11 = 0.0
    for t in range(n):
        p00 += q
        p11 += q
        xt = x[t]
        h0 = p00 * xt + p01
        h1 = p01 * xt + p11
        s = xt * h0 + h1 + r
        e = y[t] - (b * xt + a)
        k0 = h0 / s
        k1 = h1 / s
        b += k0 * e
        a += k1 * e
        p00 -= k0 * h0
        p01 -= k0 * h1
        p11 -= k1 * h1
        out[t] = b
    return out
