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
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
import polars as pl
from tqdm.auto import tqdm

from statarb.alpha.coint_tests.base import CointBatch
from statarb.alpha.selection.degenerate import leg_reasons, short_reason
from statarb.alpha.selection.spread_quality import HurstBound, spread_quality
from statarb.conventions import UTC_US, to_utc
from statarb.kernels.ou import OUParamsNb

log = logging.getLogger(__name__)

_PRICE_COLS = ("close", "price")
_SYMBOL_COLS = ("symbol", "symbol_id")
TEST_COLUMNS = ("adf_statistic", "adf_pvalue", "johansen_trace", "johansen_pvalue")
STATS_SCHEMA: dict[str, pl.DataType] = {
    "pair_id": pl.String(),
    "test_ts": UTC_US,
    "method": pl.String(),
    "n_obs": pl.Int64(),
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
        if "outlier_flag" in df.columns:
            df = df.filter(pl.col("outlier_flag").fill_null(0) != 1)
        df = df.filter(pl.col(sym_col).is_in(list(symbols)))
        dup = df.select("datetime", sym_col).is_duplicated()
        if dup.any():
            row = df.filter(dup).row(0, named=True)
            raise ValueError(f"duplicate bar for {row[sym_col]} at {row['datetime']}")
        df = df.pivot(on=sym_col, index="datetime", values=px_col)
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


def _expand(batches: list[CointBatch], live: np.ndarray, legs: list) -> tuple:
    """:func:`_combine` on the non-degenerate rows, scattered back to the whole batch."""
    n = live.size
    full = [np.full(n, np.nan) for _ in range(4)]
    reason = list(legs)
    if batches:
        parts = _combine(batches)
        for arr, part in zip(full, parts[:4], strict=True):
            arr[live] = part
        for j, r in zip(np.flatnonzero(live), parts[4], strict=True):
            reason[j] = r
    return (*full, reason)


def _combine(batches: list[CointBatch]) -> tuple[np.ndarray, ...]:
    """Intersection-union combination: the largest p-value, the first test's statistic and the
    first finite relation; the first reason of any test."""
    pvalue = np.vstack([b.pvalue for b in batches]).max(axis=0)  # NaN if any test has none
    beta = batches[0].beta.copy()
    alpha = batches[0].alpha.copy()
    for b in batches[1:]:
        fill = ~np.isfinite(beta)
        beta[fill], alpha[fill] = b.beta[fill], b.alpha[fill]
    reason = [next((b.reason[j] for b in batches if b.reason[j] is not None), None)
              for j in range(len(batches[0].reason))]  # fmt: skip
    return batches[0].statistic, pvalue, beta, alpha, reason


def window_stats(
    prices: pl.DataFrame,
    pairs: Sequence[tuple[str, str, str]],
    schedule: Sequence[datetime],
    tests: Sequence,
    window_bars: int,
    min_obs: int,
    hurst: HurstBound,
    ou: OUParamsNb,
    bar_interval: timedelta = timedelta(minutes=1),
    progress: bool = True,
    quality_below: float = 1.0,
) -> pl.DataFrame:
    """One row per (pair, test time) with :data:`STATS_SCHEMA`: the configured tests' statistics,
    the combined p-value, the relation, the spread-quality statistics and the reason a window got
    no result (see the module docstring)."""
    need = max([min_obs, *(t.min_obs() for t in tests)])
    method = "+".join(t.name for t in tests)
    symbols = sorted({s for _, a, b in pairs for s in (a, b)})
    col = {s: i for i, s in enumerate(symbols)}
    times, mat = to_wide(prices, symbols)
    known_at = times + int(bar_interval / timedelta(microseconds=1))
    valid = np.isfinite(mat)
    frames: list[pl.DataFrame] = []
    reasons: dict[str, int] = {}
    for test_ts in tqdm(
        schedule, desc="cointegration screening", disable=not progress or len(schedule) < 5
    ):
        end = int(np.searchsorted(known_at, _exact_us(test_ts), side="right"))
        by_len: dict[int, list[tuple[str, np.ndarray, int, int]]] = {}
        bad: list[tuple[str, int, str]] = []
        for pair_id, a, b in pairs:
            ok = _window_rows(valid[:, col[a]], valid[:, col[b]], end, window_bars)
            why = short_reason(ok.size, need)
            if why is not None:
                bad.append((pair_id, ok.size, why))
                continue
            by_len.setdefault(ok.size, []).append((pair_id, ok, col[a], col[b]))
        parts = [_degenerate_frame(bad, method)] if bad else []
        for n, group in by_len.items():
            parts.append(_group_frame(mat, group, n, tests, method, hurst, ou, quality_below))
        if not parts:
            continue
        frame = pl.concat(parts).with_columns(
            pl.lit(to_utc(test_ts), dtype=UTC_US).alias("test_ts")
        )
        frames.append(frame)
        for why in frame["reason"].drop_nulls().to_list():
            key = why.split(":")[0]
            reasons[key] = reasons.get(key, 0) + 1
    for key, count in sorted(reasons.items()):
        log.info("screening: %d pair-tests without a result (%s)", count, key)
    if not frames:
        return pl.DataFrame(schema=STATS_SCHEMA)
    return pl.concat(frames).select(list(STATS_SCHEMA)).sort("test_ts", "pair_id")


def _group_frame(mat, group, n, tests, method, hurst, ou, quality_below) -> pl.DataFrame:
    """Statistics of a batch of equal-length windows, laid out one row per pair."""
    y = np.empty((len(group), n))
    x = np.empty((len(group), n))
    for j, (_, rows, ca, cb) in enumerate(group):
        y[j] = mat[rows, ca]
        x[j] = mat[rows, cb]
    legs = leg_reasons(y, x)
    live = np.array([r is None for r in legs])
    batches = [t.run(y[live], x[live]) for t in tests] if live.any() else []
    statistic, pvalue, beta, alpha, reason = _expand(batches, live, legs)
    for pid, why in zip((g[0] for g in group), reason, strict=True):
        if why is not None:
            log.debug("screening: pair %s, %d rows: %s", pid, n, why)
    ok = np.array([r is None for r in reason])
    with np.errstate(invalid="ignore"):
        rate = ok & (pvalue < quality_below)
    q = spread_quality(y, x, np.where(rate, beta, np.nan), np.where(rate, alpha, np.nan), hurst, ou)
    cols = {c: np.full(len(group), np.nan) for c in TEST_COLUMNS}
    for b, t in zip(batches, tests, strict=True):
        cols[t.stat_column][live] = b.statistic
        cols[t.pvalue_column][live] = b.pvalue
        cols[t.stat_column][~ok] = cols[t.pvalue_column][~ok] = np.nan
    return pl.DataFrame(
        {
            "pair_id": [g[0] for g in group],
            "method": [method] * len(group),
            "n_obs": np.full(len(group), n, dtype=np.int64),
            "statistic": np.where(ok, statistic, np.nan),
            "pvalue": np.where(ok, pvalue, np.nan),
            **cols,
            "beta": np.where(ok, beta, np.nan),
            "alpha": np.where(ok, alpha, np.nan),
            "half_life": q.half_life,
            "hurst": q.hurst,
            "crossings": np.where(rate, q.crossings, -1),
            "reason": reason,
        },
        schema={k: v for k, v in STATS_SCHEMA.items() if k != "test_ts"},
    ).with_columns(
        pl.col("crossings").replace(-1, None),
        pl.col(pl.Float64).fill_nan(None),  # no statistic = null, as in the SQL tables
    )


def _degenerate_frame(bad: list[tuple[str, int, str]], method: str) -> pl.DataFrame:
    for pid, n, why in bad:
        log.debug("screening: pair %s, %d rows: %s", pid, n, why)
    schema = {k: v for k, v in STATS_SCHEMA.items() if k != "test_ts"}
    return pl.DataFrame(
        {
            "pair_id": [b[0] for b in bad],
            "method": [method] * len(bad),
            "n_obs": [b[1] for b in bad],
            "reason": [b[2] for b in bad],
        },
        schema={k: schema[k] for k in ("pair_id", "method", "n_obs", "reason")},
    ).select(  # fmt: skip
        [
            pl.col(k)
            if k in ("pair_id", "method", "n_obs", "reason")
            else pl.lit(None, dtype=v).alias(k)
            for k, v in schema.items()
        ]  # fmt: skip
    )


def screen_pairs(
    prices: pl.DataFrame,
    pairs: Sequence[tuple[str, str, str]],
    schedule: Sequence[datetime],
    cfg,
    created_at: datetime,
    progress: bool = False,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Window statistics plus the selection funnel at ``schedule`` with the
    :class:`statarb.alpha.config.AlphaConfig` ``cfg`` -> (``cointegration_results`` rows,
    ``selection_log`` rows), both stamped ``created_at``."""
    from statarb.alpha.ou_fit import ou_record
    from statarb.alpha.selection.funnel import cointegration_rows, decide, selection_log_rows

    o, scr = cfg.ou, cfg.screening
    stats = window_stats(
        prices, pairs, schedule, scr.build(), scr.window_bars, scr.min_obs, cfg.selection.hurst,
        ou_record(o.window_bars, o.min_obs, o.dt, o.estimator, o.jackknife_blocks),
        timedelta(minutes=cfg.bar_minutes), progress, cfg.selection.multiple_testing.level,
    )  # fmt: skip
    decided = decide(stats, cfg.selection)
    return cointegration_rows(decided, created_at), selection_log_rows(decided, created_at)
