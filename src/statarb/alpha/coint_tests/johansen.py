"""Johansen trace test (rank 0 against rank >= 1) as a screening test.

Wraps :func:`statarb.alpha.johansen.johansen` (equal to statsmodels ``coint_johansen``; Johansen
1991, Doornik 1998 p-values). Degenerate windows never yield a number: a singular moment matrix
(``LinAlgError``), eigenvalues outside ``[0, 1)`` (collinear legs, or a sample so small that the
largest eigenvalue is 1) or a non-finite or negative trace give ``reason = "singular_system"``.
The hedge ratio is the first eigenvector normalised on leg A (``beta = -v_B / v_A``); ``alpha`` is
the window mean of ``y - beta x``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from statarb.alpha.coint_tests.base import CointBatch
from statarb.alpha.johansen import johansen
from statarb.alpha.johansen_pvalues import trace_pvalue
from statarb.config.strict import StrictModel
from statarb.kernels.johansen_windows import johansen_windows_kernel

_EIG_TOL = 1e-10


class JohansenParams(StrictModel):
    """``alpha.screening.params.johansen``: statsmodels ``coint_johansen`` arguments."""

    det_order: Literal[-1, 0, 1]
    k_ar_diff: int = Field(ge=0)


class JohansenTraceTest:
    """Johansen trace test on the bivariate system ``[leg A, leg B]``."""

    name: ClassVar[str] = "johansen"
    stat_column: ClassVar[str] = "johansen_trace"
    pvalue_column: ClassVar[str] = "johansen_pvalue"
    Params: ClassVar[type[StrictModel]] = JohansenParams

    def __init__(self, params: JohansenParams) -> None:
        self.params = params

    def min_obs(self) -> int:
        """Rows needed for ``k = 2`` variables and ``k_ar_diff`` lags (see ``johansen``)."""
        k = self.params.k_ar_diff
        return 2 * (k + 1) + k + 3

    def _one(self, y: np.ndarray, x: np.ndarray) -> tuple[float, float, float, float, str | None]:
        try:
            with np.errstate(invalid="ignore", divide="ignore"):  # judged below, not warned
                res = johansen(
                    np.column_stack([y, x]), self.params.det_order, self.params.k_ar_diff
                )
        except (np.linalg.LinAlgError, ValueError) as exc:
            return np.nan, np.nan, np.nan, np.nan, f"singular_system: {exc}"
        ev = res.eigenvalues
        trace = float(res.trace_stat[0])
        if (
            not np.all(np.isfinite(ev))
            or ev.max() >= 1.0 - _EIG_TOL
            or ev.min() < -_EIG_TOL
            or not np.isfinite(trace)
            or trace < 0.0
        ):
            return np.nan, np.nan, np.nan, np.nan, "singular_system: eigenvalues outside [0, 1)"
        v = res.eigenvectors[:, 0]
        beta = float(-v[1] / v[0]) if v[0] != 0 else np.nan
        alpha = float(np.mean(y - beta * x)) if np.isfinite(beta) else np.nan
        return trace, float(res.trace_pvalue[0]), beta, alpha, None

    def run_windows(self, series, ends, lengths, window: int) -> CointBatch:
        """The trace test on every window of every pair's series at once, from prefix sums of
        the moment matrices (:mod:`statarb.kernels.johansen_windows`; ``det_order`` -1 or 0,
        else window by window through :meth:`run`); flattened pair-major, length 0 = no window."""
        if self.params.det_order not in (-1, 0):
            return self._windows_one_by_one(series, ends, lengths)
        sizes = np.array([s[0].size for s in series], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        n_t = ends[0].size if ends else 0
        empty = np.zeros(0)
        trace, beta, alpha, status = johansen_windows_kernel(
            np.concatenate([s[0] for s in series]) if series else empty,
            np.concatenate([s[1] for s in series]) if series else empty,
            offsets,
            np.concatenate(ends).astype(np.int64) if series else np.zeros(0, np.int64),
            np.concatenate(lengths).astype(np.int64) if series else np.zeros(0, np.int64),
            n_t, self.params.k_ar_diff, self.params.det_order == 0,
        )  # fmt: skip
        pval = np.full(trace.shape, np.nan)
        ok = status == 0
        pval[ok] = trace_pvalue(trace[ok], 2, self.params.det_order)
        reason = tuple(
            "singular_system: eigenvalues outside [0, 1) or a singular moment matrix"
            if st
            else None
            for st in status
        )
        return CointBatch(self.name, trace, pval, beta, alpha, 0, reason)

    def _windows_one_by_one(self, series, ends, lengths) -> CointBatch:
        """:meth:`run_windows` by copies of each window (``det_order = 1``)."""
        parts = []
        for (y, x), e, n in zip(series, ends, lengths, strict=True):
            for hi, ln in zip(e, n, strict=True):
                if ln <= 0:
                    parts.append(None)
                    continue
                parts.append(self.run(y[None, hi - ln : hi], x[None, hi - ln : hi]))
        m = len(parts)
        out = np.full((4, m), np.nan)
        reason: list[str | None] = [None] * m
        for w, b in enumerate(parts):
            if b is not None:
                out[:, w] = b.statistic[0], b.pvalue[0], b.beta[0], b.alpha[0]
                reason[w] = b.reason[0]
        return CointBatch(self.name, out[0], out[1], out[2], out[3], 0, tuple(reason))

    def run(self, y: np.ndarray, x: np.ndarray) -> CointBatch:
        """Johansen on every row pair (a Python loop over pairs; each call is O(n))."""
        n = y.shape[0]
        out = np.full((4, n), np.nan)
        reason: list[str | None] = [None] * n
        for j in range(n):
            *vals, reason[j] = self._one(y[j], x[j])
            out[:, j] = vals
        return CointBatch(
            test=self.name,
            statistic=out[0],
            pvalue=out[1],
            beta=out[2],
            alpha=out[3],
            nobs=int(y.shape[1]),
            reason=tuple(reason),
        )
