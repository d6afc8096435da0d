"""Accounting identities, cost sensitivity and partial fills under the volume cap."""

from __future__ import annotations

import numpy as np
import pytest

from statarb.backtest.engine import run_backtest, run_numba
from statarb.backtest.synth import synthetic_inputs

from ._util import config, costs


@pytest.fixture(scope="module")
def inputs():
    return synthetic_inputs(3000, 3, seed=11, ou_phi=0.95, missing_frac=0.01, gate_off_frac=0.1)


def test_equity_is_cash_plus_positions_every_bar(inputs) -> None:
    raw = run_numba(inputs, config(costs=costs(max_participation=0.05)))
    np.testing.assert_array_equal(raw.equity, raw.cash + raw.positions_value)


def test_positions_value_is_units_times_last_close(inputs) -> None:
    """Rebuild positions from the fills and mark them at the last valid close of every bar."""
    raw = run_numba(inputs, config())
    T, P = inputs.shape
    pos = np.zeros((P, 2))
    last = np.full((P, 2), np.nan)
    k = 0
    for t in range(T):
        while k < len(raw.fill_t) and raw.fill_t[k] == t:
            pos[raw.fill_pair[k], raw.fill_leg[k]] += raw.fill_side[k] * raw.fill_qty[k]
            k += 1
        for p in range(P):
            for leg, (o, c) in enumerate(
                ((inputs.open_a, inputs.close_a), (inputs.open_b, inputs.close_b))
            ):
                if np.isfinite(o[t, p]) and np.isfinite(c[t, p]):
                    last[p, leg] = c[t, p]
        expected = np.nansum(np.where(pos != 0, pos * last, 0.0))
        assert raw.positions_value[t] == pytest.approx(expected, rel=1e-12, abs=1e-6)


def test_fill_cash_flows_reconcile_to_final_equity(inputs) -> None:
    cfg = config(costs=costs(max_participation=0.05))
    raw = run_numba(inputs, cfg)
    flows = -(raw.fill_side * raw.fill_qty * raw.fill_price).sum() - raw.fill_commission.sum()
    assert raw.cash[-1] == pytest.approx(cfg.capital + flows, rel=1e-12)
    assert raw.equity[-1] == pytest.approx(cfg.capital + flows + raw.positions_value[-1], rel=1e-12)


def test_fill_flows_and_carry_reconcile_to_final_cash(inputs) -> None:
    """With borrow and financing: cash = capital + fill cash flows - borrow - financing."""
    c = costs(max_participation=0.05, borrow_rate=0.05, cash_rate=0.03, financing_rate=0.09)
    cfg = config(costs=c, pair_leverage=15.0)
    raw = run_numba(inputs, cfg)
    flows = -(raw.fill_side * raw.fill_qty * raw.fill_price).sum() - raw.fill_commission.sum()
    carry = raw.borrow_cost.sum() + raw.financing_cost.sum()
    assert raw.borrow_cost.sum() > 0 and (raw.cash < 0).any() and (raw.cash > 0).any()
    assert raw.cash[-1] == pytest.approx(cfg.capital + flows - carry, rel=1e-12)
    np.testing.assert_array_equal(raw.equity, raw.cash + raw.positions_value)


def test_zero_costs_and_no_signals_gives_flat_equity(inputs) -> None:
    free = costs(per_share=0, min_per_order=0, fee_bps=0, fixed_bps=0, impact_k_bps=0)
    cfg = config(entry_z=50.0, exit_z=0.5, stop_z=60.0, costs=free)
    res = run_backtest(inputs, cfg)
    assert res.signals.height == 0 and res.fills.height == 0
    assert (res.equity["equity"] == cfg.capital).all()
    assert (res.equity["positions_value"] == 0.0).all()


def test_doubling_fees_lowers_pnl_by_the_extra_commission(inputs) -> None:
    base = costs(per_share=0.004, min_per_order=1.5, fee_bps=0.5, max_participation=0.05)
    double = costs(per_share=0.008, min_per_order=3.0, fee_bps=1.0, max_participation=0.05)
    r1 = run_numba(inputs, config(costs=base))
    r2 = run_numba(inputs, config(costs=double))
    np.testing.assert_array_equal(r1.fill_qty, r2.fill_qty)
    np.testing.assert_array_equal(r1.fill_price, r2.fill_price)  # slippage/impact unchanged
    np.testing.assert_allclose(r2.fill_commission, 2 * r1.fill_commission, rtol=1e-14)
    extra = r1.fill_commission.sum()
    assert r1.equity[-1] - r2.equity[-1] == pytest.approx(extra, rel=1e-9)


def test_slippage_and_commission_follow_the_cost_formulas(inputs) -> None:
    c = costs(
        per_share=0.004,
        min_per_order=1.5,
        fee_bps=0.5,
        fixed_bps=2.0,
        impact_k_bps=9.0,
        impact_alpha=0.6,
    )
    raw = run_numba(inputs, config(costs=c))
    t, p, leg = raw.fill_t, raw.fill_pair, raw.fill_leg
    ref = np.where(leg == 0, inputs.open_a[t, p], inputs.open_b[t, p])
    vol = np.where(leg == 0, inputs.vol_a[t, p], inputs.vol_b[t, p])
    slip = c.fixed_bps + c.impact_k_bps * (raw.fill_qty / vol) ** c.impact_alpha
    np.testing.assert_allclose(raw.fill_slippage_bps, slip, rtol=1e-12)
    np.testing.assert_allclose(raw.fill_price, ref * (1 + raw.fill_side * slip / 1e4), rtol=1e-12)
    comm = np.maximum(c.per_share * raw.fill_qty, c.min_per_order) + (
        c.fee_bps / 1e4 * raw.fill_qty * raw.fill_price
    )
    np.testing.assert_allclose(raw.fill_commission, comm, rtol=1e-12)


@pytest.mark.parametrize("remainder", ["carry", "cancel"])
def test_partial_fills_under_volume_cap(remainder: str) -> None:
    inputs = synthetic_inputs(2000, 1, seed=5, ou_phi=0.97, volume_mean=300)
    cap = 0.1
    raw = run_numba(inputs, config(costs=costs(max_participation=cap, remainder=remainder)))
    t, p, leg = raw.fill_t, raw.fill_pair, raw.fill_leg
    vol = np.where(leg == 0, inputs.vol_a[t, p], inputs.vol_b[t, p])
    assert (raw.fill_qty <= np.floor(cap * vol)).all()
    n_sig = len(raw.sig_t)
    pos = 0.0  # leg A units
    n_split = n_partial = 0
    for s in range(n_sig):
        ks = np.flatnonzero((raw.fill_signal == s) & (leg == 0))
        target = float(raw.sig_dir[s] * raw.sig_size[s])
        before = pos
        pos += float((raw.fill_side[ks] * raw.fill_qty[ks]).sum())
        # fills only move towards the target, never past it
        assert abs(target - pos) <= abs(target - before) + 1e-9
        if remainder == "cancel":
            assert len(ks) <= 1  # a single attempt; the remainder is dropped
            n_partial += len(ks) == 1 and abs(pos - target) > 1e-9
        else:
            n_split += len(ks) > 1
            if abs(pos - target) > 1e-9 and len(ks):
                # carried: an unfinished order keeps filling at every bar with capacity until a
                # newer signal (decided at that bar's close) replaces it
                assert s + 1 < n_sig
                bars = np.arange(t[ks[0]], raw.sig_t[s + 1] + 1)
                has_cap = np.floor(cap * inputs.vol_a[bars, 0]) >= 1
                assert set(bars[has_cap]) <= set(t[ks].tolist())
    if remainder == "cancel":
        assert n_partial > 0
    else:
        assert n_split > 0


def test_gross_exposure_cap_limits_committed_notional() -> None:
    inputs = synthetic_inputs(2000, 4, seed=9, ou_phi=0.9)
    cfg = config(pair_leverage=2.0, max_gross_leverage=1.0, max_holding_bars=0)
    raw = run_numba(inputs, cfg)
    T, P = inputs.shape
    gross = np.zeros(T)
    pos = np.zeros((P, 2))
    k = 0
    for t in range(T):
        while k < len(raw.fill_t) and raw.fill_t[k] == t:
            pos[raw.fill_pair[k], raw.fill_leg[k]] += raw.fill_side[k] * raw.fill_qty[k]
            k += 1
        gross[t] = np.sum(
            np.abs(pos[:, 0]) * inputs.close_a[t] + np.abs(pos[:, 1]) * inputs.close_b[t]
        )
    # sized at the signal bar's close: allow for price moves until the fill
    assert gross.max() <= 1.05 * cfg.max_gross_leverage * raw.equity.max()
    assert gross.max() > 0.5 * cfg.capital  # the cap binds, not a degenerate no-trade run
