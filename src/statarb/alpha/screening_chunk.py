"""Screening statistics of one chunk of pairs at every test time (the unit of work that
screening streams, and that Dask fans out).

For each pair the valid rows (both legs finite and positive) form its own series; the window at
test time ``T`` is the last ``window_bars`` of those rows known at ``T``. Tests that can run on
every window of a series at once (``run_windows``: the incremental Engle-Granger) never copy a
window; other tests (Johansen) get the windows of one test time at a time. Memory is bounded by the
chunk: the pairs' series, not windows times pairs times test times.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from statarb.alpha.coint_tests.base import CointBatch
from statarb.alpha.selection.degenerate import NEAR_CONSTANT_REL_TV
from statarb.alpha.selection.spread_quality import HurstBound, hurst_lags
from statarb.kernels.ou import OUParamsNb
from statarb.kernels.spread_quality_windows import spread_quality_windows_kernel

log = logging.getLogger("statarb.alpha.screening")

TEST_COLUMNS = ("adf_statistic", "adf_pvalue", "johansen_trace", "johansen_pvalue")


@dataclass(frozen=True)
class ChunkSpec:
    """Everything a chunk needs besides its price columns (picklable, for Dask)."""

    tests: tuple
    window_bars: int
    need: int
    hurst: HurstBound
    ou: OUParamsNb
    quality_below: float
    method: str


class _Legs:
    """The chunk's price columns, read once: transposed (one contiguous row per column), their
    finite masks, and the prefix sums of legs with no missing row (shared by every pair that
    uses them, so a leg of many pairs is scanned once)."""

    def __init__(self, cols: np.ndarray) -> None:
        self.rows = np.ascontiguousarray(cols.T)
        self.finite = np.isfinite(self.rows)
        self.full = self.finite.all(axis=1)
        self.all_rows = np.arange(cols.shape[0])
        self._prefix: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def series(self, ia: int, ib: int, end_rows: np.ndarray, window: int):
        """Pair ``(ia, ib)``'s valid rows (both legs finite), the valid-row count before each
        end row, the window length at each test time and the matrix row of each window's first
        bar (-1 for an empty window)."""
        if self.full[ia] and self.full[ib]:
            ok = self.all_rows
            y, x = self.rows[ia], self.rows[ib]
        else:
            ok = np.flatnonzero(self.finite[ia] & self.finite[ib])
            y, x = self.rows[ia, ok], self.rows[ib, ok]
        k_end = np.searchsorted(ok, end_rows, side="left")  # valid rows with row < end
        n = np.minimum(k_end, window)
        first = np.full(n.size, -1, dtype=np.int64)
        has = n > 0
        first[has] = ok[k_end[has] - n[has]]
        return y, x, k_end, n, first

    def prefix(self, leg: np.ndarray, key: int | None):
        """Prefix sums of moves, total variation and level of ``leg`` (cached by column when
        the leg has every row, i.e. when it is the same series for every pair)."""
        if key is not None and key in self._prefix:
            return self._prefix[key]
        d = np.diff(leg)
        out = (
            np.concatenate([[0], np.cumsum(d != 0)]),
            np.concatenate([[0.0], np.cumsum(np.abs(d))]),
            np.concatenate([[0.0], np.cumsum(np.abs(leg))]),
        )
        if key is not None:
            self._prefix[key] = out
        return out


def _leg_reasons(legs: _Legs, keys, y, x, k_end, n) -> list[str | None]:
    """Constant / near-constant legs of every window, from prefix sums (O(1) per window)."""
    out: list[str | None] = [None] * k_end.size
    for name, leg, key in (("A", y, keys[0]), ("B", x, keys[1])):
        if leg.size < 2:
            continue
        moves, tv, lev = legs.prefix(leg, key)
        s = k_end - n
        ok = n >= 2
        last = np.maximum(k_end - 1, 0)
        n_moves = np.where(ok, moves[last] - moves[np.minimum(s, last)], 1)
        var = np.where(ok, tv[last] - tv[np.minimum(s, last)], 1.0)
        level = np.where(ok, (lev[k_end] - lev[s]) / np.maximum(n, 1), 1.0)
        for i in np.flatnonzero(ok & ((n_moves == 0) | (var <= NEAR_CONSTANT_REL_TV * level))):
            if out[i] is not None:
                continue
            if n_moves[i] == 0:
                out[i] = f"constant_leg: leg {name} equals {leg[s[i]]} over the window"
            else:
                out[i] = (f"near_constant_leg: leg {name} moves {var[i]:.3g} in total at level "
                          f"{level[i]:.6g}")  # fmt: skip
    return out


def _run_test(test, series, ends, lengths, live, window: int) -> CointBatch:
    """One test on every live window of the chunk, flattened pair-major."""
    n_t = ends[0].size
    if hasattr(test, "run_windows"):
        lens = [np.where(lv, ln, 0) for lv, ln in zip(live, lengths, strict=True)]
        return test.run_windows(series, ends, lens, window)
    m = len(series) * n_t
    stat, pval, beta, alpha = (np.full(m, np.nan) for _ in range(4))
    reason: list[str | None] = [None] * m
    for i in range(n_t):  # one test time: group the live windows by length
        groups: dict[int, list[int]] = {}
        for j in range(len(series)):
            if live[j][i]:
                groups.setdefault(int(lengths[j][i]), []).append(j)
        for n, js in groups.items():
            yy = np.stack([series[j][0][ends[j][i] - n : ends[j][i]] for j in js])
            xx = np.stack([series[j][1][ends[j][i] - n : ends[j][i]] for j in js])
            b = test.run(yy, xx)
            idx = np.array(js) * n_t + i
            stat[idx], pval[idx], beta[idx], alpha[idx] = b.statistic, b.pvalue, b.beta, b.alpha
            for k, r in zip(idx, b.reason, strict=True):
                reason[k] = r
    return CointBatch(test.name, stat, pval, beta, alpha, 0, tuple(reason))


def chunk_stats_of(
    mat: np.ndarray,
    columns: np.ndarray,
    pairs: Sequence[tuple[str, int, int]],
    end_rows: np.ndarray,
    test_ts: pl.Series,
    spec: ChunkSpec,
) -> pl.DataFrame:
    """:func:`chunk_stats` of the ``columns`` of the universe's price matrix ``mat`` (the pairs'
    leg indices refer to positions in ``columns``): the task that screening streams, so the
    matrix itself can be shared by every task (sent once to each Dask worker)."""
    return chunk_stats(np.ascontiguousarray(mat[:, columns]), pairs, end_rows, test_ts, spec)


def chunk_stats(
    cols: np.ndarray,
    pairs: Sequence[tuple[str, int, int]],
    end_rows: np.ndarray,
    test_ts: pl.Series,
    spec: ChunkSpec,
) -> pl.DataFrame:
    """Statistics rows (``statarb.alpha.screening.STATS_SCHEMA`` without ``test_ts`` order, and
    ``window_first_row``, the row of ``cols`` where the window starts, -1 for an empty window,
    in place of ``window_start``; ``bars_seen``, the pair's usable rows before the test's end row)
    of ``pairs`` (``pair_id``, column of leg A, column of leg B in ``cols``) at every test time."""
    n_t = end_rows.size
    series, ends, lengths, reasons, live, firsts = [], [], [], [], [], []
    chunk_legs = _Legs(cols)
    for _, ia, ib in pairs:
        y, x, k_end, n, first = chunk_legs.series(ia, ib, end_rows, spec.window_bars)
        firsts.append(first)
        short = np.flatnonzero(n < spec.need)
        why: list[str | None] = [None] * n.size
        for i in short:
            why[i] = f"short_window: {int(n[i])} usable rows < {spec.need}"
        full = bool(chunk_legs.full[ia] and chunk_legs.full[ib])
        keys = (ia, ib) if full else (None, None)
        legs = _leg_reasons(chunk_legs, keys, y, x, k_end, n)
        why = [w or lg for w, lg in zip(why, legs, strict=True)]
        series.append((y, x))
        ends.append(k_end)
        lengths.append(n)
        reasons.append(why)
        live.append(np.array([w is None for w in why]))
    flat_reason = [r for rs in reasons for r in rs]
    flat_live = np.concatenate(live) if live else np.zeros(0, bool)
    batches = [_run_test(t, series, ends, lengths, live, spec.window_bars) for t in spec.tests]
    m = len(pairs) * n_t
    for b in batches:
        for k in np.flatnonzero(flat_live):
            if flat_reason[k] is None and b.reason[k] is not None:
                flat_reason[k] = b.reason[k]
    ok = np.array([r is None for r in flat_reason], dtype=bool)
    pvalue = np.vstack([b.pvalue for b in batches]).max(axis=0) if batches else np.full(m, np.nan)
    beta, alpha = batches[0].beta.copy(), batches[0].alpha.copy()
    for b in batches[1:]:
        fill = ~np.isfinite(beta)
        beta[fill], alpha[fill] = b.beta[fill], b.alpha[fill]
    cols_out = {c: np.full(m, np.nan) for c in TEST_COLUMNS}
    for b, t in zip(batches, spec.tests, strict=True):
        cols_out[t.stat_column] = np.where(ok, b.statistic, np.nan)
        cols_out[t.pvalue_column] = np.where(ok, b.pvalue, np.nan)
    with np.errstate(invalid="ignore"):
        rate = ok & (pvalue < spec.quality_below)
    hl, hu, cr = _quality(series, ends, lengths, rate, beta, alpha, spec, n_t)
    pair_ids = np.repeat(np.array([p[0] for p in pairs], dtype=object), n_t)
    if log.isEnabledFor(logging.DEBUG):
        for k in np.flatnonzero(~ok):
            log.debug("screening: pair %s: %s", pair_ids[k], flat_reason[k])
    return pl.DataFrame(
        {
            "pair_id": pl.Series(pair_ids, dtype=pl.String),
            "test_ts": pl.concat([test_ts] * len(pairs)) if pairs else test_ts.clear(),
            "method": [spec.method] * m,
            "n_obs": np.concatenate(lengths).astype(np.int64) if pairs else np.zeros(0, np.int64),
            "window_first_row": np.concatenate(firsts) if pairs else np.zeros(0, np.int64),
            "bars_seen": np.concatenate(ends).astype(np.int64) if pairs else np.zeros(0, np.int64),
            "statistic": np.where(ok, batches[0].statistic, np.nan),
            "pvalue": np.where(ok, pvalue, np.nan),
            **cols_out,
            "beta": np.where(ok, beta, np.nan),
            "alpha": np.where(ok, alpha, np.nan),
            "half_life": hl,
            "hurst": hu,
            "crossings": cr,
            "reason": pl.Series(flat_reason, dtype=pl.String),
        }
    ).with_columns(pl.col("crossings").replace(-1, None), pl.col(pl.Float64).fill_nan(None))


def _quality(series, ends, lengths, rate, beta, alpha, spec: ChunkSpec, n_t: int):
    m = rate.size
    hl, hu = np.full(m, np.nan), np.full(m, np.nan)
    cr = np.full(m, -1, dtype=np.int64)
    w = np.flatnonzero(rate)
    if w.size == 0:
        return hl, hu, cr
    sizes = np.array([s[0].size for s in series], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    y = np.concatenate([s[0] for s in series])
    x = np.concatenate([s[1] for s in series])
    e_flat, n_flat = np.concatenate(ends), np.concatenate(lengths)
    lags = hurst_lags(spec.hurst.min_lag, spec.hurst.max_lag, spec.hurst.n_lags, spec.window_bars)
    h1, h2, h3 = spread_quality_windows_kernel(
        y, x, offsets, (w // n_t).astype(np.int64), e_flat[w].astype(np.int64),
        n_flat[w].astype(np.int64), beta[w], alpha[w], lags, spec.ou,
    )  # fmt: skip
    hl[w], hu[w], cr[w] = h1, h2, h3
    return hl, hu, cr
