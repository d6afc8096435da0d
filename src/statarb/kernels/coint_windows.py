"""Numba kernel: Engle-Granger on every trailing window of a walk-forward schedule, incrementally.

Walk-forward screening tests each pair on the trailing ``W`` valid rows at every test time, so
consecutive windows share almost all their rows. Instead of rebuilding every window's regressions
(O(W p) per test, :func:`statarb.kernels.coint.eg_batch_kernel`), this kernel computes each row's
contributions once per pair and sums them over ranges:

* first stage (OLS of ``y`` on ``[x, 1]``) and ``sum e_t^2``: prefix sums of ``y, x, y^2, xy,
  x^2`` (with ``y, x`` shifted by the pair's first values, which keeps the sums small);
* ``sum e_t d_{t-j}`` and ``sum d_t d_{t-j}`` for ``j = 0..p``: with ``e = y - b x - a`` and
  ``d = Dy - b Dx`` they are bilinear in ``(y, x, 1)`` and ``(Dy_{t-j}, Dx_{t-j})``, so the kernel
  keeps cumulative block sums (``BLOCK`` rows per block) of the eight lagged products
  ``y Dy_{-j}, y Dx_{-j}, x Dy_{-j}, x Dx_{-j}, Dy Dy_{-j}, Dy Dx_{-j}, Dx Dy_{-j}, Dx Dx_{-j}``
  and prefix sums of ``Dy, Dx``; a range sum is a difference of two cumulative block sums, each
  completed by the rows of a partial block (fewer than ``BLOCK``) before the range end, so only
  past rows enter any window (bit-for-bit: no look-ahead even in rounding);
* the rest of the common-sample cross-product follows from the Toeplitz update, and the lag
  search and re-fit are :func:`statarb.kernels.coint.adf_from_crossprod`, shared with the direct
  kernel.

A test then costs O(p^2 + B p) instead of O(W p). The statistics equal statsmodels ``coint`` to
~1e-10 (range sums lose a few digits to cancellation; tests check 1e-8 against statsmodels and the
direct kernel). Windows are given by their end (exclusive row index into the pair's valid rows)
and length; the caller checks window lengths against ``min_obs``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from statarb.kernels.coint import (
    _R2_COLLINEAR,
    TREND_C,
    adf_from_crossprod,
    assemble_crossprod,
)

BLOCK = 64
# result columns
R_STAT, R_LAG, R_NOBS, R_BETA, R_ALPHA, R_ICBEST, R_FLAG = range(7)
FLAG_OK = 0
FLAG_COLLINEAR = 1
FLAG_SHORT_FOR_LAGS = 2


@njit(cache=True)
def default_maxlag(n: int) -> int:
    """statsmodels' ``adfuller`` rule ``min(n // 2 - 1, ceil(12 (n / 100)^(1/4)))``."""
    cap = n // 2 - 1
    lag = int(math.ceil(12.0 * (n / 100.0) ** 0.25))
    return cap if lag > cap else lag


@njit(cache=True, fastmath=True)
def _add_rows(ys, xs, dy, dx, t0, t1, pmax, out):
    """Add rows ``t0 <= t < t1``'s eight lagged products (``j = 0..pmax``) to ``out`` of shape
    ``(8, pmax + 1)``. For each lag the row loop is a contiguous dot product (it vectorises);
    rows with ``t - j < 0`` have no lag-``j`` product."""
    nd = dy.shape[0]
    hi = t1 if t1 < nd else nd
    for j in range(pmax + 1):
        lo = t0 if t0 >= j else j
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
        for t in range(lo, hi):
            ja = dy[t - j]
            jb = dx[t - j]
            y = ys[t]
            x = xs[t]
            a = dy[t]
            b = dx[t]
            s0 += y * ja
            s1 += y * jb
            s2 += x * ja
            s3 += x * jb
            s4 += a * ja
            s5 += a * jb
            s6 += b * ja
            s7 += b * jb
        out[0, j] += s0
        out[1, j] += s1
        out[2, j] += s2
        out[3, j] += s3
        out[4, j] += s4
        out[5, j] += s5
        out[6, j] += s6
        out[7, j] += s7


@njit(cache=True)
def _cum_blocks(ys, xs, dy, dx, pmax):
    """Cumulative block sums ``C[b] = sum over rows < b * BLOCK`` of the lagged products.

    Per block the products are one small matrix product (BLAS ``dgemm`` through ``np.dot``):
    ``[y, x, Dy, Dx]^T`` (4 x BLOCK) times the block's lag matrix ``[Dy_{t-j} | Dx_{t-j}]``
    (BLOCK x 2 (pmax + 1)). Same sums as :func:`_add_rows` up to rounding."""
    n = ys.shape[0]
    nd = dy.shape[0]
    nb = (n + BLOCK - 1) // BLOCK
    w = pmax + 1
    cum = np.zeros((nb + 1, 8, w))
    a = np.zeros((4, BLOCK))
    lag = np.zeros((BLOCK, 2 * w))
    for b in range(nb):
        t0 = b * BLOCK
        t1 = min(nd, t0 + BLOCK)
        a[:, :] = 0.0
        lag[:, :] = 0.0
        for t in range(t0, t1):
            r = t - t0
            a[0, r] = ys[t]
            a[1, r] = xs[t]
            a[2, r] = dy[t]
            a[3, r] = dx[t]
            top = pmax if pmax < t else t
            for j in range(top + 1):
                lag[r, j] = dy[t - j]
                lag[r, w + j] = dx[t - j]
        c = a @ lag  # row k of [y, x, Dy, Dx] against [Dy lags | Dx lags]
        for j in range(w):
            for k in range(4):
                cum[b + 1, 2 * k, j] = cum[b, 2 * k, j] + c[k, j]
                cum[b + 1, 2 * k + 1, j] = cum[b, 2 * k + 1, j] + c[k, w + j]
    return cum


@njit(cache=True)
def _prefix_upto(cum, ys, xs, dy, dx, r, pmax, out):
    """``out = sum`` of the lagged products over rows ``[0, r)``: the cumulative sum at the block
    boundary below ``r`` plus the rows up to ``r`` (fewer than ``BLOCK``). Only rows before ``r``
    enter, so a window's statistics never depend, even in rounding, on later rows."""
    b = r // BLOCK
    out[:, :] = cum[b]
    _add_rows(ys, xs, dy, dx, b * BLOCK, r, pmax, out)


@njit(cache=True)
def _window(ys, xs, dy, dx, px, pdx, cum, end, n, maxlag, ic, trend, pmax, hi, lo, res):
    """Engle-Granger on rows ``[end - n, end)``; writes the 7 result columns to ``res``."""
    s = end - n
    # first stage over the window
    sy = px[end, 0] - px[s, 0]
    sx = px[end, 1] - px[s, 1]
    syy = px[end, 2] - px[s, 2]
    sxy = px[end, 3] - px[s, 3]
    sxx = px[end, 4] - px[s, 4]
    if trend == TREND_C:
        my, mx = sy / n, sx / n
        cxx, cxy, cyy = sxx - n * mx * mx, sxy - n * mx * my, syy - n * my * my
        beta = cxy / cxx if cxx > 0.0 else 0.0
        alpha = my - beta * mx
        ssr = cyy - beta * cxy
        r2 = 1.0 - ssr / cyy if cyy > 0.0 else 1.0
    else:
        beta = sxy / sxx if sxx > 0.0 else 0.0
        alpha = 0.0
        ssr = syy - beta * sxy
        r2 = 1.0 - ssr / syy if syy > 0.0 else 1.0
    res[R_BETA] = beta
    res[R_ALPHA] = alpha
    if not r2 < _R2_COLLINEAR:
        res[R_STAT] = -np.inf
        res[R_LAG] = -1
        res[R_NOBS] = n
        res[R_ICBEST] = np.nan
        res[R_FLAG] = FLAG_COLLINEAR
        return
    p = default_maxlag(n) if maxlag < 0 else maxlag
    if n - 1 - p < p + 3 or p > pmax:
        res[R_STAT] = np.nan
        res[R_LAG] = -1
        res[R_NOBS] = 0
        res[R_ICBEST] = np.nan
        res[R_FLAG] = FLAG_SHORT_FOR_LAGS
        return
    # common sample rows t in [a, c): a = s + p, c = s + n - 1
    a = s + p
    c = s + n - 1
    cnt = c - a
    ry = px[c, 0] - px[a, 0]
    rx = px[c, 1] - px[a, 1]
    ryy = px[c, 2] - px[a, 2]
    rxy = px[c, 3] - px[a, 3]
    rxx = px[c, 4] - px[a, 4]
    ee = (
        ryy - 2.0 * beta * rxy + beta * beta * rxx
        - 2.0 * alpha * (ry - beta * rx) + alpha * alpha * cnt
    )  # fmt: skip
    _prefix_upto(cum, ys, xs, dy, dx, c, pmax, hi)
    _prefix_upto(cum, ys, xs, dy, dx, a, pmax, lo)
    ed = np.empty(p + 1)
    dd = np.empty(p + 1)
    b2 = beta * beta
    for j in range(p + 1):
        g0, g1 = hi[0, j] - lo[0, j], hi[1, j] - lo[1, j]
        g2, g3 = hi[2, j] - lo[2, j], hi[3, j] - lo[3, j]
        g4, g5 = hi[4, j] - lo[4, j], hi[5, j] - lo[5, j]
        g6, g7 = hi[6, j] - lo[6, j], hi[7, j] - lo[7, j]
        sdy = pdx[c - j, 0] - pdx[a - j, 0]
        sdx = pdx[c - j, 1] - pdx[a - j, 1]
        ed[j] = (g0 - beta * (g1 + g2) + b2 * g3) - alpha * (sdy - beta * sdx)
        dd[j] = g4 - beta * (g5 + g6) + b2 * g7
    d_lo = np.empty(p + 1)
    d_hi = np.zeros(p + 1)
    for i in range(p + 1):
        d_lo[i] = dy[a - i] - beta * dx[a - i]
        if c - i < dy.shape[0] and i > 0:
            d_hi[i] = dy[c - i] - beta * dx[c - i]
    m = assemble_crossprod(ee, ed, dd, d_lo, d_hi, p)
    e_w = np.empty(p + 1)
    d_w = np.empty(p + 1)
    for t in range(p + 1):
        e_w[t] = ys[s + t] - beta * xs[s + t] - alpha
        d_w[t] = dy[s + t] - beta * dx[s + t]
    stat, used, nobs, icb = adf_from_crossprod(m, p, ic, e_w, d_w, n)
    res[R_STAT] = stat
    res[R_LAG] = used
    res[R_NOBS] = nobs
    res[R_ICBEST] = icb
    res[R_FLAG] = FLAG_OK


@njit(cache=True, parallel=True)
def eg_windows_kernel(y, x, offsets, ends, lengths, test_offsets, window, maxlag, ic, trend):
    """Engle-Granger on windows of many pairs.

    ``y``/``x``: the pairs' valid rows concatenated, pair ``j`` at ``offsets[j]:offsets[j+1]``;
    its windows are ``test_offsets[j]:test_offsets[j+1]`` of ``ends`` (exclusive end, relative
    to the pair) and ``lengths`` (at most ``window``). ``maxlag < 0`` means statsmodels' rule per
    window length; the products are kept up to the lag of a full window, so no pair's
    computations depend on how much data comes later.
    Returns ``(n_windows, 7)``: statistic, used lag, ADF rows, beta, alpha (in the caller's
    units), best criterion, flag (0 ok, 1 collinear, 2 too short for the lags). Windows with
    length 0 are left NaN.
    """
    out = np.full((ends.shape[0], 7), np.nan)
    npairs = offsets.shape[0] - 1
    for j in prange(npairs):
        lo, hi = offsets[j], offsets[j + 1]
        t0, t1 = test_offsets[j], test_offsets[j + 1]
        n_all = hi - lo
        if t1 == t0 or n_all < 2:
            continue
        pmax = default_maxlag(max(window, 4)) if maxlag < 0 else maxlag
        y0 = y[lo] if trend == TREND_C else 0.0
        x0 = x[lo] if trend == TREND_C else 0.0
        ys = y[lo:hi] - y0
        xs = x[lo:hi] - x0
        dy = np.empty(n_all - 1)
        dx = np.empty(n_all - 1)
        for t in range(n_all - 1):
            dy[t] = ys[t + 1] - ys[t]
            dx[t] = xs[t + 1] - xs[t]
        px = np.zeros((n_all + 1, 5))
        for t in range(n_all):
            px[t + 1, 0] = px[t, 0] + ys[t]
            px[t + 1, 1] = px[t, 1] + xs[t]
            px[t + 1, 2] = px[t, 2] + ys[t] * ys[t]
            px[t + 1, 3] = px[t, 3] + xs[t] * ys[t]
            px[t + 1, 4] = px[t, 4] + xs[t] * xs[t]
        pdx = np.zeros((n_all, 2))
        for t in range(n_all - 1):
            pdx[t + 1, 0] = pdx[t, 0] + dy[t]
            pdx[t + 1, 1] = pdx[t, 1] + dx[t]
        cum = _cum_blocks(ys, xs, dy, dx, pmax)
        res = np.empty(7)
        hi = np.empty((8, pmax + 1))
        lo = np.empty((8, pmax + 1))
        for i in range(t0, t1):
            n = lengths[i]
            if n < 4:
                continue
            _window(ys, xs, dy, dx, px, pdx, cum, ends[i], n, maxlag, ic, trend, pmax, hi, lo,
                    res)  # fmt: skip
            out[i] = res
            if trend == TREND_C:  # back to the caller's units: y - b x - a, a = y0 + a' - b x0
                out[i, R_ALPHA] = res[R_ALPHA] + y0 - res[R_BETA] * x0
    return out
