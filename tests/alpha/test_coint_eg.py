"""Engle-Granger single and batch paths against statsmodels' ``coint`` / ``adfuller`` / ``OLS``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from statsmodels.regression.linear_model import OLS
from statsmodels.tools.sm_exceptions import CollinearityWarning
from statsmodels.tsa.adfvalues import mackinnonp
from statsmodels.tsa.stattools import adfuller, coint
from statsmodels.tsa.tsatools import add_trend

from statarb.alpha.adf_lagsearch import adf_no_trend, resolve_maxlag
from statarb.alpha.engle_granger import engle_granger, engle_granger_batch, mackinnon_pvalue

TOL = 1e-8


def reference(y, x, maxlag=None, autolag="aic", trend="c"):
    """statsmodels' coint plus the quantities it computes internally (lag, beta, alpha, ICs)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = coint(y, x, trend=trend, maxlag=maxlag, autolag=autolag)
        xx = x[:, None] if trend == "n" else add_trend(x[:, None], trend=trend, prepend=False)
        ols = OLS(y, xx).fit()
        adf = adfuller(
            ols.resid, maxlag=maxlag, autolag=autolag, regression="n", result_object=True
        )
    assert adf.statistic == pytest.approx(res[0], rel=1e-12)  # the reference is self-consistent
    return {
        "stat": res[0],
        "pvalue": res[1],
        "crit": np.asarray(res[2]),
        "usedlag": adf.lags,
        "nobs": adf.nobs,
        "icbest": adf.icbest,
        "beta": ols.params[0],
        "alpha": ols.params[1] if trend != "n" else 0.0,
    }


def make_pair(rng, n, kind):
    """Random-walk pair ('rw'), cointegrated pair with AR(1) spread ('coint'), or tick-grid
    prices with stale stretches ('ticks': many tied values and zero differences)."""
    x = 100 + np.cumsum(rng.normal(0, 1, n))
    if kind == "rw":
        return 50 + np.cumsum(rng.normal(0, 1, n)), x
    phi = rng.uniform(0.0, 0.97)
    u = np.zeros(n)
    eps = rng.normal(0, rng.uniform(0.2, 3.0), n)
    for t in range(1, n):
        u[t] = phi * u[t - 1] + eps[t]
    y = 3.0 + rng.uniform(0.3, 2.0) * x + u
    if kind == "ticks":
        stale = rng.random(n) < 0.4
        for t in range(1, n):
            if stale[t]:
                y[t], x[t] = y[t - 1], x[t - 1]
        y, x = np.round(y, 2), np.round(x, 2)
    return y, x


def assert_equal_to_reference(res, ref):
    assert res.usedlag == ref["usedlag"]
    assert res.adf_nobs == ref["nobs"]
    assert res.stat == pytest.approx(ref["stat"], rel=TOL)
    assert res.pvalue == pytest.approx(ref["pvalue"], rel=TOL, abs=1e-12)
    assert res.beta == pytest.approx(ref["beta"], rel=TOL)
    assert res.alpha == pytest.approx(ref["alpha"], rel=TOL, abs=1e-9)
    np.testing.assert_allclose(res.crit_values, ref["crit"], rtol=1e-12)
    if ref["icbest"] is not None:
        assert res.icbest == pytest.approx(ref["icbest"], rel=1e-9)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("kind", ["rw", "coint", "ticks"])
def test_single_matches_statsmodels_autolag(seed, kind):
    rng = np.random.default_rng(1000 * seed + len(kind))
    n = int(rng.integers(100, 1000))
    y, x = make_pair(rng, n, kind)
    autolags = ("aic", "bic", "t-stat") if seed == 0 else ("aic",)
    for autolag in autolags:
        assert_equal_to_reference(
            engle_granger(y, x, autolag=autolag), reference(y, x, None, autolag)
        )


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("kind", ["rw", "coint", "ticks"])
def test_single_matches_statsmodels_long_series(seed, kind):
    rng = np.random.default_rng(50_000 + 1000 * seed + len(kind))
    n = int(rng.integers(1000, 3001))
    y, x = make_pair(rng, n, kind)
    for autolag in ("aic", "t-stat"):
        assert_equal_to_reference(
            engle_granger(y, x, autolag=autolag), reference(y, x, None, autolag)
        )


@pytest.mark.parametrize("seed", range(4))
def test_single_matches_statsmodels_fixed_lag_and_explicit_maxlag(seed):
    rng = np.random.default_rng(77 + seed)
    n = int(rng.integers(100, 1500))
    y, x = make_pair(rng, n, "coint")
    for maxlag in (0, 1, 5, resolve_maxlag(n, None)):
        assert_equal_to_reference(
            engle_granger(y, x, maxlag=maxlag, autolag=None), reference(y, x, maxlag, None)
        )
        assert_equal_to_reference(
            engle_granger(y, x, maxlag=maxlag, autolag="aic"), reference(y, x, maxlag, "aic")
        )


@pytest.mark.parametrize("trend", ["n", "ct", "ctt"])
def test_other_trends_match_statsmodels(trend):
    rng = np.random.default_rng(5)
    y, x = make_pair(rng, 400, "coint")
    res = engle_granger(y, x, trend=trend)
    ref = reference(y, x, None, "aic", trend)
    assert res.usedlag == ref["usedlag"]
    assert res.stat == pytest.approx(ref["stat"], rel=TOL)
    assert res.pvalue == pytest.approx(ref["pvalue"], rel=TOL, abs=1e-12)
    assert res.beta == pytest.approx(ref["beta"], rel=TOL)
    if trend == "n":
        assert np.all(np.isnan(res.crit_values))
    else:
        np.testing.assert_allclose(res.crit_values, ref["crit"], rtol=1e-12)


def test_near_tied_information_criteria_pick_the_same_lag():
    """Cases where statsmodels' two best AICs are within 0.05 of each other (near ties):
    the same lag must be chosen; exact ties keep the smaller lag (statsmodels' min((aic, lag)))."""
    rng = np.random.default_rng(2024)
    found = 0
    for _ in range(400):
        n = int(rng.integers(100, 400))
        y, x = make_pair(rng, n, "coint")
        e = OLS(y, add_trend(x[:, None], "c", prepend=False)).fit().resid
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            adf = adfuller(e, regression="n", autolag="aic", regresults=True, result_object=True)
        aics = sorted(r.aic for r in adf.resstore.autolag_results.values())
        if aics[1] - aics[0] < 0.05:
            found += 1
            assert adf_no_trend(e).usedlag == adf.lags
        if found >= 10:
            break
    assert found >= 5


def test_batch_matches_statsmodels_and_single_path():
    rng = np.random.default_rng(11)
    n, k = 400, 12
    pairs = [make_pair(rng, n, ("rw", "coint", "ticks")[j % 3]) for j in range(k)]
    ys = np.column_stack([p[0] for p in pairs])
    xs = np.column_stack([p[1] for p in pairs])
    for autolag, maxlag in (("aic", None), ("bic", 4), (None, 3), ("t-stat", None)):
        out = engle_granger_batch(ys, xs, autolag=autolag, maxlag=maxlag)
        for j in range(k):
            ref = reference(ys[:, j], xs[:, j], maxlag, autolag)
            assert out["usedlag"][j] == ref["usedlag"]
            assert out["stat"][j] == pytest.approx(ref["stat"], rel=TOL)
            assert out["pvalue"][j] == pytest.approx(ref["pvalue"], rel=TOL, abs=1e-12)
            assert out["beta"][j] == pytest.approx(ref["beta"], rel=TOL)
            single = engle_granger(ys[:, j], xs[:, j], autolag=autolag, maxlag=maxlag)
            assert single.stat == out["stat"][j]  # same kernel, bit-identical
        np.testing.assert_allclose(out["crit_values"], reference(ys[:, 0], xs[:, 0])["crit"])


def test_collinear_pair_follows_statsmodels_rule():
    rng = np.random.default_rng(3)
    x = 100 + np.cumsum(rng.normal(size=300))
    y = 2.0 * x + 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CollinearityWarning)
        ref = coint(y, x)
    res = engle_granger(y, x)
    assert res.stat == ref[0] == -np.inf
    assert res.pvalue == ref[1] == 0.0
    assert res.usedlag == -1
    assert res.beta == pytest.approx(2.0, rel=1e-12)


def test_maxlag_rules_and_input_errors():
    assert resolve_maxlag(100, None) == 12  # ceil(12 * 1 ** 0.25)
    assert resolve_maxlag(2000, None) == int(np.ceil(12 * 20**0.25))
    assert resolve_maxlag(20, None) == 9  # capped at nobs // 2 - 1
    y, x = make_pair(np.random.default_rng(0), 60, "coint")
    with pytest.raises(ValueError, match="maxlag=40"):
        engle_granger(y, x, maxlag=40)
    with pytest.raises(ValueError):
        adfuller(y - x, maxlag=40, regression="n")  # statsmodels rejects it too
    y[17] = np.nan
    with pytest.raises(ValueError, match="index \\(17,\\)"):
        engle_granger(y, x)
    with pytest.raises(ValueError, match="autolag"):
        engle_granger(x, x + 1, autolag="hqic")


def test_vectorised_mackinnon_pvalue_equals_statsmodels():
    taus = np.concatenate([np.linspace(-30, 5, 701), [-np.inf]])
    for regression in ("c", "n", "ct"):
        for n_vars in (1, 2, 3):
            mine = mackinnon_pvalue(taus, regression, n_vars)
            ref = np.array([mackinnonp(t, regression=regression, N=n_vars) for t in taus])
            np.testing.assert_allclose(mine, ref, rtol=1e-13, atol=1e-300)


def test_short_samples_match_or_are_rejected_clearly():
    """Down to the shortest sample with two residual degrees of freedom in the largest lag
    regression the result equals statsmodels; below it a ValueError says why."""
    rng = np.random.default_rng(12)
    for n in range(23, 41):
        y, x = make_pair(rng, n, "coint")
        assert_equal_to_reference(engle_granger(y, x), reference(y, x))
    y, x = make_pair(rng, 20, "coint")
    with pytest.raises(ValueError, match="20 observations are too few for maxlag=9"):
        engle_granger(y, x)
    out = engle_granger_batch(np.c_[y, y][:, :1], np.c_[x, x][:, :1], maxlag=2)
    assert out["stat"][0] == pytest.approx(reference(y, x, 2)["stat"], rel=TOL)
