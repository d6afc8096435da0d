"""Reference implementation of the hedge-ratio Kalman filter: a plain NumPy matrix loop.

Same model and conventions as :mod:`statarb.kernels.kalman` (Chan 2013 ch. 3; Harvey 1989 ch. 3),
written with explicit 2x2 matrices and ``np.dot`` so that the unrolled numba kernel can be checked
against it (tests require agreement to 1e-12). Slow; for tests and benchmarks only.
"""

from __future__ import annotations

import numpy as np


def kalman_hedge_reference(
    y: np.ndarray,
    x: np.ndarray,
    Q: np.ndarray,
    R: float,
    state0: np.ndarray,
    P0: np.ndarray,
) -> dict[str, np.ndarray]:
    """Filter ``y_t = [x_t, 1] s_t + eps`` with random-walk state ``s_t = [beta_t, alpha_t]``.

    ``state0``/``P0`` are the posterior mean/covariance entering the first bar. Returns a dict of
    arrays ``beta, alpha, innovation, innovation_var, z_score, spread`` (NaN on bars with a
    non-finite input, which are predicted only) and the final ``state`` (2,) and ``P`` (2, 2).
    """
    y = np.asarray(y, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    n = y.shape[0]
    s = np.array(state0, dtype=np.float64).reshape(2)
    P = np.array(P0, dtype=np.float64).reshape(2, 2)
    Q = np.asarray(Q, dtype=np.float64).reshape(2, 2)
    out = {k: np.full(n, np.nan) for k in ("beta", "alpha", "innovation", "innovation_var")}
    for t in range(n):
        P = P + Q  # predict; F = I
        if not (np.isfinite(y[t]) and np.isfinite(x[t])):
            continue
        H = np.array([x[t], 1.0])
        S = float(H @ P @ H) + R
        e = y[t] - float(H @ s)
        K = P @ H / S
        s = s + K * e
        P = P - np.outer(K, H @ P)
        out["beta"][t] = s[0]
        out["alpha"][t] = s[1]
        out["innovation"][t] = e
        out["innovation_var"][t] = S
    out["z_score"] = out["innovation"] / np.sqrt(out["innovation_var"])
    out["spread"] = y - out["beta"] * x - out["alpha"]
    out["state"] = s
    out["P"] = P
    return out
