"""Benchmark: Engle-Granger batch kernel vs a statsmodels ``coint`` loop, measured in one run.

All pairs of 50 synthetic symbols x 2,000 bars (1,225 pairs), ``autolag="aic"`` with statsmodels'
default maxlag. statsmodels is timed on a random subset of pairs and extrapolated linearly to all
pairs (stated in the output). Numba compile / cache-load time is reported separately. Run:

    .venv/bin/python benchmarks/bench_coint.py [--symbols 50] [--bars 2000] [--subset 60]
"""

from __future__ import annotations

import argparse
import itertools
import os
import time
import warnings

# one BLAS thread: statsmodels' small pinv/OLS calls are slower with thread pools, and the
# comparison is per core
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numba  # noqa: E402
import numpy as np  # noqa: E402
from statsmodels.tsa.stattools import coint  # noqa: E402
from timing import best_of  # noqa: E402

from statarb.alpha.engle_granger import engle_granger_batch  # noqa: E402


def make_prices(n_symbols: int, n_bars: int, seed: int = 0) -> np.ndarray:
    """Random walks with a few common factors, so some pairs are cointegrated."""
    rng = np.random.default_rng(seed)
    factors = np.cumsum(rng.normal(size=(n_bars, 5)), axis=0)
    load = rng.normal(size=(5, n_symbols))
    idio = np.cumsum(rng.normal(scale=0.3, size=(n_bars, n_symbols)), axis=0)
    noise = rng.normal(scale=0.5, size=(n_bars, n_symbols))
    use_idio = rng.random(n_symbols) < 0.5
    return 100.0 + factors @ load + idio * use_idio + noise


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--symbols", type=int, default=50)
    ap.add_argument("--bars", type=int, default=2000)
    ap.add_argument("--subset", type=int, default=60, help="pairs timed with statsmodels")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    px = make_prices(args.symbols, args.bars)
    pairs = list(itertools.combinations(range(args.symbols), 2))
    ys = np.asfortranarray(px[:, [a for a, _ in pairs]])
    xs = np.asfortranarray(px[:, [b for _, b in pairs]])
    n_pairs = len(pairs)
    threads = numba.get_num_threads()

    t0 = time.perf_counter()
    engle_granger_batch(ys[:, :2], xs[:, :2])
    compile_s = time.perf_counter() - t0

    out = engle_granger_batch(ys, xs)
    batch_s = best_of(lambda: engle_granger_batch(ys, xs), args.repeat)
    numba.set_num_threads(1)
    batch1_s = best_of(lambda: engle_granger_batch(ys, xs), args.repeat)
    numba.set_num_threads(threads)

    rng = np.random.default_rng(1)
    subset = rng.choice(n_pairs, size=min(args.subset, n_pairs), replace=False)
    ref = np.empty((subset.size, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        for i, j in enumerate(subset):
            r = coint(ys[:, j], xs[:, j], autolag="aic")
            ref[i] = r[0], r[1]
        sm_s = time.perf_counter() - t
    sm_per_pair = sm_s / subset.size

    d_stat = np.max(np.abs(out["stat"][subset] - ref[:, 0]))
    d_rel = np.max(np.abs(out["stat"][subset] - ref[:, 0]) / np.abs(ref[:, 0]))
    d_p = np.max(np.abs(out["pvalue"][subset] - ref[:, 1]))

    print(
        f"pairs: {n_pairs} ({args.symbols} symbols x {args.bars} bars), autolag=AIC, maxlag default"
    )
    print(f"numba first call (compile or cache load): {compile_s:.2f} s")
    print(
        f"batch, {threads} threads : {batch_s * 1e3:8.1f} ms total, {batch_s / n_pairs * 1e3:.3f} ms/pair"
    )
    print(
        f"batch, 1 thread   : {batch1_s * 1e3:8.1f} ms total, {batch1_s / n_pairs * 1e3:.3f} ms/pair/core"
    )
    print(
        f"statsmodels coint : {sm_per_pair * 1e3:.2f} ms/pair (timed on {subset.size} pairs, "
        f"extrapolated to {n_pairs}: {sm_per_pair * n_pairs:.1f} s)"
    )
    print(
        f"speed-up: {sm_per_pair / (batch1_s / n_pairs):.0f}x per core, {sm_per_pair / (batch_s / n_pairs):.0f}x all threads"
    )
    print(
        f"max |stat diff| {d_stat:.2e} (rel {d_rel:.2e}), max |p-value diff| {d_p:.2e} on the subset"
    )


if __name__ == "__main__":
    main()
