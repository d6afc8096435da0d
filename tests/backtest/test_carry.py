"""Carry costs: short-borrow fee and cash financing, accrued act/360 between marks.

Hand-worked scenarios fix the day count and the balances the accrual is taken on; the accounting
identity decomposes every bar's equity change into trading PnL, commissions, slippage, borrow and
financing; both engines agree on them (see also ``test_equivalence.py``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from statarb.backtest.costs import BacktestConfigError, CostModel, accrual_days
from statarb.backtest.engine import run_numba, run_reference
from statarb.backtest.inputs import BacktestInputs
from statarb.backtest.synth import synthetic_inputs

from ._util import config, costs

MIN = 60_000_000  # one minute in microseconds


def _scenario(price_a: float, price_b: float, z: float = -3.0) -> BacktestInputs:
    """One pair AAA/BBB, beta 2, constant prices; bars at 20:58, 20:59 UTC, then the next day's
    14:30 and 14:31 (an overnight gap of 17 h 31 min = 1051 minutes)."""
    t0 = np.datetime64("2024-01-02T20:58:00", "us").astype(np.int64)
    ts = np.array([t0, t0 + MIN, t0 + MIN + 1051 * MIN, t0 + 1053 * MIN], dtype=np.int64)
    T = ts.size

    def col(v: float) -> np.ndarray:
        return np.full((T, 1), v)

    return BacktestInputs(
        ts=ts, pair_ids=["AAA_BBB"], symbols_a=["AAA"], symbols_b=["BBB"],
        open_a=col(price_a), close_a=col(price_a), vol_a=col(1e9), open_b=col(price_b),
        close_b=col(price_b), vol_b=col(1e9), beta=col(2.0), z=col(z), spread=col(0.0),
        tradable=np.ones((T, 1), dtype=np.bool_),
    )  # fmt: skip


def _free(**kw) -> CostModel:
    return costs(per_share=0, min_per_order=0, fee_bps=0, fixed_bps=0, impact_k_bps=0, **kw)


def test_accrual_days_are_calendar_days_between_bars() -> None:
    days = accrual_days(_scenario(100, 50).ts)
    np.testing.assert_allclose(days, [0.0, 1 / 1440, 1051 / 1440, 1 / 1440], rtol=1e-15)


@pytest.mark.parametrize("engine", [run_numba, run_reference])
def test_borrow_and_cash_interest_by_hand(engine) -> None:
    """Long spread at bar 1's open: buy 5000 AAA at 100, sell 10 000 BBB at 50 (notional 1e6 /
    (100 + 2 * 50) = 5000 units of A); cash stays 1e6. BBB is in the borrow table at 3.6 %/yr:
    500 000 short notional costs 500 000 * 0.036 / 360 = 50 USD per day; cash earns 3.6 %/yr:
    100 USD per day. Bar 1 pays no borrow (flat at bar 0's mark) and earns one minute of interest;
    bar 2 accrues the 1051-minute overnight gap on the position, bar 3 one minute."""
    c = _free(borrow_rate=0.01, borrow_rates={"bbb": 0.036}, cash_rate=0.036)
    raw = engine(_scenario(100.0, 50.0), config(costs=c, max_holding_bars=0))
    assert raw.fill_qty.tolist() == [5000.0, 10000.0]
    day = 1 / 1440
    np.testing.assert_allclose(raw.borrow_cost, [0.0, 0.0, 50 * 1051 * day, 50 * day], rtol=1e-12)
    interest = [0.0, -100 * day, -100 * 1051 * day, -100 * day]
    np.testing.assert_allclose(raw.financing_cost, interest, rtol=1e-4)  # cash ~1e6 +- carry
    # exactly: on the previous mark's cash
    exact = -0.036 * raw.cash[:-1] * accrual_days(_scenario(100.0, 50.0).ts)[1:] / 360
    np.testing.assert_allclose(raw.financing_cost[1:], exact, rtol=1e-12)
    carry = np.cumsum(raw.borrow_cost + raw.financing_cost)
    np.testing.assert_allclose(raw.equity, 1e6 - carry, rtol=1e-15)


@pytest.mark.parametrize("engine", [run_numba, run_reference])
def test_negative_cash_pays_the_debit_rate(engine) -> None:
    """A at 100, B at 10, pair leverage 2: units_A = floor(2e6 / 120) = 16 666 bought for
    1 666 600, 33 332 B sold short for 333 320: cash = 1e6 - 1 333 280 = -333 280 pays 7.2 %/yr
    (66.656 USD per day); the short B leg pays the 0.36 % default borrow rate (0.3333 USD/day)."""
    c = _free(borrow_rate=0.0036, cash_rate=0.05, financing_rate=0.072)
    raw = engine(_scenario(100.0, 10.0), config(costs=c, max_holding_bars=0, pair_leverage=2.0))
    assert raw.fill_qty.tolist() == [16666.0, 33332.0]
    day = 1 / 1440
    cash1 = 1e6 * (1 + 0.05 * day / 360) - 1_333_280  # after bar 1's interest and fills
    assert raw.cash[1] == pytest.approx(cash1, rel=1e-12)
    assert raw.financing_cost[2] == pytest.approx(-cash1 * 0.072 * 1051 * day / 360, rel=1e-12)
    assert raw.borrow_cost[2] == pytest.approx(333_320 * 0.0036 * 1051 * day / 360, rel=1e-12)
    assert raw.financing_cost[3] > 0 and raw.borrow_cost[3] > 0


def test_day_count_365_scales_the_carry_by_360_over_365() -> None:
    inputs = _scenario(100.0, 50.0)
    c360 = _free(borrow_rate=0.05, cash_rate=0.02)
    c365 = _free(borrow_rate=0.05, cash_rate=0.02, day_count=365.0)
    r360 = run_numba(inputs, config(costs=c360, max_holding_bars=0))
    r365 = run_numba(inputs, config(costs=c365, max_holding_bars=0))
    np.testing.assert_allclose(r365.borrow_cost, r360.borrow_cost * 360 / 365, rtol=1e-12)


@pytest.fixture(scope="module")
def traded():
    return synthetic_inputs(3000, 3, seed=11, ou_phi=0.95, missing_frac=0.01, gate_off_frac=0.1)


def test_equity_change_decomposes_into_trading_pnl_and_costs(traded) -> None:
    """Every bar: equity_t - equity_{t-1} = trading PnL (marks at reference prices: fills at the
    bar's open) - commissions - slippage - borrow - financing."""
    c = costs(max_participation=0.05, borrow_rate=0.02, borrow_rates={"B001": 0.3},
              cash_rate=0.04, financing_rate=0.08)  # fmt: skip
    cfg = config(costs=c, pair_leverage=15.0)  # long-spread entries drive cash below 0
    raw = run_numba(traded, cfg)
    T, P = traded.shape
    pos = np.zeros((P, 2))
    last = np.full((P, 2), np.nan)
    prev_mark = 0.0
    comm, slip, trading = np.zeros(T), np.zeros(T), np.zeros(T)
    k = 0
    for t in range(T):
        flow = 0.0
        while k < len(raw.fill_t) and raw.fill_t[k] == t:
            p, leg, side, q = raw.fill_pair[k], raw.fill_leg[k], raw.fill_side[k], raw.fill_qty[k]
            ref = (traded.open_a if leg == 0 else traded.open_b)[t, p]
            flow += side * q * ref
            comm[t] += raw.fill_commission[k]
            slip[t] += q * abs(raw.fill_price[k] - ref)
            pos[p, leg] += side * q
            k += 1
        for leg, (o, cl) in enumerate(((traded.open_a, traded.close_a),
                                       (traded.open_b, traded.close_b))):  # fmt: skip
            ok = np.isfinite(o[t]) & np.isfinite(cl[t])
            last[ok, leg] = cl[t][ok]
        mark = float(np.nansum(np.where(pos != 0, pos * last, 0.0)))
        trading[t] = mark - prev_mark - flow
        prev_mark = mark
    d_equity = np.diff(np.concatenate([[cfg.capital], raw.equity]))
    rhs = trading - comm - slip - raw.borrow_cost - raw.financing_cost
    np.testing.assert_allclose(d_equity, rhs, rtol=0, atol=1e-6)
    assert raw.borrow_cost.sum() > 0
    assert (raw.financing_cost < 0).any() and (raw.financing_cost > 0).any()  # both signs of cash
    assert (raw.cash < 0).any()


def test_doubling_the_borrow_rate_lowers_pnl_by_exactly_the_extra_borrow(traded) -> None:
    base = costs(max_participation=0.05, borrow_rate=0.02, borrow_rates={"B001": 0.3})
    double = costs(max_participation=0.05, borrow_rate=0.04, borrow_rates={"B001": 0.6})
    r1 = run_numba(traded, config(costs=base))
    r2 = run_numba(traded, config(costs=double))
    np.testing.assert_array_equal(r1.fill_qty, r2.fill_qty)
    np.testing.assert_array_equal(r1.fill_price, r2.fill_price)
    np.testing.assert_allclose(r2.borrow_cost, 2 * r1.borrow_cost, rtol=1e-12)
    assert r1.borrow_cost.sum() > 5.0
    assert r1.equity[-1] - r2.equity[-1] == pytest.approx(r1.borrow_cost.sum(), rel=1e-9)


def test_zero_rates_leave_equity_unchanged(traded) -> None:
    r0 = run_numba(traded, config())
    assert not r0.borrow_cost.any() and not r0.financing_cost.any()
    r1 = run_numba(traded, config(costs=costs(borrow_rate=0.0, cash_rate=0.0)))
    np.testing.assert_array_equal(r0.equity, r1.equity)


def test_cost_file_carry_sections(tmp_path) -> None:
    from statarb.backtest.costs import load_costs

    f = tmp_path / "c.yml"
    f.write_text(
        "borrow: {default_rate: 0.003, rates: {xyz: 0.25, ABC: 0.05}}\n"
        "financing: {cash_rate: 0.01, debit_rate: 0.06}\naccrual: {day_count: 365}\n"
    )
    m = load_costs(f)
    assert m.borrow_rate_of("XYZ") == 0.25 and m.borrow_rate_of("QQQ") == 0.003
    assert (m.cash_rate, m.financing_rate, m.day_count) == (0.01, 0.06, 365.0)
    assert CostModel.from_mapping(m.to_mapping()) == m
    f.write_text("borrow: {default_rate: 0.003, rate: {XYZ: 0.25}}\n")
    with pytest.raises(BacktestConfigError, match=r"\['rate'\].*'borrow'.*did you mean 'rates'"):
        load_costs(f)
    with pytest.raises(BacktestConfigError, match="day_count"):
        CostModel(day_count=252.0)
    with pytest.raises(BacktestConfigError, match=r"rates\['XYZ'\]"):
        CostModel(borrow_rates={"XYZ": -0.1})
    with pytest.raises(BacktestConfigError, match="borrow_rate"):
        CostModel(borrow_rate=math.nan)
