"""Johansen statistics against statsmodels' coint_johansen; Doornik p-values against MHM quantiles."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.stats import chi2
from statsmodels.tsa.coint_tables import c_sja, c_sjt
from statsmodels.tsa.vector_ar.vecm import coint_johansen

from statarb.alpha.johansen import johansen
from statarb.alpha.johansen_pvalues import max_eig_pvalue, trace_pvalue


def _data(rng, n, k, cointegrated):
    w = np.cumsum(rng.normal(size=(n, k)), axis=0)
    if cointegrated:
        u = np.zeros(n)
        e = rng.normal(size=n)
        for t in range(1, n):
            u[t] = 0.6 * u[t - 1] + e[t]
        w[:, 0] = 2.0 + 1.3 * w[:, 1] + u
    return w + 100.0


def _align_signs(mine: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Flip each reference column to the sign of ours (eigenvectors are defined up to sign)."""
    signs = np.sign(np.sum(mine * ref, axis=0))
    return ref * signs


@pytest.mark.parametrize("det_order", [-1, 0, 1])
@pytest.mark.parametrize("k_ar_diff", [0, 1, 3])
@pytest.mark.parametrize("case", [(150, 2, True), (900, 2, False), (400, 3, True)])
def test_statistics_match_statsmodels(det_order, k_ar_diff, case):
    n, k, coint_ = case
    rng = np.random.default_rng(n + 10 * k + k_ar_diff + 7 * det_order)
    data = _data(rng, n, k, coint_)
    ref = coint_johansen(data, det_order, k_ar_diff)
    res = johansen(data, det_order, k_ar_diff)
    np.testing.assert_allclose(res.eigenvalues, ref.eig, rtol=1e-8)
    np.testing.assert_allclose(res.trace_stat, ref.lr1, rtol=1e-8)
    np.testing.assert_allclose(res.max_eig_stat, ref.lr2, rtol=1e-8)
    np.testing.assert_allclose(
        res.eigenvectors, _align_signs(res.eigenvectors, ref.evec), rtol=1e-7, atol=1e-10
    )
    np.testing.assert_allclose(res.trace_crit, ref.cvt)
    np.testing.assert_allclose(res.max_eig_crit, ref.cvm)
    assert res.nobs == ref.rkt.shape[0]
    # first non-zero entry of every eigenvector column is positive
    assert np.all(res.eigenvectors[0] > 0)


@pytest.mark.parametrize("det_order", [-1, 0, 1])
@pytest.mark.parametrize("n", [1, 2])
def test_trace_pvalue_at_statsmodels_critical_values(det_order, n):
    """p(c_90) = 0.10 +- 0.003, p(c_95) = 0.05 +- 0.003, p(c_99) = 0.01 +- 0.002 for r=0 and r=1
    of a bivariate system (n = 2 - r)."""
    crit = c_sjt(n, det_order)
    p = trace_pvalue(crit, n, det_order)
    assert np.all(np.abs(p - [0.10, 0.05, 0.01]) <= [0.003, 0.003, 0.002]), p


@pytest.mark.parametrize("det_order", [-1, 0, 1])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_max_eig_pvalue_at_statsmodels_critical_values(det_order, n):
    crit = c_sja(n, det_order)
    p = max_eig_pvalue(crit, n, det_order)
    assert np.all(np.abs(p - [0.10, 0.05, 0.01]) <= [0.006, 0.004, 0.002]), p


def test_trace_pvalue_n1_unrestricted_constant_is_chi2_1():
    """With one remaining trend and an unrestricted constant the limit is chi2(1) (Johansen 1991);
    Doornik's surface reproduces it closely."""
    x = np.array([1.0, 2.7, 3.84, 6.63, 10.0])
    np.testing.assert_allclose(trace_pvalue(x, 1, 0), chi2.sf(x, 1), atol=2e-3)


def test_pvalues_are_monotone_and_result_pvalues_consistent():
    rng = np.random.default_rng(9)
    data = _data(rng, 500, 2, True)
    res = johansen(data, 0, 1)
    np.testing.assert_allclose(
        res.trace_pvalue,
        [trace_pvalue(res.trace_stat[0], 2, 0), trace_pvalue(res.trace_stat[1], 1, 0)],
    )
    assert res.trace_pvalue[0] < 0.01  # a strongly cointegrated pair rejects r = 0
    grid = np.linspace(0.5, 60, 200)
    assert np.all(np.diff(trace_pvalue(grid, 2, 1)) < 0)


def test_input_errors():
    with pytest.raises(ValueError, match="det_order"):
        johansen(np.ones((50, 2)), det_order=2)
    bad = np.cumsum(np.ones((50, 2)), axis=0)
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        johansen(bad)
    with pytest.raises(ValueError, match="too few"):
        johansen(np.random.default_rng(0).normal(size=(6, 2)), k_ar_diff=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trace_pvalue(5.0, 2, 0)
