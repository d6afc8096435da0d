"""Ground-truth pairs: the spread identity, OU recovery on generated data, drift and break."""

from __future__ import annotations

import json
import math

import numpy as np
import polars as pl
import pytest
from statsmodels.tsa.ar_model import AutoReg
from statsmodels.tsa.stattools import adfuller

from statarb.synthetic.market import simulate_market

from .conftest import DEFAULT


@pytest.fixture(scope="module")
def long_market():
    # whole default calendar (31,980 bars), one pair of each kind, fast half-lives for tight fits
    cfg = DEFAULT.with_overrides(n_symbols=12, half_life_bars=(30.0, 60.0))
    return simulate_market(cfg)


def test_spread_identity_and_pair_ids(small_data):
    m = small_data.market
    assert {p.kind for p in m.pairs} == {"constant", "drift_linear", "break"}
    for p in m.pairs:
        assert p.symbol_a < p.symbol_b and p.pair_id == f"{p.symbol_a}_{p.symbol_b}"
        a, b = m.symbols.index(p.symbol_a), m.symbols.index(p.symbol_b)
        assert m.sectors[a] == m.sectors[b] == p.sector
        spread = m.close[:, a] - p.beta * m.close[:, b]
        np.testing.assert_allclose(spread, p.alpha + p.spread, atol=1e-9)
        assert 30 <= p.half_life <= 400


def test_ou_recovered_from_generated_spread(long_market):
    for p in long_market.pairs:
        a = long_market.symbols.index(p.symbol_a)
        b = long_market.symbols.index(p.symbol_b)
        end = p.break_bar if p.break_bar is not None else long_market.n_bars
        s = (long_market.close[:, a] - p.beta * long_market.close[:, b])[:end]
        res = AutoReg(s, lags=1, trend="c").fit()
        c, phi = res.params
        theta = -math.log(phi)
        assert theta == pytest.approx(p.theta, rel=0.25), p.pair_id
        assert c / (1 - phi) == pytest.approx(
            p.alpha + p.mu, abs=4 * p.sigma / (p.theta * math.sqrt(end))
        ), p.pair_id  # SE of an OU sample mean ~ sigma / (theta sqrt(n))
        sigma = math.sqrt(res.sigma2 * 2 * theta / (1 - phi**2))
        assert sigma == pytest.approx(p.sigma, rel=0.05), p.pair_id


def test_break_pair_becomes_random_walk(long_market):
    (p,) = [q for q in long_market.pairs if q.kind == "break"]
    k = p.break_bar
    assert adfuller(p.spread[:k], maxlag=1, autolag=None, result_object=False)[1] < 0.01
    # after the break: AR(1) coefficient of the levels near 1 (Dickey-Fuller: n (phi - 1) > -21
    # with 99 % probability for a random walk), far from the OU value e^{-theta}
    post = AutoReg(p.spread[k:], lags=1, trend="c").fit()
    assert post.params[1] > 1 - p.theta / 4 > math.exp(-p.theta)
    steps = np.diff(p.spread[k:])
    assert steps.std() == pytest.approx(p.sigma, rel=0.05)


def test_drifting_betas(long_market):
    cfg = long_market.config
    lin = next(p for p in long_market.pairs if p.kind == "drift_linear")
    assert abs(lin.beta[-1] / lin.beta[0] - 1) == pytest.approx(cfg.beta_drift)
    assert np.allclose(np.diff(lin.beta, 2), 0, atol=1e-12)
    rw = next(p for p in long_market.pairs if p.kind == "drift_rw")
    assert abs(rw.beta[-1] / rw.beta[0] - 1) == pytest.approx(cfg.beta_drift)
    lin_ref = np.linspace(rw.beta[0], rw.beta[-1], rw.beta.size)
    assert np.abs(rw.beta - lin_ref).max() > 0.002 * rw.beta[0]  # wanders, not a straight line
    const = next(p for p in long_market.pairs if p.kind == "constant")
    assert np.all(const.beta == const.beta[0])


def test_ground_truth_files(small_dir, small_data):
    m = small_data.market
    pairs = json.loads((small_dir / "ground_truth" / "pairs.json").read_text())
    n = len(m.symbols)
    assert len(pairs) == n * (n - 1) // 2
    assert len({p["pair_id"] for p in pairs}) == len(pairs)
    coint = {p["pair_id"]: p for p in pairs if p["cointegrated"]}
    assert set(coint) == {p.pair_id for p in m.pairs}
    for p in m.pairs:
        rec = coint[p.pair_id]
        assert rec["ou"]["theta_per_bar"] == p.theta
        assert rec["ou"]["half_life_bars"] == pytest.approx(math.log(2) / p.theta)
        assert rec["beta_start"] == p.beta[0] and rec["beta_end"] == p.beta[-1]
        assert (rec["break_ts"] is None) == (p.kind != "break")
    brk = next(p for p in m.pairs if p.kind == "break")
    expected = pl.Series([m.clock.utc_us[brk.break_bar]]).cast(pl.Datetime("us", "UTC"))[0]
    assert coint[brk.pair_id]["break_ts"] == expected.strftime("%Y-%m-%dT%H:%M:%SZ")
    beta = pl.read_parquet(small_dir / "ground_truth" / "beta_paths.parquet")
    assert beta.schema == pl.Schema(
        {"pair_id": pl.String, "datetime": pl.Datetime("us", "UTC"), "beta": pl.Float64}
    )
    for p in m.pairs:
        sub = beta.filter(pl.col("pair_id") == p.pair_id).sort("datetime")
        assert np.array_equal(sub["beta"].to_numpy(), p.beta)
        assert np.array_equal(sub["datetime"].dt.epoch("us").to_numpy(), m.clock.utc_us)
