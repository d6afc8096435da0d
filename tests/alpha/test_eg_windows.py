"""The incremental walk-forward Engle-Granger kernel equals the direct one (and statsmodels) on
every window: partial windows, every lag rule, both trends, collinear windows; and both equal the
published Stata ``egranger`` values of statsmodels' own test suite."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from statsmodels.tsa.stattools import coint

from statarb.alpha.eg_windows import engle_granger_windows
from statarb.alpha.engle_granger import engle_granger


def _pairs(rng, k=5):
    series, ends, lens = [], [], []
    for j in range(k):
        n = int(rng.integers(1500, 5000))
        x = 100 + np.cumsum(rng.normal(0, 0.1, n))
        u = np.zeros(n)
        for t in range(1, n):
            u[t] = 0.95 * u[t - 1] + rng.normal(0, 0.1)
        y = 20 + 0.8 * x + (u if j % 2 == 0 else np.cumsum(rng.normal(0, 0.05, n)))
        series.append((y, x))
        e = np.sort(rng.integers(200, n + 1, 7))
        w = int(rng.integers(150, 1500))
        ends.append(e)
        lens.append(np.minimum(e, w))  # early windows are partial
    return series, ends, lens


@pytest.mark.parametrize(
    ("autolag", "maxlag", "trend"),
    [("aic", None, "c"), ("bic", None, "c"), ("t-stat", None, "c"), (None, 4, "c"),
     ("aic", 9, "c"), ("aic", None, "n"), (None, 2, "n")],
)  # fmt: skip
def test_windows_equal_direct_engle_granger(autolag, maxlag, trend):
    rng = np.random.default_rng(11)
    series, ends, lens = _pairs(rng)
    r = engle_granger_windows(series, ends, lens, maxlag=maxlag, autolag=autolag, trend=trend)
    i = 0
    for (y, x), e, n in zip(series, ends, lens, strict=True):
        for end, w in zip(e, n, strict=True):
            ref = engle_granger(y[end - w : end], x[end - w : end], maxlag=maxlag, autolag=autolag,
                                trend=trend)  # fmt: skip
            assert r.usedlag[i] == ref.usedlag and r.adf_nobs[i] == ref.adf_nobs
            assert r.stat[i] == pytest.approx(ref.stat, rel=1e-9)
            assert r.pvalue[i] == pytest.approx(ref.pvalue, rel=1e-8, abs=1e-14)
            assert r.beta[i] == pytest.approx(ref.beta, rel=1e-10)
            assert r.alpha[i] == pytest.approx(ref.alpha, rel=1e-9, abs=1e-9)
            i += 1
    assert i == r.stat.size


def test_windows_equal_statsmodels_coint():
    rng = np.random.default_rng(3)
    series, ends, lens = _pairs(rng, 2)
    r = engle_granger_windows(series, ends, lens)
    i = 0
    for (y, x), e, n in zip(series, ends, lens, strict=True):
        for end, w in zip(e, n, strict=True):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ref = coint(y[end - w : end], x[end - w : end])
            assert r.stat[i] == pytest.approx(ref[0], rel=1e-8)
            assert r.pvalue[i] == pytest.approx(ref[1], rel=1e-8, abs=1e-14)
            i += 1


def _stata_data() -> np.ndarray:
    """statsmodels' ``test_coint`` data (tsa/tests/test_stattools.py)."""
    rs = np.random.RandomState(123)
    unit = rs.randn(200).cumsum()
    y = 1 * rs.randn(200, 4)
    y[:, :2] += unit[:, None]
    y += [1, 0, 0.5, 0]
    return np.round(y, 4)


@pytest.mark.parametrize(
    ("trend", "stat"),
    [("c", -5.760696844656), ("n", -3.7146175989071137)],  # Stata egranger / statsmodels regression
)
def test_published_stata_values(trend, stat):
    y = _stata_data()
    r = engle_granger_windows([(y[:, 0], y[:, 1])], [np.array([200])], [np.array([200])],
                              maxlag=4, autolag=None, trend=trend)  # fmt: skip
    assert r.stat[0] == pytest.approx(stat, rel=1e-10)
    assert engle_granger(
        y[:, 0], y[:, 1], maxlag=4, autolag=None, trend=trend
    ).stat == pytest.approx(stat, rel=1e-10)
    if trend == "c":  # Stata's 1/5/10 % critical values (atol as statsmodels' own test)
        crit = engle_granger(y[:, 0], y[:, 1], maxlag=4, autolag=None).crit_values
        np.testing.assert_allclose(crit, [-3.952321293401682, -3.367006313729, -3.065831247948],
                                   rtol=0, atol=6e-7)  # fmt: skip


def test_collinear_and_too_short_windows_are_flagged():
    rng = np.random.default_rng(0)
    x = 50 + np.cumsum(rng.normal(size=400))
    r = engle_granger_windows([(3 * x - 1, x), (x + rng.normal(size=400), x)],
                              [np.array([400]), np.array([400, 10])],
                              [np.array([300]), np.array([300, 10])], maxlag=4)  # fmt: skip
    assert r.collinear.tolist() == [True, False, False]
    assert np.isneginf(r.stat[0])
    assert r.short_for_lags.tolist() == [False, False, True] and np.isnan(r.stat[2])
    with pytest.raises(ValueError, match="window ends"):
        engle_granger_windows([(x, x)], [np.array([401])], [np.array([10])])
