"""Funnel stage 4: one partner per symbol (leg exclusivity) at each test time.

A symbol with a large idiosyncratic stationary component - such as leg A of a truly cointegrated
pair ``A_B``, built as ``A = alpha + beta B + s`` - makes many of its other pairs ``A_C`` look
cointegrated in-sample: the spread ``A - gamma C`` inherits the mean reversion of ``s`` while its
random-walk part ``beta B - gamma C`` is still small over the window. Cointegration between pairs is
transitive (``A~B`` and ``A~C`` imply ``B~C``), so when ``B_C`` is not cointegrated, at most one of
``A_B``, ``A_C`` is real - the better-supported one. Following Gatev, Goetzmann & Rouwenhorst
(2006), who match each stock with a single partner, candidates are taken in order of evidence
(ascending p-value, then ascending statistic, then ``pair_id``) and a pair is kept only while each
of its legs is in fewer than ``max_pairs_per_symbol`` kept pairs (0 = no limit).

**Over the window** (``reserve_within_window``): the same argument holds across test times whose
windows overlap. While the window of a candidate ``A_C`` still holds bars on which another pair
``A_B`` was tradable (a test time of ``A_B``'s tradable state at or after the candidate window's
first bar), the two relations rest on shared data and at most one is real; the incumbent keeps the
leg (``A_C`` is no candidate for matching at that test) until the window has moved past it. This
is what stops a leg whose relation broke from passing its stationary past on to a new partner for
a window's length (the break pair's leg on the default data, docs/cointegration.md). The funnel
(:mod:`.funnel`) applies it: :func:`reserved_by` says which incumbent holds a candidate's leg.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import Field

from statarb.config.strict import StrictModel


class MatchingConfig(StrictModel):
    """``alpha.selection.matching``."""

    max_pairs_per_symbol: int = Field(ge=0)
    reserve_within_window: bool


def reserved_by(
    pair_id: str,
    legs: tuple[str, str],
    window_start_us: int,
    holders: dict[str, dict[str, int]],
    max_per_symbol: int,
) -> tuple[str, str] | None:
    """``(leg, incumbent)`` when a leg of ``pair_id`` is held by at least ``max_per_symbol``
    other pairs tradable at or after ``window_start_us`` (epoch microseconds of the candidate
    window's first bar): ``holders[symbol]`` maps each pair that has been tradable to its last
    tradable test time (epoch microseconds). ``None`` when the candidate is free to be matched.
    The incumbent named is the most recently tradable one. (The funnel does not reserve legs for
    a row without a window start: an empty window, which has no test result anyway.)"""
    for leg in legs:
        inside = [(t, p) for p, t in holders.get(leg, {}).items()
                  if p != pair_id and t >= window_start_us]  # fmt: skip
        if inside and len(inside) >= max_per_symbol:
            return leg, max(inside)[1]
    return None


def match_legs(
    symbol_a: Sequence[str],
    symbol_b: Sequence[str],
    candidate: np.ndarray,
    pvalue: np.ndarray,
    statistic: np.ndarray,
    pair_id: Sequence[str],
    max_per_symbol: int,
) -> np.ndarray:
    """Greedy leg-exclusive selection among ``candidate`` rows of one test time (see module doc)."""
    keep = np.zeros(len(pair_id), dtype=bool)
    idx = np.flatnonzero(candidate)
    if max_per_symbol == 0:
        keep[idx] = True
        return keep
    order = sorted(idx, key=lambda i: (pvalue[i], statistic[i], pair_id[i]))
    used: dict[str, int] = {}
    for i in order:
        a, b = symbol_a[i], symbol_b[i]
        if used.get(a, 0) < max_per_symbol and used.get(b, 0) < max_per_symbol:
            keep[i] = True
            used[a] = used.get(a, 0) + 1
            used[b] = used.get(b, 0) + 1
    return keep
