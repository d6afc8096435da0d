"""Engle-Granger on every window of a walk-forward schedule, pair by pair (incremental kernel).

:func:`engle_granger_windows` equals :func:`statarb.alpha.engle_granger.engle_granger` (and so
statsmodels ``coint``) on each window ``rows[end - n : end]`` of each pair's valid rows, computed
with :mod:`statarb.kernels.coint_windows` (O(p^2 + B p) per window instead of O(n p)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from statarb.alpha.adf_lagsearch import ic_code
from statarb.alpha.engle_granger import mackinnon_pvalue
from statarb.kernels.coint import TREND_C, TREND_N
from statarb.kernels.coint_windows import (
    FLAG_COLLINEAR,
    FLAG_SHORT_FOR_LAGS,
    R_ALPHA,
    R_BETA,
    R_FLAG,
    R_ICBEST,
    R_LAG,
    R_NOBS,
    R_STAT,
    eg_windows_kernel,
)

_TRENDS = {"c": TREND_C, "n": TREND_N}


@dataclass(frozen=True, slots=True)
class WindowResults:
    """Per window (flattened over pairs, in input order): statistic, p-value, used lag, ADF rows,
    ``beta``, ``alpha`` and the best criterion; ``collinear`` / ``short_for_lags`` flag windows
    statsmodels would report as ``-inf`` / reject."""

    stat: np.ndarray
    pvalue: np.ndarray
    usedlag: np.ndarray
    adf_nobs: np.ndarray
    beta: np.ndarray
    alpha: np.ndarray
    icbest: np.ndarray
    collinear: np.ndarray
    short_for_lags: np.ndarray


def engle_granger_windows(
    series: Sequence[tuple[np.ndarray, np.ndarray]],
    ends: Sequence[np.ndarray],
    lengths: Sequence[np.ndarray],
    *,
    maxlag: int | None = None,
    autolag: str | None = "aic",
    trend: str = "c",
    window: int | None = None,
) -> WindowResults:
    """Engle-Granger of ``y`` on ``x`` for every window of every pair.

    ``series[j] = (y, x)``: pair ``j``'s valid rows (finite, aligned); ``ends[j]``/``lengths[j]``:
    its windows as exclusive end row and length (length 0 = no window: NaN result). ``window``:
    the longest window length (default: the longest given)."""
    if trend not in _TRENDS:
        raise ValueError(f"windowed Engle-Granger trend must be 'c' or 'n', got {trend!r}")
    if maxlag is not None and maxlag < 0:
        raise ValueError(f"maxlag must be >= 0, got {maxlag}")
    sizes = np.array([len(y) for y, _ in series], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    y = (
        np.concatenate([np.asarray(s[0], dtype=np.float64) for s in series])
        if series
        else np.empty(0)
    )
    x = (
        np.concatenate([np.asarray(s[1], dtype=np.float64) for s in series])
        if series
        else np.empty(0)
    )
    ntest = np.array([len(e) for e in ends], dtype=np.int64)
    test_offsets = np.concatenate([[0], np.cumsum(ntest)]).astype(np.int64)
    e = (
        np.concatenate([np.asarray(v, dtype=np.int64) for v in ends])
        if ends
        else np.empty(0, np.int64)
    )
    n = (
        np.concatenate([np.asarray(v, dtype=np.int64) for v in lengths])
        if lengths
        else np.empty(0, np.int64)
    )
    if np.any(e > np.repeat(sizes, ntest)) or np.any(n > e):
        raise ValueError("window ends must lie within each pair's rows and lengths within the ends")
    window = int(window if window is not None else (n.max() if n.size else 0))
    if n.size and n.max() > window:
        raise ValueError(f"window lengths exceed window={window}")
    out = eg_windows_kernel(
        y, x, offsets, e, n, test_offsets, window, -1 if maxlag is None else int(maxlag),
        ic_code(autolag), _TRENDS[trend],
    )  # fmt: skip
    flag = out[:, R_FLAG]
    stat = out[:, R_STAT]
    return WindowResults(
        stat=stat,
        pvalue=mackinnon_pvalue(stat, trend, 2),
        usedlag=np.where(np.isnan(out[:, R_LAG]), -1, out[:, R_LAG]).astype(np.int64),
        adf_nobs=np.nan_to_num(out[:, R_NOBS]).astype(np.int64),
        beta=out[:, R_BETA],
        alpha=out[:, R_ALPHA],
        icbest=out[:, R_ICBEST],
        collinear=flag == FLAG_COLLINEAR,
        short_for_lags=flag == FLAG_SHORT_FOR_LAGS,
    )
