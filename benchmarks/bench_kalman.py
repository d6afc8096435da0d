"""Benchmark: Kalman hedge ratio over 100k bars, this project's kernel vs references.

Run on demand: ``.venv/bin/python benchmarks/bench_kalman.py [--n 100000]``. Prints wall times and
ratios measured in this run (best of several repeats):

- ``kernel``: :func:`statarb.kernels.kalman.kalman_hedge_kernel` (all six per-bar outputs,
  freshly allocated each call) and :func:`~statarb.kernels.kalman.kalman_hedge_into` (same
  loop writing into a reused ``(6, n)`` buffer);
- ``bare numba``: :func:`statarb.kernels.kalman.kalman_beta_bare`, beta only (aim: kernel <= 2x);
- ``numpy loop``: :func:`statarb.alpha.kalman_ref.kalman_hedge_reference`, timed on a shorter
  series and scaled linearly to ``n`` (stated in the output);
- ``pykalman``: ``KalmanFilter.filter`` with H_t = [[x_t, 1]], shorter series scaled likewise.

Compile time is reported separately: the first call (which loads the ``cache=True`` cache when
present) and a fresh compilation of the same Python function without caching.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from numba import njit
from pykalman import KalmanFilter
from timing import best_of

from statarb.alpha.kalman_ref import kalman_hedge_reference
from statarb.kernels.kalman import kalman_beta_bare, kalman_hedge_into, kalman_hedge_kernel


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--n-slow", type=int, default=10_000, help="length for the slow references")
    args = ap.parse_args()
    n, ns = args.n, min(args.n_slow, args.n)
    rng = np.random.default_rng(0)
    x = 50 + np.cumsum(rng.normal(0, 0.1, n))
    y = 1.3 * x + 2 + rng.normal(0, 0.3, n)
    q, R = 1e-8, 0.09
    s0 = np.zeros(5)

    t0 = time.perf_counter()
    kalman_hedge_kernel(y[:10], x[:10], q, 0.0, q, R, s0)
    first_call = time.perf_counter() - t0
    kalman_beta_bare(y[:10], x[:10], q, R)
    fresh = njit(kalman_hedge_kernel.py_func)
    t0 = time.perf_counter()
    fresh(y[:10], x[:10], q, 0.0, q, R, s0)
    compile_fresh = time.perf_counter() - t0

    kalman_hedge_kernel(y, x, q, 0.0, q, R, s0)  # warm: page in output buffers
    kalman_beta_bare(y, x, q, R)
    t_kernel = best_of(lambda: kalman_hedge_kernel(y, x, q, 0.0, q, R, s0), 25)
    buf = np.empty((6, n))
    kalman_hedge_into(y, x, q, 0.0, q, R, s0, buf)
    t_into = best_of(lambda: kalman_hedge_into(y, x, q, 0.0, q, R, s0, buf), 25)
    t_bare = best_of(lambda: kalman_beta_bare(y, x, q, R), 25)
    Q = q * np.eye(2)
    t_np = best_of(
        lambda: kalman_hedge_reference(y[:ns], x[:ns], Q, R, np.zeros(2), np.zeros((2, 2))), 2
    )
    kf = KalmanFilter(
        transition_matrices=np.eye(2),
        observation_matrices=np.stack([x[:ns], np.ones(ns)], axis=1)[:, None, :],
        transition_covariance=Q,
        observation_covariance=np.array([[R]]),
        initial_state_mean=np.zeros(2),
        initial_state_covariance=Q,
    )
    t_pyk = best_of(lambda: kf.filter(y[:ns, None]), 2)
    scale = n / ns
    beta = kalman_hedge_kernel(y, x, q, 0.0, q, R, s0)[0]
    assert np.array_equal(beta, kalman_beta_bare(y, x, q, R)), "kernel and bare loop disagree"

    print(f"Kalman hedge ratio, n = {n:,} bars (best of repeats; slow references timed on "
          f"{ns:,} bars and scaled x{scale:g})")  # fmt: skip
    print(f"{'implementation':<40}{'seconds':>12}{'x kernel':>12}")
    rows = [
        ("kernel (6 outputs, NaN-aware)", t_kernel),
        ("kernel into preallocated (6, n)", t_into),
        ("bare numba loop (beta only)", t_bare),
        (f"numpy matrix loop (scaled from {ns:,})", t_np * scale),
        (f"pykalman filter (scaled from {ns:,})", t_pyk * scale),
    ]
    for name, t in rows:
        print(f"{name:<40}{t:>12.6f}{t / t_kernel:>12.1f}")
    print(
        f"kernel / bare loop = {t_kernel / t_bare:.2f} allocating its outputs, "
        f"{t_into / t_bare:.2f} into a reused buffer (aim <= 2)"
    )
    print(
        f"first call incl. cache load/compile: {first_call:.3f} s; fresh compile: {compile_fresh:.3f} s"
    )


if __name__ == "__main__":
    main()
