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


def leg_reason(y: np.ndarray, x: np.ndarray) -> str | None:
    """Why the window ``(y, x)`` (finite values) cannot be tested, or ``None``."""
    for name, leg in (("A", y), ("B", x)):
        if leg.size == 0:
            return "short_window: no rows"
        lo, hi = float(leg.min()), float(leg.max())
        if hi == lo:
            return f"constant_leg: leg {name} equals {lo} over the window"
        if float(leg.std()) <= NEAR_CONSTANT_REL_SD * max(float(np.abs(leg).mean()), 1e-300):
            return f"near_constant_leg: leg {name} sd {float(leg.std()):.3g} at level {float(leg.mean()):.6g}"
    return None


def short_reason(n: int, needed: int) -> str | None:
    """``short_window`` reason when ``n < needed`` rows, else ``None``."""
    return f"short_window: {n} usable rows < {needed}" if n < needed else None
