"""Walk-forward screening: every (pair, test time) window's test statistics and spread quality.

At every test time ``T`` each pair ``(pair_id, a, b)`` is tested on the trailing ``window_bars``
bars that are known at ``T`` (dev-contract information time: a bar opened at ``t`` is known at
``t + bar_interval``, so only bars with ``t + bar_interval <= T`` are used) and where both legs have
a finite, positive price (inner join; outlier bars removed). ``a`` is the dependent leg ``y`` and
``b`` the regressor ``x``; the spread is ``a - beta * b - alpha``.

Windows of equal length are tested in one batch by each configured test
(:mod:`statarb.alpha.coint_tests`); several tests combine as an intersection-union test (the
combined p-value is the largest). Windows shorter than ``min_obs`` (or than the tests need) and
degenerate windows (:mod:`statarb.alpha.selection.degenerate`) get a reason and no statistic. The
spread-quality statistics (:mod:`statarb.alpha.selection.spread_quality`) are computed on the
test's relation, only for windows whose raw p-value is below ``quality_below`` (the funnel's
level): a multiple-testing adjusted p-value is never below the raw one, so no other window can
pass the test stage, and skipping them changes no decision. The decisions are the funnel's
(:mod:`statarb.alpha.selection.funnel`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from statarb.conventions import UTC_US, to_utc
from statarb.preprocess.panel import wide_panel

log = logging.getLogger(__name__)

_PRICE_COLS = ("close", "price")
_SYMBOL_COLS = ("symbol", "symbol_id")
TEST_COLUMNS = ("adf_statistic", "adf_pvalue", "johansen_trace", "johansen_pvalue")
STATS_SCHEMA: dict[str, pl.DataType] = {
    "pair_id": pl.String(),
    "test_ts": UTC_US,
    "method": pl.String(),
    "n_obs": pl.Int64(),
    "window_start": UTC_US,  # open time of the window's first bar (null: empty window)
    "bars_seen": pl.Int64(),  # the pair's usable bars up to the test (its window's last position)
    "statistic": pl.Float64(),
    "pvalue": pl.Float64(),
    **{c: pl.Float64() for c in TEST_COLUMNS},
    "beta": pl.Float64(),
    "alpha": pl.Float64(),
    "half_life": pl.Float64(),
    "hurst": pl.Float64(),
    "crossings": pl.Int64(),
    "reason": pl.String(),
}


def _to_utc_us(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        return col.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    return col.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def to_wide(prices: pl.DataFrame, symbols: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(times_us, matrix)``: sorted UTC bar open times (int64 microseconds) and prices
    ``(n_times, len(symbols))`` with NaN where a symbol has no usable bar.

    Accepts wide frames (``datetime`` + one column per symbol) or long frames (``datetime``,
    ``symbol``/``symbol_id``, ``close``/``price``, optional ``outlier_flag``; flagged rows dropped).
    """
    if "datetime" not in prices.columns:
        raise ValueError(f"prices need a 'datetime' column, got {prices.columns}")
    sym_col = next((c for c in _SYMBOL_COLS if c in prices.columns), None)
    df = prices.with_columns(_to_utc_us(pl.col("datetime"), prices.schema["datetime"]))
    if sym_col is not None:
        px_col = next((c for c in _PRICE_COLS if c in df.columns), None)
        if px_col is None:
            raise ValueError(f"long-format prices need one of {_PRICE_COLS}, got {df.columns}")
        df = wide_panel(df.rename({sym_col: "symbol"}).lazy(), list(symbols), price=px_col)
    missing = [s for s in symbols if s not in df.columns]
    if missing:
        raise ValueError(f"symbols not found in prices: {missing}")
    df = df.select("datetime", *symbols).sort("datetime")
    times = df["datetime"].dt.epoch("us").to_numpy()
    mat = df.select(pl.col(s).cast(pl.Float64) for s in symbols).to_numpy(allow_copy=True)
    mat = np.where(np.isfinite(mat) & (mat > 0), mat, np.nan)
    return times, mat


def _window_rows(va: np.ndarray, vb: np.ndarray, end: int, k: int) -> np.ndarray:
    """Indices of the last ``k`` rows before ``end`` where both legs are valid (fewer if absent).

    Scans a trailing slice that doubles until it holds ``k`` valid rows, so the cost is
    proportional to the window, not to the history.
    """
    span = k
    while True:
        lo = max(0, end - span)
        ok = np.flatnonzero(va[lo:end] & vb[lo:end])
        if ok.size >= k or lo == 0:
            return lo + ok[-k:]
        span *= 2


def _exact_us(t: datetime) -> int:
    """Epoch microseconds of ``t`` without float rounding."""
    t = to_utc(t)
    return (int(t.replace(microsecond=0).timestamp()) * 1_000_000) + t.microsecond


def stats_frames(
    prices: pl.DataFrame,
    pairs: Sequence[tuple[str, str, str]],
    schedule: Sequence[datetime],
    spec,
    bar_interval: timedelta = timedelta(minutes=1),
    progress: bool = True,
    chunk_pairs: int = 256,
    mapper=None,
) -> Iterator[pl.DataFrame]:
    """The statistics rows (:data:`STATS_SCHEMA` columns, unsorted) of each chunk of
    ``chunk_pairs`` pairs at every time of ``schedule``, chunk after chunk, computed in process or
    by ``mapper`` (:mod:`statarb.compute`, e.g. a Dask cluster) by
    :func:`statarb.alpha.screening_chunk.chunk_stats` (``spec``: its
    :class:`~statarb.alpha.screening_chunk.ChunkSpec`); the rows do not depend on either."""
    from statarb.alpha.screening_chunk import chunk_stats_of
    from statarb.compute import InProcess, Shared

    symbols = sorted({s for _, a, b in pairs for s in (a, b)})
    col = {s: i for i, s in enumerate(symbols)}
    times, mat = to_wide(prices, symbols)
    known_at = times + int(bar_interval / timedelta(microseconds=1))
    sched = sorted(schedule)
    end_rows = np.searchsorted(known_at, [_exact_us(t) for t in sched], side="right")
    test_ts = pl.Series("test_ts", [to_utc(t) for t in sched], dtype=UTC_US)
    step = max(1, int(chunk_pairs))

    shared = Shared(mat)  # on Dask: sent to each worker once, each task names its columns

    def tasks():  # built lazily; a task copies its own columns out of the matrix when it runs
        for lo in range(0, len(pairs), step):
            chunk = pairs[lo : lo + step]
            syms = sorted({s for _, a, b in chunk for s in (a, b)})
            local = {s: i for i, s in enumerate(syms)}
            idx = np.array([col[s] for s in syms], dtype=np.int64)
            yield (shared, idx, [(p, local[a], local[b]) for p, a, b in chunk], end_rows, test_ts,
                   spec)  # fmt: skip

    mapper = mapper or InProcess()
    n_chunks = -(-len(pairs) // step)
    for frame in mapper.imap(chunk_stats_of, tasks(), n_chunks, desc="cointegration screening",
                             progress=progress):  # fmt: skip
        row = frame["window_first_row"].to_numpy()
        has = row >= 0
        start_us = np.zeros(row.size, dtype=np.int64)
        start_us[has] = times[row[has]]
        start = pl.when(pl.Series(has)).then(pl.Series(start_us).cast(UTC_US))
        yield frame.with_columns(window_start=start).select(list(STATS_SCHEMA))


class ReasonCounts:
    """Counts of pair-tests without a result by reason kind, gathered chunk by chunk and logged
    once at the end."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def add(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Count ``frame``'s reasons; return ``frame``."""
        kinds = frame["reason"].drop_nulls().str.split(":").list.first().value_counts()
        for key, count in kinds.iter_rows():
            self.counts[key] = self.counts.get(key, 0) + int(count)
        return frame

    def log(self) -> None:
        for key in sorted(self.counts):
            log.info("screening: %d pair-tests without a result (%s)", self.counts[key], key)


def funnel_spec(cfg):
    """The :class:`~statarb.alpha.screening_chunk.ChunkSpec` of the
    :class:`statarb.alpha.config.AlphaConfig` ``cfg``: its tests, window, the length a window
    needs (``min_obs`` or more, as the tests require), spread-quality bounds and the level below
    which the spread quality is computed."""
    from statarb.alpha.ou_fit import ou_record
    from statarb.alpha.screening_chunk import ChunkSpec

    o, scr = cfg.ou, cfg.screening
    tests = tuple(scr.build())
    need = max([scr.min_obs, *(t.min_obs() for t in tests)])
    ou = ou_record(o.window_bars, o.min_obs, o.dt, o.estimator, o.jackknife_blocks)
    return ChunkSpec(tests, int(scr.window_bars), int(need), cfg.selection.hurst, ou,
                     float(cfg.selection.multiple_testing.level),
                     "+".join(t.name for t in tests))  # fmt: skip


def screen_pairs(
    prices: pl.DataFrame,
    pairs: Sequence[tuple[str, str, str]],
    schedule: Sequence[datetime],
    cfg,
    created_at: datetime,
    progress: bool = False,
    chunk_pairs: int = 256,
    mapper=None,
    chunk_pair_tests: int | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Window statistics plus the selection funnel at ``schedule`` with the
    :class:`statarb.alpha.config.AlphaConfig` ``cfg`` -> (``cointegration_results`` rows,
    ``selection_log`` rows), both stamped ``created_at``, every block of
    :func:`statarb.alpha.screening_blocks.iter_screen_pairs` concatenated (same arguments)."""
    from statarb.alpha.screening_blocks import concat_blocks, iter_screen_pairs

    return concat_blocks(iter_screen_pairs(prices, pairs, schedule, cfg, created_at, progress,
                                           chunk_pairs, mapper, chunk_pair_tests))  # fmt: skip
