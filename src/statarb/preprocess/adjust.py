"""Corporate-action adjustment factors (dev-contract convention; spec §4.1 and §5.1).

Convention (docs/dev-contract.md): ``bars`` hold prices as traded; ``bars_adjusted`` hold
``adjusted = raw / adj_factor``. Walking the actions of a symbol in ``ex_date`` order, every bar
whose exchange-local session date is strictly before an ex-date has its factor multiplied by

* ``ratio`` for a split (2.0 for 2:1), and
* ``1 / (1 - D / close_prev)`` for a cash dividend ``D``, where ``close_prev`` is the last raw
  close strictly before the ex-date's session (the CRSP / Yahoo price-ratio method).

So the factor of a bar is the product of the multipliers of all actions with ``ex_date`` later
than the bar's session date; bars on or after the last ex-date keep 1.0. ``ex_date`` is an
exchange-local date, so bars are compared by their local (``timezone``) date, not the UTC date.
Note this is a *backward* adjustment: the level of an old adjusted bar depends on actions that
happened after it (standard for research series); returns/ratios within a segment are unaffected.
"""

from __future__ import annotations

import logging

import polars as pl

log = logging.getLogger(__name__)

PRICE_COLUMNS = ("open", "high", "low", "close")


def session_date(tz: str) -> pl.Expr:
    """Exchange-local calendar date of the UTC ``datetime`` column."""
    return pl.col("datetime").dt.convert_time_zone(tz).dt.date().alias("session_date")


def action_multipliers(daily_close: pl.DataFrame, actions: pl.DataFrame) -> pl.DataFrame:
    """Multiplier of each action: ``ratio`` (split) or ``1/(1 - D/close_prev)`` (dividend).

    Args:
        daily_close: ``symbol, session_date, close`` (last raw close of each session).
        actions: ``symbol_id, action_type, ex_date, ratio, cash_amount``.

    Returns:
        ``symbol, ex_date, close_prev, multiplier`` (one row per action). An action without any
        earlier bar gets multiplier 1.0 (it adjusts nothing). ``rights`` actions are ignored
        with a warning (no agreed convention).

    Raises:
        ValueError: a dividend ``D >= close_prev`` (factor would be non-positive) or a split
            without a positive ratio; the message names the symbol and ex-date.
    """
    acts = actions.rename({"symbol_id": "symbol"}).select(
        "symbol", "action_type", "ex_date", "ratio", "cash_amount"
    )
    rights = acts.filter(pl.col("action_type") == "rights")
    if rights.height:
        log.warning("ignoring %d 'rights' corporate action(s): no adjustment rule", rights.height)
    acts = acts.filter(pl.col("action_type").is_in(["split", "dividend"])).sort("symbol", "ex_date")
    daily = daily_close.sort("symbol", "session_date")
    acts = acts.join_asof(
        daily.select("symbol", "session_date", pl.col("close").alias("close_prev")),
        left_on="ex_date",
        right_on="session_date",
        by="symbol",
        strategy="backward",
        allow_exact_matches=False,
        check_sortedness=False,
    )
    mult = (
        pl.when(pl.col("close_prev").is_null())
        .then(pl.lit(1.0))
        .when(pl.col("action_type") == "split")
        .then(pl.col("ratio"))
        .otherwise(1.0 / (1.0 - pl.col("cash_amount") / pl.col("close_prev")))
    )
    acts = acts.with_columns(mult.alias("multiplier"))
    bad = acts.filter(~(pl.col("multiplier") > 0) | ~pl.col("multiplier").is_finite())
    if bad.height:
        r = bad.row(0, named=True)
        raise ValueError(
            f"corporate_actions: {r['action_type']} of {r['symbol']} on {r['ex_date']} gives a "
            f"non-positive/undefined factor (ratio={r['ratio']}, cash_amount={r['cash_amount']}, "
            f"close_prev={r['close_prev']}): rule adj_factor > 0 (spec §8)"
        )
    return acts.select("symbol", "ex_date", "close_prev", "multiplier")


def factor_table(daily_close: pl.DataFrame, actions: pl.DataFrame) -> pl.DataFrame:
    """``symbol, session_date, adj_factor`` for every session in ``daily_close``."""
    mult = action_multipliers(daily_close, actions)
    # cumulative product of the multipliers of actions with ex_date >= this one (reverse order)
    per_ex = (
        mult.group_by("symbol", "ex_date")
        .agg(pl.col("multiplier").product())
        .sort("symbol", "ex_date", descending=[False, True])
        .with_columns(pl.col("multiplier").cum_prod().over("symbol").alias("cum_factor"))
        .sort("symbol", "ex_date")
    )
    daily = daily_close.select("symbol", "session_date").sort("symbol", "session_date")
    out = daily.join_asof(
        per_ex.select("symbol", "ex_date", "cum_factor"),
        left_on="session_date",
        right_on="ex_date",
        by="symbol",
        strategy="forward",
        allow_exact_matches=False,
        check_sortedness=False,
    )
    return out.select(
        "symbol", "session_date", pl.col("cum_factor").fill_null(1.0).alias("adj_factor")
    )


def adjust_bars(
    bars: pl.DataFrame | pl.LazyFrame, actions: pl.DataFrame, tz: str = "America/New_York"
) -> pl.DataFrame:
    """Return ``bars`` with ``adj_factor`` set and OHLC divided by it (volume unchanged).

    ``bars`` must hold prices as traded (``adj_factor`` 1.0 or absent); other columns are kept.
    """
    lf = bars.lazy() if isinstance(bars, pl.DataFrame) else bars
    lf = lf.with_columns(session_date(tz))
    daily = (
        lf.sort("symbol", "datetime")
        .group_by("symbol", "session_date")
        .agg(pl.col("close").last())
        .collect()
    )
    factors = factor_table(daily, actions)
    out = lf.drop("adj_factor", strict=False).join(
        factors.lazy(), on=["symbol", "session_date"], how="left"
    )
    out = out.with_columns(
        [(pl.col(c) / pl.col("adj_factor")).alias(c) for c in PRICE_COLUMNS]
    ).drop("session_date")
    return out.sort("symbol", "datetime").collect()
