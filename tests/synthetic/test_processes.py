"""OU exact discretisation and factor model against closed forms and statsmodels AR(1) fits."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad
from statsmodels.tsa.ar_model import AutoReg

from statarb.synthetic.processes import (
    factor_log_returns,
    half_life,
    ou_exact,
    ou_stationary_sd,
    ou_step_variance,
)


def _ar1_to_ou(x: np.ndarray) -> tuple[float, float, float]:
    """theta, mu, sigma from a statsmodels AR(1) fit (inverse of the exact discretisation)."""
    res = AutoReg(x, lags=1, trend="c").fit()
    c, phi = res.params
    theta = -math.log(phi)
    mu = c / (1 - phi)
    sigma = math.sqrt(res.sigma2 * 2 * theta / (1 - phi**2))
    return theta, mu, sigma


@pytest.mark.parametrize("theta", [0.05, 0.3])
def test_step_variance_equals_ito_integral(theta):
    # Var(int_0^1 sigma e^{-theta (1-s)} dW_s) = sigma^2 int_0^1 e^{-2 theta u} du
    sigma = 0.7
    ref, _ = quad(lambda u: sigma**2 * math.exp(-2 * theta * u), 0.0, 1.0)
    assert ou_step_variance(theta, sigma) == pytest.approx(ref, rel=1e-12)
    assert ou_step_variance(theta, sigma) == pytest.approx(
        sigma**2 / (2 * theta) * (1 - math.exp(-2 * theta)), rel=1e-14
    )
    assert half_life(theta) == pytest.approx(math.log(2) / theta)


def test_ou_exact_recovers_parameters_long_sample():
    theta, mu, sigma, n = math.log(2) / 50.0, 1.5, 0.2, 400_000
    x = ou_exact(n, theta, mu, sigma, x0=mu, rng=np.random.default_rng(11))
    th, m, sg = _ar1_to_ou(x)
    assert th == pytest.approx(theta, rel=0.08)  # SE(phi) ~ sqrt((1-phi^2)/n) -> ~2 % on theta
    assert m == pytest.approx(mu, abs=0.15)  # SE(mean) ~ 0.03
    assert sg == pytest.approx(sigma, rel=0.02)
    # one-step residuals with the true coefficient have the closed-form exact variance
    phi = math.exp(-theta)
    resid = x[1:] - mu - phi * (x[:-1] - mu)
    assert resid.var() == pytest.approx(ou_step_variance(theta, sigma), rel=0.01)
    assert x.std() == pytest.approx(ou_stationary_sd(theta, sigma), rel=0.05)


def test_ou_exact_starts_at_x0_and_is_seeded():
    a = ou_exact(100, 0.1, 0.0, 1.0, 3.0, np.random.default_rng(1))
    b = ou_exact(100, 0.1, 0.0, 1.0, 3.0, np.random.default_rng(1))
    assert a[0] == 3.0 and np.array_equal(a, b)
    with pytest.raises(ValueError, match="theta > 0"):
        ou_exact(10, 0.0, 0.0, 1.0, 0.0, np.random.default_rng(1))


def test_factor_model_covariance_matches_design():
    rng = np.random.default_rng(3)
    sector_of = np.array([0, 0, 1])
    vol = np.array([0.001, 0.002, 0.0015])
    shares = (0.3, 0.3, 0.4)
    r = factor_log_returns(rng, 200_000, sector_of, vol, shares)
    cov = np.cov(r.T)
    same_sector = (shares[0] + shares[1]) * vol[0] * vol[1]
    cross_sector = shares[0] * vol[0] * vol[2]
    assert np.sqrt(np.diag(cov)) == pytest.approx(vol, rel=0.01)
    assert cov[0, 1] == pytest.approx(same_sector, rel=0.03)
    assert cov[0, 2] == pytest.approx(cross_sector, rel=0.05)
    assert r.mean(axis=0) == pytest.approx(-0.5 * vol**2, abs=4 * vol.max() / math.sqrt(200_000))
