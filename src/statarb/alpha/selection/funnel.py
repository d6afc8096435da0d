"""The selection funnel: from window statistics to the tradable decision of every (pair, test time).

Stages, in order (docs/cointegration.md "Selection funnel"):

1. **test** - the configured cointegration test(s) (:mod:`statarb.alpha.screening`), combined as an
   intersection-union test; degenerate windows have no p-value and fail;
2. **multiple testing** across the pairs of the universe at each test time
   (:mod:`.multiple_testing`; ``qvalue``), pass when ``qvalue < level``;
3. **spread quality** - half-life, Hurst, mean crossings (:mod:`.spread_quality`);
4. **matching** - one partner per symbol among the pairs that passed 1-3, and (with
   ``reserve_within_window``) no new partner for a leg of a pair tradable inside the candidate's
   window (:mod:`.matching`); a candidate wins its legs on its evidence now, confirmed or not;
5. **confirmation** (with ``confirmation.max_shared``): raw p below its level also at the pair's
   latest test whose window shares at most that share of the bars (:mod:`.confirmation`);
6. **persistence** - tradable after ``enter_after`` consecutive passes of 1-5, not any more after
   ``exit_after`` consecutive failures (:mod:`.persistence`).

Stages 4 and 6 run test time after test time, since a reservation at ``T`` depends on which pairs
were tradable before ``T``.

:func:`decide` returns the statistics with every stage's pass/fail, ``streak``, ``tradable`` and a
``reason`` (the first stage that failed, or why a tradable pair is held); that frame is the
``selection_log``, and ``tradable`` becomes ``cointegration_results.is_cointegrated``.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from statarb.alpha.selection.confirmation import RECENT_SCHEMA, confirming_pvalues
from statarb.alpha.selection.matching import match_legs, reserved_by
from statarb.alpha.selection.multiple_testing import adjust_pvalues
from statarb.alpha.selection.persistence import Carry, hysteresis
from statarb.alpha.selection.spread_quality import SpreadQuality, passes
from statarb.conventions import UTC_US, split_pair_id

SELECTION_LOG_COLUMNS = (
    "pair_id", "test_ts", "method", "n_obs", "statistic", "pvalue", "qvalue", "half_life",
    "hurst", "crossings", "pass_test", "pass_half_life", "pass_hurst", "pass_crossings",
    "pass_matching", "streak", "tradable", "reason", "created_at", "confirm_pvalue",
    "pass_confirmation",
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


CARRY_SCHEMA = {"pair_id": pl.String(), "ok": pl.Int64(), "bad": pl.Int64(), "on": pl.Boolean(),
                "last_on": UTC_US, **RECENT_SCHEMA}  # fmt: skip
NEVER = np.iinfo(np.int64).min  # last tradable time of a pair never tradable


def decide(stats: pl.DataFrame, sel) -> pl.DataFrame:
    """Apply funnel stages 2-6 to ``stats`` (:data:`statarb.alpha.screening.STATS_SCHEMA`) with
    the :class:`statarb.alpha.config.SelectionConfig` ``sel``; see the module docstring.

    Vectorised (NumPy / Polars expressions, one step per test time for stages 4 and 6): only the
    candidates of stage 4 and the tradable pairs (a small share of the rows) go through Python,
    so a universe with millions of pair-tests stays in columnar memory."""
    return decide_block(stats, sel)[0]


class _State:
    """Persistence state and last tradable time (epoch us) of each pair of a block, and the
    pairs holding each symbol (``holders[symbol][pair_id] = last tradable time``), starting from
    the previous block's carry."""

    def __init__(self, group_ids: pl.Series, carry: pl.DataFrame | None) -> None:
        g = group_ids.len()
        self.ok, self.bad = np.zeros(g, np.int64), np.zeros(g, np.int64)
        self.on, self.last_on = np.zeros(g, np.bool_), np.full(g, NEVER, np.int64)
        self.holders: dict[str, dict[str, int]] = {}
        if carry is None or carry.height == 0:
            return
        init = pl.DataFrame({"pair_id": group_ids}).join(
            carry, on="pair_id", how="left", maintain_order="left"
        )
        self.ok = init["ok"].fill_null(0).to_numpy().astype(np.int64)
        self.bad = init["bad"].fill_null(0).to_numpy().astype(np.int64)
        self.on = init["on"].fill_null(False).to_numpy().astype(np.bool_)
        self.last_on = init["last_on"].dt.epoch("us").fill_null(NEVER).to_numpy().astype(np.int64)
        for pid, t in (
            carry.filter(pl.col("last_on").is_not_null())
            .select("pair_id", pl.col("last_on").dt.epoch("us"))
            .iter_rows()
        ):
            self.hold(pid, int(t))

    def hold(self, pair_id: str, t_us: int) -> None:
        for leg in split_pair_id(pair_id):
            self.holders.setdefault(leg, {})[pair_id] = t_us

    def carry_out(
        self, carry: pl.DataFrame | None, group_ids: pl.Series, recent: pl.DataFrame
    ) -> pl.DataFrame:
        """This block's pairs updated (``recent``: the history of
        :func:`.confirmation.confirming_pvalues`), the pairs of earlier blocks absent here kept."""
        t = pl.Series(self.last_on)
        last = pl.select(pl.when(t != NEVER).then(t).cast(UTC_US)).to_series()
        new = pl.DataFrame(
            {"pair_id": group_ids, "ok": self.ok, "bad": self.bad, "on": self.on, "last_on": last}
        ).join(recent, on="pair_id", how="left", maintain_order="left")
        new = new.with_columns(pl.col("recent_end", "recent_p").fill_null([])).cast(CARRY_SCHEMA)
        if carry is None or carry.height == 0:
            return new
        return pl.concat([carry.filter(~pl.col("pair_id").is_in(group_ids.implode())), new])


def decide_block(
    stats: pl.DataFrame, sel, carry: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """:func:`decide` on one block of test times -> ``(decided, carry_out)``. Stages 2-3 are per
    test time, so they need only this block; matching, confirmation and persistence continue each
    pair's timeline (the legs' reservations, the recent tests) from ``carry`` (:data:`CARRY_SCHEMA`, the previous
    block's ``carry_out``; ``None`` for the first block). Blocks of consecutive test times,
    decided in order, give exactly the rows of :func:`decide` on their concatenation (tested), so
    the funnel can stream a universe by blocks of test times in memory bounded by one block."""
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
    cf = sel.confirmation
    on_cf = cf.max_shared is not None
    prior, recent = np.full(n, np.nan), pl.DataFrame(schema=RECENT_SCHEMA)
    if on_cf:
        prior, recent = confirming_pvalues(
            df["pair_id"], df["bars_seen"].fill_null(0).to_numpy(),
            df["n_obs"].fill_null(0).to_numpy(), p, cf.max_shared,
            None if carry is None else carry.select(list(RECENT_SCHEMA)),
        )  # fmt: skip
    with np.errstate(invalid="ignore"):
        p_cf = has & ((prior < cf.level) if on_cf else True)
    candidate = p_test & p_hl & p_hu & p_cr
    group_ids = df["pair_id"].unique().sort()
    state = _State(group_ids, carry)
    p_match, streak, tradable, why_match = _match_and_persist(
        df, candidate, p_cf, p, stat, groups, group_ids, state, sel
    )
    passed = candidate & p_match & p_cf
    masks = {"p_test": p_test, "p_hl": p_hl, "p_hu": p_hu, "p_cr": p_cr, "p_cf": p_cf,
             "p_match": p_match, "has": has, "candidate": candidate, "passed": passed}  # fmt: skip
    m = pl.DataFrame({k: pl.Series(v, dtype=pl.Boolean) for k, v in masks.items()})
    c = pl.col

    def flag(mask: str, where: str = "has") -> pl.Expr:
        """Pass/fail where the stage was evaluated, null elsewhere."""
        return pl.when(c(where)).then(c(mask))

    out = pl.concat([df, m], how="horizontal").with_columns(
        qvalue=pl.Series(q).fill_nan(None),
        streak=pl.Series(streak),
        tradable=pl.Series(tradable),
        why_match=pl.Series(why_match, dtype=pl.String),
        prior_p=pl.Series(prior).fill_nan(None),
    )
    decided = out.with_columns(
        pass_test=flag("p_test"),
        pass_half_life=flag("p_hl"),
        pass_hurst=flag("p_hu"),
        pass_crossings=flag("p_cr"),
        confirm_pvalue=c("prior_p") if on_cf else pl.lit(None, pl.Float64),
        pass_confirmation=flag("p_cf") if on_cf else pl.lit(None, pl.Boolean),
        pass_matching=flag("p_match", "candidate"),
        reason=_reason_expr(sel),
    ).drop([*masks, "why_match", "prior_p"])
    return decided, state.carry_out(carry, group_ids, recent)


def _match_and_persist(df, candidate, confirmed, p, stat, groups, group_ids, state: _State, sel):
    """Stages 4 and 6, test time after test time: matching among that time's candidates (minus
    those whose leg is reserved for a pair tradable inside their window), then one persistence
    step of every pair present on the matched candidates that stage 5 ``confirmed`` ->
    ``(p_match, streak, tradable, why_match)`` per row."""
    n = df.height
    max_per = sel.matching.max_pairs_per_symbol
    reserve = sel.matching.reserve_within_window and max_per > 0
    g_of = df["pair_id"].cast(pl.Enum(group_ids.to_list())).to_physical().to_numpy()
    ts = df["test_ts"].dt.epoch("us").to_numpy()
    ws = df["window_start"].dt.epoch("us").fill_null(NEVER).to_numpy()
    pid = df["pair_id"]
    ids_of = group_ids.to_list()
    p_match = np.zeros(n, dtype=bool)
    streak = np.empty(n, dtype=np.int64)
    tradable = np.empty(n, dtype=bool)
    why: list[str | None] = [None] * n
    per = sel.persistence
    for idx in groups:
        cand = idx[candidate[idx]]
        if cand.size:
            ids = pid.gather(cand).to_list()
            legs = [split_pair_id(x) for x in ids]
            free = np.ones(cand.size, dtype=bool)
            for j in range(cand.size) if reserve else ():
                if ws[cand[j]] == NEVER:  # no window start known: nothing to compare with
                    continue
                hit = reserved_by(ids[j], legs[j], int(ws[cand[j]]), state.holders, max_per)
                if hit is not None:
                    free[j] = False
                    why[cand[j]] = (f"matching: leg {hit[0]} is reserved for {hit[1]}, tradable "
                                    "inside this window")  # fmt: skip
            p_match[cand] = match_legs([a for a, _ in legs], [b for _, b in legs], free, p[cand],
                                       stat[cand], ids, max_per)  # fmt: skip
        g = g_of[idx]
        st, on, new = hysteresis(
            candidate[idx] & p_match[idx] & confirmed[idx], np.arange(idx.size + 1),
            per.enter_after, per.exit_after, Carry(state.ok[g], state.bad[g], state.on[g]),
        )  # fmt: skip
        state.ok[g], state.bad[g], state.on[g] = new
        streak[idx], tradable[idx] = st, on
        if idx.size:
            t = int(ts[idx[0]])
            state.last_on[g[on]] = t
            for k in g[on] if reserve else ():
                state.hold(ids_of[k], t)
    return p_match, streak, tradable, why


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
    mt, hb, cb, cf = sel.multiple_testing, sel.half_life, sel.crossings.min, sel.confirmation
    first = (
        pl.when(c("reason").is_not_null()).then(c("reason"))
        .when(~c("p_test")).then(pl.format(f"multiple_testing: {mt.method} q={{}} >= {_bound(mt.level)}",
                                           _g("qvalue", 4)))
        .when(~c("p_hl")).then(pl.format(f"half_life: {{}} bars outside [{hb.min_bars}, "
                                         f"{hb.max_bars}]", _g("half_life", 4)))
        .when(~c("p_hu")).then(pl.format(f"hurst: {{}} >= {_bound(sel.hurst.max)}", _f("hurst", 3)))
        .when(~c("p_cr")).then(pl.format(f"crossings: {{}} < {cb}",
                                         c("crossings").cast(pl.String).fill_null("undefined")))
        .when(~c("p_match")).then(c("why_match").fill_null(
            pl.lit("matching: a leg is in a pair with stronger evidence")))
        .when(~c("p_cf")).then(pl.format(f"confirmation: p={{}} >= {_bound(cf.level)} at the last "
                                         f"test sharing <= {_bound(cf.max_shared)} of the window",
                                         _g("prior_p", 4)))
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
