"""Bias-corrected OU speed: the kernel equals its statsmodels-based twin, and a Monte Carlo shows
the correction removes most of the upward bias of the plain AR(1) estimate (benchmarks/
bench_ou_bias.py prints the full table)."""

from __future__ import annotations

import numpy as np
import pytest

from statarb.alpha.ou_fit import fit_ou, fit_ou_windows
from statarb.alpha.ou_ref import ou_fit_corrected_ref


def _ou(n, theta, rng):
    b = np.exp(-theta)
    x = np.empty(n)
    x[0] = rng.normal(0, 1 / np.sqrt(2 * theta))
    e = rng.normal(0, np.sqrt((1 - b * b) / (2 * theta)), n)
    for t in range(1, n):
        x[t] = b * x[t - 1] + e[t]
    return x + 3.0


@pytest.mark.parametrize(
    ("estimator", "blocks"), [("kendall", 2), ("jackknife", 2), ("jackknife", 3)]
)
def test_corrected_fit_equals_reference(estimator, blocks):
    rng = np.random.default_rng(9)
    for theta in (0.01, 0.05):
        x = _ou(3000, theta, rng)
        got = fit_ou(x, estimator=estimator, blocks=blocks)
        ref = ou_fit_corrected_ref(x, estimator, blocks)
        assert got.b == pytest.approx(ref["b"], rel=1e-10)
        assert got.theta == pytest.approx(ref["theta"], rel=1e-9)
        assert got.mu == pytest.approx(ref["mu"], rel=1e-9)
        assert got.sigma == pytest.approx(ref["sigma"], rel=1e-9)
        win = fit_ou_windows(x, np.array([3000]), 3000, 3, 1.0, estimator, blocks)
        assert win[0, 0] == pytest.approx(got.theta, rel=1e-12)


def test_kendall_formula_by_hand():
    x = np.array([1.0, 1.2, 1.5, 1.6, 1.4, 1.3, 1.35, 1.5, 1.45, 1.2, 1.1, 1.15])
    b = np.polyfit(x[:-1], x[1:], 1)[0]  # 0.4692 over n = 11 transitions
    want = -np.log(b + (1 + 3 * b) / 11)
    assert fit_ou(x, estimator="kendall").theta == pytest.approx(want, rel=1e-12)
    assert fit_ou(x).theta == pytest.approx(-np.log(b), rel=1e-12)


def test_monte_carlo_bias_is_reduced():
    """theta = 0.005 over 3,900 bars (half-life 139 bars): the plain estimate is biased up by
    about 20 %; Kendall's correction brings the mean within 5 % (MC standard error ~2 %)."""
    rng = np.random.default_rng(2026)
    theta, reps = 0.005, 300
    plain, kendall = [], []
    for _ in range(reps):
        x = _ou(3900, theta, rng)
        plain.append(fit_ou(x).theta / theta)
        kendall.append(fit_ou(x, estimator="kendall").theta / theta)
    plain, kendall = np.array(plain), np.array(kendall)
    se = kendall.std() / np.sqrt(reps)
    assert plain.mean() > 1.12
    assert abs(kendall.mean() - 1) < max(0.05, 3 * se)
    assert abs(kendall.mean() - 1) < 0.5 * abs(plain.mean() - 1)


def test_bad_estimator_arguments():
    with pytest.raises(ValueError, match="estimator"):
        fit_ou(np.arange(10.0), estimator="ml")
    with pytest.raises(ValueError, match="blocks"):
        fit_ou(np.arange(10.0), estimator="jackknife", blocks=1)
