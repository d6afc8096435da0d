"""Funnel stage 3: one partner per symbol (leg exclusivity) at each test time.

A symbol with a large idiosyncratic stationary component - such as leg A of a truly cointegrated
pair ``A_B``, built as ``A = alpha + beta B + s`` - makes many of its other pairs ``A_C`` look
cointegrated in-sample: the spread ``A - gamma C`` inherits the mean reversion of ``s`` while its
random-walk part ``beta B - gamma C`` is still small over the window. Cointegration between pairs is
transitive (``A~B`` and ``A~C`` imply ``B~C``), so when ``B_C`` is not cointegrated, at most one of
``A_B``, ``A_C`` is real - the better-supported one. Following Gatev, Goetzmann & Rouwenhorst
(2006), who match each stock with a single partner, candidates are taken in order of evidence
(ascending p-value, then ascending statistic, then ``pair_id``) and a pair is kept only while each
of its legs is in fewer than ``max_pairs_per_symbol`` kept pairs (0 = no limit).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import Field

from statarb.config.strict import StrictModel


class MatchingConfig(StrictModel):
    """``alpha.selection.matching``."""

    max_pairs_per_symbol: int = Field(ge=0)


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
