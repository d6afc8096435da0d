"""Degenerate screening windows: inputs for which no cointegration test result may be produced.

A window (the rows of one pair used at one test time) is degenerate when

* it has fewer rows than ``min_obs`` or than the configured tests need (``short_window``);
* a leg is constant (``constant_leg``: no row-to-row change over the window) or near-constant: its
  total variation ``sum |x_t - x_{t-1}|`` over the window is at most ``1e-9`` times its mean
  absolute level (``near_constant_leg``; moves at the level of floating-point noise). Engle-Granger
  on a constant dependent leg has first-stage R-squared 1 and statsmodels would return statistic
  ``-inf``, p = 0; on a constant regressor it silently tests the other leg alone;
* the legs are perfectly collinear; this is detected by the tests themselves (statsmodels' rule
  ``R^2 >= 1 - 100 sqrt(eps)`` for Engle-Granger, eigenvalues outside ``[0, 1)`` for Johansen).

Degenerate windows get a reason (logged per pair, stored in ``selection_log.reason``), no
statistic and never ``is_cointegrated = true``; the rest of the screening goes on. The checks run
on prefix sums of each pair's series (:mod:`statarb.alpha.screening_chunk`), O(1) per window.
"""

from __future__ import annotations

NEAR_CONSTANT_REL_TV = 1e-9
