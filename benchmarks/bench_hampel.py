"""Benchmark: the Hampel return kernel (preprocessing's outlier flag) against its twins.

Run on demand: ``.venv/bin/python benchmarks/bench_hampel.py [--symbols 50] [--days 252]``
(the default is one ``preprocessing.chunk_symbols`` chunk of a year of minute bars). Measured in
this run, on the same one-cent-tick random walks with a few spikes, at the shipped parameters
(window 31, k 6, min_periods 10, per session):

- the shipped kernel (:func:`statarb.preprocess.outliers.hampel_flags`: sorted window, merged
  deviations) against the numba kernel it replaced (``np.median`` of a copy of the window, twice
  per bar; :func:`statarb.preprocess.outliers_ref.hampel_return_partition_nb`) on every bar;
- both against the plain-Python reference (:func:`~statarb.preprocess.outliers_ref.hampel_return_ref`)
  on the first ``--ref-bars`` bars.

The flags of the three are checked equal before anything is printed.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from timing import best_of

from statarb.preprocess.outliers import _run_starts, hampel_flags
from statarb.preprocess.outliers_ref import hampel_return_partition_nb, hampel_return_ref

WINDOW, K, MIN_PERIODS, FLOOR = 31, 6.0, 10, 1e-5
BARS_PER_DAY = 390


def market(n_sym: int, n_days: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Closes (symbol-major), symbol ids and session ids of one-cent-tick random walks."""
    rng = np.random.default_rng(seed)
    n = n_days * BARS_PER_DAY
    x = 50 * np.exp(np.cumsum(rng.normal(0, 1e-3, (n_sym, n)), axis=1))
    spikes = rng.choice(x.size, max(1, x.size // 20_000), replace=False)
    x.ravel()[spikes] *= 1.05
    sym = np.repeat(np.arange(n_sym), n)
    sess = sym * n_days + np.tile(np.repeat(np.arange(n_days), BARS_PER_DAY), n_sym)
    return np.round(x.ravel(), 2), sym, sess


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--symbols", type=int, default=50)
    ap.add_argument("--days", type=int, default=252)
    ap.add_argument("--ref-bars", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    x, sym, sess = market(args.symbols, args.days)
    new_sym, new_sess = _run_starts(sym), _run_starts(sess)

    def shipped(n: int | None = None) -> np.ndarray:
        s = slice(None, n)
        return hampel_flags(x[s], sym[s], sess[s], window=WINDOW, k=K, min_periods=MIN_PERIODS,
                            floor_rel=FLOOR)  # fmt: skip

    def partition(n: int | None = None) -> np.ndarray:
        s = slice(None, n)
        return hampel_return_partition_nb(x[s], new_sym[s], new_sess[s], WINDOW, K, MIN_PERIODS,
                                          FLOOR)  # fmt: skip

    t0 = time.perf_counter()
    shipped(1000), partition(1000)  # compile (or load the cache)
    compile_s = time.perf_counter() - t0
    m = args.ref_bars
    t0 = time.perf_counter()
    ref = hampel_return_ref(list(x[:m]), sym[:m], sess[:m], WINDOW, K, MIN_PERIODS, FLOOR)
    t_ref = time.perf_counter() - t0
    got, old = shipped(), partition()
    assert got[:m].tolist() == ref and old[:m].tolist() == ref, "flags differ from the reference"
    assert np.array_equal(got, old), "flags differ between the kernels"
    t_new = best_of(shipped, args.repeat)
    t_old = best_of(partition, args.repeat)
    ns = 1e9 / x.size
    print(f"Hampel return kernel, {args.symbols} symbols x {args.days} sessions = {x.size:,} bars, "
          f"{int(got.sum())} flagged (compile/cache load {compile_s:.2f} s)")  # fmt: skip
    print(f"shipped (sorted window)      : {t_new:6.2f} s  {t_new * ns:6.1f} ns/bar")
    print(f"np.median twin (before)      : {t_old:6.2f} s  {t_old * ns:6.1f} ns/bar")
    print(f"plain Python reference       : {t_ref * 1e9 / m:8.0f} ns/bar ({m:,} bars)")
    print(f"shipped / np.median twin     : {t_new / t_old:.2f}x")
    print(f"reference / shipped per bar  : {t_ref / m / (t_new / x.size):.0f}x")


if __name__ == "__main__":
    main()
