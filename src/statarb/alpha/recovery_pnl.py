"""Backtest PnL of a run split between constructed (true) and spurious pairs (synthetic data).

Per pair (``book`` of :func:`statarb.reporting.trades.round_trips`): realised net PnL of the
closed round trips (after commissions and slippage) and gross PnL before costs
(``net + commission + slippage_cost``). Shares are of the absolute values summed over pairs, so
a losing spurious pair counts as much as a winning one.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from statarb.reporting.trades import round_trips


def pnl_by_truth(
    fills: pl.DataFrame, signals: pl.DataFrame, truth: pl.DataFrame, run_pair_id: str | None = None
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """``(per_pair, summary)``: per-pair ``net_pnl, gross_pnl, trades, cointegrated, kind`` sorted
    by ``|net_pnl|``, and the shares of spurious pairs plus whether the top 5 are constructed."""
    trips = round_trips(fills, signals, run_pair_id).filter(pl.col("closed"))
    per = (
        trips.group_by("book")
        .agg(
            net_pnl=pl.col("pnl").sum(),
            gross_pnl=(pl.col("pnl") + pl.col("commission") + pl.col("slippage_cost")).sum(),
            trades=pl.len(),
        )
        .rename({"book": "pair_id"})
        .join(truth.select("pair_id", "cointegrated", "kind"), on="pair_id", how="left")
        .with_columns(pl.col("cointegrated").fill_null(False))
        .sort(pl.col("net_pnl").abs(), descending=True)
    )
    spur = per.filter(~pl.col("cointegrated"))

    def share(col: str) -> float:
        total = float(per[col].abs().sum())
        return float(spur[col].abs().sum()) / total if total > 0 else float("nan")

    top = per.head(5)
    summary = {
        "pairs_traded": per.height,
        "spurious_pairs_traded": spur.height,
        "net_pnl_true": float(per.filter(pl.col("cointegrated"))["net_pnl"].sum()),
        "net_pnl_spurious": float(spur["net_pnl"].sum()),
        "spurious_share_abs_net": share("net_pnl"),
        "spurious_share_gross": share("gross_pnl"),
        "top5_all_constructed": bool(top.height > 0 and top["cointegrated"].all()),
    }
    return per, summary
