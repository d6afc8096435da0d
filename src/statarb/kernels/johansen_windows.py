"""Numba kernel: the bivariate Johansen trace test on every window of pairs' series, from
prefix sums of the moment matrices (O(1) per window after O(n) per pair).

For ``det_order`` in ``{-1, 0}`` every step of :func:`statarb.alpha.johansen.johansen` (equal to
statsmodels ``coint_johansen``) is a least-squares fit with or without an intercept on the
window's rows, so it only needs the window's sums and cross-products of
``u_t = [dy_t, dx_t, y_{t-k}, x_{t-k}, dy_{t-1}, dx_{t-1}, ..., dy_{t-k}, dx_{t-k}]``
(``k = k_ar_diff``; the detrending of the levels by a constant is removed again by the demeaned
fits). The residual moments are Schur complements (``S_ab.v = M_ab - M_av M_vv^-1 M_vb``), the
eigenvalues solve the 2 x 2 ``|sig - lambda S_kk| = 0`` in closed form. Levels are taken relative
to the pair's first row before the prefix sums, which keeps the cancellation in ``C/t - mu mu'``
small. The plain reference is :class:`statarb.alpha.coint_tests.johansen.JohansenTraceTest.run`
on copies of the windows (tests compare them).

Status per window: 0 ok, 1 singular (a moment matrix not positive definite, eigenvalues outside
``[0, 1)``, a non-finite or negative trace).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

EIG_TOL = 1e-10


@njit(cache=True)
def _snapshots(y, x, k, pos):
    """Running sums at the sorted positions ``pos`` (sums over ``t < pos[i]``): ``S`` of
    ``u_t`` (u_t = 0 for ``t <= k``), the upper triangle of ``C`` of ``u_t u_t'``, and of the
    levels ``y``, ``x``; levels relative to the first row. One pass, memory O(len(pos))."""
    n = y.shape[0]
    p = 4 + 2 * k
    q = pos.shape[0]
    s_out = np.zeros((q, p))
    c_out = np.zeros((q, p, p))
    l_out = np.zeros((q, 2))
    s = np.zeros(p)
    c = np.zeros((p, p))
    u = np.zeros(p)
    ly = 0.0
    lx = 0.0
    i = 0
    for t in range(n + 1):
        while i < q and pos[i] == t:
            s_out[i] = s
            c_out[i] = c
            l_out[i, 0] = ly
            l_out[i, 1] = lx
            i += 1
        if t == n or i == q:
            break
        ly += y[t] - y[0]
        lx += x[t] - x[0]
        if t <= k:
            continue
        u[0] = y[t] - y[t - 1]
        u[1] = x[t] - x[t - 1]
        u[2] = y[t - k] - y[0]
        u[3] = x[t - k] - x[0]
        for j in range(1, k + 1):
            u[2 + 2 * j] = y[t - j] - y[t - j - 1]
            u[3 + 2 * j] = x[t - j] - x[t - j - 1]
        for a in range(p):
            s[a] += u[a]
            for b in range(a, p):
                c[a, b] += u[a] * u[b]
    return s_out, c_out, l_out


@njit(cache=True)
def _chol_solve(a, b):
    """``a^-1 b`` for a symmetric positive definite ``a`` by Cholesky; ``ok = False`` when a
    pivot is not positive (a singular lag block)."""
    n = a.shape[0]
    g = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1):
            v = a[i, j]
            for q in range(j):
                v -= g[i, q] * g[j, q]
            if i == j:
                if not v > 1e-300:
                    return b, False
                g[i, i] = math.sqrt(v)
            else:
                g[i, j] = v / g[j, j]
    z = b.copy()
    for col in range(b.shape[1]):
        for i in range(n):  # forward: g z = b
            v = z[i, col]
            for q in range(i):
                v -= g[i, q] * z[q, col]
            z[i, col] = v / g[i, i]
        for i in range(n - 1, -1, -1):  # backward: g' x = z
            v = z[i, col]
            for q in range(i + 1, n):
                v -= g[q, i] * z[q, col]
            z[i, col] = v / g[i, i]
    return z, True


@njit(cache=True)
def _window(s_lo, c_lo, s_hi, c_hi, t, k, demean, y0, x0):
    """``(trace, lambda_1, v_a, v_b, status)`` of the ``t`` rows between the running sums
    ``(s_lo, c_lo)`` and ``(s_hi, c_hi)``; ``y0, x0``: the shift of the levels in the sums
    (undone when nothing is demeaned)."""
    p = 4 + 2 * k
    m = (c_hi - c_lo) / t
    for a in range(p):
        for b in range(a):
            m[a, b] = m[b, a]
    mu = (s_hi - s_lo) / t
    if demean:
        for a in range(p):
            for b in range(p):
                m[a, b] -= mu[a] * mu[b]
    else:  # raw moments of the levels: E[(u + h)(u + h)'] with h the shift
        h = np.zeros(p)
        h[2] = y0
        h[3] = x0
        for a in range(p):
            for b in range(p):
                m[a, b] += h[a] * mu[b] + mu[a] * h[b] + h[a] * h[b]
    s00 = m[0:2, 0:2].copy()
    skk = m[2:4, 2:4].copy()
    sk0 = m[2:4, 0:2].copy()
    if k > 0:
        mvv = m[4:p, 4:p].copy()
        rhs = np.empty((p - 4, 4))
        rhs[:, 0:2] = m[4:p, 0:2]
        rhs[:, 2:4] = m[4:p, 2:4]
        sol, ok = _chol_solve(mvv, rhs)
        if not ok:
            return np.nan, np.nan, np.nan, np.nan, 1
        for a in range(2):  # Schur complements; 2 x 2 results, so plain loops (no '@' copies)
            for b in range(2):
                u00 = 0.0
                ukk = 0.0
                uk0 = 0.0
                for j in range(p - 4):
                    u00 += m[a, 4 + j] * sol[j, b]
                    ukk += m[2 + a, 4 + j] * sol[j, 2 + b]
                    uk0 += m[2 + a, 4 + j] * sol[j, b]
                s00[a, b] -= u00
                skk[a, b] -= ukk
                sk0[a, b] -= uk0
    d00 = s00[0, 0] * s00[1, 1] - s00[0, 1] * s00[1, 0]
    dkk = skk[0, 0] * skk[1, 1] - skk[0, 1] * skk[1, 0]
    if not (d00 > 0.0 and dkk > 0.0 and s00[0, 0] > 0.0 and skk[0, 0] > 0.0):
        return np.nan, np.nan, np.nan, np.nan, 1
    inv = np.empty((2, 2))
    inv[0, 0] = s00[1, 1] / d00
    inv[1, 1] = s00[0, 0] / d00
    inv[0, 1] = -s00[0, 1] / d00
    inv[1, 0] = -s00[1, 0] / d00
    sig = np.zeros((2, 2))  # sk0 inv sk0'
    for a in range(2):
        for b in range(2):
            for i in range(2):
                for j in range(2):
                    sig[a, b] += sk0[a, i] * inv[i, j] * sk0[b, j]
    g12 = 0.5 * (sig[0, 1] + sig[1, 0])
    k12 = 0.5 * (skk[0, 1] + skk[1, 0])
    qa = dkk
    qb = -(sig[0, 0] * skk[1, 1] + sig[1, 1] * skk[0, 0] - 2.0 * g12 * k12)
    qc = sig[0, 0] * sig[1, 1] - g12 * g12
    disc = max(qb * qb - 4.0 * qa * qc, 0.0)
    l1 = (-qb + math.sqrt(disc)) / (2.0 * qa)
    l2 = qc / (qa * l1) if l1 != 0.0 else (-qb - math.sqrt(disc)) / (2.0 * qa)
    if not (math.isfinite(l1) and math.isfinite(l2)) or l1 >= 1.0 - EIG_TOL or l2 < -EIG_TOL:
        return np.nan, np.nan, np.nan, np.nan, 1
    trace = -t * (math.log1p(-l1) + math.log1p(-l2))
    if not (math.isfinite(trace) and trace >= 0.0):
        return np.nan, np.nan, np.nan, np.nan, 1
    r0 = (sig[0, 0] - l1 * skk[0, 0], g12 - l1 * k12)  # (sig - l1 skk) v = 0
    r1 = (g12 - l1 * k12, sig[1, 1] - l1 * skk[1, 1])
    r = r0 if abs(r0[0]) + abs(r0[1]) >= abs(r1[0]) + abs(r1[1]) else r1
    return trace, l1, -r[1], r[0], 0


@njit(cache=True, parallel=True)
def johansen_windows_kernel(y, x, offsets, ends, lengths, n_t, k, demean):
    """Per window of pair ``j`` and test ``i`` (flat index ``j * n_t + i``): rows
    ``ends - lengths .. ends`` of the pair's series ``y[offsets[j]:offsets[j+1]]`` (length 0 = no
    window) -> ``(trace, beta, alpha, status)``; ``beta = -v_b / v_a`` of the first eigenvector,
    ``alpha`` the window mean of ``y - beta x``."""
    n_pairs = offsets.shape[0] - 1
    m = n_pairs * n_t
    trace = np.full(m, np.nan)
    beta = np.full(m, np.nan)
    alpha = np.full(m, np.nan)
    status = np.zeros(m, dtype=np.int64)
    for j in prange(n_pairs):
        yy = y[offsets[j] : offsets[j + 1]]
        xx = x[offsets[j] : offsets[j + 1]]
        if yy.shape[0] == 0:
            continue
        w0 = j * n_t
        his = ends[w0 : w0 + n_t]
        ns = lengths[w0 : w0 + n_t]
        live = ns > 0
        if not live.any():
            continue
        pos = np.unique(np.concatenate((his[live], (his - ns + 1 + k)[live], (his - ns)[live])))
        snap_s, snap_c, snap_l = _snapshots(yy, xx, k, pos)
        for i in range(n_t):
            w = w0 + i
            n = lengths[w]
            if n <= 0:
                continue
            hi = ends[w]
            ih = np.searchsorted(pos, hi)
            il = np.searchsorted(pos, hi - n + 1 + k)
            i0 = np.searchsorted(pos, hi - n)
            tr, _, va, vb, st = _window(snap_s[il], snap_c[il], snap_s[ih], snap_c[ih],
                                        n - 1 - k, k, demean, yy[0], xx[0])  # fmt: skip
            status[w] = st
            if st != 0:
                continue
            trace[w] = tr
            if va != 0.0:
                b = -vb / va
                beta[w] = b
                my = snap_l[ih, 0] - snap_l[i0, 0]
                mx = snap_l[ih, 1] - snap_l[i0, 1]
                alpha[w] = (my - b * mx) / n + yy[0] - b * xx[0]
    return trace, beta, alpha, status
