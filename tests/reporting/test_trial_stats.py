"""Trial-aware Sharpe statistics against the papers' worked examples, mlfinlab's reference numbers
and closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from statarb.reporting import trial_stats as ts


def test_deflated_sharpe_matches_the_2014_paper_numerical_example() -> None:
    """Bailey & López de Prado (2014), "The Deflated Sharpe Ratio", J. Portfolio Mgmt 40(5),
    section "A numerical example": annualised SR 2.5 over T = 1250 daily returns, selected from
    N = 100 trials whose annualised Sharpe variance is V = 1/2, skewness -3, kurtosis 10. The paper
    gives E[max SR] = 0.1132 (per day) and DSR = 0.9004."""
    sr = 2.5 / math.sqrt(250)
    d = ts.deflated_sharpe_ratio(sr, 1250, n_trials=100, sharpe_variance=0.5 / 250, skew=-3,
                                 kurtosis=10)  # fmt: skip
    assert d.expected_max_sharpe == pytest.approx(0.1132, abs=5e-5)
    assert d.dsr == pytest.approx(0.9004, abs=5e-5)


def test_psr_mintrl_dsr_match_mlfinlab_reference_numbers() -> None:
    """mlfinlab's tests (hudson-and-thames/mlfinlab, tests/test_backtest_statistics.py): SR 1.14
    vs benchmark 1 over 250 normal returns -> PSR 0.95727, MinTRL(95 %) 228.73497; DSR with trial
    Sharpe estimates [3.5, 1.01, 1.02] (their dispersion: population std) -> 0.95836."""
    assert ts.probabilistic_sharpe_ratio(1.14, 250, 0, 3, benchmark=1.0) == pytest.approx(
        0.95727, abs=1e-5
    )
    assert ts.min_track_record_length(1.14, 0, 3, benchmark=1.0, confidence=0.95) == (
        pytest.approx(228.73497, abs=1e-4)
    )
    est = np.array([3.5, 1.01, 1.02])
    d = ts.deflated_sharpe_ratio(1.14, 250, n_trials=3, sharpe_variance=float(est.var()))
    assert d.dsr == pytest.approx(0.95836, abs=1e-5)


def test_psr_closed_form_for_normal_returns() -> None:
    """Normal returns (g3 = 0, g4 = 3): PSR(0) = Phi(SR sqrt(n - 1) / sqrt(1 + SR^2 / 2))."""
    for sr, n in ((0.05, 500), (0.1, 2000), (-0.02, 300)):
        expected = stats.norm.cdf(sr * math.sqrt(n - 1) / math.sqrt(1 + sr**2 / 2))
        assert ts.probabilistic_sharpe_ratio(sr, n) == pytest.approx(expected, rel=1e-12)


def test_negative_skew_and_fat_tails_lower_psr() -> None:
    base = ts.probabilistic_sharpe_ratio(0.08, 400)
    assert ts.probabilistic_sharpe_ratio(0.08, 400, skew=-2.0, kurtosis=9.0) < base
    assert ts.probabilistic_sharpe_ratio(0.08, 400, skew=1.0, kurtosis=3.0) > base


@pytest.mark.parametrize("sr,skew,kurt", [(0.05, 0.0, 3.0), (0.1, -1.5, 8.0), (0.2, 0.5, 4.0)])
def test_min_track_record_length_is_the_inverse_of_psr(sr: float, skew: float, kurt: float) -> None:
    """PSR evaluated at n = MinTRL returns equals the required confidence exactly."""
    for p in (0.9, 0.95, 0.99):
        n = ts.min_track_record_length(sr, skew, kurt, benchmark=0.01, confidence=p)
        z = (sr - 0.01) / math.sqrt((1 - skew * sr + (kurt - 1) / 4 * sr**2) / (n - 1))
        assert stats.norm.cdf(z) == pytest.approx(p, abs=1e-12)
    assert ts.min_track_record_length(0.01, benchmark=0.02) == math.inf


def test_single_trial_dsr_is_psr_against_zero() -> None:
    d = ts.deflated_sharpe_ratio(0.03, 1000, n_trials=1, sharpe_variance=0.01, skew=-0.4,
                                 kurtosis=5.0)  # fmt: skip
    assert d.expected_max_sharpe == 0.0
    assert d.dsr == ts.probabilistic_sharpe_ratio(0.03, 1000, -0.4, 5.0, benchmark=0.0)


def test_expected_max_sharpe_against_simulated_maxima() -> None:
    """The paper's approximation of E[max of N standard normals] (N = 10: 1.57, Bailey et al.
    2014 Notices AMS) against a Monte Carlo mean of the maximum (exact: 1.539, 2.508, 3.241): the
    approximation is within 4 % at N = 10 and 2 % beyond."""
    rng = np.random.default_rng(7)
    for n_trials, tol in ((10, 0.04), (100, 0.02), (1000, 0.02)):
        sim = rng.standard_normal((20_000, n_trials)).max(axis=1).mean()
        assert ts.expected_max_sharpe(n_trials, 1.0) == pytest.approx(sim, rel=tol)
    assert ts.expected_max_sharpe(10, 1.0) == pytest.approx(1.575, abs=1e-3)
    assert ts.expected_max_sharpe(10, 4.0) == pytest.approx(2 * ts.expected_max_sharpe(10, 1.0))


def test_return_moments_of_a_known_sample() -> None:
    m = ts.return_moments(np.array([1.0, -1.0, 1.0, -1.0, 3.0]))
    r = np.array([1.0, -1.0, 1.0, -1.0, 3.0])
    assert m.sharpe == pytest.approx(r.mean() / r.std(ddof=1))
    assert m.skew == pytest.approx(((r - r.mean()) ** 3).mean() / r.std() ** 3)
    assert m.kurtosis == pytest.approx(((r - r.mean()) ** 4).mean() / r.std() ** 4)
    with pytest.raises(ValueError, match="zero variance"):
        ts.return_moments(np.ones(10))


def _ar1(n: int, rho: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    e = rng.standard_normal(n)
    y = np.empty(n)
    y[0] = e[0] / math.sqrt(1 - rho**2)
    for i in range(1, n):
        y[i] = rho * y[i - 1] + e[i]
    return y


def test_iid_bootstrap_matches_lo_2002_standard_error() -> None:
    """Block length 1 (i.i.d. resampling) on 20 000 normal returns: the bootstrap standard error
    of the Sharpe ratio is Lo's (2002) analytic ``sqrt((1 + SR^2 / 2) / n)``, annualised."""
    rng = np.random.default_rng(1)
    n, periods = 20_000, 252.0
    r = 0.02 + rng.standard_normal(n)
    ci = ts.bootstrap_sharpe_ci(r, periods, n_boot=400, block_bars=1, seed=3)
    sr = r.mean() / r.std(ddof=1)
    lo_se = math.sqrt((1 + sr**2 / 2) / n) * math.sqrt(periods)
    assert ci.std_error == pytest.approx(lo_se, rel=0.12)
    assert ci.low < ci.sharpe < ci.high
    assert ci.high - ci.low == pytest.approx(2 * 1.96 * lo_se, rel=0.15)


def test_block_bootstrap_widens_for_autocorrelated_returns() -> None:
    """AR(1) returns with rho = 0.5: the Sharpe (~ mean / sd) has standard error
    ``sqrt((1 + rho) / (1 - rho) / n)`` (Lo 2002, eq. for serially correlated returns at SR ~ 0);
    the stationary and circular block bootstraps (optimal block length) recover it, the i.i.d.
    bootstrap understates it by ~sqrt(3)."""
    n = 20_000
    r = _ar1(n, 0.5, seed=2) + 0.01
    expected = math.sqrt(3.0 / n)
    iid = ts.bootstrap_sharpe_ci(r, 1.0, n_boot=300, block_bars=1, seed=5)
    for method in ("stationary", "circular"):
        ci = ts.bootstrap_sharpe_ci(r, 1.0, n_boot=300, method=method, seed=5)
        assert ci.block_bars > 5
        assert ci.std_error == pytest.approx(expected, rel=0.2)
        assert ci.std_error > 1.4 * iid.std_error


def test_bootstrap_is_seeded_and_scales_with_annualisation() -> None:
    r = _ar1(3000, 0.2, seed=4) * 1e-4 + 2e-6
    a = ts.bootstrap_sharpe_ci(r, 1.0, n_boot=200, seed=11)
    b = ts.bootstrap_sharpe_ci(r, 1.0, n_boot=200, seed=11)
    c = ts.bootstrap_sharpe_ci(r, 1.0, n_boot=200, seed=12)
    assert a == b
    assert (a.low, a.high) != (c.low, c.high)
    scaled = ts.bootstrap_sharpe_ci(r, 98_280.0, n_boot=200, seed=11)
    k = math.sqrt(98_280.0)
    assert (scaled.low, scaled.high, scaled.sharpe) == pytest.approx(
        (a.low * k, a.high * k, a.sharpe * k), rel=1e-12
    )


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="n_trials"):
        ts.expected_max_sharpe(0, 1.0)
    with pytest.raises(ValueError, match="method"):
        ts.bootstrap_sharpe_ci(np.arange(10.0), 1.0, method="moving")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="block_bars"):
        ts.bootstrap_sharpe_ci(np.arange(10.0), 1.0, block_bars=0.5)
    with pytest.raises(ValueError, match="confidence"):
        ts.min_track_record_length(0.1, confidence=1.0)
