"""Funnel stage 2: multiple-testing control across the universe at each test time.

At each test time ``T`` every pair with a valid p-value is one hypothesis; the adjusted p-values
("q-values" for Benjamini-Hochberg) are kept in ``selection_log.qvalue`` and a pair passes when its
adjusted value is below ``level``.

* ``bh``: Benjamini & Hochberg (1995) step-up, controls the false discovery rate at ``level``
  (valid under independence and positive regression dependence, Benjamini & Yekutieli 2001):
  ``q_(i) = min_{j >= i} min(1, m p_(j) / j)``;
* ``by``: Benjamini & Yekutieli (2001, Theorem 1.3), the step-up above with ``m`` replaced by
  ``m c(m)``, ``c(m) = sum_{i<=m} 1/i``: controls the false discovery rate under any dependence
  between the tests (pairs that share a leg, or a sector factor, are dependent and not known to
  be positively regression dependent);
* ``holm``: Holm (1979) step-down, controls the family-wise error rate:
  ``p_(i)^adj = max_{j <= i} min(1, (m - j + 1) p_(j))``;
* ``bonferroni``: ``min(1, m p)``;
* ``none``: the raw p-values.

Equal to ``statsmodels.stats.multitest.multipletests(method="fdr_bh" | "fdr_by" | "holm" |
"bonferroni")``
(tested). NaN p-values (no result) are not hypotheses: they do not count in ``m`` and stay NaN.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from statarb.config.strict import StrictModel

METHODS = ("bh", "by", "holm", "bonferroni", "none")


class MultipleTestingConfig(StrictModel):
    """``alpha.selection.multiple_testing``."""

    method: Literal["bh", "by", "holm", "bonferroni", "none"]
    level: float = Field(gt=0, lt=1)


def adjust_pvalues(p: np.ndarray, method: str) -> np.ndarray:
    """Adjusted p-values of one family (see module docstring); NaN entries are skipped."""
    if method not in METHODS:
        raise ValueError(f"multiple-testing method must be one of {METHODS}, got {method!r}")
    p = np.asarray(p, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.size
    if m == 0:
        return out
    pv = p[ok]
    if method == "none":
        out[ok] = pv
        return out
    if method == "bonferroni":
        out[ok] = np.minimum(1.0, m * pv)
        return out
    order = np.argsort(pv, kind="stable")
    ps = pv[order]
    rank = np.arange(1, m + 1, dtype=np.float64)
    if method in ("bh", "by"):
        scale = m * (np.sum(1.0 / rank) if method == "by" else 1.0)
        adj = np.minimum.accumulate((scale * ps / rank)[::-1])[::-1]
    else:  # holm
        adj = np.maximum.accumulate((m - rank + 1.0) * ps)
    adj = np.minimum(adj, 1.0)
    res = np.empty(m)
    res[order] = adj
    out[ok] = res
    return out
