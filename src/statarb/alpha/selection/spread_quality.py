"""Funnel stage 3: spread-quality filters (Sarmento & Horta 2020).

A pair that passes the cointegration test must also have a spread worth trading
(Sarmento, S. M. & Horta, N. 2020, *A Machine Learning based Pairs Trading Investment Strategy*,
Springer, sec. 3.2; Vidyamurthy 2004, ch. 8):

* **half-life** of mean reversion within ``[min_bars, max_bars]``: too fast to trade after the
  order latency, or too slow to revert within the holding horizon;
* **Hurst exponent** below ``max`` (0.5 = random walk);
* at least ``min`` **mean crossings** in the window (enough round trips).

Statistics come from :func:`statarb.kernels.spread_quality.spread_quality_kernel` (reference twin
``spread_quality_ref``). A bound set to ``null`` in the YAML switches that filter off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import Field, model_validator

from statarb.config.strict import StrictModel
from statarb.kernels.ou import OUParamsNb
from statarb.kernels.spread_quality import spread_quality_kernel


class HalfLifeBounds(StrictModel):
    """``alpha.selection.half_life``: admissible half-life in bars (null = unbounded)."""

    min_bars: float | None = Field(ge=0)
    max_bars: float | None = Field(gt=0)


class HurstBound(StrictModel):
    """``alpha.selection.hurst``: upper bound and the lag range of the estimate."""

    max: float | None = Field(gt=0, le=1)
    min_lag: int = Field(ge=1)
    max_lag: int = Field(ge=2)
    n_lags: int = Field(ge=2)

    @model_validator(mode="after")
    def _order(self) -> HurstBound:
        if self.max_lag <= self.min_lag:
            raise ValueError(f"max_lag ({self.max_lag}) must exceed min_lag ({self.min_lag})")
        return self


class CrossingsBound(StrictModel):
    """``alpha.selection.crossings``: fewest mean crossings per window (0 = off)."""

    min: int = Field(ge=0)


def hurst_lags(min_lag: int, max_lag: int, n_lags: int, n_obs: int) -> np.ndarray:
    """Log-spaced unique integer lags in ``[min_lag, min(max_lag, n_obs // 2)]``."""
    hi = max(min(max_lag, n_obs // 2), min_lag + 1)
    return np.unique(np.round(np.geomspace(min_lag, hi, n_lags)).astype(np.int64))


@dataclass(frozen=True, slots=True)
class SpreadQuality:
    """Per-pair statistics of one batch of windows."""

    half_life: np.ndarray
    hurst: np.ndarray
    crossings: np.ndarray


def spread_quality(
    y: np.ndarray,
    x: np.ndarray,
    beta: np.ndarray,
    alpha: np.ndarray,
    hurst: HurstBound,
    ou: OUParamsNb,
) -> SpreadQuality:
    """Statistics of the spreads ``y - beta x - alpha`` of rows ``j`` (``(n_pairs, n_obs)``)."""
    lags = hurst_lags(hurst.min_lag, hurst.max_lag, hurst.n_lags, y.shape[1])
    hl, hu, cr = spread_quality_kernel(
        np.ascontiguousarray(y, dtype=np.float64),
        np.ascontiguousarray(x, dtype=np.float64),
        np.ascontiguousarray(beta, dtype=np.float64),
        np.ascontiguousarray(alpha, dtype=np.float64),
        lags,
        ou,
    )
    return SpreadQuality(hl, hu, cr)


def passes(
    q: SpreadQuality, half_life: HalfLifeBounds, hurst: HurstBound, crossings: CrossingsBound
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(pass_half_life, pass_hurst, pass_crossings)``; an undefined statistic fails."""
    hl = q.half_life
    lo = -np.inf if half_life.min_bars is None else half_life.min_bars
    hi = np.inf if half_life.max_bars is None else half_life.max_bars
    with np.errstate(invalid="ignore"):
        p_hl = ~np.isnan(hl) & (hl >= lo) & (hl <= hi)
        p_hu = (
            np.ones_like(p_hl) if hurst.max is None else ~np.isnan(q.hurst) & (q.hurst < hurst.max)
        )
    p_cr = q.crossings >= crossings.min
    return p_hl, p_hu, p_cr
