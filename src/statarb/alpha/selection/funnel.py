"""The selection funnel: from window statistics to the tradable decision of every (pair, test time).

Stages, in order (docs/cointegration.md "Selection funnel"):

1. **test** - the configured cointegration test(s) (:mod:`statarb.alpha.screening`), combined as an
   intersection-union test; degenerate windows have no p-value and fail;
2. **multiple testing** across the pairs of the universe at each test time
   (:mod:`.multiple_testing`; ``qvalue``), pass when ``qvalue < level``;
3. **spread quality** - half-life, Hurst, mean crossings (:mod:`.spread_quality`);
4. **matching** - one partner per symbol among the pairs that passed 1-3 (:mod:`.matching`);
5. **persistence** - tradable after ``enter_after`` consecutive passes of 1-4, not any more after
   ``exit_after`` consecutive failures (:mod:`.persistence`).

:func:`decide` returns the statistics with every stage's pass/fail, ``streak``, ``tradable`` and a
``reason`` (the first stage that failed, or why a tradable pair is held); that frame is the
``selection_log``, and ``tradable`` becomes ``cointegration_results.is_cointegrated``.
"""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import polars as pl

from statarb.alpha.selection.matching import match_legs
from statarb.alpha.selection.multiple_testing import adjust_pvalues
from statarb.alpha.selection.persistence import hysteresis
from statarb.alpha.selection.spread_quality import SpreadQuality, passes
from statarb.conventions import UTC_US, split_pair_id

SELECTION_LOG_COLUMNS = (
    "pair_id", "test_ts", "method", "n_obs", "statistic", "pvalue", "qvalue", "half_life",
    "hurst", "crossings", "pass_test", "pass_half_life", "pass_hurst", "pass_crossings",
    "pass_matching", "streak", "tradable", "reason", "created_at",
)  # fmt: skip
COINT_COLUMNS = (
    "pair_id", "test_ts", "adf_statistic", "adf_pvalue", "johansen_trace", "johansen_pvalue",
    "cointegrating_vector", "is_cointegrated", "created_at",
)  # fmt: skip


def _by_time(stats: pl.DataFrame) -> list[np.ndarray]:
    """Row indices of each test time (``stats`` sorted by ``test_ts``)."""
    t = stats["test_ts"].to_numpy()
    cuts = np.flatnonzero(t[1:] != t[:-1]) + 1
    return np.split(np.arange(stats.height), cuts)


def decide(stats: pl.DataFrame, sel) -> pl.DataFrame:
    """Apply funnel stages 2-5 to ``stats`` (:data:`statarb.alpha.screening.STATS_SCHEMA`) with
    the :class:`statarb.alpha.config.SelectionConfig` ``sel``; see the module docstring."""
    df = stats.sort("test_ts", "pair_id")
    n = df.height
    p = df["pvalue"].to_numpy().astype(np.float64)
    stat = df["statistic"].to_numpy().astype(np.float64)
    pid = df["pair_id"].to_list()
    legs = [split_pair_id(x) for x in pid]
    sa, sb = [a for a, _ in legs], [b for _, b in legs]
    q = np.full(n, np.nan)
    groups = _by_time(df)
    for idx in groups:
        q[idx] = adjust_pvalues(p[idx], sel.multiple_testing.method)
    has = ~np.isnan(q)
    with np.errstate(invalid="ignore"):
        p_test = has & (q < sel.multiple_testing.level)
    quality = SpreadQuality(
        df["half_life"].to_numpy().astype(np.float64),
        df["hurst"].to_numpy().astype(np.float64),
        df["crossings"].fill_null(-1).to_numpy().astype(np.int64),
    )
    p_hl, p_hu, p_cr = passes(quality, sel.half_life, sel.hurst, sel.crossings)
    p_hl, p_hu, p_cr = p_hl & has, p_hu & has, p_cr & has
    candidate = p_test & p_hl & p_hu & p_cr
    p_match = np.zeros(n, dtype=bool)
    for idx in groups:
        keep = match_legs(
            [sa[i] for i in idx], [sb[i] for i in idx], candidate[idx], p[idx], stat[idx],
            [pid[i] for i in idx], sel.matching.max_pairs_per_symbol,
        )  # fmt: skip
        p_match[idx] = keep
    passed = candidate & p_match
    # persistence runs along each pair's own timeline
    order = np.lexsort((df["test_ts"].to_numpy(), np.asarray(pid)))
    pid_sorted = np.asarray(pid)[order]
    starts = np.concatenate([[0], np.flatnonzero(pid_sorted[1:] != pid_sorted[:-1]) + 1, [n]])
    streak_s, on_s = hysteresis(
        passed[order], starts, sel.persistence.enter_after, sel.persistence.exit_after
    )
    streak = np.empty(n, dtype=np.int64)
    tradable = np.empty(n, dtype=bool)
    streak[order], tradable[order] = streak_s, on_s
    reason = _reasons(df, q, sel, p_test, p_hl, p_hu, p_cr, p_match, passed, streak, tradable)

    def flag(mask: np.ndarray, where: np.ndarray = has) -> pl.Series:
        """Pass/fail where the stage was evaluated, null elsewhere."""
        return pl.Series([bool(m) if w else None for m, w in zip(mask, where, strict=True)],
                         dtype=pl.Boolean)  # fmt: skip

    return df.with_columns(
        qvalue=pl.Series(q).fill_nan(None),
        pass_test=flag(p_test),
        pass_half_life=flag(p_hl),
        pass_hurst=flag(p_hu),
        pass_crossings=flag(p_cr),
        pass_matching=flag(p_match, candidate),
        streak=pl.Series(streak),
        tradable=pl.Series(tradable),
        reason=pl.Series(reason, dtype=pl.String),
    )


def _fmt(value: float | int | None, spec: str) -> str:
    return "undefined" if value is None else format(value, spec)


def _reasons(df, q, sel, p_test, p_hl, p_hu, p_cr, p_match, passed, streak, tradable) -> list:
    """First failing stage per row, or why a pair is tradable without passing (held)."""
    pre = df["reason"].to_list()
    hl, hu, cr = df["half_life"].to_list(), df["hurst"].to_list(), df["crossings"].to_list()
    mt, hb, cb = sel.multiple_testing, sel.half_life, sel.crossings.min
    out = []
    for i in range(df.height):
        if pre[i] is not None:
            r = pre[i]
        elif not p_test[i]:
            r = f"multiple_testing: {mt.method} q={q[i]:.4g} >= {mt.level:g}"
        elif not p_hl[i]:
            r = f"half_life: {_fmt(hl[i], '.4g')} bars outside [{hb.min_bars}, {hb.max_bars}]"
        elif not p_hu[i]:
            r = f"hurst: {_fmt(hu[i], '.3f')} >= {sel.hurst.max:g}"
        elif not p_cr[i]:
            r = f"crossings: {_fmt(cr[i], 'd')} < {cb}"
        elif not p_match[i]:
            r = "matching: a leg is in a pair with stronger evidence"
        elif not tradable[i]:
            r = f"persistence: {streak[i]} consecutive passes < {sel.persistence.enter_after}"
        else:
            r = None
        if tradable[i] and not passed[i]:
            r = f"held ({r})"
        out.append(r)
    return out


def cointegration_rows(decided: pl.DataFrame, created_at: datetime) -> pl.DataFrame:
    """``cointegration_results`` rows (spec §4.2): raw statistics, ``[1, -beta]``, and
    ``is_cointegrated`` = the funnel's final decision."""
    vec = [None if not np.isfinite(b) else json.dumps([1.0, -float(b)])
           for b in decided["beta"].fill_null(np.nan).to_list()]  # fmt: skip
    return decided.with_columns(
        cointegrating_vector=pl.Series(vec, dtype=pl.String),
        is_cointegrated=pl.col("tradable"),
        created_at=pl.lit(created_at, dtype=UTC_US),
    ).select(COINT_COLUMNS)


def selection_log_rows(decided: pl.DataFrame, created_at: datetime) -> pl.DataFrame:
    """``selection_log`` rows (docs/architecture.md)."""
    return decided.with_columns(created_at=pl.lit(created_at, dtype=UTC_US)).select(
        SELECTION_LOG_COLUMNS
    )
