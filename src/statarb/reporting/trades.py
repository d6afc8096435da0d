"""Round trips, costs and exposure of one backtest run from its fills, signals and equity.

Definitions (``docs/reporting.md``):

* A fill's signed quantity is ``+|quantity|`` for ``buy`` and ``-|quantity|`` for ``sell``; its cash
  flow is ``-signed_qty * price - commission`` (``price`` is after slippage, spec §4.3).
* Fills are grouped into a *book*: the pair ``{symbol_a}_{symbol_b}`` of the signal they link to
  (``signal_id``), else the run's ``pair_id``, else the fill's own symbol.
* A **round trip** is the sequence of fills of one book from the fill that moves the book from flat
  (all legs at zero) to the fill that brings every leg back to zero. ``num_trades`` counts closed
  round trips; a position still open at the end of the run is reported as ``open_trades``.
* Round-trip PnL is the sum of its cash flows, i.e. net of commissions and (through the fill price)
  of slippage. ``win_rate`` = share of closed round trips with PnL > 0.
* Slippage cost of a fill is ``|quantity| * price * slippage_bps / 1e4`` (the bps are quoted on the
  fill price).
"""

from __future__ import annotations

import math

import polars as pl

from statarb.conventions import SIDES, pair_id_expr

_FLAT_TOL = 1e-9


def _signed_fills(
    fills: pl.DataFrame, signals: pl.DataFrame | None, run_pair_id: str | None
) -> pl.DataFrame:
    bad_side = fills.filter(~pl.col("side").str.to_lowercase().is_in(SIDES))
    if bad_side.height:
        row = bad_side.row(0, named=True)
        raise ValueError(
            f"backtest_fills id={row.get('id')}: side must be 'buy' or 'sell', got {row['side']!r}"
        )
    f = fills.with_columns(
        signed_qty=pl.when(pl.col("side").str.to_lowercase() == "buy")
        .then(pl.col("quantity").abs())
        .otherwise(-pl.col("quantity").abs()),
        commission=pl.col("commission").fill_null(0.0).cast(pl.Float64),
        slippage_bps=pl.col("slippage_bps").fill_null(0.0).cast(pl.Float64),
    )
    if "signal_id" not in f.columns:
        f = f.with_columns(signal_id=pl.lit(None, dtype=pl.Int64))
    if signals is not None and signals.height:
        books = signals.select(
            pl.col("id").cast(pl.Int64).alias("signal_id"),
            pair_id_expr().alias("signal_book"),
        )
        f = f.with_columns(pl.col("signal_id").cast(pl.Int64)).join(
            books, on="signal_id", how="left"
        )
    else:
        f = f.with_columns(signal_book=pl.lit(None, dtype=pl.String))
    fallback = pl.lit(run_pair_id) if run_pair_id else pl.col("symbol")
    f = f.with_columns(book=pl.coalesce("signal_book", fallback)).drop("signal_book")
    sort_cols = ["fill_ts", "id"] if "id" in f.columns else ["fill_ts"]
    return f.with_columns(
        cash_flow=-pl.col("signed_qty") * pl.col("price") - pl.col("commission"),
        notional=pl.col("signed_qty").abs() * pl.col("price"),
        slippage_cost=pl.col("signed_qty").abs() * pl.col("price") * pl.col("slippage_bps") / 1e4,
    ).sort(sort_cols)


def _opened_qty(before: float, after: float) -> float:
    """Quantity of a fill that opens (rather than reduces) a leg moving from ``before`` to
    ``after``: ``max(|after| - |before|, 0)``, or ``|after|`` when the fill flips the sign."""
    if before * after < 0:
        return abs(after)
    return max(abs(after) - abs(before), 0.0)


def round_trips(
    fills: pl.DataFrame, signals: pl.DataFrame | None = None, run_pair_id: str | None = None
) -> pl.DataFrame:
    """One row per round trip: ``book, trip, entry_ts, exit_ts, n_fills, cash_flow, commission,
    slippage_cost, notional, entry_notional, closed, pnl`` (see the module docstring for the
    definitions). ``entry_notional`` is the gross notional the trip put on: for each fill, the
    quantity that increases its leg's absolute position (all of the new position when the fill
    flips the leg's sign) times the fill price, summed over the trip.

    ``pnl`` (= ``cash_flow``) and ``exit_ts`` are null for a trip still open at the end of the run:
    its cash flows alone are not a profit or loss until the position is closed.
    """
    f = _signed_fills(fills, signals, run_pair_id)
    trip_ids: list[int] = []
    closes: list[bool] = []
    opened: list[float] = []
    state: dict[str, tuple[dict[str, float], int]] = {}
    for book, sym, q, px in f.select("book", "symbol", "signed_qty", "price").iter_rows():
        pos, trip = state.get(book, ({}, 0))
        if all(abs(v) <= _FLAT_TOL for v in pos.values()):
            trip += 1
            pos = {}
        before = pos.get(sym, 0.0)
        pos[sym] = after = before + q
        opened.append(_opened_qty(before, after) * float(px))
        state[book] = (pos, trip)
        trip_ids.append(trip)
        closes.append(all(abs(v) <= _FLAT_TOL for v in pos.values()))
    f = f.with_columns(
        trip=pl.Series(trip_ids, dtype=pl.Int64),
        flat_after=pl.Series(closes),
        opened_notional=pl.Series(opened, dtype=pl.Float64),
    )
    return (
        f.group_by("book", "trip", maintain_order=True)
        .agg(
            entry_ts=pl.col("fill_ts").first(),
            exit_ts=pl.col("fill_ts").last(),
            n_fills=pl.len(),
            cash_flow=pl.col("cash_flow").sum(),
            commission=pl.col("commission").sum(),
            slippage_cost=pl.col("slippage_cost").sum(),
            notional=pl.col("notional").sum(),
            entry_notional=pl.col("opened_notional").sum(),
            closed=pl.col("flat_after").last(),
        )
        .with_columns(
            pnl=pl.when(pl.col("closed")).then(pl.col("cash_flow")),
            exit_ts=pl.when(pl.col("closed")).then(pl.col("exit_ts")),
        )
        .sort("entry_ts", "book")
    )


def trade_stats(trips: pl.DataFrame) -> dict[str, float | int]:
    """``num_trades`` (closed round trips), ``open_trades``, ``win_rate`` and average trip PnL."""
    closed = trips.filter(pl.col("closed"))
    n = closed.height
    wins = closed.filter(pl.col("pnl") > 0).height
    return {
        "num_trades": n,
        "open_trades": trips.height - n,
        "win_rate": wins / n if n else math.nan,
        "avg_trade_pnl": float(closed["pnl"].mean()) if n else math.nan,
        "gross_profit": float(closed.filter(pl.col("pnl") > 0)["pnl"].sum()),
        "gross_loss": float(closed.filter(pl.col("pnl") <= 0)["pnl"].sum()),
    }


def per_book_pnl(trips: pl.DataFrame) -> dict[str, dict[str, float | int]]:
    """Realised PnL (closed trips), commissions, slippage and trip count per pair/book."""
    agg = (
        trips.filter(pl.col("closed"))
        .group_by("book")
        .agg(
            pnl=pl.col("pnl").sum(),
            commission=pl.col("commission").sum(),
            slippage_cost=pl.col("slippage_cost").sum(),
            trades=pl.len(),
        )
        .sort("book")
    )
    return {r.pop("book"): r for r in agg.iter_rows(named=True)}


def cost_breakdown(
    fills: pl.DataFrame, signals: pl.DataFrame | None = None, run_pair_id: str | None = None
) -> dict[str, float]:
    """Total commissions, slippage cost and traded notional over all fills of the run."""
    f = _signed_fills(fills, signals, run_pair_id)
    comm = float(f["commission"].sum())
    slip = float(f["slippage_cost"].sum())
    return {
        "commissions": comm,
        "slippage": slip,
        "total_costs": comm + slip,
        "traded_notional": float(f["notional"].sum()),
        "num_fills": f.height,
    }


def exposure_stats(
    equity: pl.DataFrame, traded_notional: float, periods: float
) -> dict[str, float]:
    """Exposure and turnover from ``backtest_equity`` (``equity``, ``positions_value``).

    ``abs_net_exposure_mean`` = mean ``|positions_value| / equity`` (``positions_value`` is the net
    mark-to-market of all legs, shorts negative, so this is *net*, not gross, exposure); ``time_in_market`` = share of
    marks with a non-zero position; ``turnover`` = traded notional / mean equity over the run and
    ``turnover_annual`` = turnover * periods / number of returns.
    """
    eq = equity.sort("ts")
    mean_eq = float(eq["equity"].mean())
    out = {
        "turnover": traded_notional / mean_eq if mean_eq else math.nan,
        "turnover_annual": math.nan,
        "abs_net_exposure_mean": math.nan,
        "time_in_market": math.nan,
    }
    if eq.height > 1:
        out["turnover_annual"] = out["turnover"] * periods / (eq.height - 1)
    if "positions_value" in eq.columns and eq["positions_value"].null_count() < eq.height:
        pv = eq["positions_value"].fill_null(0.0)
        out["abs_net_exposure_mean"] = float((pv.abs() / eq["equity"]).mean())
        out["time_in_market"] = float((pv.abs() > _FLAT_TOL).mean())
    return out
