"""Funnel stages against references: multiple testing vs statsmodels, the spread-quality kernel vs
its NumPy twin and closed forms, greedy leg matching, and the hysteresis kernel vs its twin."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from statarb.alpha.ou_fit import ou_record
from statarb.alpha.selection.matching import match_legs
from statarb.alpha.selection.multiple_testing import adjust_pvalues
from statarb.alpha.selection.persistence import hysteresis, hysteresis_ref
from statarb.alpha.selection.spread_quality import (
    CrossingsBound,
    HalfLifeBounds,
    HurstBound,
    hurst_lags,
    passes,
    spread_quality,
)
from statarb.alpha.selection.spread_quality_ref import crossings_ref, half_life_ref, hurst_ref

SM = {"bh": "fdr_bh", "by": "fdr_by", "holm": "holm", "bonferroni": "bonferroni"}


@pytest.mark.parametrize("method", ["bh", "by", "holm", "bonferroni"])
def test_adjusted_pvalues_equal_statsmodels(method):
    rng = np.random.default_rng(1)
    for m in (1, 2, 7, 98, 500):
        p = np.concatenate([rng.uniform(size=m - m // 5), rng.uniform(0, 1e-4, m // 5)])
        p[rng.integers(0, m, 2)] = p[0]  # ties
        ref = multipletests(p, alpha=0.05, method=SM[method])[1]
        np.testing.assert_allclose(adjust_pvalues(p, method), ref, rtol=1e-14, atol=0)


def test_nan_pvalues_are_not_hypotheses():
    p = np.array([0.01, np.nan, 0.04, 0.03, np.nan])
    got = adjust_pvalues(p, "bh")
    ref = multipletests(p[~np.isnan(p)], method="fdr_bh")[1]
    assert np.isnan(got[[1, 4]]).all()
    np.testing.assert_allclose(got[[0, 2, 3]], ref)
    np.testing.assert_array_equal(adjust_pvalues(p, "none"), p)
    assert np.isnan(adjust_pvalues(np.array([np.nan]), "holm")).all()
    with pytest.raises(ValueError, match="method"):
        adjust_pvalues(p, "fdr_by")


def _ar1(n, b, rng, sd=1.0):
    e = np.empty(n)
    e[0] = rng.normal(0, sd / np.sqrt(1 - b * b))
    for t in range(1, n):
        e[t] = b * e[t - 1] + rng.normal(0, sd)
    return e


@pytest.mark.parametrize("estimator", ["mle", "kendall", "jackknife"])
def test_spread_quality_kernel_equals_numpy_reference(estimator):
    rng = np.random.default_rng(7)
    n, k = 2000, 6
    x = 50 + np.cumsum(rng.normal(size=(n, k)), axis=0)
    beta = rng.uniform(0.5, 1.5, k)
    alpha = rng.normal(0, 2, k)
    spreads = np.column_stack([_ar1(n, b, rng) for b in np.linspace(0.9, 0.999, k - 1)]
                              + [np.cumsum(rng.normal(size=n))])  # fmt: skip
    y = alpha + beta * x + spreads
    hb = HurstBound(max=0.5, min_lag=2, max_lag=400, n_lags=8)
    q = spread_quality(y.T, x.T, beta, alpha, hb, ou_record(n, 3, 1.0, estimator, 3))
    lags = hurst_lags(2, 400, 8, n)
    for j in range(k):
        e = y[:, j] - beta[j] * x[:, j] - alpha[j]
        assert q.half_life[j] == pytest.approx(half_life_ref(e, estimator, 3), rel=1e-9)
        assert q.hurst[j] == pytest.approx(hurst_ref(e, lags), rel=1e-9)
        assert q.crossings[j] == crossings_ref(e)


def test_spread_quality_closed_forms():
    rng = np.random.default_rng(3)
    n = 200_000
    hb = HurstBound(max=0.5, min_lag=10, max_lag=1000, n_lags=10)
    ou = ou_record(n, 3, 1.0, "mle")
    b = 0.98  # half-life ln2 / -ln(0.98) = 34.3 bars
    ar = _ar1(n, b, rng)[None, :]
    rw = np.cumsum(rng.normal(size=n))[None, :]
    one, zero = np.ones(1), np.zeros(1)
    q_ar = spread_quality(ar, np.zeros_like(ar), zero, zero, hb, ou)
    q_rw = spread_quality(rw, np.zeros_like(rw), zero, zero, hb, ou)
    assert q_ar.half_life[0] == pytest.approx(np.log(2) / -np.log(b), rel=0.05)
    assert q_rw.hurst[0] == pytest.approx(0.5, abs=0.03)  # random walk
    assert q_ar.hurst[0] < 0.25  # saturates beyond the half-life
    # crossings of white noise around its mean: about n / 2
    wn = rng.normal(size=(1, n))
    q_wn = spread_quality(wn, np.zeros_like(wn), zero, zero, hb, ou)
    assert q_wn.crossings[0] == pytest.approx(n / 2, rel=0.01)
    assert spread_quality(ar, ar, np.array([np.nan]), one, hb, ou).crossings[0] == -1


def test_quality_pass_rules_and_switches():
    from statarb.alpha.selection.spread_quality import SpreadQuality

    q = SpreadQuality(np.array([0.5, 30.0, 500.0, np.inf, np.nan]),
                      np.array([0.2, 0.3, 0.6, 0.5, np.nan]), np.array([5, 20, 20, 20, -1]))  # fmt: skip
    hl, hu, cr = passes(q, HalfLifeBounds(min_bars=1, max_bars=390),
                        HurstBound(max=0.5, min_lag=2, max_lag=10, n_lags=3), CrossingsBound(min=12))  # fmt: skip
    assert hl.tolist() == [False, True, False, False, False]
    assert hu.tolist() == [True, True, False, False, False]
    assert cr.tolist() == [False, True, True, True, False]
    hl, hu, _ = passes(q, HalfLifeBounds(min_bars=None, max_bars=None),
                       HurstBound(max=None, min_lag=2, max_lag=10, n_lags=3), CrossingsBound(min=0))  # fmt: skip
    assert hl.tolist() == [True, True, True, True, False] and hu.all()


def test_matching_keeps_the_strongest_partner_per_leg():
    ids = ["A_B", "A_C", "B_C", "C_D", "D_E"]
    a, b = [i.split("_")[0] for i in ids], [i.split("_")[1] for i in ids]
    cand = np.array([True, True, True, True, False])
    p = np.array([1e-9, 1e-3, 1e-4, 0.01, 1e-12])
    stat = np.array([-9.0, -5.0, -6.0, -4.0, -10.0])
    assert match_legs(a, b, cand, p, stat, ids, 1).tolist() == [True, False, False, True, False]
    assert match_legs(a, b, cand, p, stat, ids, 2).tolist() == [True, True, True, False, False]
    assert match_legs(a, b, cand, p, stat, ids, 0).tolist() == cand.tolist()
    # ties in p are broken by the statistic, then by pair id
    p_tie = np.zeros(5)
    assert match_legs(a, b, cand, p_tie, stat, ids, 1).tolist() == [True, False, False, True, False]


def test_hysteresis_kernel_equals_reference():
    rng = np.random.default_rng(4)
    for enter, exit_ in [(1, 1), (3, 2), (2, 4)]:
        groups = [rng.random(int(rng.integers(1, 60))) < rng.uniform(0.2, 0.9) for _ in range(30)]
        flat = np.concatenate(groups)
        starts = np.cumsum([0, *[len(g) for g in groups]])
        streak, on, _ = hysteresis(flat, starts, enter, exit_)
        ref = np.concatenate([hysteresis_ref(list(g), enter, exit_) for g in groups])
        np.testing.assert_array_equal(on, ref)
        for g, lo in zip(groups, starts[:-1], strict=False):  # streak restarts per pair
            run = 0
            for i, v in enumerate(g):
                run = run + 1 if v else 0
                assert streak[lo + i] == run


def test_hysteresis_known_sequence():
    seq = [True, True, False, True, True, True, False, True, False, False, True]
    assert hysteresis_ref(seq, 3, 2) == [False, False, False, False, False, True, True, True,
                                         True, False, False]  # fmt: skip
