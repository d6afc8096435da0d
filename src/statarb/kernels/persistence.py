"""Numba kernel: hysteresis of the selection decision over a pair's test times.

A pair becomes tradable after ``enter_after`` consecutive passing tests and stops after
``exit_after`` consecutive failing ones (Schmitt-trigger rule; persistence filters of this kind are
common in pairs selection, e.g. requiring repeated significance before trading). Rows are sorted by
pair, then test time; ``starts`` holds the first row of each pair (plus the total length at the end).
``alpha/selection/persistence.py`` holds the plain Python twin.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def hysteresis_kernel(
    passed: np.ndarray,
    starts: np.ndarray,
    enter_after: int,
    exit_after: int,
    ok0: np.ndarray,
    bad0: np.ndarray,
    on0: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(streak, on, ok_end, bad_end, on_end)``: consecutive passes up to each row and the
    tradable state after it; each group starts from its carried state ``(ok0, bad0, on0)[g]``
    (zeros and ``False`` for a pair's first test) and ends in ``(ok_end, bad_end, on_end)[g]``,
    so a timeline cut into blocks of test times gives the same rows as the whole."""
    n = passed.shape[0]
    n_groups = starts.shape[0] - 1
    streak = np.zeros(n, dtype=np.int64)
    on = np.zeros(n, dtype=np.bool_)
    ok_end = np.zeros(n_groups, dtype=np.int64)
    bad_end = np.zeros(n_groups, dtype=np.int64)
    on_end = np.zeros(n_groups, dtype=np.bool_)
    for g in range(n_groups):
        state = on0[g]
        ok = ok0[g]
        bad = bad0[g]
        for i in range(starts[g], starts[g + 1]):
            if passed[i]:
                ok += 1
                bad = 0
            else:
                bad += 1
                ok = 0
            if not state and ok >= enter_after:
                state = True
            elif state and bad >= exit_after:
                state = False
            streak[i] = ok
            on[i] = state
        ok_end[g] = ok
        bad_end[g] = bad
        on_end[g] = state
    return streak, on, ok_end, bad_end, on_end
