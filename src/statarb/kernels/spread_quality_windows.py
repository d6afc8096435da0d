"""Numba kernel: spread-quality statistics of windows of pairs' valid-row series (no copies).

The same statistics as :func:`statarb.kernels.spread_quality.spread_quality_kernel` (half-life,
Hurst by the variance of lagged differences, mean crossings), computed for windows described by
``(pair, end, length)`` of concatenated pair series, in parallel over windows. Used by screening
for the windows whose raw p-value can still pass the funnel.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from statarb.kernels.ou import ou_fit_range
from statarb.kernels.spread_quality import hurst_variance, mean_crossings


@njit(cache=True, parallel=True)
def spread_quality_windows_kernel(y, x, offsets, pair, ends, lengths, beta, alpha, lags, p):
    """``(half_life, hurst, crossings)`` per window ``w``: rows
    ``offsets[pair[w]] + ends[w] - lengths[w] .. offsets[pair[w]] + ends[w]`` of ``y``/``x``
    with spread ``y - beta[w] x - alpha[w]``; NaN / -1 where ``beta`` is not finite. The Hurst
    estimate of a window of ``n`` rows uses the lags ``<= n // 2``."""
    m = ends.shape[0]
    hl = np.full(m, np.nan)
    hu = np.full(m, np.nan)
    cr = np.full(m, -1, dtype=np.int64)
    for w in prange(m):
        if not (np.isfinite(beta[w]) and np.isfinite(alpha[w])) or lengths[w] < 4:
            continue
        hi = offsets[pair[w]] + ends[w]
        lo = hi - lengths[w]
        e = np.empty(hi - lo)
        for t in range(lo, hi):
            e[t - lo] = y[t] - beta[w] * x[t] - alpha[w]
        theta, _, _, b, _ = ou_fit_range(e, 0, e.shape[0], p)
        if np.isfinite(theta) and theta > 0.0:
            hl[w] = math.log(2.0) / theta
        elif np.isfinite(b) and b >= 1.0:
            hl[w] = np.inf
        hu[w] = hurst_variance(e, lags[lags <= e.shape[0] // 2])
        cr[w] = mean_crossings(e)
    return hl, hu, cr
