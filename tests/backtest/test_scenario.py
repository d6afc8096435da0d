"""A hand-worked five-bar scenario with known signals, fills and PnL (both loops)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from statarb.backtest.config import BacktestConfig, CostModel
from statarb.backtest.engine import run_backtest
from statarb.backtest.inputs import BacktestInputs


def tiny() -> BacktestInputs:
    col = lambda xs: np.array(xs, dtype=float).reshape(-1, 1)  # noqa: E731
    t0 = np.datetime64("2024-03-01T14:30:00", "us").astype(np.int64)
    return BacktestInputs(
        ts=t0 + np.arange(5, dtype=np.int64) * 60_000_000,
        pair_ids=["AAA_BBB"],
        symbols_a=["AAA"],
        symbols_b=["BBB"],
        open_a=col([100, 100, 101, 103, 104]),
        close_a=col([100, 100, 102, 103, 105]),
        vol_a=col([1e6] * 5),
        open_b=col([50, 50, 49, 48, 48]),
        close_b=col([50, 50, 49, 48, 47]),
        vol_b=col([1e6] * 5),
        beta=col([1.0] * 5),
        z=col([0.0, -2.5, -1.0, 0.0, 0.0]),
        spread=col([50.0] * 5),
        tradable=np.ones((5, 1), dtype=bool),
    )


@pytest.mark.parametrize("engine", ["reference", "numba"])
def test_hand_worked_round_trip(engine: str) -> None:
    costs = CostModel(per_share=0.02, min_per_order=1.0, fixed_bps=10.0)
    cfg = BacktestConfig(entry_z=2.0, exit_z=0.5, stop_z=4.0, capital=15_000.0, costs=costs)
    res = run_backtest(tiny(), cfg, engine=engine)
    # bar 1 close: z = -2.5 < -2 -> long spread; units_A = 15000 / (100 + 1 * 50) = 100
    # bar 3 close: z = 0 >= -0.5 -> flat
    sig = res.signals
    assert sig["direction"].to_list() == ["long_spread", "flat"]
    assert sig["size"].to_list() == [100.0, 100.0]
    assert sig["hedge_ratio"].to_list() == [1.0, 1.0]
    assert [str(t)[11:16] for t in sig["signal_ts"].to_list()] == ["14:31", "14:33"]
    # fills at the next bar's open +-10 bps; commission max(0.02 * 100, 1) = 2
    f = res.fills
    assert [str(t)[11:16] for t in f["fill_ts"].to_list()] == ["14:32", "14:32", "14:34", "14:34"]
    assert f["symbol"].to_list() == ["AAA", "BBB", "AAA", "BBB"]
    assert f["side"].to_list() == ["buy", "sell", "sell", "buy"]
    assert f["quantity"].to_list() == [100.0] * 4
    np.testing.assert_allclose(
        f["price"].to_numpy(), [101.101, 48.951, 103.896, 48.048], rtol=1e-12
    )
    assert f["commission"].to_list() == [2.0] * 4
    assert f["signal_idx"].to_list() == [0, 0, 1, 1]
    # cash after bar 2: 15000 - 10110.1 - 2 + 4895.1 - 2 = 9781
    # equity: bar 2 = 9781 + 100*102 - 100*49 = 15081; bar 3 = 9781 + 10300 - 4800 = 15281
    # bar 4: 9781 + 10389.6 - 2 - 4804.8 - 2 = 15361.8 (PnL 279.5 + 90.3 - 8 = 361.8)
    np.testing.assert_allclose(
        res.equity["equity"].to_numpy(), [15000, 15000, 15081, 15281, 15361.8], rtol=1e-12
    )
    np.testing.assert_allclose(
        res.equity["cash"].to_numpy(), [15000, 15000, 9781, 9781, 15361.8], rtol=1e-12
    )


@pytest.mark.parametrize("engine", ["reference", "numba"])
def test_latency_two_bars_and_gate_off_flattens(engine: str) -> None:
    inp = tiny()
    inp.tradable[3, 0] = False  # gating turns off while long: flat at bar 3 (reason gate_off)
    inp.z[3, 0] = -1.5
    cfg = BacktestConfig(entry_z=2.0, exit_z=0.5, stop_z=4.0, capital=15_000.0, latency_bars=2)
    res = run_backtest(inp, cfg, engine=engine)
    assert res.signals["direction"].to_list() == ["long_spread", "flat"]
    assert '"gate_off"' in res.signals["metadata_json"][1]
    # long signal at bar 1 fills at bar 3's open; the flat at bar 3 would fill at bar 5 (no bar)
    assert [str(t)[11:16] for t in res.fills["fill_ts"].to_list()] == ["14:33", "14:33"]
    np.testing.assert_allclose(res.fills["price"].to_numpy(), [103.0, 48.0])


@pytest.mark.parametrize("engine", ["reference", "numba"])
def test_stop_loss_disarms_until_back_inside_entry_band(engine: str) -> None:
    inp = tiny()
    inp.z[:, 0] = [-2.5, -4.5, -3.0, -1.0, -2.5]
    cfg = BacktestConfig(entry_z=2.0, exit_z=0.5, stop_z=4.0, capital=15_000.0)
    res = run_backtest(inp, cfg, engine=engine)
    # enter at bar 0, stop at bar 1 (|z| > 4), no re-entry at bar 2 (-3: disarmed),
    # re-armed at bar 3 (|z| < 2), re-enter at bar 4
    assert res.signals["direction"].to_list() == ["long_spread", "flat", "long_spread"]
    reasons = [m.split('"reason": "')[1].split('"')[0] for m in res.signals["metadata_json"]]
    assert reasons == ["entry", "stop_loss", "entry"]


@pytest.mark.parametrize("engine", ["reference", "numba"])
@pytest.mark.parametrize(
    ("remainder", "a_fills"), [("carry", [40.0, 40.0, 20.0]), ("cancel", [40.0])]
)
def test_hand_worked_partial_fills(engine: str, remainder: str, a_fills: list[float]) -> None:
    inp = tiny()
    inp.z[:, 0] = [0.0, -2.5, -1.0, -1.0, -1.0]  # long from bar 1, never exits
    inp.vol_a[:, 0] = 400.0  # cap 10 % -> 40 shares of A per bar; B is liquid
    costs = CostModel(max_participation=0.1, remainder=remainder)
    cfg = BacktestConfig(entry_z=2.0, exit_z=0.5, stop_z=4.0, capital=15_000.0, costs=costs)
    res = run_backtest(inp, cfg, engine=engine)
    fa = res.fills.filter(pl.col("symbol") == "AAA")
    fb = res.fills.filter(pl.col("symbol") == "BBB")
    assert fa["quantity"].to_list() == a_fills
    assert [str(t)[11:16] for t in fa["fill_ts"].to_list()] == ["14:32", "14:33", "14:34"][
        : len(a_fills)
    ]
    assert fb["quantity"].to_list() == [100.0] and fb["side"].to_list() == ["sell"]
    # no costs: cash = 15000 - sum(qty_A * open_A) + 100 * open_B(bar 2)
    opens_a = [101.0, 103.0, 104.0][: len(a_fills)]
    cash = 15_000 - sum(q * o for q, o in zip(a_fills, opens_a, strict=True)) + 100 * 49.0
    assert res.equity["cash"][-1] == pytest.approx(cash, rel=1e-12)
    units_a = sum(a_fills)
    assert res.equity["positions_value"][-1] == pytest.approx(units_a * 105.0 - 100 * 47.0)
