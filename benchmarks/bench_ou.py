"""Benchmark: OU (AR(1) conditional MLE) fits, this project's kernel vs statsmodels.

Run on demand: ``.venv/bin/python benchmarks/bench_ou.py [--n 100000]``. Measured in this run:

- one fit over ``n`` points: :func:`statarb.alpha.ou_fit.fit_ou` vs ``statsmodels OLS`` and
  ``AutoReg(1)`` (:mod:`statarb.alpha.ou_ref`), aim >= 10x;
- windowed fits (window 1950 bars, one fit every 390 bars, i.e. the pipeline's session schedule):
  :func:`statarb.alpha.ou_fit.fit_ou_windows` vs a loop of statsmodels OLS fits;
- rolling fit at every bar: ``fit_ou_windows`` vs ``statsmodels RollingOLS``.

Compile time (first call, ``cache=True``) is reported separately.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from statsmodels.regression.rolling import RollingOLS
from timing import best_of

from statarb.alpha.ou_fit import fit_ou, fit_ou_windows
from statarb.alpha.ou_ref import ou_fit_autoreg, ou_fit_ols


def simulate(n: int, theta: float = 0.05, sigma: float = 0.2, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    b = np.exp(-theta)
    e = rng.normal(0, sigma * np.sqrt((1 - b * b) / (2 * theta)), n)
    x = np.empty(n)
    x[0] = 0.0
    for t in range(1, n):
        x[t] = b * x[t - 1] + e[t]
    return x


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    args = ap.parse_args()
    n = args.n
    x = simulate(n)

    t0 = time.perf_counter()
    fit_ou(x[:10])
    fit_ou_windows(x[:20], np.array([20]), 10, 3)
    first = time.perf_counter() - t0

    t_k = best_of(lambda: fit_ou(x), 20)
    t_ols = best_of(lambda: ou_fit_ols(x), 5)
    t_ar = best_of(lambda: ou_fit_autoreg(x), 5)
    assert abs(fit_ou(x).theta - ou_fit_ols(x)["theta"]) < 1e-10 * ou_fit_ols(x)["theta"]
    print(f"OU fit, one window of n = {n:,} points (best of repeats)")
    print(f"{'implementation':<40}{'seconds':>12}{'x kernel':>12}")
    for name, t in (
        ("kernel fit_ou", t_k),
        ("statsmodels OLS", t_ols),
        ("statsmodels AutoReg(1)", t_ar),
    ):
        print(f"{name:<40}{t:>12.6f}{t / t_k:>12.1f}")

    window, step = 1950, 390
    stops = np.arange(window, n + 1, step)
    t_kw = best_of(lambda: fit_ou_windows(x, stops, window, 30), 5)
    t_sw = best_of(lambda: [ou_fit_ols(x[s - window : s]) for s in stops], 2)
    print(f"\n{len(stops)} windowed fits (window {window}, every {step} bars)")
    print(f"{'kernel fit_ou_windows':<40}{t_kw:>12.6f}{1.0:>12.1f}")
    print(f"{'statsmodels OLS loop':<40}{t_sw:>12.6f}{t_sw / t_kw:>12.1f}")

    every = np.arange(window, n + 1)
    t_kr = best_of(lambda: fit_ou_windows(x, every, window, 30), 3)
    exog = np.column_stack([np.ones(n - 1), x[:-1]])
    t_rr = best_of(lambda: RollingOLS(x[1:], exog, window=window - 1).fit(), 2)
    print(f"\nrolling fit at every bar ({len(every):,} windows of {window})")
    print(f"{'kernel fit_ou_windows':<40}{t_kr:>12.6f}{1.0:>12.1f}")
    print(f"{'statsmodels RollingOLS':<40}{t_rr:>12.6f}{t_rr / t_kr:>12.1f}")
    print(f"\nfirst calls incl. cache load/compile: {first:.3f} s")


if __name__ == "__main__":
    main()
