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

from datetime import datetime

import numpy as np
import polars as pl

from statarb.alpha.selection.matching import match_legs
from statarb.alpha.selection.multiple_testing import adjust_pvalues
from statarb.alpha.selection.persistence import Carry, hysteresis
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


CARRY_SCHEMA = {"pair_id": pl.String(), "ok": pl.Int64(), "bad": pl.Int64(), "on": pl.Boolean()}


def decide(stats: pl.DataFrame, sel) -> pl.DataFrame:
    """Apply funnel stages 2-5 to ``stats`` (:data:`statarb.alpha.screening.STATS_SCHEMA`) with
    the :class:`statarb.alpha.config.SelectionConfig` ``sel``; see the module docstring.

    Vectorised (NumPy / Polars expressions): only the candidates of stage 4 (a small share of the
    rows) go through Python, so a universe with millions of pair-tests stays in columnar memory."""
    return decide_block(stats, sel)[0]


def _carry_in(carry: pl.DataFrame | None, group_ids: pl.Series) -> Carry | None:
    """Each group's persistence state before this block (fresh for a pair not seen yet)."""
    if carry is None or carry.height == 0:
        return None
    init = (
        pl.DataFrame({"pair_id": group_ids})
        .join(carry, on="pair_id", how="left", maintain_order="left")
        .with_columns(pl.col("ok", "bad").fill_null(0), pl.col("on").fill_null(False))
    )
    return Carry(init["ok"].to_numpy(), init["bad"].to_numpy(), init["on"].to_numpy())


def _carry_out(carry: pl.DataFrame | None, group_ids: pl.Series, state: Carry) -> pl.DataFrame:
    """The persistence state after this block: this block's pairs updated, the others kept."""
    new = pl.DataFrame(
        {"pair_id": group_ids, "ok": state.ok, "bad": state.bad, "on": state.on},
        schema=CARRY_SCHEMA,
    )
    if carry is None or carry.height == 0:
        return new
    return pl.concat([carry.filter(~pl.col("pair_id").is_in(group_ids.implode())), new])


def decide_block(
    stats: pl.DataFrame, sel, carry: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """:func:`decide` on one block of test times -> ``(decided, carry_out)``. Stages 2-4 are per
    test time, so they need only this block; persistence continues each pair's timeline from
    ``carry`` (:data:`CARRY_SCHEMA`, the previous block's ``carry_out``; ``None`` for the first
    block). Blocks of consecutive test times, decided in order, give exactly the rows of
    :func:`decide` on their concatenation (tested), so the funnel can stream a universe by blocks
    of test times in memory bounded by one block."""
    df = stats.sort("test_ts", "pair_id")
    n = df.height
    p = df["pvalue"].to_numpy().astype(np.float64)
    stat = df["statistic"].to_numpy().astype(np.float64)
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
    p_match = _matching(df, candidate, p, stat, groups, sel.matching.max_pairs_per_symbol)
    passed = candidate & p_match
    # persistence runs along each pair's own timeline
    codes = df["pair_id"].cast(pl.Categorical).to_physical().to_numpy()
    order = np.lexsort((df["test_ts"].to_numpy(), codes))
    c_sorted = codes[order]
    starts = np.concatenate([[0], np.flatnonzero(c_sorted[1:] != c_sorted[:-1]) + 1, [n]])
    starts = starts if n else np.zeros(1, dtype=np.int64)  # no rows: no group
    group_ids = df["pair_id"].gather(order[starts[:-1]])
    streak_s, on_s, state = hysteresis(
        passed[order], starts, sel.persistence.enter_after, sel.persistence.exit_after,
        _carry_in(carry, group_ids),
    )  # fmt: skip
    streak = np.empty(n, dtype=np.int64)
    tradable = np.empty(n, dtype=bool)
    streak[order], tradable[order] = streak_s, on_s
    masks = {"p_test": p_test, "p_hl": p_hl, "p_hu": p_hu, "p_cr": p_cr, "p_match": p_match,
             "has": has, "candidate": candidate, "passed": passed}  # fmt: skip
    m = pl.DataFrame({k: pl.Series(v, dtype=pl.Boolean) for k, v in masks.items()})
    c = pl.col

    def flag(mask: str, where: str = "has") -> pl.Expr:
        """Pass/fail where the stage was evaluated, null elsewhere."""
        return pl.when(c(where)).then(c(mask))

    out = pl.concat([df, m], how="horizontal").with_columns(
        qvalue=pl.Series(q).fill_nan(None),
        streak=pl.Series(streak),
        tradable=pl.Series(tradable),
    )
    decided = out.with_columns(
        pass_test=flag("p_test"),
        pass_half_life=flag("p_hl"),
        pass_hurst=flag("p_hu"),
        pass_crossings=flag("p_cr"),
        pass_matching=flag("p_match", "candidate"),
        reason=_reason_expr(sel),
    ).drop(list(masks))
    return decided, _carry_out(carry, group_ids, state)


def _matching(df, candidate, p, stat, groups, max_per_symbol: int) -> np.ndarray:
    """Stage 4 at each test time, over that time's candidates only."""
    keep = np.zeros(df.height, dtype=bool)
    pid = df["pair_id"]
    for idx in groups:
        cand = idx[candidate[idx]]
        if cand.size == 0:
            continue
        ids = pid.gather(cand).to_list()
        legs = [split_pair_id(x) for x in ids]
        ones = np.ones(cand.size, dtype=bool)
        keep[cand] = match_legs([a for a, _ in legs], [b for _, b in legs], ones, p[cand],
                                stat[cand], ids, max_per_symbol)  # fmt: skip
    return keep


def _g(col: str, digits: int) -> pl.Expr:
    """``col`` to ``digits`` significant digits as text, like ``format(x, ".{digits}g")`` up to
    the exponent's spelling (``undefined`` when null)."""
    text = pl.col(col).cast(pl.Float64).round_sig_figs(digits).cast(pl.String)
    text = text.str.replace(r"\.0$", "")
    return pl.when(pl.col(col).is_nan()).then(pl.lit("nan")).otherwise(text).fill_null("undefined")


def _f(col: str, decimals: int) -> pl.Expr:
    """``col`` with ``decimals`` decimals as text, like ``format(x, ".{decimals}f")`` for finite
    values (``undefined`` when null)."""
    parts = pl.col(col).cast(pl.Float64).round(decimals).cast(pl.String).str.split_exact(".", 1)
    frac = parts.struct.field("field_1").fill_null("").str.pad_end(decimals, "0")
    text = pl.format("{}.{}", parts.struct.field("field_0"), frac)
    return pl.when(pl.col(col).is_nan()).then(pl.lit("nan")).otherwise(text).fill_null("undefined")


def _bound(value: float | None) -> str:
    return "none" if value is None else format(value, "g")


def _reason_expr(sel) -> pl.Expr:
    """First failing stage per row, or why a pair is tradable without passing (held)."""
    c = pl.col
    mt, hb, cb = sel.multiple_testing, sel.half_life, sel.crossings.min
    first = (
        pl.when(c("reason").is_not_null()).then(c("reason"))
        .when(~c("p_test")).then(pl.format(f"multiple_testing: {mt.method} q={{}} >= {_bound(mt.level)}",
                                           _g("qvalue", 4)))
        .when(~c("p_hl")).then(pl.format(f"half_life: {{}} bars outside [{hb.min_bars}, "
                                         f"{hb.max_bars}]", _g("half_life", 4)))
        .when(~c("p_hu")).then(pl.format(f"hurst: {{}} >= {_bound(sel.hurst.max)}", _f("hurst", 3)))
        .when(~c("p_cr")).then(pl.format(f"crossings: {{}} < {cb}",
                                         c("crossings").cast(pl.String).fill_null("undefined")))
        .when(~c("p_match")).then(pl.lit("matching: a leg is in a pair with stronger evidence"))
        .when(~c("tradable")).then(pl.format(f"persistence: {{}} consecutive passes < "
                                             f"{sel.persistence.enter_after}", c("streak")))
        .otherwise(pl.lit(None, pl.String))
    )  # fmt: skip
    return (
        pl.when(c("tradable") & ~c("passed"))
        .then(pl.format("held ({})", first.fill_null("")))
        .otherwise(first)
    )


def cointegration_rows(decided: pl.DataFrame, created_at: datetime) -> pl.DataFrame:
    """``cointegration_results`` rows (spec §4.2): raw statistics, ``[1, -beta]`` (JSON text),
    and ``is_cointegrated`` = the funnel's final decision."""
    beta = pl.col("beta").cast(pl.Float64)
    vec = pl.when(beta.is_finite()).then(pl.format("[1.0, {}]", (-beta).cast(pl.String)))
    return decided.with_columns(
        cointegrating_vector=vec,
        is_cointegrated=pl.col("tradable"),
        created_at=pl.lit(created_at, dtype=UTC_US),
    ).select(COINT_COLUMNS)


def selection_log_rows(decided: pl.DataFrame, created_at: datetime) -> pl.DataFrame:
    """``selection_log`` rows (docs/architecture.md)."""
    return decided.with_columns(created_at=pl.lit(created_at, dtype=UTC_US)).select(
        SELECTION_LOG_COLUMNS
    )
