"""Ornstein-Uhlenbeck fits on a spread: single window, windows at given ends, and schedule times.

Wraps :mod:`statarb.kernels.ou` (conditional MLE = AR(1) OLS with ``v = SSR/n``; Uhlenbeck &
Ornstein 1930, Vasicek 1977). Time is counted in bars (``dt`` = 1 bar by default), so ``theta`` is
per bar and the half-life ``ln 2 / theta`` is in bars; overnight gaps are not stretched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import polars as pl

from statarb.kernels.ou import ESTIMATORS, OUParamsNb, ou_fit_range, ou_fit_windows_kernel


@dataclass(frozen=True)
class OUFit:
    """One OU fit: ``theta`` (per ``dt``), ``mu``, ``sigma`` (diffusion), AR ``b``, transitions."""

    theta: float
    mu: float
    sigma: float
    b: float
    n: int

    @property
    def half_life(self) -> float:
        """``ln 2 / theta`` in units of ``dt``."""
        return float(np.log(2.0) / self.theta)

    @property
    def sigma_eq(self) -> float:
        """Stationary standard deviation ``sigma / sqrt(2 theta)``."""
        return float(self.sigma / np.sqrt(2.0 * self.theta))


def ou_record(
    window: int, min_obs: int, dt: float, estimator: str = "mle", blocks: int = 2
) -> OUParamsNb:
    """Validated kernel parameter record (``estimator``: mle | kendall | jackknife)."""
    if window < 4:
        raise ValueError(f"OU window must be >= 4 bars, got {window}")
    if not dt > 0:
        raise ValueError(f"OU dt must be > 0, got {dt}")
    if estimator not in ESTIMATORS:
        raise ValueError(f"OU estimator must be one of {sorted(ESTIMATORS)}, got {estimator!r}")
    if blocks < 2:
        raise ValueError(f"OU jackknife blocks must be >= 2, got {blocks}")
    return OUParamsNb(int(window), int(min_obs), float(dt), ESTIMATORS[estimator], int(blocks))


def fit_ou(x: np.ndarray, dt: float = 1.0, estimator: str = "mle", blocks: int = 2) -> OUFit:
    """OU fit on the whole of ``x`` (NaN parameters if not mean-reverting).

    ``estimator="mle"`` is the conditional MLE (AR(1) OLS); ``"kendall"`` and ``"jackknife"``
    correct its small-sample bias (see :mod:`statarb.kernels.ou`)."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    p = ou_record(max(x.shape[0], 4), 3, dt, estimator, blocks)
    theta, mu, sigma, b, n = ou_fit_range(x, 0, x.shape[0], p)
    return OUFit(float(theta), float(mu), float(sigma), float(b), int(n))


def fit_ou_windows(
    x: np.ndarray,
    stops: np.ndarray,
    window: int,
    min_obs: int = 30,
    dt: float = 1.0,
    estimator: str = "mle",
    blocks: int = 2,
) -> np.ndarray:
    """OU fits on ``x[max(0, stop - window):stop]`` for each ``stop`` (exclusive end index).

    Returns a ``(len(stops), 5)`` float array: ``theta, mu, sigma, b, n_transitions`` (``b`` is
    the bias-corrected coefficient for the corrected estimators).
    Rolling fit every bar: ``stops = np.arange(window, len(x) + 1)``.
    """
    p = ou_record(window, min_obs, dt, estimator, blocks)
    x = np.ascontiguousarray(x, dtype=np.float64)
    stops = np.ascontiguousarray(stops, dtype=np.int64)
    if stops.size and (stops.min() < 0 or stops.max() > x.shape[0]):
        raise ValueError(f"OU window stops must lie in [0, {x.shape[0]}]")
    return ou_fit_windows_kernel(x, stops, p)


def fit_ou_at_schedule(
    spread: pl.DataFrame,
    schedule: pl.Series,
    window: int,
    bar_interval: timedelta,
    min_obs: int = 30,
    dt: float = 1.0,
    estimator: str = "mle",
    blocks: int = 2,
) -> pl.DataFrame:
    """OU fit of one pair's spread at each schedule time ``T`` (information time).

    ``spread`` has ``datetime`` (bar open, sorted ascending) and ``spread``; ``schedule`` is a sorted
    datetime Series of the same dtype. The fit at ``T`` uses the last ``window`` rows with
    ``datetime + bar_interval <= T``. Returns ``window_start`` (open time of the first row used),
    ``window_end = T``, ``theta, mu, sigma, n_obs``; times with no bar before them are skipped.
    """
    dts = spread["datetime"]
    schedule = schedule.cast(dts.dtype)
    stops = (dts + bar_interval).search_sorted(schedule, side="right").to_numpy().astype(np.int64)
    keep = stops > 0
    stops = stops[keep]
    fits = fit_ou_windows(
        spread["spread"].to_numpy(), stops, window, min_obs, dt, estimator, blocks
    )
    return pl.DataFrame(
        {
            "window_start": dts.gather(np.maximum(stops - window, 0)),
            "window_end": schedule.filter(pl.Series(keep)),
            "theta": fits[:, 0],
            "mu": fits[:, 1],
            "sigma": fits[:, 2],
            "n_obs": fits[:, 4].astype(np.int64),
        }
    )
