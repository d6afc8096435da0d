"""Plain NumPy reference of :mod:`statarb.kernels.spread_quality` (tests compare the two)."""

from __future__ import annotations

import numpy as np


def half_life_ref(e: np.ndarray, estimator: str = "mle", blocks: int = 2) -> float:
    """``ln 2 / theta`` of the AR(1) fit ``e_{t+1} = a + b e_t`` (np.polyfit), with the Kendall
    or block-jackknife correction of ``b``; ``inf`` if ``b >= 1``, NaN if ``b <= 0``."""

    def b_of(z: np.ndarray) -> float:
        return float(np.polyfit(z[:-1], z[1:], 1)[0])

    b = b_of(e)
    n = e.size - 1
    if estimator == "kendall":
        b = b + (1.0 + 3.0 * b) / n
    elif estimator == "jackknife":
        length = e.size // blocks
        parts = [
            e[i * length : (i + 1) * length if i < blocks - 1 else e.size] for i in range(blocks)
        ]
        b = blocks / (blocks - 1) * b - sum(b_of(z) for z in parts) / (blocks * blocks - blocks)
    if b >= 1.0:
        return float("inf")
    if b <= 0.0:
        return float("nan")
    return float(np.log(2.0) / -np.log(b))


def hurst_ref(e: np.ndarray, lags: np.ndarray) -> float:
    """Half the slope of ``log Var(e[tau:] - e[:-tau])`` on ``log tau`` (np.polyfit)."""
    lags = [int(t) for t in lags if e.size - int(t) >= 2]
    v = np.array([np.var(e[t:] - e[:-t]) for t in lags])
    keep = v > 0
    return float(0.5 * np.polyfit(np.log(np.array(lags)[keep]), np.log(v[keep]), 1)[0])


def crossings_ref(e: np.ndarray) -> int:
    """Sign changes of ``e - mean(e)`` ignoring exact zeros."""
    s = np.sign(e - e.mean())
    s = s[s != 0]
    return int(np.count_nonzero(np.diff(s)))
