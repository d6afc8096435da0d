"""Engle-Granger as a screening test (statistics equal to statsmodels ``coint``).

Wraps :func:`statarb.alpha.engle_granger.engle_granger_batch` (Engle & Granger 1987; MacKinnon 1994
p-values). One divergence from statsmodels, on purpose: when the first-stage R-squared is at least
``1 - 100 sqrt(eps)`` statsmodels returns ``-inf`` and p = 0, i.e. "cointegrated"; for screening
perfectly collinear legs are degenerate, so the pair gets no result (``reason =
"collinear_legs"``). A non-finite ADF statistic (exact fit in the lag regression) is likewise
``"singular_adf_regression"``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from statarb.alpha.adf_lagsearch import resolve_maxlag
from statarb.alpha.coint_tests.base import CointBatch, reasons_where
from statarb.alpha.eg_windows import engle_granger_windows
from statarb.alpha.engle_granger import engle_granger_rows
from statarb.config.strict import StrictModel


class EGParams(StrictModel):
    """``alpha.screening.params.eg``: statsmodels ``coint`` arguments."""

    maxlag: int | None = Field(ge=0)
    autolag: Literal["aic", "bic", "t-stat"] | None
    trend: Literal["c", "n"]


class EngleGrangerTest:
    """Augmented Engle-Granger test of no cointegration (leg A on leg B)."""

    name: ClassVar[str] = "eg"
    stat_column: ClassVar[str] = "adf_statistic"
    pvalue_column: ClassVar[str] = "adf_pvalue"
    Params: ClassVar[type[StrictModel]] = EGParams

    def __init__(self, params: EGParams) -> None:
        self.params = params

    def min_obs(self) -> int:
        """Smallest window where the largest ADF lag regression keeps 2 residual d.o.f."""
        n = 8
        while True:
            try:
                lag = resolve_maxlag(n, self.params.maxlag)
            except ValueError:
                n += 1
                continue
            if n - 1 - lag >= lag + 3:
                return n
            n += 1

    def run_windows(self, series, ends, lengths, window: int) -> CointBatch:
        """EG on every window of every pair's series at once (incremental kernel,
        :mod:`statarb.kernels.coint_windows`); flattened pair-major, length 0 = no window,
        ``window`` = the configured (longest) window length."""
        res = engle_granger_windows(
            series, ends, lengths, maxlag=self.params.maxlag, autolag=self.params.autolag,
            trend=self.params.trend, window=window,
        )  # fmt: skip
        stat, pval = res.stat.copy(), res.pvalue.copy()
        reason: tuple[str | None, ...] = (None,) * stat.shape[0]
        reason = reasons_where(res.collinear, "collinear_legs", reason)
        reason = reasons_where(
            res.short_for_lags, "short_window: too few rows for the lags", reason
        )
        reason = reasons_where(~np.isfinite(stat), "singular_adf_regression", reason)
        bad = np.array([r is not None for r in reason], dtype=bool)
        stat[bad] = np.nan
        pval[bad] = np.nan
        return CointBatch(self.name, stat, pval, res.beta, res.alpha, 0, reason)

    def run(self, y: np.ndarray, x: np.ndarray) -> CointBatch:
        """EG on every row; collinear and singular windows get a reason instead of a number."""
        res = engle_granger_rows(
            y, x, maxlag=self.params.maxlag, autolag=self.params.autolag, trend=self.params.trend
        )
        stat = np.asarray(res["stat"], dtype=np.float64).copy()
        pval = np.asarray(res["pvalue"], dtype=np.float64).copy()
        n = stat.shape[0]
        reason: tuple[str | None, ...] = (None,) * n
        reason = reasons_where(np.asarray(res["usedlag"]) < 0, "collinear_legs", reason)
        reason = reasons_where(~np.isfinite(stat), "singular_adf_regression", reason)
        bad = np.array([r is not None for r in reason], dtype=bool)
        stat[bad] = np.nan
        pval[bad] = np.nan
        return CointBatch(
            test=self.name,
            statistic=stat,
            pvalue=pval,
            beta=np.asarray(res["beta"], dtype=np.float64),
            alpha=np.asarray(res["alpha"], dtype=np.float64),
            nobs=int(res["nobs"]),
            reason=reason,
        )
