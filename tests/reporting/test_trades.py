"""Round trips, win rate, costs and exposure on hand-built fills."""

from __future__ import annotations

import polars as pl
import pytest

from statarb.reporting import trades


def test_round_trips_hand_computed(synthetic_run):
    trips = trades.round_trips(synthetic_run["fills"], synthetic_run["signals"])
    assert trips["book"].to_list() == ["AAA_BBB", "CCC_DDD", "AAA_BBB"]
    assert trips["closed"].to_list() == [True, True, False]
    assert trips["pnl"][0] == pytest.approx(150 - 4)  # see the conftest arithmetic
    assert trips["pnl"][1] == pytest.approx(-20 - 2)
    assert trips["pnl"][2] is None and trips["exit_ts"][2] is None  # open: no PnL yet
    assert trips["cash_flow"][2] == pytest.approx(-1000 + 2000 - 2)
    st = trades.trade_stats(trips)
    assert st["num_trades"] == 2
    assert st["open_trades"] == 1
    assert st["win_rate"] == pytest.approx(0.5)
    per = trades.per_book_pnl(trips)
    assert per["AAA_BBB"]["pnl"] == pytest.approx(146)
    assert per["CCC_DDD"]["commission"] == pytest.approx(2.0)


def test_cost_breakdown(synthetic_run):
    costs = trades.cost_breakdown(synthetic_run["fills"], synthetic_run["signals"])
    assert costs["commissions"] == pytest.approx(4 + 2 + 2)
    # slippage: notional * bps / 1e4 over fills with bps > 0
    slip = (1000 + 1000 + 1100 + 950) * 2e-4 + (1000 + 2000) * 1e-4
    assert costs["slippage"] == pytest.approx(slip)
    assert costs["traded_notional"] == pytest.approx(
        1000 + 1000 + 1100 + 950 + 500 + 400 + 520 + 400 + 1000 + 2000
    )


def test_books_fall_back_to_run_pair_without_signals():
    fills = pl.DataFrame(
        {
            "fill_ts": [1, 2, 3, 4],
            "symbol": ["X", "Y", "X", "Y"],
            "side": ["BUY", "sell", "sell", "buy"],
            "quantity": [1.0, 1.0, 1.0, 1.0],
            "price": [10.0, 10.0, 9.0, 11.0],
            "commission": [None, None, None, None],
            "slippage_bps": [None, None, None, None],
        },
        schema_overrides={"commission": pl.Float64, "slippage_bps": pl.Float64},
    )
    trips = trades.round_trips(fills, None, run_pair_id="X_Y")
    assert trips.height == 1 and trips["closed"][0]
    assert trips["pnl"][0] == pytest.approx(-10 + 10 + 9 - 11)
    # without a pair, each symbol is its own book: two closed trips
    assert trades.round_trips(fills).height == 2


def test_bad_side_is_named():
    fills = pl.DataFrame(
        {
            "id": [7],
            "fill_ts": [1],
            "symbol": ["X"],
            "side": ["hold"],
            "quantity": [1.0],
            "price": [1.0],
            "commission": [0.0],
            "slippage_bps": [0.0],
        }
    )
    with pytest.raises(ValueError, match="id=7.*'hold'"):
        trades.round_trips(fills)


def test_exposure(synthetic_run):
    eq = synthetic_run["equity"]
    ex = trades.exposure_stats(eq, traded_notional=2e6, periods=98280)
    assert ex["time_in_market"] == pytest.approx((eq["positions_value"] > 0).mean())
    assert ex["abs_net_exposure_mean"] == pytest.approx(
        (eq["positions_value"] / eq["equity"]).mean()
    )
    assert ex["turnover"] == pytest.approx(2e6 / eq["equity"].mean())
    assert ex["turnover_annual"] == pytest.approx(ex["turnover"] * 98280 / (eq.height - 1))
