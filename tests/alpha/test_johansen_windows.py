"""The windowed Johansen kernel (prefix sums of the moment matrices) equals the plain
reference -- ``JohansenTraceTest.run`` on a copy of each window, itself equal to statsmodels
``coint_johansen`` -- on every window: statistic, p-value, hedge ratio, intercept, degenerate
windows."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.tsa.vector_ar.vecm import coint_johansen

from statarb.alpha.coint_tests.johansen import JohansenParams, JohansenTraceTest


def _series(rng, n: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    x = 100 + np.cumsum(rng.normal(0, 0.05, n))
    if kind == "coint":
        s = np.zeros(n)
        for t in range(1, n):
            s[t] = 0.99 * s[t - 1] + rng.normal(0, 0.05)
        return 20 + 1.3 * x + s, x
    if kind == "collinear":
        return 5 + 2.0 * x, x
    return 80 + np.cumsum(rng.normal(0, 0.05, n)), x


KINDS = ((900, "coint"), (700, "rw"), (650, "coint"), (500, "collinear"), (40, "rw"))


def _case(rng, n_t: int = 12):
    series, ends, lengths = [], [], []
    for n, kind in KINDS:
        y, x = _series(rng, n, kind)
        series.append((y, x))
        e = np.sort(rng.integers(min(n, 30), n + 1, n_t))
        ln = np.minimum(e, rng.choice([0, 25, 80, 300, 600], n_t))
        ends.append(e)
        lengths.append(ln)
    return series, ends, lengths


@pytest.mark.parametrize("det_order", [-1, 0, 1])
@pytest.mark.parametrize("k_ar_diff", [0, 1, 2])
def test_windows_equal_the_reference_on_every_window(det_order, k_ar_diff):
    rng = np.random.default_rng(10 + k_ar_diff + 3 * det_order)
    test = JohansenTraceTest(JohansenParams(det_order=det_order, k_ar_diff=k_ar_diff))
    series, ends, lengths = _case(rng)
    got = test.run_windows(series, ends, lengths, 600)
    # no deterministic terms: moments of raw levels (~100), conditioned ~1e10 in both methods
    slope_rtol, stat_rtol = (1e-5, 1e-6) if det_order == -1 else (1e-7, 1e-7)
    w = 0
    n_ok = n_bad = 0
    for (y, x), e, ln, (_, kind) in zip(series, ends, lengths, KINDS, strict=True):
        for hi, n in zip(e, ln, strict=True):
            if kind == "collinear" and n > 0 and det_order in (-1, 0):
                # exactly collinear legs: singular moments. The reference may not notice (its
                # rounded solve returns eigenvalues in [0, 1)); the kernel always does
                assert got.reason[w].startswith("singular_system")
                n_bad += 1
            elif n >= 60:  # tiny samples: eigenvalues at 1 - 1e-10 flip either way by rounding
                ref = test.run(y[None, hi - n : hi], x[None, hi - n : hi])
                if ref.reason[0] is None:
                    n_ok += 1
                    assert got.reason[w] is None
                    for name, rtol, atol in (
                        ("statistic", stat_rtol, 0),
                        ("pvalue", 1e-6, 1e-8),
                        ("beta", slope_rtol, 0),
                        ("alpha", slope_rtol, 0),
                    ):
                        a, b = getattr(got, name)[w], getattr(ref, name)[0]
                        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=name)
                else:
                    n_bad += 1
                    assert got.reason[w].startswith("singular_system")
                    assert np.isnan(got.statistic[w]) and np.isnan(got.pvalue[w])
            w += 1
    assert n_ok >= 15  # enough windows were compared
    if det_order in (-1, 0):  # the kernel's path: exactly collinear legs are singular
        assert n_bad >= 1


def test_windows_equal_statsmodels_directly():
    rng = np.random.default_rng(3)
    y, x = _series(rng, 1200, "coint")
    test = JohansenTraceTest(JohansenParams(det_order=0, k_ar_diff=1))
    got = test.run_windows([(y, x)], [np.array([800, 1200])], [np.array([800, 700])], 800)
    for i, (hi, n) in enumerate(((800, 800), (1200, 700))):
        sm = coint_johansen(np.column_stack([y[hi - n : hi], x[hi - n : hi]]), 0, 1)
        np.testing.assert_allclose(got.statistic[i], sm.lr1[0], rtol=1e-8)
        v = sm.evec[:, 0]
        np.testing.assert_allclose(got.beta[i], -v[1] / v[0], rtol=1e-7)
