"""Numba kernels for the Engle-Granger cointegration test (batch over pairs).

The residual ADF regression of ``statsmodels.tsa.stattools.adfuller(e, regression="n")`` at lag
``k`` regresses ``d_t = e_{t+1} - e_t`` on ``[e_t, d_{t-1}, ..., d_{t-k}]``. The lag-search models are
nested (same common sample, columns added one at a time), so a single Cholesky factor ``R`` of
the augmented cross-product ``[X y]'[X y]`` of the largest model gives every model's residual sum
of squares: ``SSR_j = sum_{i >= j} R[i, y]^2`` for the model with the first ``j`` columns (this is
the QR identity ``Q'y`` written with the Cholesky factor, Golub & Van Loan 2013, sec. 5.3). The
information criteria then follow statsmodels' OLS definitions
(``llf = -n/2 (log(2 pi) + log(SSR/n) + 1)``, ``aic = -2 llf + 2 k``, ``bic = -2 llf + log(n) k``)
and the t-ratio of the last column of model ``j`` is ``R[j-1, y] / sqrt(SSR_j / (n - j))``.

Information-criterion codes: 0 = none (use ``maxlag``), 1 = AIC, 2 = BIC, 3 = t-stat.
Trend codes for the first-stage regression: 0 = none ("n"), 1 = constant ("c").
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

IC_NONE = 0
IC_AIC = 1
IC_BIC = 2
IC_TSTAT = 3
TREND_N = 0
TREND_C = 1

_LOG_2PI = math.log(2.0 * math.pi)
_T_STOP = 1.6448536269514722  # statsmodels' 5 % one-sided normal quantile for "t-stat"
# statsmodels.tsa.stattools.coint: res_co.rsquared < 1 - 100 * SQRTEPS
_R2_COLLINEAR = 1.0 - 100.0 * math.sqrt(np.finfo(np.float64).eps)
_PIVOT_TOL = 1e-13  # relative pivot below which a column is treated as linearly dependent


@njit(cache=True)
def _cholesky_upper(m: np.ndarray, rank_flags: np.ndarray) -> np.ndarray:
    """Upper Cholesky factor of a PSD matrix; dependent columns get a zero row (flag 0)."""
    p = m.shape[0]
    r = np.zeros((p, p))
    for j in range(p):
        s = m[j, j]
        for k in range(j):
            s -= r[k, j] * r[k, j]
        if s <= _PIVOT_TOL * m[j, j] or s <= 0.0:
            rank_flags[j] = 0
            continue
        rank_flags[j] = 1
        d = math.sqrt(s)
        r[j, j] = d
        for i in range(j + 1, p):
            t = m[j, i]
            for k in range(j):
                t -= r[k, j] * r[k, i]
            r[j, i] = t / d
    return r


@njit(cache=True, fastmath=True)
def _lagged_sums(e: np.ndarray, d: np.ndarray, p: int, start: int):
    """One pass over rows ``t = start..n-2``: ``sum e_t^2``, ``sum e_t d_{t-j}`` and
    ``sum d_t d_{t-j}`` for ``j = 0..p`` (the inner loop over lags vectorises; fastmath lets LLVM
    reassociate these sums, which changes them by ~1e-13 relative, far below the 1e-8 agreement
    with statsmodels that the tests check)."""
    n = e.shape[0]
    ed = np.zeros(p + 1)
    dd = np.zeros(p + 1)
    ee = 0.0
    for t in range(start, n - 1):
        et = e[t]
        dt = d[t]
        ee += et * et
        for j in range(p + 1):
            dj = d[t - j]
            ed[j] += et * dj
            dd[j] += dt * dj
    return ee, ed, dd


@njit(cache=True)
def assemble_crossprod(
    ee: float, ed: np.ndarray, dd: np.ndarray, d_lo: np.ndarray, d_hi: np.ndarray, p: int
) -> np.ndarray:
    """Cross-product matrix of ``[e_t, d_{t-1}, ..., d_{t-p}, d_t]`` over the common sample from
    ``sum e^2``, ``ed[j] = sum e_t d_{t-j}`` and ``dd[j] = sum d_t d_{t-j}`` (``j = 0..p``).

    The difference columns are shifted copies of ``d``, so only the ``d_t`` row needs full sums;
    the rest follows from the Toeplitz update
    ``sum_t d_{t-i} d_{t-j} = sum_t d_{t-i+1} d_{t-j+1} + d_{s-i} d_{s-j} - d_{s+m-i} d_{s+m-j}``
    (``s`` the first row, ``m`` rows). ``d_lo[i] = d_{s-i}`` and ``d_hi[i] = d_{s+m-i}`` for
    ``i = 0..p`` hold the boundary values.
    """
    q = p + 2
    y = q - 1
    m = np.empty((q, q))
    g = np.empty((p + 1, p + 1))
    for j in range(p + 1):
        g[0, j] = dd[j]
    for i in range(1, p + 1):
        for j in range(i, p + 1):
            g[i, j] = g[i - 1, j - 1] + d_lo[i] * d_lo[j] - d_hi[i] * d_hi[j]
    m[0, 0] = ee
    m[0, y] = ed[0]
    for j in range(1, p + 1):
        m[0, j] = ed[j]
    m[y, y] = g[0, 0]
    for i in range(1, p + 1):
        m[i, y] = g[0, i]
        for j in range(i, p + 1):
            m[i, j] = g[i, j]
    for i in range(q):
        for j in range(i):
            m[i, j] = m[j, i]
    return m


@njit(cache=True)
def _crossprod(e: np.ndarray, d: np.ndarray, p: int, start: int) -> np.ndarray:
    """Cross-product matrix of ``[e_t, d_{t-1}, ..., d_{t-p}, d_t]`` over rows ``t = start..n-2``
    in O(n p) work (one fused pass plus the Toeplitz update of :func:`assemble_crossprod`)."""
    n = e.shape[0]
    ns = n - 1 - start
    ee, ed, dd = _lagged_sums(e, d, p, start)
    d_lo = np.empty(p + 1)
    d_hi = np.empty(p + 1)
    for i in range(p + 1):
        d_lo[i] = d[start - i]
        d_hi[i] = d[start + ns - i] if start + ns - i < d.shape[0] else 0.0
    return assemble_crossprod(ee, ed, dd, d_lo, d_hi, p)


@njit(cache=True)
def adf_n_kernel(e: np.ndarray, maxlag: int, ic: int) -> tuple[float, int, int, float]:
    """ADF regression without deterministic terms on series ``e`` (statsmodels ``regression="n"``).

    Returns ``(stat, usedlag, nobs, icbest)``: the t-ratio of the lagged level at the selected lag
    re-fitted on the full available sample (``n - 1 - usedlag`` rows), the selected lag, that
    sample size, and the best criterion value (NaN when ``ic == IC_NONE``). ``maxlag`` must be
    valid (``0 <= maxlag <= n // 2 - 1``), as checked by the Python wrapper.
    """
    n = e.shape[0]
    p = maxlag
    if n - 1 - p < p + 3:  # fewer than 2 residual degrees of freedom in the largest model
        return np.nan, -1, 0, np.nan
    d = np.empty(n - 1)
    for t in range(n - 1):
        d[t] = e[t + 1] - e[t]
    # common sample: rows t = p .. n-2 ; columns [e_t, d_{t-1}..d_{t-p}, d_t]
    m = _crossprod(e, d, p, p)
    return adf_from_crossprod(m, p, ic, e, d, n)


@njit(cache=True)
def adf_from_crossprod(
    m: np.ndarray, p: int, ic: int, e: np.ndarray, d: np.ndarray, n: int
) -> tuple[float, int, int, float]:
    """Lag search and re-fit of the ADF regression from the common-sample cross-product ``m``.

    ``n`` is the window length; ``e[t]`` and ``d[t]`` must be the window's first ``p + 1`` values
    (the re-fit adds rows ``t = k .. p-1`` to the common-sample sums).
    """
    usedlag = p
    icbest = np.nan
    q = p + 2
    if ic != IC_NONE:
        ns = n - 1 - p
        flags = np.empty(q, dtype=np.int64)
        r = _cholesky_upper(m, flags)
        ssr = np.empty(p + 1)  # ssr[j-1]: model with the first j columns = sum_{i>=j} r[i, y]^2
        acc = r[q - 1, q - 1] ** 2 if flags[q - 1] == 1 else 0.0
        for j in range(p + 1, 0, -1):
            acc += r[j, q - 1] ** 2 if j <= p else 0.0
            ssr[j - 1] = acc
        if ic == IC_TSTAT:
            usedlag = 0
            icbest = 0.0
            for j in range(p + 1, 0, -1):
                rank = 0
                for c in range(j):
                    rank += flags[c]
                s2 = ssr[j - 1] / (ns - rank)
                tval = r[j - 1, q - 1] / math.sqrt(s2) if flags[j - 1] == 1 and s2 > 0 else 0.0
                icbest = abs(tval)
                usedlag = j - 1
                if icbest >= _T_STOP:
                    break
        else:
            best = np.inf
            rank = 0
            for j in range(1, p + 2):
                rank += flags[j - 1]
                if ssr[j - 1] <= 0.0:  # exact fit: -inf criterion, keep the first one
                    if best > -np.inf:
                        best = -np.inf
                        usedlag = j - 1
                    continue
                llf = -0.5 * ns * (_LOG_2PI + math.log(ssr[j - 1] / ns) + 1.0)
                pen = 2.0 * rank if ic == IC_AIC else math.log(ns) * rank
                val = -2.0 * llf + pen
                if val < best:  # strict: ties keep the smaller lag, like min((ic, lag))
                    best = val
                    usedlag = j - 1
            icbest = best
    # re-fit at lag k on rows t = k .. n-2: take the common-sample sums for the first k lags and
    # add rows t = k .. p-1; reorder columns to [d_{t-1}..d_{t-k}, e_t, d_t] (level last, so its
    # t-ratio is read off the last pivot)
    k = usedlag
    nf = n - 1 - k
    qf = k + 2
    src = np.empty(qf, dtype=np.int64)
    for j in range(k):
        src[j] = j + 1
    src[k] = 0
    src[k + 1] = q - 1
    mf = np.empty((qf, qf))
    for a in range(qf):
        for b in range(qf):
            mf[a, b] = m[src[a], src[b]]
    v = np.empty(qf)
    for t in range(k, p):
        for j in range(k):
            v[j] = d[t - 1 - j]
        v[k] = e[t]
        v[k + 1] = d[t]
        for a in range(qf):
            for b in range(qf):
                mf[a, b] += v[a] * v[b]
    flags = np.empty(qf, dtype=np.int64)
    r = _cholesky_upper(mf, flags)
    rank = 0
    for c in range(qf - 1):
        rank += flags[c]
    ssr_f = r[qf - 1, qf - 1] ** 2 if flags[qf - 1] == 1 else 0.0
    if flags[k] == 0 or ssr_f <= 0.0 or nf - rank <= 0:
        return np.nan, k, nf, icbest
    stat = r[k, qf - 1] / math.sqrt(ssr_f / (nf - rank))
    return stat, k, nf, icbest


@njit(cache=True)
def first_stage(
    y: np.ndarray, x: np.ndarray, trend: int, resid: np.ndarray
) -> tuple[float, float, float]:
    """OLS of ``y`` on ``[x, const]`` (trend 1) or ``[x]`` (trend 0); fills ``resid``.

    Returns ``(beta, alpha, rsquared)``; ``rsquared`` is centred with a constant and uncentred
    without, as in statsmodels' ``OLS.rsquared``. Two-pass (mean-removed) sums keep the slope
    accurate for price levels far from zero.
    """
    n = y.shape[0]
    if trend == TREND_C:
        my = 0.0
        mx = 0.0
        for t in range(n):
            my += y[t]
            mx += x[t]
        my /= n
        mx /= n
        sxx = 0.0
        sxy = 0.0
        syy = 0.0
        for t in range(n):
            dx = x[t] - mx
            dy = y[t] - my
            sxx += dx * dx
            sxy += dx * dy
            syy += dy * dy
        beta = sxy / sxx if sxx > 0.0 else 0.0
        alpha = my - beta * mx
        ssr = 0.0
        for t in range(n):
            resid[t] = (y[t] - my) - beta * (x[t] - mx)
            ssr += resid[t] * resid[t]
        r2 = 1.0 - ssr / syy if syy > 0.0 else 1.0
        return beta, alpha, r2
    sxx = 0.0
    sxy = 0.0
    syy = 0.0
    for t in range(n):
        sxx += x[t] * x[t]
        sxy += x[t] * y[t]
        syy += y[t] * y[t]
    beta = sxy / sxx if sxx > 0.0 else 0.0
    ssr = 0.0
    for t in range(n):
        resid[t] = y[t] - beta * x[t]
        ssr += resid[t] * resid[t]
    r2 = 1.0 - ssr / syy if syy > 0.0 else 1.0
    return beta, 0.0, r2


@njit(cache=True, parallel=True)
def eg_batch_kernel(
    y: np.ndarray, x: np.ndarray, maxlag: int, ic: int, trend: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Engle-Granger for every row pair ``(y[j], x[j])`` (shape ``(n_pairs, n_obs)``, C order)
    in parallel over pairs (``prange``).

    Returns ``(stat, usedlag, adf_nobs, beta, alpha, icbest)``. A pair whose first-stage
    R-squared is at least ``1 - 100 sqrt(eps)`` gets ``stat = -inf`` and ``usedlag = -1``,
    statsmodels' collinearity rule.
    """
    npairs, n = y.shape
    stat = np.empty(npairs)
    usedlag = np.empty(npairs, dtype=np.int64)
    nobs = np.empty(npairs, dtype=np.int64)
    beta = np.empty(npairs)
    alpha = np.empty(npairs)
    icbest = np.empty(npairs)
    for j in prange(npairs):
        yy = y[j]
        xx = x[j]
        e = np.empty(n)
        b, a, r2 = first_stage(yy, xx, trend, e)
        beta[j] = b
        alpha[j] = a
        if not r2 < _R2_COLLINEAR:
            stat[j] = -np.inf
            usedlag[j] = -1
            nobs[j] = n
            icbest[j] = np.nan
            continue
        s, k, nf, icb = adf_n_kernel(e, maxlag, ic)
        stat[j] = s
        usedlag[j] = k
        nobs[j] = nf
        icbest[j] = icb
    return stat, usedlag, nobs, beta, alpha, icbest
