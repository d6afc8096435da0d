"""Return metrics against hand-computed values and empyrical-reloaded on the same returns."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import empyrical as ep
import numpy as np
import polars as pl
import pytest

from statarb.reporting import metrics as m


def _equity(values: list[float], step: timedelta = timedelta(minutes=1)) -> pl.DataFrame:
    t0 = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
    return pl.DataFrame({"ts": [t0 + i * step for i in range(len(values))], "equity": values})


def test_periods_per_year_conventions():
    assert m.periods_per_year(timedelta(minutes=1)) == 390 * 252
    assert m.periods_per_year(timedelta(minutes=5)) == 78 * 252
    assert m.periods_per_year(timedelta(days=1)) == 252
    assert m.periods_per_year(timedelta(minutes=1), session_minutes=60, trading_days=250) == 15000
    with pytest.raises(ValueError, match="positive"):
        m.periods_per_year(timedelta(0))


def test_infer_bar_interval_ignores_overnight_gaps(synthetic_run):
    assert m.infer_bar_interval(synthetic_run["equity"]["ts"]) == timedelta(minutes=1)


def test_hand_computed_small_curve():
    eq = [100.0, 110.0, 99.0, 108.9, 120.0]
    r = np.array([0.10, -0.10, 0.10, 120 / 108.9 - 1])
    ppy = 4.0
    # Sharpe = mean / sample std * sqrt(P)
    mean = r.sum() / 4
    sd = math.sqrt(((r - mean) ** 2).sum() / 3)
    assert m.sharpe_ratio(r, ppy) == pytest.approx(mean / sd * 2.0)
    # Sortino: downside deviation sqrt(0.01 / 4) * 2 = 0.1
    assert m.downside_deviation(r, ppy) == pytest.approx(0.1)
    assert m.sortino_ratio(r, ppy) == pytest.approx(mean * 4 / 0.1)
    # peak 110 -> trough 99 : -10 %
    assert m.max_drawdown(np.array(eq)) == pytest.approx(-0.10)
    assert m.total_return(np.array(eq)) == pytest.approx(0.20)
    # 4 returns, 4 per year -> exactly one year: CAGR = total return
    assert m.annual_return(np.array(eq), ppy) == pytest.approx(0.20)
    assert m.calmar_ratio(np.array(eq), ppy) == pytest.approx(2.0)


def test_no_drawdown_and_degenerate_cases():
    up = np.array([1.0, 1.1, 1.2])
    assert m.max_drawdown(up) == 0.0
    assert math.isnan(m.calmar_ratio(up, 252))
    assert math.isnan(m.sharpe_ratio(np.array([0.01]), 252))
    assert math.isnan(m.sharpe_ratio(np.array([0.01, 0.01]), 252))
    assert m.sortino_ratio(np.array([0.01, 0.02]), 252) == math.inf


@pytest.mark.parametrize("ppy", [252.0, 98280.0])
def test_against_empyrical(synthetic_run, ppy):
    equity = synthetic_run["equity"]
    r = m.equity_returns(equity)["ret"].to_numpy()
    e = equity["equity"].to_numpy()
    assert m.sharpe_ratio(r, ppy) == pytest.approx(ep.sharpe_ratio(r, annualization=ppy), rel=1e-10)
    assert m.sharpe_ratio(r, ppy, 1e-6) == pytest.approx(
        ep.sharpe_ratio(r, risk_free=1e-6, annualization=ppy), rel=1e-10
    )
    assert m.sortino_ratio(r, ppy) == pytest.approx(
        ep.sortino_ratio(r, annualization=ppy), rel=1e-10
    )
    assert m.max_drawdown(e) == pytest.approx(ep.max_drawdown(r), rel=1e-10)
    assert m.total_return(e) == pytest.approx(ep.cum_returns_final(r), rel=1e-10)
    assert m.annual_return(e, ppy) == pytest.approx(
        ep.annual_return(r, annualization=ppy), rel=1e-9
    )
    assert m.calmar_ratio(e, ppy) == pytest.approx(ep.calmar_ratio(r, annualization=ppy), rel=1e-9)


def test_return_metrics_bundle_matches_empyrical(synthetic_run):
    equity = synthetic_run["equity"]
    rm = m.return_metrics(equity)
    r = m.equity_returns(equity)["ret"].to_numpy()
    assert rm.periods_per_year == 98280
    assert rm.num_returns == equity.height - 1
    assert rm.sharpe_annual == pytest.approx(ep.sharpe_ratio(r, annualization=98280), rel=1e-10)
    assert rm.annual_volatility == pytest.approx(ep.annual_volatility(r, annualization=98280))


def test_equity_validation_names_rule():
    with pytest.raises(ValueError, match="appears twice"):
        m.equity_returns(_equity([1.0, 2.0]).vstack(_equity([1.0])))
    with pytest.raises(ValueError, match="> 0"):
        m.equity_returns(_equity([1.0, 0.0, 2.0]))
