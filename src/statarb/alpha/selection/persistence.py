"""Funnel stage 6: persistence / hysteresis of the decision (kernel in ``kernels.persistence``)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from pydantic import Field

from statarb.config.strict import StrictModel
from statarb.kernels.persistence import hysteresis_kernel


class PersistenceConfig(StrictModel):
    """``alpha.selection.persistence``: passes to enter, failures to exit (1, 1 = no memory)."""

    enter_after: int = Field(ge=1)
    exit_after: int = Field(ge=1)


class Carry(NamedTuple):
    """Per-group persistence state at the end of a block: consecutive passes, consecutive
    failures, tradable (arrays aligned with the groups)."""

    ok: np.ndarray
    bad: np.ndarray
    on: np.ndarray

    @classmethod
    def fresh(cls, n_groups: int) -> Carry:
        """The state before a pair's first test."""
        z = np.zeros(n_groups, dtype=np.int64)
        return cls(z, z.copy(), np.zeros(n_groups, dtype=np.bool_))


def hysteresis(
    passed: np.ndarray,
    group_starts: np.ndarray,
    enter_after: int,
    exit_after: int,
    carry: Carry | None = None,
) -> tuple[np.ndarray, np.ndarray, Carry]:
    """``(streak, tradable, carry_out)`` per row; rows sorted by pair then time,
    ``group_starts`` = first row of each pair followed by ``len(passed)``; ``carry`` = each
    group's state before its first row here (a fresh pair when ``None``), ``carry_out`` its state
    after its last row."""
    starts = np.ascontiguousarray(group_starts, dtype=np.int64)
    c = carry if carry is not None else Carry.fresh(starts.shape[0] - 1)
    streak, on, ok, bad, on_end = hysteresis_kernel(
        np.ascontiguousarray(passed, dtype=np.bool_),
        starts,
        int(enter_after),
        int(exit_after),
        np.ascontiguousarray(c.ok, dtype=np.int64),
        np.ascontiguousarray(c.bad, dtype=np.int64),
        np.ascontiguousarray(c.on, dtype=np.bool_),
    )
    return streak, on, Carry(ok, bad, on_end)


def hysteresis_ref(
    passes: list[bool],
    enter_after: int,
    exit_after: int,
    start: tuple[int, int, bool] = (0, 0, False),
) -> list[bool]:
    """Plain Python twin of the kernel for one pair from the state ``start = (ok, bad, on)``
    (the tests compare the two)."""
    out = []
    ok, bad, state = start
    for p in passes:
        ok, bad = (ok + 1, 0) if p else (0, bad + 1)
        if not state and ok >= enter_after:
            state = True
        elif state and bad >= exit_after:
            state = False
        out.append(state)
    return out
