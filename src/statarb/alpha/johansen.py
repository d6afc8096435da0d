"""Johansen (1991) reduced-rank test, equal to ``statsmodels.tsa.vector_ar.vecm.coint_johansen``.

Follows statsmodels' construction exactly (Luetkepohl 2005, sec. 7.2 / p. 292):

1. levels are detrended by OLS on a polynomial of order ``det_order`` in ``linspace(-1, 1, T)``
   (``det_order=-1``: untouched); differences and lagged differences are demeaned when
   ``det_order >= 0``;
2. ``R0`` = residuals of the differences and ``R1`` = residuals of the lagged levels on the
   ``k_ar_diff`` lagged differences;
3. the eigenvalues ``lambda`` solve ``|lambda S11 - S10 S00^{-1} S01| = 0`` (here via the symmetric
   generalised eigenproblem, eigenvectors normalised to ``v' S11 v = 1``);
4. ``trace_r = -T sum_{i >= r} log(1 - lambda_i)``, ``maxeig_r = -T log(1 - lambda_r)``.

Each eigenvector column is signed so that its first non-zero entry is positive (statsmodels only
flips the whole matrix by the sign of ``d[0, 0]``, so columns agree up to sign). Critical values are
statsmodels' (MacKinnon, Haug & Michelis 1999); p-values are Doornik's (1998) Gamma approximation
(:mod:`statarb.alpha.johansen_pvalues`).

Reference: Johansen, S. (1991), Econometrica 59(6), 1551-1580.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
from statsmodels.tsa.coint_tables import c_sja, c_sjt

from statarb.alpha.johansen_pvalues import max_eig_pvalue, trace_pvalue


@dataclass(frozen=True, slots=True)
class JohansenResult:
    """Statistics for ranks ``r = 0..k-1``; critical values columns are 90 %, 95 %, 99 %."""

    trace_stat: np.ndarray
    max_eig_stat: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    trace_crit: np.ndarray
    trace_pvalue: np.ndarray
    max_eig_crit: np.ndarray
    max_eig_pvalue: np.ndarray
    nobs: int


def _detrend(y: np.ndarray, order: int) -> np.ndarray:
    if order == -1:
        return y
    v = np.vander(np.linspace(-1, 1, len(y)), order + 1)
    coef, *_ = np.linalg.lstsq(v, y, rcond=None)
    return y - v @ coef


def _resid(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    if x.size == 0:
        return y
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    return y - x @ coef


def johansen(data: np.ndarray, det_order: int = 0, k_ar_diff: int = 1) -> JohansenResult:
    """Johansen trace and maximum-eigenvalue tests on ``data`` of shape ``(n_obs, k)``."""
    data = np.asarray(data, dtype=np.float64)
    if data.ndim != 2 or data.shape[1] < 2:
        raise ValueError(f"data must be (n_obs, k>=2), got shape {data.shape}")
    if not np.all(np.isfinite(data)):
        raise ValueError("data contains NaN or infinite values")
    if det_order not in (-1, 0, 1):
        raise ValueError(f"det_order must be -1, 0 or 1, got {det_order!r}")
    if k_ar_diff < 0:
        raise ValueError(f"k_ar_diff must be >= 0, got {k_ar_diff}")
    nobs, neqs = data.shape
    if nobs - 1 - k_ar_diff <= neqs * (k_ar_diff + 1) + 1:
        raise ValueError(f"{nobs} observations are too few for k={neqs}, k_ar_diff={k_ar_diff}")
    f = 0 if det_order > -1 else -1
    levels = _detrend(data, det_order)
    dx = np.diff(levels, axis=0)
    m = dx.shape[0]
    if k_ar_diff > 0:
        z = np.hstack([dx[k_ar_diff - i : m - i] for i in range(1, k_ar_diff + 1)])
        z = _detrend(z, f)
    else:
        z = np.empty((m, 0))
    r0t = _resid(_detrend(dx[k_ar_diff:], f), z)
    rkt = _resid(_detrend(levels[1 : nobs - k_ar_diff], f), z)
    t = rkt.shape[0]
    skk = rkt.T @ rkt / t
    sk0 = rkt.T @ r0t / t
    s00 = r0t.T @ r0t / t
    sig = sk0 @ np.linalg.solve(s00, sk0.T)
    sig = 0.5 * (sig + sig.T)
    eigval, eigvec = scipy.linalg.eigh(sig, skk)
    order = np.argsort(eigval)[::-1]
    eigval, eigvec = eigval[order], eigvec[:, order]
    for j in range(neqs):
        nz = np.flatnonzero(eigvec[:, j])
        if nz.size and eigvec[nz[0], j] < 0:
            eigvec[:, j] = -eigvec[:, j]
    log1m = np.log1p(-eigval)
    trace = -t * np.cumsum(log1m[::-1])[::-1]
    maxeig = -t * log1m
    ns = neqs - np.arange(neqs)
    return JohansenResult(
        trace_stat=trace,
        max_eig_stat=maxeig,
        eigenvalues=eigval,
        eigenvectors=eigvec,
        trace_crit=np.vstack([c_sjt(int(n), det_order) for n in ns]),
        trace_pvalue=np.array(
            [trace_pvalue(s, int(n), det_order) for s, n in zip(trace, ns, strict=True)]
        ),
        max_eig_crit=np.vstack([c_sja(int(n), det_order) for n in ns]),
        max_eig_pvalue=np.array(
            [max_eig_pvalue(s, int(n), det_order) for s, n in zip(maxeig, ns, strict=True)]
        ),
        nobs=t,
    )
