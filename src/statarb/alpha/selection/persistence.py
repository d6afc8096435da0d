"""Funnel stage 4: persistence / hysteresis of the decision (kernel in ``kernels.persistence``)."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from statarb.config.strict import StrictModel
from statarb.kernels.persistence import hysteresis_kernel


class PersistenceConfig(StrictModel):
    """``alpha.selection.persistence``: passes to enter, failures to exit (1, 1 = no memory)."""

    enter_after: int = Field(ge=1)
    exit_after: int = Field(ge=1)


def hysteresis(
    passed: np.ndarray, group_starts: np.ndarray, enter_after: int, exit_after: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(streak, tradable)`` per row; rows sorted by pair then time, ``group_starts`` = first row
    of each pair followed by ``len(passed)``."""
    return hysteresis_kernel(
        np.ascontiguousarray(passed, dtype=np.bool_),
        np.ascontiguousarray(group_starts, dtype=np.int64),
        int(enter_after),
        int(exit_after),
    )


def hysteresis_ref(passes: list[bool], enter_after: int, exit_after: int) -> list[bool]:
    """Plain Python twin of the kernel for one pair (the tests compare the two)."""
    out, state, ok, bad = [], False, 0, 0
    for p in passes:
        ok, bad = (ok + 1, 0) if p else (0, bad + 1)
        if not state and ok >= enter_after:
            state = True
        elif state and bad >= exit_after:
            state = False
        out.append(state)
    return out
