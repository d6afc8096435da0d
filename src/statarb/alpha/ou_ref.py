"""Reference OU fits with statsmodels: OLS of ``X_{t+1}`` on ``[1, X_t]`` and ``AutoReg(1)``.

Both give the conditional (on ``X_0``) Gaussian MLE of the AR(1) ``X_{t+1} = a + b X_t + eta``;
the MLE innovation variance is ``SSR / n`` (statsmodels ``AutoReg.fit().sigma2``). The OU mapping
(Vasicek 1977 exact discretisation) is ``theta = -ln b / dt``, ``mu = a / (1 - b)``,
``sigma^2 = v 2 theta / (1 - b^2)``. Used by tests and benchmarks to check
:mod:`statarb.kernels.ou`.
"""

from __future__ import annotations

import numpy as np
import statsmodels.api as sm
from statsmodels.tsa.ar_model import AutoReg


def _to_ou(a: float, b: float, v: float, dt: float) -> dict[str, float]:
    theta = -np.log(b) / dt
    return {
        "a": a,
        "b": b,
        "sigma2_eta": v,
        "theta": theta,
        "mu": a / (1.0 - b),
        "sigma": float(np.sqrt(v * 2.0 * theta / (1.0 - b * b))),
    }


def ou_fit_ols(x: np.ndarray, dt: float = 1.0) -> dict[str, float]:
    """OU parameters from ``statsmodels.OLS(x[1:], [1, x[:-1]])`` with ``v = ssr / nobs``."""
    x = np.asarray(x, dtype=np.float64)
    res = sm.OLS(x[1:], sm.add_constant(x[:-1])).fit()
    a, b = res.params
    return _to_ou(float(a), float(b), float(res.ssr / res.nobs), dt)


def ou_fit_autoreg(x: np.ndarray, dt: float = 1.0) -> dict[str, float]:
    """OU parameters from ``statsmodels AutoReg(x, lags=1, trend="c")`` (conditional MLE)."""
    res = AutoReg(np.asarray(x, dtype=np.float64), lags=1, trend="c").fit()
    a, b = res.params
    return _to_ou(float(a), float(b), float(res.sigma2), dt)


def ou_fit_corrected_ref(
    x: np.ndarray, estimator: str, blocks: int = 2, dt: float = 1.0
) -> dict[str, float]:
    """Bias-corrected OU fit from statsmodels OLS fits (the plain twin of
    :func:`statarb.kernels.ou.corrected_b`): Kendall ``b + (1 + 3 b) / n`` or the block
    jackknife ``m/(m-1) b - sum_i b_i / (m^2 - m)``; ``mu`` from the full-sample OLS and
    ``sigma`` from its residual variance with the corrected ``b``."""
    x = np.asarray(x, dtype=np.float64)
    full = ou_fit_ols(x, dt)
    b, n = full["b"], x.size - 1
    if estimator == "kendall":
        bc = b + (1.0 + 3.0 * b) / n
    elif estimator == "jackknife":
        length = x.size // blocks
        parts = [
            x[i * length : (i + 1) * length if i < blocks - 1 else x.size] for i in range(blocks)
        ]
        bc = blocks / (blocks - 1) * b - sum(ou_fit_ols(p, dt)["b"] for p in parts) / (
            blocks**2 - blocks
        )
    else:
        raise ValueError(f"estimator must be kendall or jackknife, got {estimator!r}")
    out = _to_ou(full["a"], bc, full["sigma2_eta"], dt)
    out["mu"] = full["mu"]
    return out
