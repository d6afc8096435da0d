"""Raw -> adjusted with the dev-contract convention recovers the adjusted ground truth exactly.

Rows listed in anomalies.json (bad rows, spikes, duplicates, ...) are dropped first.
"""

from __future__ import annotations

import json

import numpy as np
import polars as pl

from .conftest import anomalies, bar_index, clean_rows


def convention_factors(bars: pl.DataFrame, actions: pl.DataFrame) -> pl.Series:
    """adj_factor per row, written independently from the contract text.

    Walking actions in ex_date order, every bar strictly before the ex-date gets its factor
    multiplied by ``ratio`` (split) or ``1 / (1 - D / close_prev)`` (dividend), ``close_prev``
    being the last raw close before the ex-date.
    """
    factor = np.ones(bars.height)
    sym = bars["symbol"].to_numpy()
    date = bars["Date"].to_numpy()
    close = bars["Close"].to_numpy()
    order = np.lexsort((bars["datetime"].dt.epoch("us").to_numpy(), sym))
    for a in actions.sort("ex_date").iter_rows(named=True):
        mask = (sym == a["ticker"].upper()) & (date < a["ex_date"])
        if a["action"] == "split":
            f = a["ratio"]
        else:
            before = order[mask[order]]
            close_prev = close[before[-1]]
            f = 1.0 / (1.0 - a["cash_amount"] / close_prev)
        factor[mask] *= f
    return pl.Series("adj_factor", factor)


def test_adjusted_recovered_exactly(small_dir, small_data):
    actions = pl.read_csv(small_dir / "corporate_actions.csv")
    cfg = small_data.market.config
    assert actions.height == cfg.n_splits + cfg.n_dividends
    assert set(actions["action"]) == {"split", "dividend"}
    bars = clean_rows(small_dir).filter(pl.col("symbol") != small_data.market.config.unknown_ticker)
    f = convention_factors(bars, actions).to_numpy()
    t, j = bar_index(small_data, bars)
    m = small_data.market
    inserted = ("duplicate_row", "unknown_ticker")  # extra rows; all other rules remove a bar
    lost = [a for a in anomalies(small_dir) if a["rule"] not in inserted]
    assert bars.height == m.n_bars * len(m.symbols) - len(lost)
    for col in ("Open", "High", "Low", "Close"):
        adj = bars[col].to_numpy() / f
        truth = getattr(m, col.lower())[t, j]
        np.testing.assert_allclose(adj, truth, rtol=0, atol=1e-9, err_msg=col)
    # affected symbols really were adjusted (the test is not vacuous)
    assert (np.abs(f - 1.0) > 1e-4).sum() > 1000


def test_expected_factor_segments(small_dir, small_data):
    gt = json.loads((small_dir / "ground_truth" / "corporate_actions.json").read_text())
    bars = clean_rows(small_dir).filter(pl.col("symbol") != small_data.market.config.unknown_ticker)
    f = convention_factors(bars, pl.read_csv(small_dir / "corporate_actions.csv"))
    bars = bars.with_columns(f)
    assert gt["segments"]
    for seg in gt["segments"]:
        sub = bars.filter(
            (pl.col("symbol") == seg["symbol"])
            & pl.col("Date").is_between(pl.lit(seg["start_date"]), pl.lit(seg["end_date"]))
        )
        assert sub.height > 0
        np.testing.assert_allclose(sub["adj_factor"].to_numpy(), seg["adj_factor"], rtol=1e-12)
    splits = [a for a in gt["actions"] if a["action"] == "split"]
    assert splits and all(a["factor"] == a["ratio"] for a in splits)


def test_actions_touch_cointegrated_legs(small_data):
    legs = {s for p in small_data.market.pairs for s in (p.symbol_a, p.symbol_b)}
    assert any(a.symbol in legs for a in small_data.actions if a.action == "split")
    assert any(a.symbol in legs for a in small_data.actions if a.action == "dividend")
