"""Asymptotic p-values of Johansen's trace and maximum-eigenvalue tests (Doornik 1998).

Doornik approximates the asymptotic null distribution of each statistic by a Gamma distribution
whose mean and variance are response surfaces in ``n`` = number of variables minus the rank under
the null (Doornik, J. A. (1998), "Approximations to the asymptotic distributions of cointegration
tests", Journal of Economic Surveys 12(5), 573-593, Tables 3-4; the same coefficients are used by
gretl and PcGive). The p-value is the Gamma upper tail at the statistic:

    mean = c_m . z(n),  var = c_v . z(n),  shape = mean^2 / var,  scale = var / mean,
    z(n) = (n^2, n, 1, [n == 1], [n == 2], sqrt(n))   (trace; the max-eig surface drops n^2).

Deterministic cases (Doornik's numbering) and statsmodels' ``det_order``:
``det_order=-1`` -> case 0 (no deterministic terms); ``0`` -> case 2 (unrestricted constant);
``1`` -> case 4 (unrestricted trend). These are the cases whose quantiles statsmodels' critical
values (MacKinnon, Haug & Michelis 1999) tabulate; tests check that the p-value at statsmodels'
90/95/99 % critical values is 0.10/0.05/0.01 within a stated tolerance.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import gamma

# rows: Doornik cases 0..4 (none, restricted const, unrestricted const, restricted trend,
# unrestricted trend); columns: n^2, n, 1, n==1, n==2, sqrt(n)
_TRACE_MEAN = np.array(
    [
        [2.0, -1.00, 0.07, 0.07, 0.00, 0.00],
        [2.0, 2.01, 0.00, 0.06, 0.05, 0.00],
        [2.0, 1.05, -1.55, -0.50, -0.23, 0.00],
        [2.0, 4.05, 0.50, -0.23, -0.07, 0.00],
        [2.0, 2.85, -5.10, -0.10, -0.06, 1.35],
    ]
)
_TRACE_VAR = np.array(
    [
        [3.0, -0.33, -0.55, 0.0, 0.00, 0.0],
        [3.0, 3.60, 0.75, -0.4, -0.30, 0.0],
        [3.0, 1.80, 0.00, -2.8, -1.10, 0.0],
        [3.0, 5.70, 3.20, -1.3, -0.50, 0.0],
        [3.0, 4.00, 0.80, -5.8, -2.66, 0.0],
    ]
)
# columns: n, 1, n==1, n==2, sqrt(n)
_MAXEIG_MEAN = np.array(
    [
        [6.0019, -2.75580, 0.67185, 0.114900, -2.77640],
        [5.9498, 0.43402, 0.04836, 0.018198, -2.36690],
        [5.8271, -1.64870, -1.61180, -0.259490, -1.56660],
        [5.8658, 2.55950, -0.34443, -0.077991, -1.75520],
        [5.6364, -0.90531, -3.51660, -0.479660, -0.21447],
    ]
)
_MAXEIG_VAR = np.array(
    [
        [1.8806, -15.499, 1.11360, 0.070508, 14.714],
        [2.2231, -7.9064, 0.58592, -0.034324, 12.058],
        [2.0785, -9.7846, -3.36800, -0.245280, 13.074],
        [1.9955, -5.5428, 1.24250, 0.419490, 12.841],
        [2.0899, -5.3303, -7.15230, -0.252600, 12.393],
    ]
)
DET_ORDER_TO_CASE = {-1: 0, 0: 2, 1: 4}


def _case(det_order: int) -> int:
    if det_order not in DET_ORDER_TO_CASE:
        raise ValueError(f"det_order must be -1, 0 or 1, got {det_order!r}")
    return DET_ORDER_TO_CASE[det_order]


def _z(n: int) -> np.ndarray:
    if n < 1:
        raise ValueError(f"n (variables minus rank) must be >= 1, got {n}")
    return np.array([n * n, n, 1.0, float(n == 1), float(n == 2), np.sqrt(n)])


def _gamma_sf(stat: np.ndarray | float, mean: float, var: float) -> np.ndarray:
    return gamma.sf(np.asarray(stat, dtype=np.float64), a=mean * mean / var, scale=var / mean)


def trace_pvalue(stat: np.ndarray | float, n: int, det_order: int = 0) -> np.ndarray:
    """Asymptotic p-value of a Johansen trace statistic with ``n`` = variables - rank under H0."""
    c, z = _case(det_order), _z(n)
    return _gamma_sf(stat, float(_TRACE_MEAN[c] @ z), float(_TRACE_VAR[c] @ z))


def max_eig_pvalue(stat: np.ndarray | float, n: int, det_order: int = 0) -> np.ndarray:
    """Asymptotic p-value of a Johansen maximum-eigenvalue statistic (same conventions)."""
    c, z = _case(det_order), _z(n)[1:]
    return _gamma_sf(stat, float(_MAXEIG_MEAN[c] @ z), float(_MAXEIG_VAR[c] @ z))
