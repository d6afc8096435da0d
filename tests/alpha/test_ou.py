"""OU fit: kernel vs statsmodels OLS / AutoReg(1) (1e-10), parameter recovery, windows, bands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm

from statarb.alpha.bands import ou_bands, ou_zscore, with_bands
from statarb.alpha.ou_fit import fit_ou, fit_ou_at_schedule, fit_ou_windows
from statarb.alpha.ou_ref import ou_fit_autoreg, ou_fit_ols


def simulate_ou(n: int, theta: float, mu: float, sigma: float, dt: float, seed: int) -> np.ndarray:
    """Exact OU transition (Vasicek): X' = mu + (X - mu) e^{-theta dt} + sd * N(0, 1)."""
    rng = np.random.default_rng(seed)
    b = np.exp(-theta * dt)
    sd = sigma * np.sqrt((1 - b * b) / (2 * theta))
    x = np.empty(n)
    x[0] = mu + rng.normal() * sigma / np.sqrt(2 * theta)  # stationary start
    eps = rng.normal(size=n) * sd
    for t in range(1, n):
        x[t] = mu + (x[t - 1] - mu) * b + eps[t]
    return x


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


@pytest.mark.parametrize(
    ("theta", "mu", "sigma", "dt", "seed"),
    [(0.05, 1.5, 0.2, 1.0, 0), (2.0, -3.0, 1.0, 1 / 390, 1), (0.3, 0.0, 0.01, 1.0, 2)],
)
def test_kernel_equals_statsmodels(theta, mu, sigma, dt, seed) -> None:
    x = simulate_ou(3000, theta, mu, sigma, dt, seed)
    fit = fit_ou(x, dt)
    for ref in (ou_fit_ols(x, dt), ou_fit_autoreg(x, dt)):
        assert _rel(fit.b, ref["b"]) < 1e-10
        assert _rel(fit.theta, ref["theta"]) < 1e-10
        assert abs(fit.mu - ref["mu"]) < 1e-10 * max(1.0, abs(ref["mu"]))
        assert _rel(fit.sigma, ref["sigma"]) < 1e-10
    assert fit.n == x.size - 1
    assert fit.half_life == pytest.approx(np.log(2) / fit.theta)


def test_recovers_true_parameters_within_asymptotic_error() -> None:
    """n = 1e5 exact OU draws; each estimate within 4 asymptotic standard errors of the truth.

    SEs (conditional MLE of the AR(1)): var(b) = (1 - b^2)/n, var(v) = 2 v^2/n, var(mean) =
    sigma_eq^2 (1 + b)/((1 - b) n); theta and sigma by the delta method through b and v.
    """
    n, theta, mu, sigma = 100_000, 0.05, 1.5, 0.2
    x = simulate_ou(n, theta, mu, sigma, 1.0, 11)
    fit = fit_ou(x)
    b = np.exp(-theta)
    v = sigma**2 * (1 - b * b) / (2 * theta)
    se_b, se_v = np.sqrt((1 - b * b) / n), np.sqrt(2 * v * v / n)
    se_theta = se_b / b
    g = lambda bb, vv: np.sqrt(vv * 2 * -np.log(bb) / (1 - bb * bb))  # noqa: E731
    h = 1e-7
    dgb = (g(b + h, v) - g(b - h, v)) / (2 * h)
    dgv = (g(b, v + h * v) - g(b, v - h * v)) / (2 * h * v)
    se_sigma = np.hypot(dgb * se_b, dgv * se_v)
    se_mu = sigma / np.sqrt(2 * theta) * np.sqrt((1 + b) / ((1 - b) * n))
    assert abs(fit.theta - theta) < 4 * se_theta, (fit.theta, se_theta)
    assert abs(fit.mu - mu) < 4 * se_mu, (fit.mu, se_mu)
    assert abs(fit.sigma - sigma) < 4 * se_sigma, (fit.sigma, se_sigma)
    assert abs(fit.sigma - sigma) / sigma < 0.02  # stated tolerance: 2 %


def test_windows_equal_statsmodels_per_window_and_nan_pairs_dropped() -> None:
    x = simulate_ou(2000, 0.1, 0.5, 0.3, 1.0, 3)
    stops = np.array([50, 400, 1000, 2000])
    out = fit_ou_windows(x, stops, window=300, min_obs=10)
    for j, stop in enumerate(stops):
        ref = ou_fit_ols(x[max(0, stop - 300) : stop])
        assert _rel(out[j, 0], ref["theta"]) < 1e-10 and _rel(out[j, 2], ref["sigma"]) < 1e-10
        assert out[j, 4] == min(stop, 300) - 1
    # a NaN drops the two transitions touching it: OLS over the remaining (X_t, X_t+1) pairs
    y = x[:500].copy()
    y[[100, 250]] = np.nan
    lag, lead = y[:-1], y[1:]
    ok = np.isfinite(lag) & np.isfinite(lead)
    res = sm.OLS(lead[ok], sm.add_constant(lag[ok])).fit()
    fit = fit_ou(y)
    assert fit.n == ok.sum() == 499 - 4
    assert _rel(fit.b, res.params[1]) < 1e-10
    assert _rel(fit.sigma**2 * (1 - fit.b**2) / (2 * fit.theta), res.ssr / res.nobs) < 1e-10


def test_not_mean_reverting_and_min_obs_give_nan() -> None:
    rng = np.random.default_rng(4)
    explosive = np.cumprod(np.full(200, 1.01)) + rng.normal(0, 1e-3, 200)
    assert np.isnan(fit_ou(explosive).theta)
    out = fit_ou_windows(simulate_ou(100, 0.1, 0, 1, 1, 5), np.array([20]), window=50, min_obs=30)
    assert np.isnan(out[0, :4]).all() and out[0, 4] == 19
    with pytest.raises(ValueError, match="window"):
        fit_ou_windows(np.ones(10), np.array([5]), window=2)


def test_schedule_uses_only_known_bars() -> None:
    t0 = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
    n = 600
    dts = pl.Series([t0 + timedelta(minutes=i) for i in range(n)]).cast(pl.Datetime("us", "UTC"))
    x = simulate_ou(n, 0.1, 0.0, 0.2, 1.0, 6)
    df = pl.DataFrame({"datetime": dts, "spread": x})
    T = [t0 + timedelta(minutes=100), t0 + timedelta(minutes=100, seconds=59), t0 - timedelta(1)]
    sched = pl.Series(sorted(T)).cast(pl.Datetime("us", "UTC"))
    out = fit_ou_at_schedule(df, sched, window=80, bar_interval=timedelta(minutes=1), min_obs=10)
    assert out.height == 2  # the time before any bar is skipped
    # at T = t0 + 100 min, the bars with open time t0 .. t0 + 99 min are known (index 0..99)
    ref = ou_fit_ols(x[20:100])
    assert out["window_start"][0] == t0 + timedelta(minutes=20)
    assert out["n_obs"].to_list() == [79, 79]
    assert _rel(out["theta"][0], ref["theta"]) < 1e-10 and out["theta"][1] == out["theta"][0]


def test_bands_semantics() -> None:
    mu, sigma, theta = 0.7, 0.2, 0.08
    up, lo, ex = ou_bands(mu, sigma, theta, k_entry=2.0, k_exit=0.5)
    seq = sigma / np.sqrt(2 * theta)
    assert up == pytest.approx(mu + 2 * seq) and lo == pytest.approx(mu - 2 * seq)
    assert ex == pytest.approx(mu + 0.5 * seq)
    assert ou_zscore(np.array([up, lo]), mu, sigma, theta) == pytest.approx([2.0, -2.0])
    # stationary sd of a long simulated OU path matches sigma_eq
    x = simulate_ou(200_000, theta, mu, sigma, 1.0, 8)
    assert np.std(x) == pytest.approx(seq, rel=0.03)
    df = with_bands(
        pl.DataFrame({"theta": [theta, np.nan], "mu": [mu, 1.0], "sigma": [sigma, 1.0]}), 2.0
    )
    assert df["exit_threshold"][0] == pytest.approx(mu) and np.isnan(df["entry_upper"][1])
    with pytest.raises(ValueError, match="k_exit"):
        ou_bands(mu, sigma, theta, k_entry=1.0, k_exit=1.0)
