"""ADF test without deterministic terms, with statsmodels' lag search, via one Cholesky factor.

Reproduces ``statsmodels.tsa.stattools.adfuller(e, maxlag, regression="n", autolag=...)``:

* default ``maxlag = ceil(12 (nobs/100)^(1/4))`` capped at ``nobs // 2 - 1`` (Schwert 1989);
  an explicit ``maxlag > nobs // 2 - 1`` is an error, as in statsmodels;
* with ``autolag`` in {"aic", "bic", "t-stat"} every lag ``0..maxlag`` is fitted on the common
  sample of ``nobs - 1 - maxlag`` rows and the best lag is re-fitted on its full available sample
  of ``nobs - 1 - lag`` rows; ``autolag=None`` uses ``maxlag`` directly.

The nested-regression trick and the criteria are described in :mod:`statarb.kernels.coint`.
References: Dickey & Fuller (1979); Said & Dickey (1984); Schwert (1989), J. Bus. Econ. Stat. 7.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from statarb.kernels.coint import IC_AIC, IC_BIC, IC_NONE, IC_TSTAT, adf_n_kernel

_IC_CODES = {None: IC_NONE, "aic": IC_AIC, "bic": IC_BIC, "t-stat": IC_TSTAT}


@dataclass(frozen=True, slots=True)
class ADFResult:
    """ADF statistic (t-ratio of the lagged level), chosen lag, regression rows, best criterion."""

    stat: float
    usedlag: int
    nobs: int
    icbest: float


def ic_code(autolag: str | None) -> int:
    """Map statsmodels' ``autolag`` argument (case-insensitive) to a kernel criterion code."""
    key = autolag.lower() if isinstance(autolag, str) else autolag
    if key not in _IC_CODES:
        raise ValueError(f"autolag must be one of 'aic', 'bic', 't-stat' or None, got {autolag!r}")
    return _IC_CODES[key]


def resolve_maxlag(nobs: int, maxlag: int | None, ntrend: int = 0) -> int:
    """statsmodels' ``adfuller`` maxlag rule for a series of ``nobs`` points.

    ``None`` -> ``min(nobs // 2 - ntrend - 1, ceil(12 (nobs / 100) ** 0.25))``; an explicit value
    must satisfy ``0 <= maxlag <= nobs // 2 - ntrend - 1``.
    """
    cap = nobs // 2 - ntrend - 1
    if maxlag is None:
        lag = min(cap, int(math.ceil(12.0 * np.power(nobs / 100.0, 1 / 4.0))))
        if lag < 0:
            raise ValueError(f"sample of {nobs} observations is too short for the ADF regression")
        return lag
    maxlag = int(maxlag)
    if maxlag < 0:
        raise ValueError(f"maxlag must be >= 0, got {maxlag}")
    if maxlag > cap:
        raise ValueError(
            f"maxlag={maxlag} must be at most nobs // 2 - 1 - ntrend = {cap} for nobs={nobs}"
        )
    return maxlag


def check_sample(nobs: int, maxlag: int) -> int:
    """Require two residual degrees of freedom in the largest lag regression (``nobs - 1 -
    maxlag`` rows, ``maxlag + 1`` regressors); below that the regression is an exact fit and
    statsmodels' statistic is not defined."""
    if nobs - 1 - maxlag < maxlag + 3:
        raise ValueError(
            f"{nobs} observations are too few for maxlag={maxlag}: "
            f"need nobs - 1 - maxlag >= maxlag + 3"
        )
    return maxlag


def adf_no_trend(
    e: np.ndarray, maxlag: int | None = None, autolag: str | None = "aic"
) -> ADFResult:
    """ADF test on ``e`` with no constant/trend, as ``adfuller(e, regression="n")``.

    Returns the statistic, used lag, rows of the final regression and the best information
    criterion (NaN without lag search). The p-value is MacKinnon's (1994) ``N=1`` / ``"n"``
    surface, see :func:`statarb.alpha.engle_granger.mackinnon_pvalue`.
    """
    e = np.ascontiguousarray(e, dtype=np.float64)
    if e.ndim != 1:
        raise ValueError(f"expected a 1-d series, got shape {e.shape}")
    if not np.all(np.isfinite(e)):
        raise ValueError("series contains NaN or infinite values")
    if e.max() == e.min():
        raise ValueError("Invalid input, series is constant")
    lag = check_sample(e.shape[0], resolve_maxlag(e.shape[0], maxlag))
    stat, used, nobs, icb = adf_n_kernel(e, lag, ic_code(autolag))
    return ADFResult(float(stat), int(used), int(nobs), float(icb))
