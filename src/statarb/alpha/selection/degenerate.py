"""Degenerate screening windows: inputs for which no cointegration test result may be produced.

A window (the rows of one pair used at one test time) is degenerate when

* it has fewer rows than ``min_obs`` or than the configured tests need (``short_window``);
* a leg is constant (``constant_leg``) or near-constant: its standard deviation is at most
  ``1e-9`` times its mean absolute level (``near_constant_leg``; price changes at the level of
  floating-point noise). Engle-Granger on a constant dependent leg has first-stage R-squared 1 and
  statsmodels would return statistic ``-inf``, p = 0; on a constant regressor it silently tests
  the other leg alone;
* the legs are perfectly collinear; this is detected by the tests themselves (statsmodels' rule
  ``R^2 >= 1 - 100 sqrt(eps)`` for Engle-Granger, eigenvalues outside ``[0, 1)`` for Johansen).

Degenerate windows get a reason (logged per pair, stored in ``selection_log.reason``), no
statistic and never ``is_cointegrated = true``; the rest of the screening goes on.
"""

from __future__ import annotations

import numpy as np

NEAR_CONSTANT_REL_SD = 1e-9


def leg_reasons(y: np.ndarray, x: np.ndarray) -> list[str | None]:
    """Why each window ``(y[j], x[j])`` (rows of finite values, ``(n_pairs, n_obs)``) cannot be
    tested, or ``None`` (vectorised over the batch)."""
    out: list[str | None] = [None] * y.shape[0]
    for name, leg in (("A", y), ("B", x)):
        lo, hi = leg.min(axis=1), leg.max(axis=1)
        sd, level = leg.std(axis=1), np.abs(leg).mean(axis=1)
        near = sd <= NEAR_CONSTANT_REL_SD * np.maximum(level, 1e-300)
        for j in np.flatnonzero((hi == lo) | near):
            if out[j] is not None:
                continue
            if hi[j] == lo[j]:
                out[j] = f"constant_leg: leg {name} equals {lo[j]} over the window"
            else:
                out[j] = f"near_constant_leg: leg {name} sd {sd[j]:.3g} at level {level[j]:.6g}"
    return out


def short_reason(n: int, needed: int) -> str | None:
    """``short_window`` reason when ``n < needed`` rows, else ``None``."""
    return f"short_window: {n} usable rows < {needed}" if n < needed else None
