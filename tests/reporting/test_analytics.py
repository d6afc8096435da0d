"""Tearsheet analytics against hand-worked series, empyrical and a port of pyfolio's algorithm."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import empyrical as ep
import numpy as np
import polars as pl
import pytest

from statarb.reporting import analytics, trades
from statarb.reporting.figures_perf import histogram_bins

T0 = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)


def _eq(values: list[float] | np.ndarray) -> pl.DataFrame:
    ts = [T0 + timedelta(minutes=i) for i in range(len(values))]
    return pl.DataFrame({"ts": ts, "equity": np.asarray(values, dtype=float)}).with_columns(
        pl.col("ts").cast(pl.Datetime("us", "UTC"))
    )


def test_drawdown_table_hand_computed():
    #        0    1    2   3      4    5    6      7    8    9    10
    e = [100, 110, 99, 104.5, 110, 121, 108.9, 115, 100, 130, 120]
    eq = _eq(e)
    t = analytics.drawdown_table(eq, top=5)
    ts = eq["ts"]
    # episode B: peak 121 (i=5) -> trough 100 (i=8) -> recovery 130 (i=9)
    # episode A: peak 110 (i=1) -> trough 99 (i=2) -> recovery 110 (i=4, back at the peak)
    # episode C: peak 130 (i=9) -> 120 (i=10), still under water at the end
    assert t["rank"].to_list() == [1, 2, 3]
    assert t["peak_ts"].to_list() == [ts[5], ts[1], ts[9]]
    assert t["trough_ts"].to_list() == [ts[8], ts[2], ts[10]]
    assert t["recovery_ts"].to_list() == [ts[9], ts[4], None]
    np.testing.assert_allclose(t["depth"].to_numpy(), [100 / 121 - 1, 99 / 110 - 1, 120 / 130 - 1])
    assert t["length_bars"].to_list() == [4, 3, 1]
    assert t["bars_to_trough"].to_list() == [3, 1, 1]
    assert t["recovered"].to_list() == [True, True, False]
    assert analytics.drawdown_table(eq, top=2).height == 2
    r = eq["equity"].pct_change().drop_nulls().to_numpy()
    assert t["depth"][0] == pytest.approx(ep.max_drawdown(r), rel=1e-12)  # empyrical reference
    assert analytics.drawdown_table(_eq([1, 2, 3])).height == 0  # never under water


def _pyfolio_top_drawdowns(e: np.ndarray, top: int) -> list[tuple[int, int, int | None]]:
    """Port of pyfolio.timeseries.get_top_drawdowns / get_max_drawdown_underwater (positions):
    find the deepest trough, its peak (last 0 of the underwater curve before it) and recovery
    (first 0 after it), drop that stretch, repeat."""
    under = e / np.maximum.accumulate(e) - 1.0
    idx = np.arange(e.size)
    out = []
    for _ in range(top):
        if under.size == 0 or under.min() >= 0:
            break
        v = int(np.argmin(under))
        peak = int(np.flatnonzero(under[:v] == 0)[-1])
        after = np.flatnonzero(under[v:] == 0)
        rec = int(after[0]) + v if after.size else None
        out.append((int(idx[peak]), int(idx[v]), None if rec is None else int(idx[rec])))
        keep = np.ones(under.size, bool)
        keep[peak : (rec if rec is not None else under.size)] = False
        if rec is None:
            keep[peak:] = False
        under, idx = under[keep], idx[keep]
    return out


def test_drawdown_table_matches_pyfolio_algorithm_on_a_random_walk():
    rng = np.random.default_rng(11)
    e = 100 * np.cumprod(1 + rng.normal(2e-4, 4e-3, 3_000))
    e = np.r_[100.0, e]
    eq = _eq(e)
    t = analytics.drawdown_table(eq, top=5)
    ts = eq["ts"].to_list()
    pos = {v: i for i, v in enumerate(ts)}
    got = [
        (pos[p], pos[tr], None if rc is None else pos[rc])
        for p, tr, rc in t.select("peak_ts", "trough_ts", "recovery_ts").iter_rows()
    ]
    assert got == _pyfolio_top_drawdowns(e, 5)
    r = np.diff(e) / e[:-1]
    assert t["depth"][0] == pytest.approx(ep.max_drawdown(r), rel=1e-12)


def test_rolling_sharpe_and_vol_match_empyrical():
    rng = np.random.default_rng(5)
    e = 1e6 * np.cumprod(np.r_[1.0, 1 + rng.normal(1e-4, 1e-3, 500)])
    eq = _eq(e)
    window, periods = 60, 98_280.0
    roll = analytics.rolling_sharpe_vol(eq, window, periods)
    r = np.diff(e) / e[:-1]
    ref_sr = ep.roll_sharpe_ratio(r, window=window, annualization=periods)
    ref_vol = ep.roll_annual_volatility(r, window=window, annualization=periods)
    assert roll.height == r.size and roll["rolling_sharpe"][: window - 1].null_count() == window - 1
    np.testing.assert_allclose(roll["rolling_sharpe"].to_numpy()[window - 1 :], ref_sr, rtol=1e-9)
    np.testing.assert_allclose(roll["rolling_vol"].to_numpy()[window - 1 :], ref_vol, rtol=1e-9)
    # the value at t uses returns t-window+1..t only: perturbing later equity changes nothing
    e2 = e.copy()
    e2[300:] *= 1.5
    roll2 = analytics.rolling_sharpe_vol(_eq(e2), window, periods)
    assert roll2["rolling_sharpe"][:298].equals(roll["rolling_sharpe"][:298])
    with pytest.raises(ValueError, match="rolling_window"):
        analytics.rolling_sharpe_vol(eq, 1, periods)


def _fills(rows: list[tuple]) -> pl.DataFrame:
    """(minute, symbol, side, qty, price, commission, signal_id) -> backtest_fills rows."""
    return pl.DataFrame(
        {
            "id": list(range(1, len(rows) + 1)),
            "run_id": "bt_x",
            "fill_ts": [T0 + timedelta(minutes=r[0]) for r in rows],
            "symbol": [r[1] for r in rows],
            "side": [r[2] for r in rows],
            "quantity": [float(r[3]) for r in rows],
            "price": [float(r[4]) for r in rows],
            "commission": [float(r[5]) for r in rows],
            "slippage_bps": 0.0,
            "signal_id": [r[6] for r in rows],
        }
    ).with_columns(pl.col("fill_ts").cast(pl.Datetime("us", "UTC")))


def test_round_trips_hand_worked_with_scaling_in_and_a_flip():
    signals = pl.DataFrame(
        {"id": [1, 2, 3], "symbol_a": ["X", "Z", "X"], "symbol_b": ["Y", "W", "Y"]}
    )
    fills = _fills(
        [
            # trip 1 of X_Y: open 10 X @100 + short 20 Y @50, scale in 5 X @102, close both
            (0, "X", "buy", 10, 100, 1, 1),
            (0, "Y", "sell", 20, 50, 1, 1),
            (3, "Z", "buy", 7, 10, 0, 2),  # another book, interleaved: its own trip
            (5, "X", "buy", 5, 102, 1, 1),
            (9, "X", "sell", 15, 104, 1, 1),
            (9, "Y", "buy", 20, 49, 1, 1),
            # trip 2 of X_Y: X flips from +10 to -10 in one fill while Y is still short
            (20, "X", "buy", 10, 100, 0, 3),
            (20, "Y", "sell", 10, 50, 0, 3),
            (30, "X", "sell", 20, 101, 0, 3),
            (50, "X", "buy", 10, 100, 0, 3),
            (50, "Y", "buy", 10, 50, 0, 3),
        ]
    )
    t = trades.round_trips(fills, signals).sort("book", "trip")
    xy = t.filter(pl.col("book") == "X_Y")
    # trip 1 cash: -1000 + 1000 - 510 + 1560 - 980 = 70, minus 5 commissions = 65
    # entry notional: 10*100 + 20*50 + 5*102 = 2510 (the closing fills open nothing)
    # trip 2 cash: -1000 + 500 + 2020 - 1000 - 500 = 20; entry: 1000 + 500 + 10*101 (the flip)
    assert xy["pnl"].to_list() == pytest.approx([65.0, 20.0])
    assert xy["entry_notional"].to_list() == pytest.approx([2510.0, 2510.0])
    assert xy["n_fills"].to_list() == [5, 5] and xy["closed"].all()
    zw = t.filter(pl.col("book") == "Z_W")
    assert zw["closed"].to_list() == [False] and zw["pnl"].to_list() == [None]
    dist = analytics.trade_distribution(t).sort("entry_ts")
    assert dist["book"].to_list() == ["X_Y", "X_Y"]  # the open Z_W trip is not a trade
    assert dist["ret"].to_list() == pytest.approx([65 / 2510, 20 / 2510])
    assert dist["holding_minutes"].to_list() == [9.0, 30.0]
    assert analytics.trade_distribution(None).height == 0


def test_histogram_bins_count_every_finite_value_once():
    v = np.r_[np.random.default_rng(1).standard_t(3, 5_000), np.nan, np.inf]
    counts, edges = histogram_bins(v)
    assert counts.sum() == 5_000 and edges.size == counts.size + 1 <= 61
    assert edges[0] == pytest.approx(np.nanmin(v[np.isfinite(v)]))
    assert histogram_bins(np.array([np.nan]))[0].size == 0


def test_half_life_is_ln2_over_theta_per_bar():
    ou = pl.DataFrame(
        {
            "window_end": [T0, T0 + timedelta(days=1), T0 + timedelta(days=2)],
            "theta": [0.05, -0.01, 0.5],
        }
    )
    hl = analytics.half_life_path(ou)
    assert hl["half_life_bars"].to_list() == pytest.approx(
        [math.log(2) / 0.05, None, math.log(2) / 0.5]
    )
    assert analytics.half_life_path(None).height == 0
